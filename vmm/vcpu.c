#include "vmm/vcpu.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "devices/error.h"
#include "devices/intc/lapic.h"
#include "memory/address_space.h"
#include "vmm/exit_codes.h"
#include "vmm/gdb/stub.h"
#include "vmm/machine.h"
#include "vmm/pc.h"
#include "vmm/sandbox.h"

#define VCPU_KICK_SIGNAL SIGUSR1

/* struct vcpu's wake word: a wake-up is PENDING until the vCPU's thread
 * takes it before a look at its state; SLEEPING means that thread waits on
 * the futex, so a waker must call FUTEX_WAKE. */
enum { VCPU_WAKE_IDLE, VCPU_WAKE_PENDING, VCPU_WAKE_SLEEPING };

void halt_poll_init(struct halt_poll *hp, long option, unsigned ncpus,
		    long host_cpus)
{
	*hp = (struct halt_poll){
		.max_ns = option < 0 ? HALT_POLL_DEFAULT_MAX_NS : (uint64_t)option,
		.host_cpus = host_cpus,
	};
	if (host_cpus < 1 || ncpus > (unsigned long)host_cpus)
		hp->max_ns = 0;
}

void halt_poll_update(struct halt_poll *hp, uint64_t halt_ns, bool in_poll)
{
	uint64_t w = hp->window_ns;

	if (in_poll || !hp->max_ns)
		return;		/* the window was right, or polling is off */
	if (halt_ns > hp->max_ns) {
		w /= 2;		/* a long halt: polling was in vain */
		hp->window_ns = w < HALT_POLL_GROW_START_NS ? 0 : w;
	} else if (w < hp->max_ns) {
		w = w * 2 < HALT_POLL_GROW_START_NS ? HALT_POLL_GROW_START_NS : w * 2;
		hp->window_ns = w < hp->max_ns ? w : hp->max_ns;
	}
}

bool halt_poll_host_busy(const struct halt_poll *hp, const char *loadavg)
{
	long runnable;

	if (sscanf(loadavg, "%*s %*s %*s %ld/", &runnable) != 1)
		return true;
	return runnable > hp->host_cpus;
}

static uint64_t host_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

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
	v->loadavg_fd = -1;
	v->id = id;
	v->m = m;
	v->apic = apic;
	v->kvm.fd = -1;
	atomic_init(&v->wake, VCPU_WAKE_IDLE);
	halt_poll_init(&v->halt_poll, m->opts->halt_poll_ns, m->opts->ncpus,
		       sysconf(_SC_NPROCESSORS_ONLN));
	if (kvm_vcpu_init(&m->kvm, id, &v->kvm, err))
		return -1;
	v->loadavg_fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	kvm_vcpu_destroy(&v->m->kvm, &v->kvm);
	if (v->loadavg_fd >= 0)
		close(v->loadavg_fd);
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

/* Takes a pending wake-up before the next look at the vCPU's state. An
 * exchange, not a store: it reads the waker's write, so what the waker
 * posted before waking is visible to that look. */
static void vcpu_take_wake(struct vcpu *v)
{
	atomic_exchange(&v->wake, VCPU_WAKE_IDLE);
}

/* Blocks until vcpu_wake() unless one came since the last take; a signal
 * (a kick) may end it early, which is harmless: the caller looks again. */
static void vcpu_wait_for_wake(struct vcpu *v)
{
	unsigned idle = VCPU_WAKE_IDLE;

	if (atomic_compare_exchange_strong(&v->wake, &idle, VCPU_WAKE_SLEEPING))
		syscall(SYS_futex, &v->wake, FUTEX_WAIT_PRIVATE,
			VCPU_WAKE_SLEEPING, NULL, NULL, 0);
	vcpu_take_wake(v);
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
	vcpu_take_wake(v);
	while (!machine_stopping(v->m) && !(done = ready(v, arg)))
		if (!gdb_vcpu_park_if_held(v))	/* parked for the debugger */
			vcpu_wait_for_wake(v);
	if (stuck)
		machine_vcpu_stuck(v->m, -1);
	return done;
}

static bool halt_ready(struct vcpu *v, void *interrupts_on)
{
	return lapic_has_wake_event(v->apic, *(bool *)interrupts_on);
}

/* How often a halting vCPU looks at the host's load again: a look costs a
 * few microseconds, a millisecond-old answer is good enough. */
#define HOST_LOAD_CHECK_NS	1000000u

static bool vcpu_host_busy(struct vcpu *v, uint64_t now)
{
	struct halt_poll *hp = &v->halt_poll;
	char buf[128];
	ssize_t n;

	if (now - hp->host_checked_ns < HOST_LOAD_CHECK_NS)
		return hp->host_busy;
	hp->host_checked_ns = now;
	n = v->loadavg_fd < 0 ? -1 : pread(v->loadavg_fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	hp->host_busy = halt_poll_host_busy(hp, buf);
	return hp->host_busy;
}

/* A poll iteration takes well under a microsecond: a longer gap between two
 * means this thread lost its CPU to another task. */
#define HALT_POLL_PREEMPTED_NS	10000u

/* Polls for up to the window, from @start, for a wake-up that makes the
 * halt end; true if one did. vcpu_wake() sets the wake word, so a poll reads
 * one word; the full look happens only after a wake-up. As KVM polls only
 * while its CPU has no other task to run, a poll that was preempted stops:
 * on a busy host it would only take the CPU from someone else, maybe the
 * vCPU it waits for. */
static bool vcpu_halt_poll(struct vcpu *v, uint64_t start, bool *interrupts_on)
{
	struct halt_poll *hp = &v->halt_poll;
	uint64_t now = start, last;

	if (!hp->window_ns)
		return false;
	if (vcpu_host_busy(v, start)) {
		hp->busy_skips++;
		return false;
	}
	hp->polls++;
	do {
		if (atomic_load_explicit(&v->wake, memory_order_relaxed) ==
		    VCPU_WAKE_PENDING) {
			vcpu_take_wake(v);
			if (halt_ready(v, interrupts_on)) {
				hp->poll_hits++;
				return true;
			}
		}
		__builtin_ia32_pause();
		last = now;
		now = host_now_ns();
	} while (now - start < hp->window_ns &&
		 now - last < HALT_POLL_PREEMPTED_NS);
	return false;
}

/* Without an in-kernel irqchip a halted vCPU waits here, in userspace:
 * first polling (with interrupts on: nothing else ends such a halt soon),
 * then asleep. */
static void vcpu_handle_hlt(struct vcpu *v)
{
	bool interrupts_on = v->kvm.run->if_flag;
	uint64_t start = host_now_ns();
	bool in_poll;

	if (v->m->opts->trace)
		fprintf(stderr, "vcpu%u hlt   if=%d\n", v->id, interrupts_on);
	in_poll = interrupts_on && vcpu_halt_poll(v, start, &interrupts_on);
	if (!in_poll) {
		v->halt_poll.sleeps++;
		vcpu_sleep_until(v, !interrupts_on, halt_ready, &interrupts_on);
	}
	halt_poll_update(&v->halt_poll, host_now_ns() - start, in_poll);
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
	/* The last exit's "ready for an interrupt" held for the old state (and
	 * its synced events too): IF is clear now, so wait for a window. */
	v->kvm.run->ready_for_interrupt_injection = 0;
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
 * APIC, LVT sources; --trace names the sender where it is delivered).
 * KVM_INTERRUPT is an ioctl of its own on the path of every interrupt
 * (3.9 us on kvm_pvm, where it loads the vCPU: two per IPI round trip).
 * With synced event state the injection rides on the coming KVM_RUN: the
 * state KVM left at this exit, with the interrupt set, marked dirty.
 * Flags 0 leave NMI pending, SIPI, SMM and the interrupt shadow alone;
 * the rest is what KVM just stored, and nothing waits for re-injection
 * since KVM called the vCPU ready for an interrupt. */
static bool vcpu_interrupt(struct vcpu *v, int vector, const char *from)
{
	struct kvm_run *run = v->kvm.run;
	struct kvm_interrupt irq = { .irq = (uint32_t)vector };

	if (v->m->opts->trace)
		fprintf(stderr, "vcpu%u inject vector %#x from %s\n", v->id, vector, from);
	if (run->kvm_valid_regs & KVM_SYNC_X86_EVENTS) {
		run->s.regs.events.flags = 0;
		run->s.regs.events.interrupt.injected = 1;
		run->s.regs.events.interrupt.nr = (uint8_t)vector;
		run->s.regs.events.interrupt.soft = 0;
		run->kvm_dirty_regs |= KVM_SYNC_X86_EVENTS;
		v->injected_synced++;
		return true;
	}
	v->injected_ioctl++;
	return ioctl(v->kvm.fd, KVM_INTERRUPT, &irq) == 0;
}

/* The one place that decides what the vCPU takes next, in the SDM's order:
 * NMI, then ExtINT (the 8259's vector, read at this moment as an INTA cycle
 * would), then the LAPIC's highest deliverable vector. An injection is
 * forced, even with IF=0, and only one per entry: inject when the guest
 * can take it, else ask for an interrupt window. */
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
	sandbox_enter(SANDBOX_VCPU);
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

/* The futex call only when the vCPU sleeps: a polling or running one sees
 * the word on its own. */
static void vcpu_wake(struct vcpu *v, bool signal)
{
	if (atomic_exchange(&v->wake, VCPU_WAKE_PENDING) == VCPU_WAKE_SLEEPING) {
		syscall(SYS_futex, &v->wake, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
		atomic_fetch_add_explicit(&v->wakeups, 1, memory_order_relaxed);
	}
	if (signal && v->started) {
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
		atomic_fetch_add_explicit(&v->kicks, 1, memory_order_relaxed);
	}
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

/* The first notifier to find the vCPU in the guest clears in_guest and
 * signals; later ones until the next entry need not: the vCPU is leaving
 * and looks at everything before it enters again. */
void vcpu_notify(struct vcpu *v)
{
	vcpu_wake(v, atomic_exchange(&v->in_guest, false));
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
	fprintf(out, "vcpu%u halt: polls %llu, successful polls %llu, sleeps %llu"
		" (host busy, no poll %llu; poll window %llu ns, cap %llu ns);"
		" woken from sleep %llu, kicked out of KVM_RUN %llu\n", v->id,
		(unsigned long long)v->halt_poll.polls,
		(unsigned long long)v->halt_poll.poll_hits,
		(unsigned long long)v->halt_poll.sleeps,
		(unsigned long long)v->halt_poll.busy_skips,
		(unsigned long long)v->halt_poll.window_ns,
		(unsigned long long)v->halt_poll.max_ns,
		(unsigned long long)atomic_load(&v->wakeups),
		(unsigned long long)atomic_load(&v->kicks));
	fprintf(out, "vcpu%u interrupts: injected %llu with KVM_RUN's synced events,"
		" %llu with KVM_INTERRUPT\n", v->id,
		(unsigned long long)v->injected_synced,
		(unsigned long long)v->injected_ioctl);
}
