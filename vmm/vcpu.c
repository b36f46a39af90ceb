#include "vmm/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>

#include "devices/error.h"
#include "devices/intc/lapic.h"
#include "memory/address_space.h"
#include "vmm/exit_codes.h"
#include "vmm/gdb/stub.h"
#include "vmm/machine.h"
#include "vmm/pc.h"

#define VCPU_KICK_SIGNAL SIGUSR1

/* The vCPU this thread runs: for the kick handler and the LAPIC page. */
static __thread struct vcpu *this_vcpu;

struct vcpu *vcpu_current(void)
{
	return this_vcpu;
}

/* A kick sets immediate_exit: if the signal lands just before KVM_RUN, KVM
 * returns at once instead of running the guest (no lost wake-up). */
static void vcpu_kick_handler(int sig)
{
	(void)sig;
	if (this_vcpu)
		this_vcpu->kvm.run->immediate_exit = 1;
}

void vcpu_setup_kick_signal(void)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };

	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
}

int vcpu_init(struct vcpu *v, struct machine *m, unsigned id,
	      struct lapic *apic, struct error *err)
{
	memset(v, 0, sizeof(*v));
	v->id = id;
	v->m = m;
	v->apic = apic;
	v->kvm.fd = -1;
	pthread_mutex_init(&v->wake_lock, NULL);
	pthread_cond_init(&v->wake_cond, NULL);
	return kvm_vcpu_init(&m->kvm, id, &v->kvm, err);
}

void vcpu_destroy(struct vcpu *v)
{
	kvm_vcpu_destroy(&v->m->kvm, &v->kvm);
	pthread_cond_destroy(&v->wake_cond);
	pthread_mutex_destroy(&v->wake_lock);
}

int vcpu_get_sregs(struct vcpu *v, struct kvm_sregs *sregs, struct error *err)
{
	if (ioctl(v->kvm.fd, KVM_GET_SREGS, sregs) < 0)
		return error_setf(err, "KVM_GET_SREGS: %s", strerror(errno));
	return 0;
}

int vcpu_set_boot_state(struct vcpu *v, const struct kvm_regs *regs,
			const struct kvm_sregs *sregs, struct error *err)
{
	if (ioctl(v->kvm.fd, KVM_SET_SREGS, sregs) < 0)
		return error_setf(err, "KVM_SET_SREGS: %s", strerror(errno));
	if (ioctl(v->kvm.fd, KVM_SET_REGS, regs) < 0)
		return error_setf(err, "KVM_SET_REGS: %s", strerror(errno));
	return 0;
}

static const char *const exit_names[VCPU_EXIT_REASONS] = {
	[KVM_EXIT_UNKNOWN] = "unknown", [KVM_EXIT_EXCEPTION] = "exception",
	[KVM_EXIT_IO] = "io", [KVM_EXIT_HYPERCALL] = "hypercall",
	[KVM_EXIT_DEBUG] = "debug", [KVM_EXIT_HLT] = "hlt",
	[KVM_EXIT_MMIO] = "mmio", [KVM_EXIT_IRQ_WINDOW_OPEN] = "irq-window",
	[KVM_EXIT_SHUTDOWN] = "shutdown", [KVM_EXIT_FAIL_ENTRY] = "fail-entry",
	[KVM_EXIT_INTR] = "intr", [KVM_EXIT_INTERNAL_ERROR] = "internal-error",
	[KVM_EXIT_SYSTEM_EVENT] = "system-event",
	[KVM_EXIT_X86_RDMSR] = "rdmsr", [KVM_EXIT_X86_WRMSR] = "wrmsr",
};

static const char *exit_name(unsigned reason)
{
	return reason < VCPU_EXIT_REASONS && exit_names[reason] ?
	       exit_names[reason] : "other";
}

static void vcpu_dump_regs(struct vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->kvm.fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(v->kvm.fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(stderr, "tinyvmm: vcpu%u: cannot read registers: %s\n",
			v->id, strerror(errno));
		return;
	}
	fprintf(stderr,
		"vcpu%u registers:\n"
		" rip %016llx rsp %016llx rflags %016llx\n"
		" rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		" rsi %016llx rdi %016llx rbp %016llx\n"
		" cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx efer %llx\n"
		" cs %04x (base %llx l %d db %d) ss %04x gdt %llx/%x idt %llx/%x\n",
		v->id, r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx,
		r.rsi, r.rdi, r.rbp, s.cr0, s.cr2, s.cr3, s.cr4, s.efer,
		s.cs.selector, s.cs.base, s.cs.l, s.cs.db, s.ss.selector,
		s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
}

static void vcpu_crash(struct vcpu *v, const char *what, unsigned long long detail)
{
	if (v->m->opts->trace)
		fprintf(stderr, "vcpu%u %s\n", v->id, exit_name(v->kvm.run->exit_reason));
	fprintf(stderr, "tinyvmm: vcpu%u: guest crash: %s (%#llx)\n", v->id,
		what, detail);
	vcpu_dump_regs(v);
	machine_stop(v->m, VMM_EXIT_GUEST_CRASH);
}

static void trace_access(struct vcpu *v, const char *kind, bool write,
			 uint64_t addr, const uint8_t *data, unsigned size,
			 const struct memory_region *hit)
{
	uint64_t val = 0;

	memcpy(&val, data, size < 8 ? size : 8);
	fprintf(stderr, "vcpu%u %-4s %-5s %#llx/%u = %#llx %s\n", v->id, kind,
		write ? "write" : "read", (unsigned long long)addr, size,
		(unsigned long long)val, hit ? hit->name : "unassigned");
}

/* One device access; a failed read leaves all-ones, as an open bus does. */
static void vcpu_access(struct vcpu *v, struct address_space *as,
			const char *kind, uint64_t addr, uint8_t *data,
			unsigned size, bool write)
{
	const struct memory_region *hit;

	if (!write)
		memset(data, 0xff, size);
	address_space_rw(as, addr, data, size, write, &hit);
	if (v->m->opts->trace)
		trace_access(v, kind, write, addr, data, size, hit);
}

static void vcpu_handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->kvm.run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool write = run->io.direction == KVM_EXIT_IO_OUT;
	uint64_t bytes = (uint64_t)run->io.size * run->io.count;

	/* The kernel fills these, but a bad offset would be a wild pointer. */
	if (run->io.data_offset + bytes > (uint64_t)v->m->kvm.run_size) {
		vcpu_crash(v, "I/O exit data outside kvm_run", run->io.data_offset);
		return;
	}
	for (uint32_t i = 0; i < run->io.count; i++)	/* rep ins/outs */
		vcpu_access(v, v->m->io, "io", run->io.port,
			    data + i * run->io.size, run->io.size, write);
}

static void vcpu_handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->kvm.run;
	unsigned len = run->mmio.len <= 8 ? run->mmio.len : 8;

	vcpu_access(v, v->m->system, "mmio", run->mmio.phys_addr,
		    run->mmio.data, len, run->mmio.is_write);
}

/* Sleeps until @ready(v, arg) or the VM stops; false if it stopped. A vCPU
 * that only another vCPU can wake (hlt with IF=0, wait-for-SIPI) is @stuck:
 * when all are, the machine ends as a deadlock. */
static bool vcpu_sleep_until(struct vcpu *v, bool stuck,
			     bool (*ready)(struct vcpu *v, void *arg), void *arg)
{
	bool done = false;

	if (stuck)
		machine_vcpu_stuck(v->m, 1);
	pthread_mutex_lock(&v->wake_lock);
	while (!machine_stopping(v->m) && !(done = ready(v, arg))) {
		bool parked;

		pthread_mutex_unlock(&v->wake_lock);
		parked = gdb_vcpu_park_if_held(v);	/* for the debugger */
		pthread_mutex_lock(&v->wake_lock);
		if (parked)
			continue;
		while (!v->woken)
			pthread_cond_wait(&v->wake_cond, &v->wake_lock);
		v->woken = false;
	}
	pthread_mutex_unlock(&v->wake_lock);
	if (stuck)
		machine_vcpu_stuck(v->m, -1);
	return done;
}

static bool halt_ready(struct vcpu *v, void *interrupts_on)
{
	return lapic_has_wake_event(v->apic, *(bool *)interrupts_on);
}

/* Without an in-kernel irqchip a halted vCPU sleeps here, in userspace. */
static void vcpu_handle_hlt(struct vcpu *v)
{
	bool interrupts_on = v->kvm.run->if_flag;

	if (v->m->opts->trace)
		fprintf(stderr, "vcpu%u hlt   if=%d\n", v->id, interrupts_on);
	vcpu_sleep_until(v, !interrupts_on, halt_ready, &interrupts_on);
}

/* An INIT and its SIPI may both be pending by now: take them in one look. */
static bool sipi_ready(struct vcpu *v, void *vector)
{
	enum lapic_start_event ev;

	while ((ev = lapic_take_start_event(v->apic, vector)) == LAPIC_INIT)
		;
	return ev == LAPIC_SIPI;
}

/* Real mode at physical @addr (< 1 MiB), CS:IP = (addr >> 4):(addr & 0xf),
 * the other registers as after RESET: where an AP leaves wait-for-SIPI
 * (addr = vector << 12, SDM 8.4.4) and where the BSP resumes from S3 (the
 * FACS waking vector, ACPI 16.3). */
static int vcpu_enter_real_mode(struct vcpu *v, uint32_t addr)
{
	struct kvm_sregs s;
	struct kvm_regs r = { .rflags = 0x2, .rip = addr & 0xf };
	struct kvm_segment seg = {
		.limit = 0xffff, .type = 0x3, .present = 1, .s = 1,
	};

	if (ioctl(v->kvm.fd, KVM_GET_SREGS, &s) < 0)
		return -1;
	s.ds = s.es = s.fs = s.gs = s.ss = seg;
	s.cs = seg;
	s.cs.type = 0xb;
	s.cs.selector = (uint16_t)(addr >> 4);
	s.cs.base = addr & 0xffff0;
	s.cr0 = 0x60000010;	/* CD, NW, ET: the reset value */
	s.cr3 = s.cr4 = s.efer = 0;
	s.gdt.base = s.idt.base = 0;
	s.gdt.limit = s.idt.limit = 0xffff;
	if (ioctl(v->kvm.fd, KVM_SET_SREGS, &s) < 0)
		return -1;
	return ioctl(v->kvm.fd, KVM_SET_REGS, &r);
}

/* Parked until a SIPI (after an INIT); false if the VM stopped. */
static bool vcpu_wait_for_sipi(struct vcpu *v)
{
	uint8_t vector = 0;

	if (!vcpu_sleep_until(v, true, sipi_ready, &vector))
		return false;
	if (v->m->opts->trace)
		fprintf(stderr, "vcpu%u sipi  start at %#x\n", v->id, vector << 12);
	/* A suspend meanwhile does not concern a CPU that was in reset. */
	atomic_store(&v->suspend_pending, false);
	if (vcpu_enter_real_mode(v, (uint32_t)vector << 12) == 0)
		return true;
	fprintf(stderr, "tinyvmm: vcpu%u: cannot set the start-up state: %s\n",
		v->id, strerror(errno));
	machine_stop(v->m, VMM_EXIT_ERROR);
	return false;
}

/* An INIT parks an AP until its SIPI; the BSP would restart at the reset
 * vector, which needs firmware this machine does not have. */
static bool vcpu_handle_start_events(struct vcpu *v)
{
	uint8_t vector;

	while (lapic_take_start_event(v->apic, &vector) == LAPIC_INIT) {
		if (v->id == 0) {
			fprintf(stderr, "tinyvmm: INIT to the bootstrap vCPU: "
				"machine reset is not supported\n");
			machine_stop(v->m, VMM_EXIT_GUEST_CRASH);
			return false;
		}
		if (!vcpu_wait_for_sipi(v))
			return false;
	}
	return true;
}

static bool machine_awake(struct vcpu *v, void *unused)
{
	(void)unused;
	return !machine_suspended(v->m);
}

/* S3: parked (not stuck: a wake event may come from a timer) until the
 * machine resumes; then reset as a PC's CPUs are: the BSP enters real
 * mode at the FACS waking vector, the APs wait for SIPI. */
static bool vcpu_handle_suspend(struct vcpu *v)
{
	uint32_t addr;

	if (!atomic_load(&v->suspend_pending))
		return true;
	if (!vcpu_sleep_until(v, false, machine_awake, NULL))
		return false;
	atomic_store(&v->suspend_pending, false);
	lapic_power_reset(v->apic);
	if (v->id != 0)
		return vcpu_wait_for_sipi(v);
	addr = machine_waking_vector(v->m);
	if (v->m->opts->trace)
		fprintf(stderr, "vcpu%u resume at %#x\n", v->id, addr);
	if (vcpu_enter_real_mode(v, addr) == 0)
		return true;
	fprintf(stderr, "tinyvmm: vcpu%u: cannot set the resume state: %s\n",
		v->id, strerror(errno));
	machine_stop(v->m, VMM_EXIT_ERROR);
	return false;
}

/* @from: "pic" (ExtINT) or "apic" (the LAPIC's IRR: IPIs, MSIs, the I/O
 * APIC, LVT sources; --trace names the sender where it is delivered). */
static bool vcpu_interrupt(struct vcpu *v, int vector, const char *from)
{
	struct kvm_interrupt irq = { .irq = (uint32_t)vector };

	if (v->m->opts->trace)
		fprintf(stderr, "vcpu%u inject vector %#x from %s\n", v->id, vector, from);
	return ioctl(v->kvm.fd, KVM_INTERRUPT, &irq) == 0;
}

/* The one place that decides what the vCPU takes next, in the SDM's order:
 * NMI, then ExtINT (the 8259's vector, read at this moment as an INTA cycle
 * would), then the LAPIC's highest deliverable vector. KVM_INTERRUPT
 * forces an injection, even with IF=0, and only one per entry: inject when
 * the guest can take it, else ask for an interrupt window. */
static void vcpu_inject(struct vcpu *v)
{
	struct kvm_run *run = v->kvm.run;
	int vector = lapic_pending_vector(v->apic);	/* PIR, LINT, timer */
	bool extint = lapic_extint_pending(v->apic);

	if (lapic_take_nmi(v->apic))
		ioctl(v->kvm.fd, KVM_NMI);
	if (run->ready_for_interrupt_injection && run->if_flag) {
		if (extint) {
			vcpu_interrupt(v, pc_extint_ack(v->m), "pic");
		} else if (vector >= 0 && vcpu_interrupt(v, vector, "apic")) {
			lapic_accept(v->apic, vector);
		}
		vector = lapic_pending_vector(v->apic);
		extint = lapic_extint_pending(v->apic);
	}
	run->request_interrupt_window = vector >= 0 || extint;
	run->cr8 = lapic_cr8(v->apic);
}

static void vcpu_handle_msr(struct vcpu *v, bool write)
{
	struct kvm_run *run = v->kvm.run;
	uint64_t value = run->msr.data;
	int r = write ? lapic_msr_write(v->apic, run->msr.index, value)
		      : lapic_msr_read(v->apic, run->msr.index, &value);

	run->msr.data = value;

	run->msr.error = r ? 1 : 0;	/* 1: the guest gets #GP */
	if (v->m->opts->trace)
		fprintf(stderr, "vcpu%u msr  %-5s %#x = %#llx%s\n", v->id,
			write ? "write" : "read", run->msr.index, run->msr.data,
			r ? " #GP" : "");
}

static void vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->kvm.run;

	if (run->exit_reason < VCPU_EXIT_REASONS)
		v->exits[run->exit_reason]++;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(v);
		break;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(v);
		break;
	case KVM_EXIT_HLT:
		vcpu_handle_hlt(v);
		break;
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		vcpu_handle_msr(v, run->exit_reason == KVM_EXIT_X86_WRMSR);
		break;
	case KVM_EXIT_DEBUG:
		gdb_vcpu_debug_exit(v);
		break;
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		if (v->m->opts->trace)
			fprintf(stderr, "vcpu%u %s\n", v->id, exit_name(run->exit_reason));
		break;
	case KVM_EXIT_SHUTDOWN:
		if (v->m->opts->triple_fault_resets) {
			fprintf(stderr, "tinyvmm: vcpu%u: triple fault: the machine resets\n", v->id);
			machine_system_event(v->m, SYSTEM_RESET);
		} else {
			vcpu_crash(v, "triple fault (KVM_EXIT_SHUTDOWN)", 0);
		}
		break;
	case KVM_EXIT_FAIL_ENTRY:
		vcpu_crash(v, "VM entry failed, hardware reason",
			   run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_crash(v, "KVM internal error, suberror", run->internal.suberror);
		break;
	default:
		vcpu_crash(v, "unhandled KVM exit reason", run->exit_reason);
		break;
	}
}

/* Before each entry: INIT/SIPI, then the interrupt to inject. Setting
 * in_guest first pairs with vcpu_notify: either the notifier sees it and
 * kicks, or this thread sees the notifier's posted interrupt. */
static bool vcpu_prepare_entry(struct vcpu *v)
{
	/* Parked while a debugger holds the VM; a single step takes no
	 * interrupt, or every step would land in a handler. */
	bool stepping = gdb_vcpu_checkpoint(v);

	atomic_store(&v->in_guest, true);
	if (!vcpu_handle_suspend(v) || !vcpu_handle_start_events(v))
		return false;
	if (stepping)
		v->kvm.run->request_interrupt_window = 0;
	else
		vcpu_inject(v);
	return true;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct machine *m = v->m;
	int r;

	this_vcpu = v;
	if (v->id != 0 && !vcpu_wait_for_sipi(v))	/* APs start parked */
		return NULL;
	while (!machine_stopping(m)) {
		if (!vcpu_prepare_entry(v))
			break;
		r = ioctl(v->kvm.fd, KVM_RUN, 0);
		atomic_store(&v->in_guest, false);
		lapic_set_cr8(v->apic, v->kvm.run->cr8);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->kvm.run->immediate_exit = 0;
				continue;
			}
			fprintf(stderr, "tinyvmm: vcpu%u: KVM_RUN: %s\n", v->id,
				strerror(errno));
			machine_stop(m, VMM_EXIT_ERROR);
			break;
		}
		vcpu_handle_exit(v);
	}
	atomic_store(&v->in_guest, false);
	this_vcpu = NULL;
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	if (pthread_create(&v->thread, NULL, vcpu_thread, v))
		return -1;
	v->started = true;
	return 0;
}

static void vcpu_wake(struct vcpu *v, bool signal)
{
	pthread_mutex_lock(&v->wake_lock);
	v->woken = true;
	pthread_cond_signal(&v->wake_cond);
	pthread_mutex_unlock(&v->wake_lock);
	if (signal && v->started)
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_kick(struct vcpu *v)
{
	vcpu_wake(v, true);
}

void vcpu_suspend(struct vcpu *v)
{
	atomic_store(&v->suspend_pending, true);
	vcpu_wake(v, true);
}

void vcpu_notify(struct vcpu *v)
{
	vcpu_wake(v, atomic_load(&v->in_guest));
}

void vcpu_join(struct vcpu *v)
{
	if (v->started)
		pthread_join(v->thread, NULL);
	v->started = false;
}

void vcpu_print_stats(const struct vcpu *v, FILE *out)
{
	fprintf(out, "vcpu%u exits:", v->id);
	for (unsigned r = 0; r < VCPU_EXIT_REASONS; r++)
		if (v->exits[r])
			fprintf(out, " %s=%llu", exit_name(r),
				(unsigned long long)v->exits[r]);
	fprintf(out, "\n");
}
