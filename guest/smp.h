/* Application processors: INIT-SIPI-SIPI, and a tiny work queue so the
 * BSP can make every AP run a function. Also included by trampoline.S. */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#define TRAMPOLINE_ADDR	0x8000		/* SIPI vector 0x08 */
#define AP_STACK_SHIFT	13		/* 8 KiB per AP */
#define SMP_MAX_CPUS	64		/* = ACPI_MAX_CPUS */

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>

#include "acpi.h"

/* What acpi-madt found; smp_cpu() maps an APIC ID to its MADT index. */
extern struct madt_info smp_madt;
extern bool smp_madt_ok;
/* APs that reached ap_main (atomic), and the BSP's APIC ID. */
extern volatile uint32_t smp_online;
/* Per MADT index: how many times that AP reached ap_main. */
extern volatile uint8_t smp_cpu_up[SMP_MAX_CPUS];
extern uint32_t ap_next_stack;
extern unsigned smp_bsp_id;

static inline unsigned smp_ncpus(void)
{
	return smp_madt.ncpus;
}

/* MADT index of @apic_id, or -1. */
int smp_cpu_index(unsigned apic_id);
/* Sends INIT, SIPI, SIPI to every other CPU in the MADT and waits (bounded)
 * until each has reported in. Returns how many APs came up. */
unsigned smp_start_aps(void);
/* Every online AP runs @fn once, with IF=1, then goes back to its halt
 * loop; smp_wait_aps waits until they all returned (false on timeout). */
void smp_run_on_aps(void (*fn)(void));
bool smp_wait_aps(unsigned ms);
#endif

#endif
