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

/* bench_blk.c: the blk-bench mode instead of the self-tests; the exit
 * status (0: every phase ran). */
int blk_bench(bool event_idx);

/* evil_virtio.c: the evil-virtio mode: a hostile virtio-blk driver; 0 when
 * the device survived it and still reads the disk. */
int evil_virtio(void);

#endif
