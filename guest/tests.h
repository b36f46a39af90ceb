/* The self-test table: add a test by adding a line to it (tests_*.c). */
#ifndef GUEST_TESTS_H
#define GUEST_TESTS_H

#include "tap.h"

extern const struct guest_test guest_tests[];
extern const int guest_ntests;

/* tests_smp.c: in this order (each may use what the previous found). */
int test_acpi_madt(void);
int test_smp_bringup(void);
int test_ipi_each(void);
int test_self_ipi(void);
int test_tpr_nesting(void);
int test_timer_oneshot(void);
int test_timer_periodic(void);
int test_ipi_storm(void);

/* tests_blk.c: in this order (blk-reset-inflight checks the pattern if
 * an earlier test wrote or found it). */
int test_blk_features(void);
int test_blk_write_verify(void);
int test_blk_readonly(void);
int test_blk_flush(void);
int test_blk_get_id(void);
int test_blk_out_of_range(void);
int test_blk_reset_inflight(void);

/* tests_irq.c: the interrupt controllers and legacy sources; before the
 * pc group (acpi-s3 resets the machine's controllers). */
int test_pic_pit_ticks(void);
int test_pit_calibrate(void);
int test_pic_spurious(void);
int test_ioapic_pit(void);
int test_ioapic_level(void);
int test_rtc_irq(void);
int test_uart_thre(void);
int test_blk_intx(void);

/* tests_pc.c: the PC's firmware interfaces. acpi-s3 resets every CPU:
 * it runs after all the tests that need the APs. */
int test_fw_cfg(void);
int test_multiboot_info(void);
int test_cmos_time(void);
int test_rtc_flags(void);
int test_cmos_memory(void);
int test_acpi_tables(void);
int test_pm_timer(void);
int test_acpi_s3(void);

/* tests_hpet.c: the HPET; in the pc group, before acpi-s3. */
int test_hpet(void);

/* trampoline.S: the AP start-up code, also the S3 waking vector; see
 * s3_suspend there. */
extern const char trampoline_start[], trampoline_end[];
int s3_suspend(void (*sleep)(void));

/* main.c: the TSC when guest_main started. */
extern uint64_t guest_start_tsc;
/* main.c: masks both 8259 PICs (again after S3, which resets them). */
void pic_mask_all(void);

/* bench_blk.c: the blk-bench mode instead of the self-tests; the exit
 * status (0: every phase ran). */
int blk_bench(bool event_idx);

/* evil_virtio.c: the evil-virtio mode: a hostile virtio-blk driver; 0 when
 * the device survived it and still reads the disk. */
int evil_virtio(void);

#endif
