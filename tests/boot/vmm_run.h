/* Runs ./tinyvmm as a child process and captures what it printed. */
#ifndef TESTS_BOOT_VMM_RUN_H
#define TESTS_BOOT_VMM_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmm_result {
	int code;		/* exit code; 128+N if killed by signal N */
	char out[65536];	/* stdout */
	char err[65536];	/* stderr */
};

/* argv without the program name, NULL terminated. The child is killed after
 * @limit_s seconds (a hang is a failure, not a stuck CI). */
void vmm_run(const char *const *argv, int limit_s, struct vmm_result *r);
/* The same, but SIGKILL it as soon as its stdout shows @marker (code then
 * 128 + 9). */
void vmm_run_until(const char *const *argv, int limit_s, const char *marker,
		   struct vmm_result *r);
bool kvm_available(void);
/* @path's text into @buf (at most @size - 1 bytes, NUL-terminated; empty if
 * it cannot be read). */
void read_text_file(const char *path, char *buf, size_t size);
/* The TAP result line of self-test @name in @out: a pointer to its " - name"
 * (followed by the end of the line or " # SKIP ..."), or NULL. */
const char *tap_find(const char *out, const char *name);
/* Whether that line says "ok" (and not "not ok") without a SKIP. */
bool tap_passed(const char *out, const char *name);
/* Whether there is such a line and it says SKIP. */
bool tap_skipped(const char *out, const char *name);

/* The bundled guest's disk pattern (guest/README.md, blk-write-verify):
 * 8-byte words over [1 MiB, 9 MiB) of the disk; a 4 KiB block's first word
 * holds its block number, the others their offset inside the block. */
#define PATTERN_START	(1u << 20)
#define PATTERN_END	(9u << 20)
uint64_t pattern_word(uint64_t off);
/* Writes the pattern into the image open at @fd (asserts it was written). */
void write_pattern(int fd);

/* The multiboot module contract (guest/tests_pc.c, check_module):
 * MODULE_WORDS 64-bit words 0x6d6f645f00000000 | index, checked when the
 * module's command line has the word "pattern". */
#define MODULE_WORDS	1024
/* Writes such a module to @fd (asserts it was written). */
void write_module(int fd);

#define BUNDLED_GUEST "guest/guest.elf"
#define TEST_GUEST(name) "tests/guests/" name

#endif
