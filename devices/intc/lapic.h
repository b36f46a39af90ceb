/* The local APIC, modelled in userspace (QEMU's APICCommonState, apic_io_ops
 * and apic_deliver in one small model).
 *
 * tinyvmm creates no in-kernel irqchip, so every LAPIC access exits to us:
 * xAPIC MMIO (the page at 0xFEE00000), x2APIC MSRs (0x800-0x8FF),
 * IA32_APIC_BASE and IA32_TSC_DEADLINE. This is a pure model: no KVM, no
 * threads, no clock of its own. The vCPU threads call into it and it calls
 * back through struct apic_host_ops. Intel SDM Vol. 3A ch. 11 is the spec.
 *
 * Threads. Each LAPIC's registers belong to its vCPU thread: every lapic_*
 * function below must be called on the thread of the vCPU that owns the
 * LAPIC (or before the vCPU threads start). Delivery (apic_bus_deliver and
 * apic_bus_deliver_msi) may be called from any thread; towards *other* LAPICs
 * it only touches their posted-interrupt request bitmap (PIR), the ON bit and
 * the pending NMI/INIT/SIPI word, all atomics, and reads a copy of their ID,
 * LDR, DFR, enable bits and PPR that each owner publishes atomically.
 * So posted interrupts work as on hardware: the sender sets the vector's PIR
 * bit, then ON, and calls ops->notify only if ON was clear; the owner, before
 * each KVM_RUN, clears ON and moves PIR into IRR (lapic_pending_vector).
 *
 * The VMM's loop, per vCPU, before each KVM_RUN:
 *	lapic_set_cr8(l, run->cr8);		(after every exit: CR8 is TPR[7:4])
 *	ev = lapic_take_start_event(l, &v);	(until LAPIC_NONE)
 *	if (lapic_take_nmi(l)) KVM_NMI;
 *	v = lapic_pending_vector(l);
 *	if (v >= 0 && run->ready_for_interrupt_injection && run->if_flag)
 *		{ inject(v); lapic_accept(l, v); }	(with KVM_RUN or KVM_INTERRUPT)
 *	else if (v >= 0) run->request_interrupt_window = 1;
 *	run->cr8 = lapic_cr8(l);
 * On HLT it sleeps until lapic_has_wake_event(l, run->if_flag); ops->notify and the timer
 * set by ops->timer_arm are what wake it (it then calls lapic_timer_fire()).
 * An AP parked in wait-for-SIPI waits for lapic_take_start_event() instead.
 *
 * Model choices (the SDM leaves these open or model specific):
 * - Version register 0x00050014: integrated APIC version 0x14, max LVT entry
 *   5 (timer, thermal, perf, LINT0, LINT1, error). No CMCI LVT (0x2F0 and MSR
 *   0x82F are reserved), no directed EOI (SVR bit 12 reserved).
 * - APIC ID = vCPU index, read-only (writable IDs are model specific):
 *   xAPIC ID in bits 31:24, x2APIC ID = the index. At most 255 vCPUs.
 * - xAPIC MMIO: reads of 1, 2, 4 or 8 bytes anywhere inside one 16-byte
 *   register slot see the 32-bit register in bytes 0-3 and zeros in bytes
 *   4-15. Only 4-byte writes at a slot's offset 0 take effect; other writes
 *   are ignored and counted (SDM 11.4.1: other accesses are undefined). An
 *   access to a reserved slot sets ESR "illegal register address" (bit 7).
 * - Writes to read-only registers are ignored and counted (xAPIC) or #GP
 *   (x2APIC, as are reserved bits, per SDM 11.12.1.3). Read-only status bits
 *   (delivery status, remote IRR) may be written as anything and read 0.
 * - Delivery is instantaneous: ICR and LVT delivery status always read idle.
 * - Timer: 1 GHz bus clock (one tick per ns before the divider), like KVM.
 *   Any LVT timer mode change disarms the timer (SDM 11.5.4.1).
 *   TSC deadline needs tsc_khz != 0 at apic_bus_new (else MSR 0x6E0 is #GP
 *   and LVT timer bit 18 is reserved).
 * - Lowest priority (ICR mode 1, or MSI with RH=1 in logical mode): the
 *   target is the software-enabled destination with the lowest PPR; ties go
 *   to the lowest APIC ID. No focus processor check. All-excluding-self
 *   never redirects back to the sender.
 * - 0xFF (8-bit destinations) and 0xFFFFFFFF (x2APIC) are broadcasts in
 *   physical and logical mode. Mixed xAPIC/x2APIC systems: the target's own
 *   mode decides how a destination is matched.
 * - Fixed and lowest-priority messages to a software-disabled APIC are
 *   discarded; NMI, INIT and SIPI are accepted (SDM 11.4.7.2). Nothing
 *   reaches a hardware-disabled APIC (IA32_APIC_BASE.EN = 0).
 * - ICR combinations the SDM calls invalid (e.g. NMI to self) are delivered
 *   anyway, as edge; IPIs are always edge triggered (TMR stays 0).
 * - LINT0/LINT1 (SDM 11.5.1): fixed (edge; LINT0 also level, re-raised
 *   after the EOI while the line stays high), NMI (rising edge) and ExtINT
 *   (LINT0: the VMM asks the 8259 for the vector at injection, see
 *   lapic_extint_pending). With the APIC hardware-disabled LINT0 is INTR
 *   and LINT1 is NMI, as on a PC. The LVT remote IRR bit reads 0.
 * Left out: SMI (no SMM), thermal, perf and CMCI sources (no such events in
 * a VM), remote read (an obsolete P6 feature), APIC base relocation (#GP:
 * no guest we know relocates it), the spurious-vector interrupt (no INTA
 * cycle can be withdrawn here), focus processor checking, directed EOI.
 */
#ifndef DEVICES_LAPIC_H
#define DEVICES_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define APIC_DEFAULT_BASE	0xfee00000u
#define APIC_MMIO_SIZE		0x1000u
#define APIC_MAX_CPUS		255u	/* xAPIC ID 0xFF is the broadcast */

/* xAPIC MMIO offsets; the x2APIC MSR is 0x800 + (offset >> 4). */
#define LAPIC_ID		0x020
#define LAPIC_VER		0x030
#define LAPIC_TPR		0x080
#define LAPIC_APR		0x090
#define LAPIC_PPR		0x0a0
#define LAPIC_EOI		0x0b0
#define LAPIC_RRD		0x0c0
#define LAPIC_LDR		0x0d0
#define LAPIC_DFR		0x0e0
#define LAPIC_SVR		0x0f0
#define LAPIC_ISR		0x100	/* 8 registers, 0x10 apart */
#define LAPIC_TMR		0x180
#define LAPIC_IRR		0x200
#define LAPIC_ESR		0x280
#define LAPIC_ICR		0x300
#define LAPIC_ICR2		0x310
#define LAPIC_LVT_TIMER		0x320
#define LAPIC_LVT_THERMAL	0x330
#define LAPIC_LVT_PERF		0x340
#define LAPIC_LVT_LINT0		0x350
#define LAPIC_LVT_LINT1		0x360
#define LAPIC_LVT_ERROR		0x370
#define LAPIC_TMICT		0x380
#define LAPIC_TMCCT		0x390
#define LAPIC_TDCR		0x3e0
#define LAPIC_SELF_IPI		0x3f0	/* x2APIC only */

#define LAPIC_MSR_APIC_BASE	0x01b
#define LAPIC_MSR_TSC_DEADLINE	0x6e0
#define LAPIC_MSR_X2APIC	0x800	/* 0x800-0x8ff */
#define LAPIC_MSR_X2APIC_LAST	0x8ff

#define LAPIC_VERSION		0x00050014u

/* IA32_APIC_BASE */
#define APIC_BASE_BSP		(1u << 8)
#define APIC_BASE_EXTD		(1u << 10)
#define APIC_BASE_EN		(1u << 11)

#define APIC_SVR_ENABLE		(1u << 8)
#define APIC_LVT_LEVEL		(1u << 15)	/* trigger mode (LINT0) */
#define APIC_LVT_MASKED		(1u << 16)
#define APIC_LVT_TIMER_PERIODIC	(1u << 17)
#define APIC_LVT_TIMER_TSCDL	(2u << 17)

/* ESR bits */
#define APIC_ESR_SEND_ILLEGAL	(1u << 5)
#define APIC_ESR_RECV_ILLEGAL	(1u << 6)
#define APIC_ESR_ILLEGAL_REG	(1u << 7)

/* ICR / MSI data fields */
#define APIC_ICR_LOGICAL	(1u << 11)
#define APIC_ICR_BUSY		(1u << 12)
#define APIC_ICR_ASSERT		(1u << 14)
#define APIC_ICR_LEVELTRIG	(1u << 15)
#define APIC_ICR_SH_SHIFT	18

enum apic_delivery_mode {
	APIC_DM_FIXED = 0,
	APIC_DM_LOWEST = 1,
	APIC_DM_SMI = 2,	/* not modelled: dropped */
	APIC_DM_NMI = 4,
	APIC_DM_INIT = 5,
	APIC_DM_SIPI = 6,
	APIC_DM_EXTINT = 7,	/* LINT0 only; a message with it is dropped */
};

enum apic_shorthand {
	APIC_SH_NONE = 0,
	APIC_SH_SELF = 1,
	APIC_SH_ALL = 2,	/* all including self */
	APIC_SH_OTHERS = 3,	/* all excluding self */
};

/* One interrupt message, as an ICR write or an MSI describes it. */
struct apic_irq {
	uint32_t dest;		/* 8-bit (xAPIC, MSI) or 32-bit (x2APIC) */
	uint8_t vector;
	uint8_t mode;		/* enum apic_delivery_mode */
	uint8_t shorthand;	/* enum apic_shorthand; MSIs use NONE */
	bool logical;		/* destination mode */
	bool assert;		/* level: 0 only for INIT level de-assert */
	bool level_trig;	/* trigger mode: sets TMR (MSIs only) */
	bool x2apic_dest;	/* dest is 32 bits, broadcast 0xFFFFFFFF */
	bool redir_hint;	/* MSI RH: logical fixed becomes lowest prio */
};

struct apic_host_ops {
	/* @cpu's ON bit went 0->1, or an NMI, INIT or SIPI is now pending for
	 * it: make it notice (kick it out of KVM_RUN, wake it from its halt
	 * sleep). Any thread. Never called for a vCPU's own IPIs: that vCPU's
	 * thread is the caller and looks before its next entry anyway. */
	void (*notify)(void *opaque, unsigned cpu);
	/* Monotonic clock in ns (a fake one in tests). */
	uint64_t (*now_ns)(void *opaque);
	/* (Re)arm @cpu's timer for now_ns() >= @deadline_ns (0: disarm); at
	 * expiry the VMM gets that vCPU's thread to call lapic_timer_fire().
	 * Called on @cpu's thread. */
	void (*timer_arm)(void *opaque, unsigned cpu, uint64_t deadline_ns);
	/* Optional: @cpu's current guest TSC. Without it the guest TSC is taken
	 * to be now_ns() * tsc_khz / 10^6 (TSC 0 at now_ns() == 0). */
	uint64_t (*guest_tsc)(void *opaque, unsigned cpu);
	/* Optional: a level-triggered vector was EOIed (for an I/O APIC). */
	void (*eoi_level)(void *opaque, unsigned cpu, unsigned vector);
	/* Optional: one message reached @dst (src -1: a device / MSI). */
	void (*trace_ipi)(void *opaque, int src, unsigned dst, unsigned mode,
			  unsigned vector);
	/* Optional: the vCPU whose thread is calling, or -1 if none (QEMU's
	 * cpu_get_current_apic). Every vCPU sees its own LAPIC in the xAPIC
	 * page; without this op each lapic device's page is its own LAPIC's. */
	int (*current_cpu)(void *opaque);
};

struct apic_bus;	/* all LAPICs of one VM; delivery lives here */
struct device;
struct lapic;		/* one per vCPU */

/* @ncpus 1..APIC_MAX_CPUS; @tsc_khz the guest TSC frequency (0: no TSC
 * deadline mode); @ops must stay valid and provide notify, now_ns and
 * timer_arm. Every LAPIC starts as after RESET: xAPIC mode at 0xFEE00000,
 * software-disabled, cpu 0 the BSP, the others waiting for SIPI. NULL on bad
 * arguments or no memory. */
struct apic_bus *apic_bus_new(unsigned ncpus, uint32_t tsc_khz,
			      const struct apic_host_ops *ops, void *opaque);
/* The vCPU threads must have stopped. */
void apic_bus_free(struct apic_bus *bus);
unsigned apic_bus_ncpus(const struct apic_bus *bus);
struct lapic *apic_bus_cpu(struct apic_bus *bus, unsigned cpu);

/* Device senders, for apic_bus_deliver's @src_cpu (negative: not a vCPU). */
#define APIC_SRC_MSI		(-1)
#define APIC_SRC_IOAPIC		(-2)

/* The one delivery function: ICR writes, MSIs and the I/O APIC all end
 * here. @src_cpu is the sending vCPU (the caller must be its thread) or a
 * negative APIC_SRC_* for a device (it only names the source in traces). Any
 * thread. Fixed/lowest-priority vectors below 16 set the sender's ESR "send
 * illegal vector" and are not sent; from a device, each target's ESR gets
 * "receive illegal vector" instead. */
void apic_bus_deliver(struct apic_bus *bus, int src_cpu,
		      const struct apic_irq *irq);
/* A write of @data to @addr (0xFEExxxxx): dest ID in address bits 19:12, RH
 * bit 3, DM bit 2; vector, delivery mode, level and trigger in the data.
 * -1 (nothing sent) if @addr is not an MSI address or the delivery mode is
 * reserved in MSI data (3 and SIPI). Any thread. */
int apic_bus_deliver_msi(struct apic_bus *bus, uint64_t addr, uint32_t data);

/* xAPIC page accesses, @offset 0..0xFFF, @size 1, 2, 4 or 8 (see above).
 * In x2APIC mode or when disabled the page reads 0 and ignores writes. */
uint64_t lapic_mmio_read(struct lapic *l, uint64_t offset, unsigned size);
void lapic_mmio_write(struct lapic *l, uint64_t offset, uint64_t value,
		      unsigned size);
/* IA32_APIC_BASE (0x1B), IA32_TSC_DEADLINE (0x6E0) and the x2APIC MSRs
 * 0x800-0x8FF. 0 done; -1 means the guest gets #GP(0) (also for any MSR
 * this model does not own). */
int lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *value);
int lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t value);
/* IA32_APIC_BASE: base address | EN | EXTD | BSP. */
uint64_t lapic_base(const struct lapic *l);
unsigned lapic_cpu(const struct lapic *l);
bool lapic_x2apic_mode(const struct lapic *l);

/* CR8 is TPR[7:4]: without an in-kernel irqchip KVM keeps it in run->cr8.
 * lapic_set_cr8() after each exit (a no-op if the class is unchanged, so
 * TPR[3:0] survives), lapic_cr8() into run->cr8 before each entry. */
uint8_t lapic_cr8(const struct lapic *l);
void lapic_set_cr8(struct lapic *l, uint8_t cr8);

/* Before each KVM_RUN: fire an expired timer, move PIR into IRR (as
 * sync_pir_to_irr), recompute RVI, SVI and PPR. Returns the highest vector
 * the guest can take now (its class above PPR's, APIC enabled in hardware
 * and software, no INIT pending) or -1. */
int lapic_pending_vector(struct lapic *l);
/* @vector (from lapic_pending_vector) was injected: IRR -> ISR, PPR. */
void lapic_accept(struct lapic *l, int vector);
/* A pending NMI, taken (cleared) at most once per NMI received; NMIs that
 * arrive while one is pending collapse into it, as the NMI latch does. */
bool lapic_take_nmi(struct lapic *l);

/* INIT/SIPI. An INIT (reported first) resets the LAPIC's registers here (ID,
 * APIC base and mode are kept) and drops a pending NMI; an AP then waits for
 * SIPI, and the first SIPI after it is reported with its vector (start at
 * vector << 12, real mode); later SIPIs are ignored until the next INIT. The
 * BSP does not wait for SIPI: after INIT it restarts at the reset vector.
 * Call until LAPIC_NONE. */
enum lapic_start_event { LAPIC_NONE, LAPIC_INIT, LAPIC_SIPI };
enum lapic_start_event lapic_take_start_event(struct lapic *l,
					       uint8_t *sipi_vector);
/* The level on LINT0 (@pin 0) or LINT1 (@pin 1) changed. What the LVT entry
 * says happens at the owner's next look (lapic_pending_vector): a fixed
 * vector, an NMI, or an ExtINT request. Any thread; the owner is notified. */
void lapic_set_lint(struct lapic *l, unsigned pin, bool level);
/* An interrupt must be taken from the 8259 (an INTA cycle): LINT0 is high
 * and programmed ExtINT and unmasked, or the APIC is hardware-disabled, so
 * LINT0 is the CPU's INTR pin. It comes before the APIC's own vectors. */
bool lapic_extint_pending(struct lapic *l);
/* A platform RESET (power-on, resume from S3): xAPIC mode at the default
 * base, the register state after RESET, nothing pending; an AP waits for
 * SIPI again. On @l's own vCPU thread, with no other sender racing. */
void lapic_power_reset(struct lapic *l);
/* Anything that ends a HLT: a pending NMI, INIT or SIPI, and, when the
 * guest had interrupts on (IF=1), a deliverable vector (as
 * lapic_pending_vector, which it then calls). */
bool lapic_has_wake_event(struct lapic *l, bool interrupts_on);
/* As a PC's firmware leaves the BSP's LAPIC for the OS (SeaBIOS on QEMU's
 * pc): software-enabled, LINT0 ExtINT (virtual wire: the 8259 reaches the
 * CPU), LINT1 NMI. Before the vCPU runs. */
void lapic_set_virtual_wire(struct lapic *l);
/* The VMM's timer for this vCPU expired: if the deadline has passed, post
 * the LVT timer vector (unless masked), re-arm a periodic timer, disarm the
 * others. Early or repeated calls do nothing; a late call fires once and a
 * periodic timer keeps its phase. */
void lapic_timer_fire(struct lapic *l);

/* The LAPIC as a device of the object model (QOM's TYPE_APIC_COMMON): one
 * per vCPU, made by the machine, not with -device. Property "id" is the APIC
 * ID, which is the vCPU index. Realize attaches it to that LAPIC of
 * env->apic_bus (an id out of range or already taken fails) and maps the
 * xAPIC page into env->system_memory if there is one; unrealize undoes both.
 * The registers stay in the bus (apic_bus_new makes them), so the model works
 * without the object model too. */
#define TYPE_LAPIC "lapic"
/* The LAPIC a realized lapic device is attached to, or NULL. */
struct lapic *lapic_from_device(struct device *dev);

struct lapic_stats {
	uint64_t delivered[256];	/* vectors injected (lapic_accept) */
	uint64_t nmis, inits, sipis;	/* taken by this vCPU */
	uint64_t ipis_sent;		/* ICR / SELF IPI writes */
	uint64_t timer_fires;		/* expiries, masked or not */
	uint64_t spurious_eois;		/* EOI with nothing in service */
	uint64_t ignored_writes;	/* read-only, reserved, bad size, wrong mode */
	uint64_t errors;		/* errors logged to the ESR */
};
/* A snapshot; any thread (the counters are relaxed atomics). */
void lapic_get_stats(const struct lapic *l, struct lapic_stats *st);

#endif
