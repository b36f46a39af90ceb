# tinyvmm. `make help` lists the targets.
CC      ?= cc
OPTFLAGS ?= -O2 -g
CFLAGS  := $(OPTFLAGS) -std=gnu11 -Wall -Wextra -Werror -I. -MMD -MP -pthread
LDLIBS  := -lelf -lm -lseccomp -pthread

BUILD   ?= build
VMM     ?= tinyvmm
LIB_SRC := $(wildcard memory/*.c devices/*.c devices/*/*.c vmm/*/*.c) $(filter-out vmm/main.c,$(wildcard vmm/*.c))
LIB     := $(BUILD)/libtinyvmm.a
UNIT    := $(BUILD)/unit_tests
BOOT    := $(BUILD)/boot_tests

SHELL := /bin/bash
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	      -fno-sanitize-recover=all

.PHONY: all guest test check unit boot asan bench fuzz fuzz-build clean help gdb
.PHONY: coverage fuzz-long fuzz-merge soak
all: $(VMM) guest
	mkdir -p $(BUILD)/qemu && ln -sf ../../$(VMM) $(BUILD)/qemu/qemu-system-x86_64

help:
	@echo "make            build ./tinyvmm and the guests"
	@echo "make check      unit tests, then boot tests (they need /dev/kvm)"
	@echo "make unit       unit tests only (no /dev/kvm needed)"
	@echo "make boot       boot tests only"
	@echo "make asan       unit + boot tests with ASan+UBSan builds"
	@echo "make fuzz       each libFuzzer target for FUZZ_SECONDS (default 60) or FUZZ_RUNS executions"
	@echo "make fuzz-long  the same for FUZZ_SECONDS=3600: run it for hours before a release"
	@echo "make fuzz-merge minimise tests/fuzz/corpus/ (-merge=1; FUZZ_MERGE_FOUND=1: with the new finds)"
	@echo "make coverage   line and branch coverage of unit + boot tests -> build-cov/coverage.txt"
	@echo "make bench      benchmarks vs the raw-KVM floor and QEMU -> docs/BENCHMARKS.md"
	@echo "make soak       boots in a row, then IPI storm + timers + disk at once, idle and loaded (SOAK_MINUTES=10)"
	@echo "make gdb        the bundled guest held at its first instruction, gdb attached"
	@echo "make clean      remove build products"

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_SRC:%.c=$(BUILD)/%.o)
	ar rcs $@ $^

# --whole-archive: devices register their types from constructors, which a
# plain static link would drop as unreferenced.
$(VMM): $(BUILD)/vmm/main.o $(LIB)
	$(CC) $(CFLAGS) -o $@ $< -Wl,--whole-archive $(LIB) -Wl,--no-whole-archive $(LDLIBS)

# --wrap: the durability test watches when virtio-blk syncs, and the fault
# tests (test_blk_faults.c) make its host I/O calls fail.
$(UNIT): $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/unit/*.c)) $(LIB)
	$(CC) $(CFLAGS) -o $@ $(filter %.o,$^) -Wl,--whole-archive $(LIB) \
		-Wl,--no-whole-archive -Wl,--wrap=fdatasync -Wl,--wrap=preadv \
		-Wl,--wrap=pwritev -Wl,--wrap=fallocate -lcriterion $(LDLIBS)

$(BOOT): $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/boot/*.c))
	$(CC) $(CFLAGS) -o $@ $^ -lcriterion

guest:
	$(MAKE) -C guest
	$(MAKE) -C tests/guests

unit: $(UNIT)
	$(UNIT)

boot: $(VMM) guest $(BOOT)
	TINYVMM=./$(VMM) $(BOOT)

test check: unit boot asan

# The sanitized VMM is a separate binary, so the boot tests drive it too.
asan:
	$(MAKE) BUILD=build-asan VMM=build-asan/tinyvmm OPTFLAGS="$(ASAN_FLAGS)" \
		build-asan/tinyvmm build-asan/unit_tests build-asan/boot_tests guest
	set -o pipefail; ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		build-asan/unit_tests 2>&1 | tee build-asan/unit_tests.log
	@# Criterion counts a test whose process leaks at exit as passed.
	@! grep -q "ERROR: LeakSanitizer" build-asan/unit_tests.log || \
		{ echo "make asan: leaks reported above"; exit 1; }
	@# The suppression covers the boot-test runner's Criterion only: the
	@# tinyvmm it spawns does not link Criterion, so its leaks still fail.
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
		TINYVMM=build-asan/tinyvmm build-asan/boot_tests

BENCH := $(BUILD)/bench
BENCH_BIN := $(BENCH)/measure $(BENCH)/raw_kvm $(BENCH)/bench_memory $(BENCH)/wake_pingpong \
	     $(BENCH)/exit_mb.elf

$(BENCH)/measure: $(BUILD)/tests/bench/measure.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^

$(BENCH)/%: $(BUILD)/tests/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# 32-bit on purpose: the multiboot entry state, so QEMU runs the same file.
$(BENCH)/exit_mb.elf: tests/bench/exit_mb.S
	@mkdir -p $(dir $@)
	as --32 $< -o $(BENCH)/exit_mb.o
	ld -m elf_i386 -N -nostdlib -static --no-warn-rwx-segments -Ttext=0x100000 \
		-e _start $(BENCH)/exit_mb.o -o $@

# The guest's serial output goes to a file (gdb owns the terminal):
# `tail -f build/gdb-serial.log` in another one. GDB_ARGS: more tinyvmm options.
GDB_SOCK := $(BUILD)/gdb.sock
gdb: $(VMM) guest
	@rm -f $(GDB_SOCK)
	./$(VMM) --gdb unix:$(GDB_SOCK) --gdb-wait --serial $(BUILD)/gdb-serial.log \
		$(GDB_ARGS) guest/guest.elf & \
	for i in $$(seq 100); do [ -S $(GDB_SOCK) ] && break; sleep 0.1; done; \
	gdb -q -x scripts/tinyvmm.gdb -ex "target remote $(GDB_SOCK)" guest/guest.elf; \
	kill %1 2>/dev/null; wait

bench: $(VMM) guest $(BENCH_BIN)
	tests/bench/run.sh

# libFuzzer (clang) with ASan+UBSan; new inputs go to build-fuzz/, the
# seeds in tests/fuzz/corpus/ are only read. An input that runs 10 s is a
# hang, reported as a failure.
FUZZ_SECONDS ?= 60
# FUZZ_RUNS=N: each target for N executions instead of FUZZ_SECONDS.
FUZZ_TARGETS := loader options dispatch lapic virtqueue pci fw_cfg acpi_pm rtc i8254 i8259 ioapic serial \
		hpet gdb_packet
FUZZ_FLAGS   := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer

fuzz-build:
	@command -v clang >/dev/null || { echo "make fuzz needs clang and libclang-rt-14-dev (apt-get install clang libclang-rt-14-dev)"; exit 1; }
	$(MAKE) CC=clang BUILD=build-fuzz OPTFLAGS="$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link" \
		build-fuzz/libtinyvmm.a
	for t in $(FUZZ_TARGETS); do \
		clang $(FUZZ_FLAGS) -fsanitize=fuzzer -std=gnu11 -I. tests/fuzz/fuzz_$$t.c \
			build-fuzz/libtinyvmm.a -lelf -lm -lseccomp -pthread -o build-fuzz/fuzz_$$t || exit 1; \
	done

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build-fuzz/corpus-$$t; \
		echo "== fuzz_$$t for $(if $(FUZZ_RUNS),$(FUZZ_RUNS) runs,$(FUZZ_SECONDS) s)"; \
		build-fuzz/fuzz_$$t $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS),-max_total_time=$(FUZZ_SECONDS)) \
			-timeout=10 -print_final_stats=1 -artifact_prefix=build-fuzz/$$t- \
			build-fuzz/corpus-$$t tests/fuzz/corpus/$$t 2>&1 | \
			grep -E "^(stat::number_of_executed_units|stat::new_units_added|==[0-9]+== ?ERROR|SUMMARY)|Done" ; \
		test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

# Before a release: make fuzz-long FUZZ_SECONDS=<hours * 3600>, then
# make fuzz-merge FUZZ_MERGE_FOUND=1 to keep what it found in the seeds.
fuzz-long:
	$(MAKE) fuzz FUZZ_SECONDS=$(if $(filter file,$(origin FUZZ_SECONDS)),3600,$(FUZZ_SECONDS))

# Each committed corpus minimised into a new folder (-merge=1 keeps the
# smallest inputs that together reach every feature), which then replaces
# it. FUZZ_MERGE_FOUND=1 also takes in what fuzzing found in build-fuzz/
# (after a fuzz-long: some hundreds of inputs per target).
fuzz-merge: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		c=tests/fuzz/corpus/$$t; new=build-fuzz/merge-$$t; \
		found=$(if $(FUZZ_MERGE_FOUND),build-fuzz/corpus-$$t); \
		rm -rf $$new && mkdir -p $$new $$found || exit 1; \
		build-fuzz/fuzz_$$t -merge=1 -timeout=10 $$new $$c $$found \
			>build-fuzz/merge-$$t.log 2>&1 || { cat build-fuzz/merge-$$t.log; exit 1; }; \
		echo "fuzz_$$t: $$(find $$c $$found -type f | wc -l) inputs -> $$(ls $$new | wc -l)"; \
		rm -rf $$c && mv $$new $$c || exit 1; \
	done

# gcov counts of the unit and boot tests, run against a --coverage build
# of its own (scripts/coverage.sh has the report).
coverage:
	@command -v gcovr >/dev/null || { echo "make coverage needs gcovr (scripts/install-deps.sh --coverage)"; exit 1; }
	$(MAKE) BUILD=build-cov VMM=build-cov/tinyvmm OPTFLAGS="-O0 -g --coverage -DTINYVMM_COVERAGE" \
		build-cov/tinyvmm build-cov/unit_tests build-cov/boot_tests guest
	scripts/coverage.sh build-cov

# Not part of check: boots in a row, then the IPI storm, the timer tests
# and disk write/verify at once, without and with host load; each run
# checked exactly (scripts/soak.sh, docs/RELIABILITY.md).
SOAK_MINUTES ?= 10
soak: $(VMM) guest
	TINYVMM=./$(VMM) SOAK_MINUTES=$(SOAK_MINUTES) scripts/soak.sh

clean:
	rm -rf build build-asan build-fuzz build-cov tinyvmm
	-$(MAKE) -C guest clean
	-$(MAKE) -C tests/guests clean

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
