#!/usr/bin/env bash
# make bench: every figure side by side, tinyvmm vs the raw-KVM floor vs QEMU,
# interleaved in one run so the machine's noise hits all alike. Prints a
# table, rewrites docs/BENCHMARKS.md, docs/benchmarks.csv and
# docs/benchmarks.png, keeps raw numbers in tests/bench/out/. Then the
# virtio-blk and PIT tick benchmarks (tests/bench/bench_blk.sh and
# bench_pit.sh, interleaved the same way inside) get a section each.
# Timings are reported, never asserted.
#
#   tests/bench/run.sh [REPS]    (default $BENCH_REPS, else 7)
#   make bench BENCH_REPS=2      (a quick check that it all runs)
set -euo pipefail
cd "$(dirname "$0")/../.."

REPS=${1:-${BENCH_REPS:-7}}
case $REPS in '' | *[!0-9]* | 0) echo "usage: $0 [REPS]  (REPS >= 1)" >&2; exit 2 ;; esac
OUT=tests/bench/out
B=build/bench
MEASURE=$B/measure
CSV=$OUT/results.csv
mkdir -p "$OUT"
echo "bench,vmm,rep,exit,wall_ns,rss_kib" > "$CSV"

QEMU=$(command -v qemu-system-x86_64 || true)
[ -n "$QEMU" ] || echo "note: qemu-system-x86_64 not found: QEMU columns skipped (apt-get install qemu-system-x86)"
QEMU_MICROVM=(-accel kvm -M microvm -m 128M -nographic -no-reboot -nodefaults
	      -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel)
QEMU_PC=(-accel kvm -M pc -m 128M -nographic -no-reboot -nodefaults
	 -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel)

# run BENCH VMM CMD...: one measured run, appended to the CSV.
run() {
	local bench=$1 vmm=$2 rep=$3; shift 3
	local r
	r=$("$MEASURE" "$@" 3>&1 >/dev/null 2>/dev/null)
	echo "$bench,$vmm,$rep,${r// /,}" >> "$CSV"
}

# The IPI guests' sizes (tests/guests/loop.h), read before the runs.
loop_h() { sed -n "s/^#define $1[[:space:]]*\([0-9]*\).*/\1/p" tests/guests/loop.h 2>/dev/null; }
STORM_CPUS=$(loop_h STORM_CPUS); STORM_CPUS=${STORM_CPUS:-2}
STORM_K=$(loop_h IPI_STORM_K); STORM_K=${STORM_K:-8000}
STORM_WINDOW=$(loop_h STORM_WINDOW); STORM_WINDOW=${STORM_WINDOW:-8}
STORM_IPIS=$((STORM_CPUS * (STORM_CPUS - 1) * STORM_K))

# Each repetition runs every contender once, in turn.
for rep in $(seq 1 "$REPS"); do
	run start tinyvmm "$rep" ./tinyvmm $B/exit_mb.elf
	run start raw-kvm "$rep" $B/raw_kvm $B/exit_mb.elf
	run bare tinyvmm "$rep" ./tinyvmm --version
	if [ -n "$QEMU" ]; then
		run start qemu-microvm "$rep" "$QEMU" "${QEMU_MICROVM[@]}" $B/exit_mb.elf
	fi
	run ipi tinyvmm "$rep" ./tinyvmm -c 2 tests/guests/ipi_pingpong_mb.elf
	run storm tinyvmm "$rep" ./tinyvmm -c "$STORM_CPUS" tests/guests/ipi_storm_mb.elf
	run storm0 tinyvmm "$rep" ./tinyvmm -c "$STORM_CPUS" tests/guests/ipi_storm0_mb.elf
	if [ -n "$QEMU" ]; then
		run ipi qemu-microvm "$rep" "$QEMU" -smp 2 "${QEMU_MICROVM[@]}" tests/guests/ipi_pingpong_mb.elf
		run storm qemu-microvm "$rep" "$QEMU" -smp "$STORM_CPUS" "${QEMU_MICROVM[@]}" \
			tests/guests/ipi_storm_mb.elf
		run storm0 qemu-microvm "$rep" "$QEMU" -smp "$STORM_CPUS" "${QEMU_MICROVM[@]}" \
			tests/guests/ipi_storm0_mb.elf
	fi
	for kind in pio mmio; do
		run "$kind" tinyvmm "$rep" ./tinyvmm tests/guests/${kind}_loop_mb.elf
		run "$kind" raw-kvm "$rep" $B/raw_kvm tests/guests/${kind}_loop_mb.elf
		if [ -n "$QEMU" ]; then
			run "$kind" qemu-microvm "$rep" "$QEMU" "${QEMU_MICROVM[@]}" \
				tests/guests/${kind}_loop_mb.elf
		fi
	done
done
# QEMU's pc machine runs SeaBIOS, emulated instruction by instruction here:
# seconds per boot, so fewer runs.
if [ -n "$QEMU" ]; then
	for rep in 1 2 3; do
		run start qemu-pc "$rep" "$QEMU" "${QEMU_PC[@]}" $B/exit_mb.elf
	done
fi

# ---- virtio-blk: bench_blk.sh, REPS repetitions of its own ----
# It boots the bundled guest (guest/guest.elf -- blk-bench) on a fresh
# image and compares with host dd, so it runs apart from the loop above;
# each of its repetitions runs tinyvmm, QEMU and dd in turn, the same idea.
# Its table (stdout) and "figure,who,median,min,max" rows are kept in
# $OUT; a failed run (status 1) leaves the others' figures and is said.
BLK_MD=$OUT/blk.md
BLK_CSV=$OUT/blk.csv
BLK_CMD=(tests/bench/bench_blk.sh "$REPS" "$BLK_CSV")
: > "$BLK_CSV"
echo "running ${BLK_CMD[*]}"
BLK_RC=0
"${BLK_CMD[@]}" > "$BLK_MD" || BLK_RC=$?

# ---- PIT ticks: bench_pit.sh, the same way; at most 3 repetitions, as
# each of its QEMU -M pc runs boots SeaBIOS (emulated here: seconds) ----
PIT_MD=$OUT/pit.md
PIT_CSV=$OUT/pit.csv
PIT_CMD=(tests/bench/bench_pit.sh "$((REPS < 3 ? REPS : 3))" "$PIT_CSV")
: > "$PIT_CSV"
echo "running ${PIT_CMD[*]}"
PIT_RC=0
"${PIT_CMD[@]}" > "$PIT_MD" || PIT_RC=$?

# ---- a course-style CI harness under QEMU and under tinyvmm's
# qemu-system-x86_64 symlink (issue 15); at most 3 repetitions ----
HARNESS_MD=$OUT/harness.md
HARNESS_CMD=(tests/bench/qemu_harness_bench.sh "$((REPS < 3 ? REPS : 3))")
echo "running ${HARNESS_CMD[*]}"
HARNESS_RC=0
"${HARNESS_CMD[@]}" > "$HARNESS_MD" || HARNESS_RC=$?

# ---- summary: medians, min, max; exit cost = (loop - start) / iterations ----
ITER=$(loop_h LOOP_ITERATIONS); ITER=${ITER:-1000000}
IPI_ROUNDS=$(loop_h IPI_ROUNDS); IPI_ROUNDS=${IPI_ROUNDS:-20000}
SUMMARY=$OUT/summary.txt
awk -F, -v iter="$ITER" '
NR == 1 { next }
{ key = $1 "," $2; n[key]++; t[key, n[key]] = $5; r[key, n[key]] = $6
  if ($4 != 1 && $1 != "bare") bad[key]++ }
function median(arr, key, cnt,   i, j, v, tmp) {
	for (i = 1; i <= cnt; i++) tmp[i] = arr[key, i]
	for (i = 2; i <= cnt; i++) { v = tmp[i]; for (j = i - 1; j > 0 && tmp[j] > v; j--) tmp[j + 1] = tmp[j]; tmp[j + 1] = v }
	return cnt % 2 ? tmp[(cnt + 1) / 2] : (tmp[cnt / 2] + tmp[cnt / 2 + 1]) / 2
}
function minmax(arr, key, cnt,   i, lo, hi) {
	lo = hi = arr[key, 1]
	for (i = 2; i <= cnt; i++) { if (arr[key, i] < lo) lo = arr[key, i]; if (arr[key, i] > hi) hi = arr[key, i] }
	return lo " " hi
}
END {
	for (key in n) {
		split(key, k, ",")
		split(minmax(t, key, n[key]), mm, " ")
		printf "%s %s %d %.3f %.3f %.3f %d %d\n", k[1], k[2], n[key],
			median(t, key, n[key]) / 1e6, mm[1] / 1e6, mm[2] / 1e6,
			median(r, key, n[key]), bad[key] + 0
	}
}' "$CSV" | sort > "$SUMMARY"

# get BENCH VMM FIELD: from the summary (3 n, 4 median ms, 5 min, 6 max, 7 rss KiB, 8 bad runs)
get() { awk -v b="$1" -v v="$2" -v f="$3" '$1 == b && $2 == v { print $f }' "$SUMMARY"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
# ns per exit: (loop run - trivial run) / iterations
per_exit() {
	local loop start
	loop=$(get "$1" "$2" 4); start=$(get start "$2" 4)
	[ -n "$loop" ] && [ -n "$start" ] || { echo ""; return; }
	awk -v l="$loop" -v s="$start" -v n="$ITER" 'BEGIN { printf "%.0f", (l - s) * 1e6 / n }'
}
fmt_ms() { [ -n "$(get "$1" "$2" 4)" ] && printf "%s [%s–%s]" "$(get "$1" "$2" 4)" "$(get "$1" "$2" 5)" "$(get "$1" "$2" 6)" || echo "-"; }
rss_mib() { local k; k=$(get "$1" "$2" 7); [ -n "$k" ] && awk -v k="$k" 'BEGIN { printf "%.1f", k / 1024 }' || echo "-"; }

T_START=$(get start tinyvmm 4); R_START=$(get start raw-kvm 4); Q_START=$(get start qemu-microvm 4)
# The IPI guests' start-up (both CPUs into long mode, INIT-SIPI-SIPI, exit)
# is the storm guest built without IPIs (storm0); both figures take it off.
# µs per IPI round trip: (ping-pong run - storm0 run) / rounds
per_round() {
	local ipi start
	ipi=$(get ipi "$1" 4); start=$(get storm0 "$1" 4)
	[ -n "$ipi" ] && [ -n "$start" ] || { echo ""; return; }
	awk -v l="$ipi" -v s="$start" -v n="$IPI_ROUNDS" 'BEGIN { printf "%.1f", (l - s) * 1e3 / n }'
}
# IPIs delivered per second: IPIs / (storm run - storm0 run)
per_second() {
	local storm start
	storm=$(get storm "$1" 4); start=$(get storm0 "$1" 4)
	[ -n "$storm" ] && [ -n "$start" ] || { echo ""; return; }
	awk -v l="$storm" -v s="$start" -v n="$STORM_IPIS" 'BEGIN { if (l > s) printf "%.0f", n * 1e3 / (l - s) }'
}
IPI_T=$(per_round tinyvmm); IPI_Q=$(per_round qemu-microvm)
STORM_T=$(per_second tinyvmm); STORM_Q=$(per_second qemu-microvm)
PIO_T=$(per_exit pio tinyvmm); PIO_R=$(per_exit pio raw-kvm); PIO_Q=$(per_exit pio qemu-microvm)
MMIO_T=$(per_exit mmio tinyvmm); MMIO_R=$(per_exit mmio raw-kvm); MMIO_Q=$(per_exit mmio qemu-microvm)
RSS_T=$(get start tinyvmm 7); RSS_BARE=$(get bare tinyvmm 7)

TABLE=$OUT/table.md
{
	echo "| measure | tinyvmm | raw KVM floor | QEMU microvm | QEMU pc | tinyvmm / floor | tinyvmm / QEMU microvm |"
	echo "| --- | --- | --- | --- | --- | --- | --- |"
	echo "| start → exit, trivial guest (ms, median [min–max]) | $(fmt_ms start tinyvmm) | $(fmt_ms start raw-kvm) | $(fmt_ms start qemu-microvm) | $(fmt_ms start qemu-pc) | $(ratio "$T_START" "$R_START") | $(ratio "$T_START" "$Q_START") |"
	echo "| peak RSS, 128 MiB guest (MiB) | $(rss_mib start tinyvmm) | $(rss_mib start raw-kvm) | $(rss_mib start qemu-microvm) | $(rss_mib start qemu-pc) | $(ratio "$RSS_T" "$(get start raw-kvm 7)") | $(ratio "$RSS_T" "$(get start qemu-microvm 7)") |"
	echo "| PIO exit round trip (ns/exit) | ${PIO_T:--} | ${PIO_R:--} | ${PIO_Q:--} | - | $(ratio "$PIO_T" "$PIO_R") | $(ratio "$PIO_T" "$PIO_Q") |"
	echo "| MMIO exit round trip (ns/exit) | ${MMIO_T:--} | ${MMIO_R:--} | ${MMIO_Q:--} | - | $(ratio "$MMIO_T" "$MMIO_R") | $(ratio "$MMIO_T" "$MMIO_Q") |"
	echo "| IPI ping-pong round trip, 2 vCPUs (µs) | ${IPI_T:--} | - (no LAPIC) | ${IPI_Q:--} (in-kernel LAPIC) | - | - | $(ratio "$IPI_T" "$IPI_Q") |"
	echo "| IPI storm, $STORM_CPUS vCPUs all to all (IPIs delivered/s; higher is better) | ${STORM_T:--} | - (no LAPIC) | ${STORM_Q:--} (in-kernel LAPIC) | - | - | $(ratio "$STORM_T" "$STORM_Q") |"
} > "$TABLE"
RSS_NOTE="tinyvmm's peak RSS booting the trivial guest with 128 MiB of RAM is $(rss_mib start tinyvmm) MiB; the same binary without a VM (\`tinyvmm --version\`) peaks at $(rss_mib bare tinyvmm) MiB: $(awk -v a="$RSS_T" -v b="$RSS_BARE" 'BEGIN { if (a == "" || b == "") print "-"; else printf "%.1f", (a - b) / 1024 }') MiB for the VM."

MEMBENCH=$OUT/memory.txt
$B/bench_memory > "$MEMBENCH" 2>&1 || echo "(bench_memory failed)" >> "$MEMBENCH"

# Benchmarks left out say so instead of a number.
SKIPPED="- IPI ping-pong under QEMU with its userspace LAPIC (kernel-irqchip=off, deprecated): skipped: it boots the
  trivial guest but never finishes the ping-pong on this host (spins at 100% CPU), so QEMU's figure is with
  its in-kernel LAPIC, which serves ICR/EOI/HLT without leaving the kernel."

# The part that goes both to the terminal and into docs/BENCHMARKS.md.
REPORT=$OUT/report.md
printf '%s\n\n%s\n\n%s\n' "$(cat "$TABLE")" "$RSS_NOTE" "$SKIPPED" > "$REPORT"
cat "$REPORT"
echo
cat "$MEMBENCH"

# ---- the virtio-blk section: bench_blk.sh's table, its command, and what
# limits the figures, all computed from this run (no figure is written in) ----
KVM_MOD=""		# the loaded kvm* modules, e.g. "kvm kvm_pvm"
for m in /sys/module/kvm*; do
	if [ -e "$m" ]; then KVM_MOD+="${KVM_MOD:+ }${m##*/}"; fi
done
# run_status SCRIPT RC: what a failed bench script's section says first.
run_status() {
	if [ "$2" = 1 ]; then
		echo
		echo "**$1 exited with status 1**: some runs failed (their logs are named in"
		echo "\`make bench\`'s output); the figures below are from the runs that worked."
	elif [ "$2" != 0 ]; then
		echo
		echo "**$1 could not run (status $2)**: \`make bench\`'s output says why."
	fi
}
BLK_SECTION=$OUT/blk_section.md
{
	echo "## virtio-blk"
	echo
	echo "Made by \`${BLK_CMD[*]}\` (run by \`make bench\` after the runs above; the"
	echo "guest is \`guest/guest.elf\`'s \`blk-bench\` mode, guest/bench_blk.c)."
	run_status bench_blk.sh "$BLK_RC"
	echo
	sed '/./,$!d' "$BLK_MD"		# less its leading blank line
	echo
	echo "### What limits these figures"
	echo
	# Every number in it comes from bench_blk.sh's CSV of this run.
	awk -F, -v date="$(date -u +%Y-%m-%d)" -v reps="$REPS" -v kvm="${KVM_MOD:-unknown}" \
		-f tests/bench/blk_limits.awk "$BLK_CSV"
} > "$BLK_SECTION"
echo
cat "$BLK_SECTION"

PIT_SECTION=$OUT/pit_section.md
{
	echo "## PIT tick"
	echo
	echo "Made by \`${PIT_CMD[*]}\` (run by \`make bench\` after virtio-blk; the"
	echo "guest is \`tests/guests/pit_tick_mb.elf\`)."
	run_status bench_pit.sh "$PIT_RC"
	echo
	sed '/./,$!d' "$PIT_MD"
} > "$PIT_SECTION"
echo
cat "$PIT_SECTION"

HARNESS_SECTION=$OUT/harness_section.md
{
	echo "## A CI harness with QEMU's command line"
	echo
	echo "Made by \`${HARNESS_CMD[*]}\` (run by \`make bench\`): \`tests/boot/qemu_harness.sh\`,"
	echo "written like an OS course's \`make test\`, runs \`\$QEMU -kernel guest/guest.elf -append ..."
	echo "-serial stdio -device isa-debug-exit,... -display none -no-reboot -m 128 -smp 2\` and checks"
	echo "the TAP lines and the status; the same script with tinyvmm's \`build/qemu\` first on PATH."
	echo "Most of each run is the guest's own timed waits (RTC alarm, S3, timers)."
	run_status qemu_harness_bench.sh "$HARNESS_RC"
	echo
	cat "$HARNESS_MD"
} > "$HARNESS_SECTION"
echo
cat "$HARNESS_SECTION"

# ---- plot: start-up and exit costs, one panel each ----
PLOT=docs/benchmarks.png
if command -v gnuplot >/dev/null; then
	{
		echo "tinyvmm $T_START $PIO_T $MMIO_T"
		echo "raw-KVM $R_START $PIO_R $MMIO_R"
		if [ -n "$Q_START" ]; then echo "QEMU-microvm $Q_START $PIO_Q $MMIO_Q"; fi
	} > "$OUT/plot.dat"
	gnuplot <<GP
set terminal png size 1000,420
set output "$PLOT"
set multiplot layout 1,2 title "tinyvmm vs raw KVM floor vs QEMU (medians, $(date -u +%Y-%m-%d))"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set yrange [0:*]
set title "start → exit of a trivial guest (ms)"
plot "$OUT/plot.dat" using 2:xtic(1) notitle lc rgb "#4477aa"
set title "exit round trip (ns per exit)"
plot "$OUT/plot.dat" using 3:xtic(1) title "PIO" lc rgb "#4477aa", "" using 4 title "MMIO" lc rgb "#ee6677"
unset multiplot
GP
	echo "wrote $PLOT"
else
	echo "note: gnuplot not found: no plot (apt-get install gnuplot-nox)"
fi

# ---- docs/BENCHMARKS.md ----
# awk, not `| head -1`: an early-closed pipe would fail under pipefail.
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
{
	echo "# Benchmarks"
	echo
	echo "Made by \`make bench\` (tests/bench/run.sh, $REPS interleaved repetitions) on $(date -u +%Y-%m-%d)."
	echo "Machine: $CPU, $(nproc) CPUs, kernel $(uname -r), KVM modules: ${KVM_MOD:-unknown}."
	echo "QEMU: $([ -n "$QEMU" ] && "$QEMU" --version | awk 'NR == 1' || echo "not installed")."
	echo
	echo "The same guest files run under every contender: \`exit_mb.elf\` (a multiboot image"
	echo "that writes the exit port at once) for start-up and RSS, and \`tests/guests/{pio,mmio}_loop_mb.elf\`"
	echo "($ITER \`out\`s to the UART scratch register / 32-bit MMIO writes) for exit costs,"
	echo "computed as (loop run − trivial run) / $ITER; \`tests/guests/ipi_pingpong_mb.elf\` with 2 vCPUs"
	echo "(CPU 0 sends CPU 1 a fixed IPI and halts until CPU 1's handler IPIs back, $IPI_ROUNDS times) for the IPI"
	echo "round trip, and \`tests/guests/ipi_storm_mb.elf\` with $STORM_CPUS vCPUs for IPI throughput: every CPU sends"
	echo "$STORM_K fixed IPIs to every other CPU at once, up to $STORM_WINDOW per (sender, receiver) pair in flight,"
	echo "each on its own vector (the sender reuses a vector only once the receiver's handler has counted"
	echo "its last IPI, spinning with interrupts on meanwhile), so exactly $STORM_IPIS IPIs are delivered"
	echo "and none coalesces in an IRR. Both IPI figures are host wall clock"
	echo "minus the same guest's start-up, measured in the same repetition with \`ipi_storm0_mb.elf\` (the"
	echo "storm guest without IPIs: both CPUs into long mode, INIT-SIPI-SIPI, exit): round trip ="
	echo "(ping-pong run − storm0 run) / $IPI_ROUNDS, IPIs/s = $STORM_IPIS / (storm run − storm0 run)."
	echo "In the last column a throughput above 1 means tinyvmm delivers more IPIs per second."
	echo "The raw KVM floor (\`tests/bench/raw_kvm.c\`)"
	echo "has tinyvmm's set-up but an exit loop with no VMM logic."
	echo "Guest code at CPL0 runs in KVM's instruction emulator on this machine (kvm_pvm),"
	echo "so absolute numbers are not those of a VMX/SVM host: read the ratios."
	echo
	cat "$REPORT"
	echo
	cat "$BLK_SECTION"
	echo
	cat "$PIT_SECTION"
	echo
	cat "$HARNESS_SECTION"
	echo
	echo "## Memory model (\`build/bench/bench_memory\`)"
	echo
	echo '```'
	cat "$MEMBENCH"
	echo '```'
	echo
	if [ -f "$PLOT" ]; then
		echo "![start-up and exit costs](benchmarks.png)"
		echo
	fi
	echo "Raw numbers: [benchmarks.csv](benchmarks.csv): one row per run (bench, vmm, repetition, exit code,"
	echo "wall ns, peak RSS KiB), then, after a blank line and a header of their own, bench_blk.sh's and"
	echo "bench_pit.sh's rows (figure, who, median, min, max over its runs; bench_pit.sh's figures start"
	echo "with \`pit-\`)."
} > docs/BENCHMARKS.md
# Two tables in one file, each with its header: the runs, then virtio-blk
# and the PIT tick.
{
	cat "$CSV"
	echo
	echo "figure,who,median,min,max"
	cat "$BLK_CSV" "$PIT_CSV"
} > docs/benchmarks.csv
echo "wrote docs/BENCHMARKS.md, docs/benchmarks.csv"
