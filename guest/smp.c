/* AP start-up (SDM 8.4.4.1, the INIT-SIPI-SIPI sequence) and the loop the
 * APs then idle in. Virtual CPUs need none of the SDM's delays between the
 * messages, and a second SIPI to a CPU that already started is ignored. */
#include "smp.h"

#include "apic.h"
#include "lib.h"

struct madt_info smp_madt;
bool smp_madt_ok;
volatile uint32_t smp_online;
volatile uint8_t smp_cpu_up[SMP_MAX_CPUS];
unsigned smp_bsp_id;

/* Used by trampoline.S: stack i's top is ap_stacks + (i + 1) << SHIFT. */
uint8_t ap_stacks[SMP_MAX_CPUS][1u << AP_STACK_SHIFT] __attribute__((aligned(16)));
uint32_t ap_next_stack;
uint64_t ap_cr3;
void ap_main(void);

extern const char trampoline_start[], trampoline_end[];

static void (*volatile work_fn)(void);
static volatile uint32_t work_seq, work_done;
static volatile uint32_t wakeups[256];

int smp_cpu_index(unsigned apic_id)
{
	for (unsigned i = 0; i < smp_madt.ncpus; i++)
		if (smp_madt.apic_ids[i] == apic_id)
			return (int)i;
	return -1;
}

/* The wake-up IPI only ends the AP's HLT; the work is in work_fn. */
static void wake_handler(unsigned vector)
{
	(void)vector;
	wakeups[apic_id()]++;
	apic_eoi();
}

/* Halts with IF=1 between jobs, so IPIs are taken here. The check and
 * the HLT are both under IF=0 until "sti; hlt": no wake-up is lost. */
void ap_main(void)
{
	uint32_t seen = 0;
	int me;

	idt_load();
	apic_enable();
	me = smp_cpu_index(apic_id());
	if (me >= 0)
		smp_cpu_up[me]++;
	seen = work_seq;	/* only work posted from now on */
	__atomic_add_fetch(&smp_online, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		irq_disable();
		if (work_seq != seen) {
			void (*fn)(void) = work_fn;

			seen = work_seq;
			irq_enable();
			fn();
			__atomic_add_fetch(&work_done, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		irq_wait();
	}
}

static uint64_t read_cr3(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

unsigned smp_start_aps(void)
{
	unsigned n = 0;

	irq_set_handler(VEC_WAKE, wake_handler);
	if (smp_online)
		return smp_online;
	memcpy((void *)TRAMPOLINE_ADDR, trampoline_start,
	       (size_t)(trampoline_end - trampoline_start));
	ap_cr3 = read_cr3();
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < smp_madt.ncpus; i++) {
		unsigned id = smp_madt.apic_ids[i];

		if (id == smp_bsp_id)
			continue;
		apic_send(id, APIC_DM_INIT | APIC_ICR_ASSERT);
		apic_send(id, APIC_DM_SIPI | APIC_ICR_ASSERT | (TRAMPOLINE_ADDR >> 12));
		apic_send(id, APIC_DM_SIPI | APIC_ICR_ASSERT | (TRAMPOLINE_ADDR >> 12));
		n++;
	}
	wait_ge(&smp_online, n, 5000);
	return smp_online;
}

void smp_run_on_aps(void (*fn)(void))
{
	work_done = 0;
	work_fn = fn;
	__atomic_add_fetch(&work_seq, 1, __ATOMIC_SEQ_CST);
	apic_send(0, APIC_DM_FIXED | APIC_ICR_ASSERT | APIC_SH_OTHERS | VEC_WAKE);
}

bool smp_wait_aps(unsigned ms)
{
	return wait_ge(&work_done, smp_online, ms);
}
