/* Breakpoints: Z0 writes int3 where this KVM reports it to userspace, and
 * takes a debug register where it does not (kvm_pvm delivers int3 to the
 * guest: ../shared/KVM-NOTES.md); Z1 takes a debug register (DR0-DR3 and
 * DR7 through KVM_SET_GUEST_DEBUG); Z2-Z4 go to watch.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/gdb/internal.h"
#include "vmm/machine.h"
#include "vmm/vcpu.h"

#define DR6_BS		(1u << 14)	/* single step */
#define DR7_GLOBAL(i)	(2u << ((i) * 2))
#define DR7_GE		(1u << 9)

/* A throw-away VM runs one int3 in real mode with USE_SW_BP: a KVM that
 * reports it exits with KVM_EXIT_DEBUG, exception 3; kvm_pvm's emulator
 * delivers it through the guest's IVT instead (a fetch from nowhere
 * follows, and an emulation failure or an MMIO exit ends the run). */
static bool probe_int3(int kvm_fd)
{
	struct kvm_guest_debug dbg = {
		.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP,
	};
	struct kvm_userspace_memory_region slot = { .memory_size = 4096 };
	int vm = -1, cpu = -1, size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = MAP_FAILED;
	void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kvm_sregs sr;
	struct kvm_regs r = { .rflags = 2 };
	bool exits = false;

	if (page == MAP_FAILED || size <= 0)
		goto out;
	memset(page, 0xcc, 4096);
	slot.userspace_addr = (uint64_t)page;
	vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		goto out;
	cpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (cpu < 0 || ioctl(cpu, KVM_GET_SREGS, &sr) < 0)
		goto out;
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	sr.cs.base = 0;
	sr.cs.selector = 0;
	if (run == MAP_FAILED || ioctl(cpu, KVM_SET_SREGS, &sr) < 0 ||
	    ioctl(cpu, KVM_SET_REGS, &r) < 0 ||
	    ioctl(cpu, KVM_SET_GUEST_DEBUG, &dbg) < 0)
		goto out;
	if (ioctl(cpu, KVM_RUN, 0) == 0)
		exits = run->exit_reason == KVM_EXIT_DEBUG &&
			run->debug.arch.exception == 3;
out:
	if (run != MAP_FAILED)
		munmap(run, (size_t)size);
	if (cpu >= 0)
		close(cpu);
	if (vm >= 0)
		close(vm);
	if (page != MAP_FAILED)
		munmap(page, 4096);
	return exits;
}

void gdb_break_init(struct gdb_stub *s)
{
	s->int3_exits = probe_int3(s->m->kvm.dev_fd);
}

static struct gdb_hw_bp *hw_find(struct gdb_stub *s, uint64_t addr, bool for_sw)
{
	for (unsigned i = 0; i < GDB_HW_SLOTS; i++)
		if (s->hw[i].used && s->hw[i].addr == addr && s->hw[i].for_sw == for_sw)
			return &s->hw[i];
	return NULL;
}

static int hw_insert(struct gdb_stub *s, uint64_t addr, bool for_sw)
{
	if (hw_find(s, addr, for_sw))
		return 0;
	for (unsigned i = 0; i < GDB_HW_SLOTS; i++) {
		if (!s->hw[i].used) {
			s->hw[i] = (struct gdb_hw_bp){ true, for_sw, addr };
			return 0;
		}
	}
	return -1;	/* gdb says it cannot insert the breakpoint */
}

static int hw_remove(struct gdb_stub *s, uint64_t addr, bool for_sw)
{
	struct gdb_hw_bp *bp = hw_find(s, addr, for_sw);

	if (!bp)
		return -1;
	bp->used = false;
	return 0;
}

static struct gdb_sw_bp *sw_find(struct gdb_stub *s, uint64_t addr)
{
	for (unsigned i = 0; i < GDB_MAX_SW_BPS; i++)
		if (s->sw[i].used && s->sw[i].addr == addr)
			return &s->sw[i];
	return NULL;
}

/* int3 over the instruction's first byte, in the address space of the
 * selected vCPU at insertion time. */
static int sw_insert(struct gdb_stub *s, uint64_t addr)
{
	struct gdb_sw_bp *bp = NULL;
	uint64_t gpa, left;
	uint8_t *ram;

	if (sw_find(s, addr))
		return 0;
	for (unsigned i = 0; i < GDB_MAX_SW_BPS && !bp; i++)
		if (!s->sw[i].used)
			bp = &s->sw[i];
	if (!bp || gdb_translate(s, s->g_cpu, addr, &gpa, &left) ||
	    !(ram = gdb_ram_ptr(s, gpa, 1, true)))
		return -1;
	*bp = (struct gdb_sw_bp){ true, addr, gpa, *ram };
	*ram = 0xcc;
	return 0;
}

static int sw_remove(struct gdb_stub *s, uint64_t addr)
{
	struct gdb_sw_bp *bp = sw_find(s, addr);
	uint8_t *ram;

	if (!bp)
		return -1;
	ram = gdb_ram_ptr(s, bp->gpa, 1, true);
	if (ram && *ram == 0xcc)	/* the guest may have rewritten it */
		*ram = bp->saved;
	bp->used = false;
	return 0;
}

/* This KVM cannot trap int3, so each Z0 costs a debug register: say so
 * once, on the VMM's stderr (the stub cannot print on gdb's console
 * outside a resume). */
static int z0_insert(struct gdb_stub *s, uint64_t addr)
{
	if (s->int3_exits)
		return sw_insert(s, addr);
	if (!s->told_hw_backed) {
		fprintf(stderr, "tinyvmm: gdb: this KVM does not report int3: software "
			"breakpoints use the %d debug registers\n", GDB_HW_SLOTS);
		s->told_hw_backed = true;
	}
	return hw_insert(s, addr, true);
}

int gdb_break_insert(struct gdb_stub *s, int type, uint64_t addr, uint64_t len)
{
	switch (type) {
	case 0:
		return z0_insert(s, addr);
	case 1:
		return hw_insert(s, addr, false);
	case 2: case 3: case 4:
		return gdb_watch_insert(s, type, addr, len);
	}
	return 1;
}

int gdb_break_remove(struct gdb_stub *s, int type, uint64_t addr, uint64_t len)
{
	switch (type) {
	case 0:
		return s->int3_exits ? sw_remove(s, addr) : hw_remove(s, addr, true);
	case 1:
		return hw_remove(s, addr, false);
	case 2: case 3: case 4:
		return gdb_watch_remove(s, type, addr, len);
	}
	return 1;
}

void gdb_break_remove_all(struct gdb_stub *s)
{
	for (unsigned i = 0; i < GDB_MAX_SW_BPS; i++)
		if (s->sw[i].used)
			sw_remove(s, s->sw[i].addr);
	memset(s->hw, 0, sizeof(s->hw));
	gdb_watch_remove_all(s);
}

/* Execution breakpoints: DR7's R/W and LEN fields stay 0. Without any
 * breakpoint or step, debugging is off and the guest owns its DRs. */
void gdb_break_apply(struct gdb_stub *s, struct vcpu *v, enum gdb_action a)
{
	struct kvm_guest_debug dbg = { 0 };

	for (unsigned i = 0; i < GDB_HW_SLOTS; i++) {
		if (!s->hw[i].used)
			continue;
		dbg.arch.debugreg[i] = s->hw[i].addr;
		dbg.arch.debugreg[7] |= DR7_GLOBAL(i) | DR7_GE;
		dbg.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
	}
	for (unsigned i = 0; i < GDB_MAX_SW_BPS; i++)
		if (s->sw[i].used)
			dbg.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
	if (a == GDB_STEP)
		dbg.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
	if (ioctl(v->kvm.fd, KVM_SET_GUEST_DEBUG, &dbg) < 0)
		fprintf(stderr, "tinyvmm: vcpu%u: KVM_SET_GUEST_DEBUG: %s\n", v->id,
			strerror(errno));
}

struct gdb_event gdb_break_classify(struct gdb_stub *s, struct vcpu *v)
{
	const struct kvm_debug_exit_arch *d = &v->kvm.run->debug.arch;
	struct gdb_event ev = { GDB_EV_TRAP, 0 };

	if (d->exception == 3 && sw_find(s, d->pc))
		ev.kind = GDB_EV_SWBREAK;
	for (unsigned i = 0; i < GDB_HW_SLOTS && d->exception == 1; i++)
		if ((d->dr6 & (1u << i)) && s->hw[i].used)
			ev.kind = s->hw[i].for_sw ? GDB_EV_SWBREAK : GDB_EV_HWBREAK;
	if (ev.kind == GDB_EV_TRAP && d->exception == 1 && (d->dr6 & DR6_BS))
		ev.kind = GDB_EV_STEP;
	return ev;
}
