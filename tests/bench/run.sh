#!/usr/bin/env bash
# make bench: every figure side by side, tinyvmm vs the raw-KVM floor vs QEMU,
# interleaved in one run so the machine's noise hits all alike. Prints a
# table, rewrites docs/BENCHMARKS.md, docs/benchmarks.csv and
# docs/benchmarks.png, keeps raw numbers in tests/bench/out/. Then the
# virtio-blk and PIT tick benchmarks (tests/bench/bench_blk.sh and
# bench_pit.sh, interleaved the same way inside) get a section each.
# Timings are reported, never asserted. A run that fails (a wrong exit
# code) adds no time to any median: the tables count it as a failure.
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
echo "bench,vmm,rep,exit,wall_ns,rss_kib,cpu_ns" > "$CSV"

QEMU=$(command -v qemu-system-x86_64 || true)
[ -n "$QEMU" ] || echo "note: qemu-system-x86_64 not found: QEMU columns skipped (apt-get install qemu-system-x86)"
QEMU_MICROVM=(-accel kvm -M microvm -m 128M -nographic -no-reboot -nodefaults
	      -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel)
QEMU_PC=(-accel kvm -M pc -m 128M -nographic -no-reboot -nodefaults
	 -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel)

# run BENCH VMM REP CMD...: one measured run, appended to the CSV with the
# host CPU time it took: bash's `time` reports user + system time of the
# children it reaped, i.e. getrusage(RUSAGE_CHILDREN) of measure, which
# reaped the VMM.
run() {
	local bench=$1 vmm=$2 rep=$3; shift 3
	local r TIMEFORMAT='%3U %3S'
	{ time "$MEASURE" "$@" 3>"$OUT/run.tmp" >/dev/null 2>/dev/null; } 2>"$OUT/cpu.tmp"
	r=$(cat "$OUT/run.tmp")
	echo "$bench,$vmm,$rep,${r// /,},$(awk '{ printf "%.0f", ($1 + $2) * 1e9 }' "$OUT/cpu.tmp")" >> "$CSV"
}

# The "busy" IPI runs: one host CPU kept busy by another process (a shell
# loop), the condition under which an in-kernel LAPIC's figure moves most.
BUSY=""
busy_start() { ( while :; do :; done ) & BUSY=$!; }
busy_stop() { kill "$BUSY" 2>/dev/null || true; wait "$BUSY" 2>/dev/null || true; BUSY=""; }
trap '[ -z "$BUSY" ] || kill "$BUSY" 2>/dev/null || true' EXIT

# The IPI guests' sizes (tests/guests/loop.h), read before the runs.
loop_h() { sed -n "s/^#define $1[[:space:]]*\([0-9]*\).*/\1/p" tests/guests/loop.h 2>/dev/null; }
STORM_CPUS=$(loop_h STORM_CPUS); STORM_CPUS=${STORM_CPUS:-2}
STORM_K=$(loop_h IPI_STORM_K); STORM_K=${STORM_K:-8000}
STORM_WINDOW=$(loop_h STORM_WINDOW); STORM_WINDOW=${STORM_WINDOW:-8}
STORM_IPIS=$((STORM_CPUS * (STORM_CPUS - 1) * STORM_K))
G=tests/guests
RAW_LAPIC="$B/raw_kvm --irqchip"	# the floor of the LAPIC guests
# The load when the runs begin: 1-minute load average, runnable/all tasks.
LOAD_START=$(awk '{ print $1 ", " $4 }' /proc/loadavg)

# ipi_runs REP SUFFIX: ping-pong, storm and their start-up (storm0) for one
# APIC mode (SUFFIX "" xAPIC, "-x2" x2APIC); tinyvmm with its default
# adaptive halt polling and without (tinyvmm-nopoll); the raw-KVM floor
# with KVM's in-kernel LAPIC, with KVM's halt polling and without
# (raw-kvm-nopoll: a per-VM setting QEMU has no option for); and QEMU.
ipi_runs() {
	local rep=$1 x=$2 g=${2:+_x2}
	run "ipi$x" tinyvmm "$rep" ./tinyvmm -c 2 $G/ipi_pingpong${g}_mb.elf
	run "ipi$x" tinyvmm-nopoll "$rep" ./tinyvmm --halt-poll-ns 0 -c 2 $G/ipi_pingpong${g}_mb.elf
	run "storm$x" tinyvmm "$rep" ./tinyvmm -c "$STORM_CPUS" $G/ipi_storm${g}_mb.elf
	run "storm0$x" tinyvmm "$rep" ./tinyvmm -c "$STORM_CPUS" $G/ipi_storm0${g}_mb.elf
	run "apic$x" tinyvmm "$rep" ./tinyvmm $G/ipi_apic_loop${g}_mb.elf
	run "ipi$x" raw-kvm "$rep" $RAW_LAPIC -c 2 $G/ipi_pingpong${g}_mb.elf
	run "ipi$x" raw-kvm-nopoll "$rep" $RAW_LAPIC -c 2 --halt-poll-ns 0 $G/ipi_pingpong${g}_mb.elf
	run "storm$x" raw-kvm "$rep" $RAW_LAPIC -c "$STORM_CPUS" $G/ipi_storm${g}_mb.elf
	run "storm0$x" raw-kvm "$rep" $RAW_LAPIC -c "$STORM_CPUS" $G/ipi_storm0${g}_mb.elf
	run "apic$x" raw-kvm "$rep" $RAW_LAPIC $G/ipi_apic_loop${g}_mb.elf
	run "apic$x" raw-kvm-exit "$rep" $B/raw_kvm $G/ipi_apic_loop${g}_mb.elf
	[ -n "$QEMU" ] || return 0
	run "ipi$x" qemu-microvm "$rep" "$QEMU" -smp 2 "${QEMU_MICROVM[@]}" $G/ipi_pingpong${g}_mb.elf
	run "storm$x" qemu-microvm "$rep" "$QEMU" -smp "$STORM_CPUS" "${QEMU_MICROVM[@]}" \
		$G/ipi_storm${g}_mb.elf
	run "storm0$x" qemu-microvm "$rep" "$QEMU" -smp "$STORM_CPUS" "${QEMU_MICROVM[@]}" \
		$G/ipi_storm0${g}_mb.elf
	run "apic$x" qemu-microvm "$rep" "$QEMU" "${QEMU_MICROVM[@]}" $G/ipi_apic_loop${g}_mb.elf
}

# The ping-pong and its start-up again with one host CPU busy.
ipi_busy_runs() {
	local rep=$1
	busy_start
	run ipi-busy tinyvmm "$rep" ./tinyvmm -c 2 $G/ipi_pingpong_mb.elf
	run ipi-busy tinyvmm-nopoll "$rep" ./tinyvmm --halt-poll-ns 0 -c 2 $G/ipi_pingpong_mb.elf
	run storm0-busy tinyvmm "$rep" ./tinyvmm -c 2 $G/ipi_storm0_mb.elf
	run ipi-busy raw-kvm "$rep" $RAW_LAPIC -c 2 $G/ipi_pingpong_mb.elf
	run ipi-busy raw-kvm-nopoll "$rep" $RAW_LAPIC -c 2 --halt-poll-ns 0 $G/ipi_pingpong_mb.elf
	run storm0-busy raw-kvm "$rep" $RAW_LAPIC -c 2 $G/ipi_storm0_mb.elf
	if [ -n "$QEMU" ]; then
		run ipi-busy qemu-microvm "$rep" "$QEMU" -smp 2 "${QEMU_MICROVM[@]}" $G/ipi_pingpong_mb.elf
		run storm0-busy qemu-microvm "$rep" "$QEMU" -smp 2 "${QEMU_MICROVM[@]}" $G/ipi_storm0_mb.elf
	fi
	busy_stop
}

# Each repetition runs every contender once, in turn.
for rep in $(seq 1 "$REPS"); do
	run start tinyvmm "$rep" ./tinyvmm $B/exit_mb.elf
	run start raw-kvm "$rep" $B/raw_kvm $B/exit_mb.elf
	run bare tinyvmm "$rep" ./tinyvmm --version
	if [ -n "$QEMU" ]; then
		run start qemu-microvm "$rep" "$QEMU" "${QEMU_MICROVM[@]}" $B/exit_mb.elf
	fi
	ipi_runs "$rep" ""
	ipi_runs "$rep" -x2
	run apic1 tinyvmm "$rep" ./tinyvmm $G/ipi_apic_loop1_mb.elf
	run apic1 raw-kvm "$rep" $RAW_LAPIC $G/ipi_apic_loop1_mb.elf
	run apic1 raw-kvm-exit "$rep" $B/raw_kvm $G/ipi_apic_loop1_mb.elf
	if [ -n "$QEMU" ]; then
		run apic1 qemu-microvm "$rep" "$QEMU" "${QEMU_MICROVM[@]}" $G/ipi_apic_loop1_mb.elf
	fi
	ipi_busy_runs "$rep"
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

LOAD_END=$(awk '{ print $1 ", " $4 }' /proc/loadavg)

# ---- IPI counts: one untimed --stats run per ping-pong configuration ----
for x in "" -x2; do
	for v in tinyvmm tinyvmm-nopoll; do
		opt=()
		[ "$v" = tinyvmm ] || opt=(--halt-poll-ns 0)
		./tinyvmm "${opt[@]}" --stats -c 2 $G/ipi_pingpong${x:+_x2}_mb.elf \
			2> "$OUT/stats-ipi$x-$v.txt" >/dev/null || true
	done
done

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

# ---- the GDB stub vs QEMU's gdbstub (issue 14): stepi rate and
# breakpoint round trip, the same gdb, the same guest ----
GDB_MD=$OUT/gdb.md
GDB_CMD=(tests/bench/bench_gdb.sh "$REPS")
echo "running ${GDB_CMD[*]}"
GDB_RC=0
"${GDB_CMD[@]}" > "$GDB_MD" || GDB_RC=$?

# ---- summary: medians, min, max; exit cost = (loop - start) / iterations ----
ITER=$(loop_h LOOP_ITERATIONS); ITER=${ITER:-1000000}
IPI_ROUNDS=$(loop_h IPI_ROUNDS); IPI_ROUNDS=${IPI_ROUNDS:-20000}
SUMMARY=$OUT/summary.txt
# A run succeeded if the guest wrote 0 to the exit port (exit code 1;
# `tinyvmm --version`: 0). Failed runs are counted, not timed.
awk -F, -v iter="$ITER" '
NR == 1 { next }
{ key = $1 "," $2; seen[key] = 1
  if ($4 != ($1 == "bare" ? 0 : 1)) { bad[key]++; next }
  n[key]++; t[key, n[key]] = $5; r[key, n[key]] = $6; c[key, n[key]] = $7 }
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
	for (key in seen) {
		split(key, k, ",")
		if (!n[key]) {
			printf "%s %s 0 - - - - %d -\n", k[1], k[2], bad[key]
			continue
		}
		split(minmax(t, key, n[key]), mm, " ")
		printf "%s %s %d %.3f %.3f %.3f %d %d %.3f\n", k[1], k[2], n[key],
			median(t, key, n[key]) / 1e6, mm[1] / 1e6, mm[2] / 1e6,
			median(r, key, n[key]), bad[key] + 0, median(c, key, n[key]) / 1e6
	}
}' "$CSV" | sort > "$SUMMARY"

# get BENCH VMM FIELD: from the summary (3 good runs, 4 median ms, 5 min,
# 6 max, 7 rss KiB, 8 failed runs, 9 median host CPU ms); "" for none.
get() { awk -v b="$1" -v v="$2" -v f="$3" '$1 == b && $2 == v && $f != "-" { print $f }' "$SUMMARY"; }
# failed BENCH VMM...: " (k of n runs failed)" over all those runs, or "".
failed() {
	local b=$1 bad=0 all=0 v; shift
	for v in "$@"; do
		bad=$((bad + $(get "$b" "$v" 8 || true) + 0))
		all=$((all + $(get "$b" "$v" 3 || true) + $(get "$b" "$v" 8 || true) + 0))
	done
	[ "$bad" = 0 ] || echo " ($bad of $all runs failed)"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
# ns per exit: (loop run - trivial run) / iterations
per_exit() {
	local loop start
	loop=$(get "$1" "$2" 4); start=$(get start "$2" 4)
	[ -n "$loop" ] && [ -n "$start" ] || { echo ""; return; }
	awk -v l="$loop" -v s="$start" -v n="$ITER" 'BEGIN { printf "%.0f", (l - s) * 1e6 / n }'
}
fmt_ms() { [ -n "$(get "$1" "$2" 4)" ] && printf "%s [%s–%s]%s" "$(get "$1" "$2" 4)" "$(get "$1" "$2" 5)" "$(get "$1" "$2" 6)" "$(failed "$1" "$2")" || echo "-$(failed "$1" "$2")"; }
rss_mib() { local k; k=$(get "$1" "$2" 7); [ -n "$k" ] && awk -v k="$k" 'BEGIN { printf "%.1f", k / 1024 }' || echo "-"; }

T_START=$(get start tinyvmm 4); R_START=$(get start raw-kvm 4); Q_START=$(get start qemu-microvm 4)
# The IPI guests' start-up (both CPUs into long mode, INIT-SIPI-SIPI, exit)
# is the storm guest built without IPIs (storm0); both figures take it off.
# per_op BENCH VMM BASE BASE_VMM COUNT FIELD SCALE: (BENCH run - BASE run)
# of FIELD (4 wall, 9 CPU; ms) * SCALE / COUNT, one decimal; "" without both.
per_op() {
	local a b
	a=$(get "$1" "$2" "$6"); b=$(get "$3" "$4" "$6")
	[ -n "$a" ] && [ -n "$b" ] || { echo ""; return; }
	awk -v a="$a" -v b="$b" -v n="$5" -v k="$7" 'BEGIN { printf "%.1f", (a - b) * k / n }'
}
# µs per IPI round trip, wall (ipi_rt) or host CPU (ipi_cpu): (ping-pong
# run - storm0 run) / rounds. SUFFIX: "", -x2, -busy. A -nopoll run
# shares the start-up run of its VMM with polling.
ipi_rt() { per_op "ipi${2:-}" "$1" "storm0${2:-}" "${1%-nopoll}" "$IPI_ROUNDS" 4 1e3; }
ipi_cpu() { per_op "ipi${2:-}" "$1" "storm0${2:-}" "${1%-nopoll}" "$IPI_ROUNDS" 9 1e3; }
# IPIs delivered per second: IPIs / (storm run - storm0 run)
per_second() {
	local storm start
	storm=$(get "storm${2:-}" "$1" 4); start=$(get "storm0${2:-}" "$1" 4)
	[ -n "$storm" ] && [ -n "$start" ] || { echo ""; return; }
	awk -v l="$storm" -v s="$start" -v n="$STORM_IPIS" 'BEGIN { if (l > s) printf "%.0f", n * 1e3 / (l - s) }'
}
# µs per LAPIC register write (TPR): (loop run - one-write run) / writes
apic_write() { per_op "apic${2:-}" "$1" apic1 "$1" "$APIC_ITER" 4 1e3; }
APIC_ITER=$(loop_h APIC_LOOP_ITERATIONS); APIC_ITER=${APIC_ITER:-200000}
IPI_T=$(ipi_rt tinyvmm); IPI_R=$(ipi_rt raw-kvm); IPI_Q=$(ipi_rt qemu-microvm)
STORM_T=$(per_second tinyvmm); STORM_R=$(per_second raw-kvm); STORM_Q=$(per_second qemu-microvm)
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
	echo "| IPI ping-pong round trip, 2 vCPUs, xAPIC (µs; more in the IPI section) | ${IPI_T:--}$(failed ipi tinyvmm) | ${IPI_R:--}$(failed ipi raw-kvm) (in-kernel LAPIC) | ${IPI_Q:--}$(failed ipi qemu-microvm) (in-kernel LAPIC) | - | $(ratio "$IPI_T" "$IPI_R") | $(ratio "$IPI_T" "$IPI_Q") |"
	echo "| IPI storm, $STORM_CPUS vCPUs all to all, xAPIC (IPIs delivered/s; higher is better) | ${STORM_T:--}$(failed storm tinyvmm) | ${STORM_R:--}$(failed storm raw-kvm) (in-kernel LAPIC) | ${STORM_Q:--}$(failed storm qemu-microvm) (in-kernel LAPIC) | - | $(ratio "$STORM_T" "$STORM_R") | $(ratio "$STORM_T" "$STORM_Q") |"
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

# ---- the IPI section: round trips in both APIC modes, with and without
# halt polling, CPU time, counts per round trip, and where the time goes;
# every figure from this run ----
# per_rt FILE: "exits hlt polls hits sleeps wakeups kicks by-reason
# busy-skips injected-synced injected-ioctl" per round trip, from a --stats
# run (the vcpuN exits / halt / interrupts lines, vcpu_print_stats).
per_rt() {
	awk -v n="$IPI_ROUNDS" '
	/^vcpu[0-9]+ exits:/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); e[kv[1]] += kv[2]; all += kv[2] } }
	/^vcpu[0-9]+ halt:/ { gsub(/[,;()]/, "")	# polls, successful, sleeps, busy, ..., woken, kicked
		polls += $4; hits += $7; sleeps += $9; busy += $14; wk += $(NF - 5); kick += $NF }
	/^vcpu[0-9]+ interrupts:/ { synced += $4; ioctl += $(NF - 2) }
	END {
		if (!all) exit
		for (r in e)
			if (e[r] / n >= 0.005)
				by = by (by ? ", " : "") sprintf("%s %.2f", r, e[r] / n)
		printf "%.2f|%.2f|%.2f|%.2f|%.2f|%.2f|%.3f|%s|%.2f|%.2f|%.2f\n", all / n, e["hlt"] / n,
			polls / n, hits / n, sleeps / n, wk / n, kick / n, by, busy / n,
			synced / n, ioctl / n
	}' "$1" 2>/dev/null
}
# rt_field CFG N: field N of per_rt for stats-CFG.txt, "-" if none.
rt_field() { local r; r=$(per_rt "$OUT/stats-$1.txt" | cut -d'|' -f"$2"); echo "${r:--}"; }
blk_fig() { awk -F, -v f="$1" '$1 == f && $2 == "tinyvmm" { print $3 }' "$BLK_CSV" 2>/dev/null; }
num() { awk -v v="$1" -v d="$2" 'BEGIN { if (v == "") print "-"; else printf "%.*f", d, v }'; }
calc() { awk "BEGIN { printf \"%.1f\", $1 }" 2>/dev/null || echo "-"; }

# loaded "LOAD, R/T": yes if more tasks were runnable than host CPUs
loaded() { echo "$1" | awk -v n="$(nproc)" '{ split($2, rt, "/"); print (rt[1] > n ? "yes" : "no") }'; }
mode_name() { case $1 in -x2) echo x2APIC ;; -busy) echo "xAPIC, one host CPU busy" ;; *) echo xAPIC ;; esac; }

IPI_SECTION=$OUT/ipi_section.md
{
	RT=$(ipi_rt tinyvmm); RTN=$(ipi_rt tinyvmm-nopoll); RTQ=$(ipi_rt qemu-microvm)
	RT2=$(ipi_rt tinyvmm -x2); RTN2=$(ipi_rt tinyvmm-nopoll -x2); RTQ2=$(ipi_rt qemu-microvm -x2)
	RTB=$(ipi_rt tinyvmm -busy); RTNB=$(ipi_rt tinyvmm-nopoll -busy); RTQB=$(ipi_rt qemu-microvm -busy)
	EM=$(apic_write tinyvmm ""); EX=$(apic_write tinyvmm -x2)
	EQM=$(apic_write qemu-microvm ""); EQX=$(apic_write qemu-microvm -x2)
	ERM=$(apic_write raw-kvm ""); ERX=$(apic_write raw-kvm -x2)
	RTRN=$(ipi_rt raw-kvm-nopoll); RTRN2=$(ipi_rt raw-kvm-nopoll -x2)
	EUM=$(apic_write raw-kvm-exit ""); EUX=$(apic_write raw-kvm-exit -x2)
	INSN=$(blk_fig insn-cost.ns)
	WAKE=$($B/wake_pingpong "$IPI_ROUNDS" 5 2>/dev/null || echo "?")
	echo "## IPI round trip and storm"
	echo
	echo "The ping-pong and storm guests of the table above, each also built for x2APIC"
	echo "(\`tests/guests/*_x2_mb.elf\`: ICR and EOI as MSR writes, one exit per ICR write instead of two),"
	echo "tinyvmm with its adaptive halt polling (the default: a halted vCPU polls for its wake-up up to a"
	echo "window that grows and shrinks as KVM's halt_poll_ns does, capped at 200 µs) and without"
	echo "(\`--halt-poll-ns 0\`), against QEMU with KVM's in-kernel LAPIC, on the same files, interleaved,"
	echo "and against the raw-KVM floor of an in-kernel LAPIC (\`$RAW_LAPIC\`: KVM's irqchip, the"
	echo "exit loop of the table above, no VMM logic) with KVM's halt polling (as QEMU has it) and"
	echo "without (\`--halt-poll-ns 0\`, KVM_CAP_HALT_POLL for that VM: QEMU has no option for it and the"
	echo "module's halt_poll_ns is read-only here), so each tinyvmm figure has an in-kernel one polling alike."
	echo "Load: 1-minute load average, runnable/all tasks, $LOAD_START at the start of the runs,"
	echo "$LOAD_END at their end ($(nproc) host CPUs). The *busy* row runs with one more process spinning"
	echo "(a shell loop), i.e. one host CPU taken. Round trip and CPU time per round trip ="
	echo "(ping-pong run − start-up run) / $IPI_ROUNDS, wall clock and user + system time of the VMM"
	echo "process (getrusage of the child). Medians of $REPS; a failed run counts as a failure, not a time."
	if [ "$(loaded "$LOAD_START")" = yes ] || [ "$(loaded "$LOAD_END")" = yes ]; then
		echo
		echo "**The host was loaded during these runs** (more runnable tasks than CPUs): every figure"
		echo "below includes waiting for a CPU, tinyvmm's halt polling stays off (it polls only while"
		echo "the host has a CPU to spare, as KVM does), and the *busy* row adds little to what other"
		echo "processes already did. Compare figures within this run only; for the quiet-host figures"
		echo "run \`make bench\` on an idle machine."
	fi
	echo
	echo "| figure | tinyvmm, polling | tinyvmm, no polling | in-kernel LAPIC, KVM polling (raw KVM) | in-kernel LAPIC, no polling (raw KVM) | QEMU, in-kernel LAPIC | polling / QEMU | no polling / QEMU | no polling / in-kernel no polling |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	# ipi_row LABEL POLL NOPOLL RAW RAW_NOPOLL QEMU: one row, "-" for none
	ipi_row() { echo "| $1 | ${2:--} | ${3:--} | ${4:--} | ${5:--} | ${6:--} | $(ratio "$2" "$6") | $(ratio "$3" "$6") | $(ratio "$3" "$5") |"; }
	for x in "" -x2 -busy; do
		ipi_row "round trip, $(mode_name "$x") (µs)" \
			"$(ipi_rt tinyvmm "$x")$(failed "ipi$x" tinyvmm)" \
			"$(ipi_rt tinyvmm-nopoll "$x")$(failed "ipi$x" tinyvmm-nopoll)" \
			"$(ipi_rt raw-kvm "$x")$(failed "ipi$x" raw-kvm)" \
			"$(ipi_rt raw-kvm-nopoll "$x")$(failed "ipi$x" raw-kvm-nopoll)" \
			"$(ipi_rt qemu-microvm "$x")$(failed "ipi$x" qemu-microvm)"
	done
	for x in "" -x2 -busy; do
		ipi_row "host CPU per round trip, $(mode_name "$x") (µs)" "$(ipi_cpu tinyvmm "$x")" \
			"$(ipi_cpu tinyvmm-nopoll "$x")" "$(ipi_cpu raw-kvm "$x")" \
			"$(ipi_cpu raw-kvm-nopoll "$x")" "$(ipi_cpu qemu-microvm "$x")"
	done
	for x in "" -x2; do
		st=$(per_second tinyvmm "$x"); sq=$(per_second qemu-microvm "$x")
		echo "| storm, $(mode_name "$x") (IPIs/s; higher is better) | ${st:--}$(failed "storm$x" tinyvmm) | - | $(per_second raw-kvm "$x")$(failed "storm$x" raw-kvm) | - | ${sq:--}$(failed "storm$x" qemu-microvm) | $(ratio "$st" "$sq") | - | - |"
	done
	echo "| LAPIC register write, xAPIC MMIO (µs per exit) | $(num "$EM" 1) | - | $(num "$ERM" 1) | - | $(num "$EQM" 1) | $(ratio "$EM" "$EQM") | - | - |"
	echo "| LAPIC register write, x2APIC MSR (µs per exit) | $(num "$EX" 1) | - | $(num "$ERX" 1) | - | $(num "$EQX" 1) | $(ratio "$EX" "$EQX") | - | - |"
	echo
	echo "LAPIC register write: \`tests/guests/ipi_apic_loop{,_x2}_mb.elf\`, $APIC_ITER TPR writes"
	echo "(three instructions per iteration in both modes), minus the one-write run. The same loops"
	echo "on the raw-KVM floor without a LAPIC (each write an exit to an empty loop in user space,"
	echo "\`$B/raw_kvm\`): xAPIC MMIO $(num "$EUM" 1) µs, x2APIC MSR $(num "$EUX" 1) µs per write, so tinyvmm's LAPIC adds"
	echo "$(calc "$EM - $EUM") µs (MMIO) and $(calc "$EX - $EUX") µs (MSR) per write to the exit itself, and an MSR exit"
	echo "costs $(ratio "$EUX" "$EUM") × an MMIO exit on the floor (no instruction to decode and emulate)."
	echo
	echo "Per round trip, both vCPUs, from one \`--stats\` run of each tinyvmm configuration:"
	echo
	echo "| per round trip | xAPIC, polling | xAPIC, no polling | x2APIC, polling | x2APIC, no polling |"
	echo "| --- | ---: | ---: | ---: | ---: |"
	cfgs="ipi-tinyvmm ipi-tinyvmm-nopoll ipi-x2-tinyvmm ipi-x2-tinyvmm-nopoll"
	row() { local c line="| $1 |"; for c in $cfgs; do line+=" $(rt_field "$c" "$2") |"; done; echo "$line"; }
	row "exits to tinyvmm" 1
	row "… by reason" 8
	row "halts that polled" 3
	row "halts that did not poll: host busy" 9
	row "… whose wake-up came within the window" 4
	row "halts that went to sleep" 5
	row "futex wake-ups of a sleeping vCPU" 6
	row "signals kicking a vCPU out of KVM_RUN" 7
	row "interrupts injected with KVM_RUN (synced event state)" 10
	row "… with a KVM_INTERRUPT ioctl of their own" 11
	echo
	echo "### Where a round trip's time goes"
	echo
	echo "The path one round trip waits for (xAPIC): CPU 0 writes ICR2 and ICR (2 exits); CPU 1 notices"
	echo "the posted interrupt, enters with it injected, and its handler writes ICR2 and ICR (2 exits);"
	echo "CPU 0 notices, takes the interrupt, and its handler sets a flag and writes EOI (1 exit), returns,"
	echo "checks the flag and loops: 5 LAPIC exits, about 8 other guest instructions, 2 interrupt"
	echo "injections and 2 hand-offs between the vCPU threads. The other exits (CPU 1's EOI, both HLTs)"
	echo "happen while the other vCPU works. x2APIC: 3 exits (ICR, ICR, EOI)."
	echo
	if [ -n "$RT" ] && [ -n "$EM" ]; then
		echo "- 5 LAPIC MMIO exits × $(num "$EM" 1) µs = $(calc "5 * $EM") µs of the $RT µs (polling)."
		if [ -n "$INSN" ]; then
			echo "- 8 guest instructions × $(num "$INSN" 0) ns (virtio-blk section's \"guest: ns per simple"
			echo "  instruction\", KVM's emulator here) = $(calc "8 * $INSN / 1000") µs."
			echo "- The rest, $(calc "$RT - 5 * $EM - 8 * $INSN / 1000") µs: the 2 hand-offs (the target's poll"
			echo "  or futex wake-up sees the posted bit, moves PIR to IRR, re-enters KVM_RUN with the"
			echo "  interrupt in KVM_RUN's synced event state: no KVM_INTERRUPT ioctl, which loads the vCPU"
			echo "  apart from KVM_RUN, 3.9 µs a time on this host) and the 2 interrupt deliveries through"
			echo "  the IDT in KVM's emulator."
		fi
	fi
	if [ -n "$RT" ] && [ -n "$RTN" ]; then
		echo "- Round trip without polling − with polling: $(calc "$RTN - $RT") µs, for $(rt_field ipi-tinyvmm-nopoll 6)"
		echo "  futex wake-ups per round trip without polling (a halted vCPU's thread asleep, then scheduled"
		echo "  again) and $(rt_field ipi-tinyvmm 6) with it; host CPU per round trip with − without polling:"
		echo "  $(calc "$(ipi_cpu tinyvmm) - $(ipi_cpu tinyvmm-nopoll)") µs. Two threads handing a token back"
		echo "  and forth through futexes, no KVM (\`build/bench/wake_pingpong\`), take $WAKE µs per round"
		echo "  trip on this host: the price of two wake-ups of a sleeping thread, paid inside the kernel too"
		echo "  (the in-kernel LAPIC's round trip without polling − with: $(calc "$RTRN - $(ipi_rt raw-kvm)") µs)."
	fi
	if [ -n "$RT2" ] && [ -n "$EX" ]; then
		echo "- x2APIC: 3 MSR exits × $(num "$EX" 1) µs = $(calc "3 * $EX") µs of the $RT2 µs; an MSR exit"
		echo "  costs $(ratio "$EX" "$EM") × an MMIO exit here (the MSR path skips the address-space lookup,"
		echo "  but the x2APIC guest also runs a few more instructions per ICR write and EOI)."
	fi
	if [ -n "$ERM" ] && [ -n "$EM" ] && [ -n "$RTQ" ]; then
		echo "- An in-kernel LAPIC (QEMU's figure, $RTQ µs; the raw floor's, $(ipi_rt raw-kvm) µs) takes away the"
		echo "  trip to user space on each LAPIC exit ($(num "$EM" 1) → $(num "$ERM" 1) µs: $(calc "5 * ($EM - $ERM)") µs on the 5"
		echo "  exits of the path) and does the hand-offs inside the kernel (kvm_vcpu_kick, KVM's own halt polling)."
	fi
	if [ -n "$RTRN" ] && [ -n "$EUM" ] && [ -n "$ERM" ] && [ -n "$RTN" ]; then
		FLOOR=$(calc "$RTRN + 5 * ($EUM - $ERM)")
		echo "- Without polling on either side: tinyvmm $RTN µs, the in-kernel LAPIC $RTRN µs"
		echo "  ($(ratio "$RTN" "$RTRN") ×). The floor of *any* userspace LAPIC without polling on this host is"
		echo "  that in-kernel round trip with its 5 LAPIC exits each made a trip to user space at the"
		echo "  raw-KVM cost (a LAPIC write $(num "$EUM" 1) µs as an exit to user space instead of $(num "$ERM" 1)): $RTRN + 5 × ($(num "$EUM" 1) − $(num "$ERM" 1)) = $FLOOR µs,"
		echo "  $(ratio "$FLOOR" "$RTQ") × QEMU's round trip (which polls). A lower bound: a halted vCPU of a userspace"
		echo "  LAPIC also leaves KVM_RUN at its HLT and, woken, enters it again, which loads the vCPU anew"
		echo "  (\`perf record\` of a LAPIC exit here: kvm_arch_vcpu_load's MSR reads, each trapped by the outer"
		echo "  hypervisor, are its largest single cost); an in-kernel halt resumes inside KVM_RUN. tinyvmm"
		echo "  without polling is $(calc "$RTN - $FLOOR") µs above that bound: those 2 re-entries and tinyvmm's own"
		echo "  work per exit (a LAPIC write $(num "$EM" 1) µs vs the floor's $(num "$EUM" 1) µs)."
	fi
	echo "- A VMX host with APICv and posted interrupts would take away more: EOI of an edge vector"
	echo "  and interrupt delivery to a running vCPU without any exit, the ICR write as a short APIC-write"
	echo "  exit inside the kernel (or none with IPI virtualization); left would be the HLT exits and the"
	echo "  wake-ups. Neither is possible without an in-kernel irqchip, which tinyvmm does not use by design."
	if [ -n "$RTQ" ] && [ -n "$RTQB" ] && [ -n "$RT" ] && [ -n "$RTB" ]; then
		echo
		echo "Quiet vs busy: with one more host CPU busy, QEMU's round trip is $(ratio "$RTQB" "$RTQ") × the one without,"
		echo "tinyvmm's $(ratio "$RTB" "$RT") × (polling) and $(ratio "$RTNB" "$RTN") × (no polling). Two effects pull"
		echo "against each other. KVM polls a halted vCPU (halt_poll_ns = $(cat /sys/module/kvm/parameters/halt_poll_ns 2>/dev/null || echo "?") here) only while"
		echo "its host CPU has no other runnable task (\`single_task_running()\` in its poll loop): on a"
		echo "quiet host the in-kernel round trip is mostly that polling, on a busy one every halt becomes"
		echo "a sleep and a scheduler wake-up (slower; tinyvmm's polling backs off the same way). And a"
		echo "host CPU that never idles is woken faster: this host is itself a VM (kvm_pvm; cpuidle driver"
		echo "\`$(cat /sys/devices/system/cpu/cpuidle/current_driver 2>/dev/null || echo "?")\`), where an idle CPU halts in the outer hypervisor and waking a"
		echo "thread there costs an exit of the outer VM, while a busy one is only preempted (faster)."
		echo "Which wins depends on the load, so the ratio between tinyvmm and QEMU moves with it more"
		echo "than with either VMM: compare figures of one run, under the load stated above."
	fi
} > "$IPI_SECTION"
echo
cat "$IPI_SECTION"

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
	echo "With \`-accel kvm\` QEMU fails \`tpr-nesting\` on this host, and the guest is right: KVM's"
	echo "in-kernel LAPIC here (kvm_pvm) shows an empty ISR and PPR 0 inside a fixed interrupt's"
	echo "handler, so a second vector of the same class is taken before the first one's EOI"
	echo "(SDM 11.8.3–11.8.4: acceptance sets the ISR bit, PPR follows it); QEMU's own LAPIC (TCG)"
	echo "and tinyvmm's agree with the SDM."
	echo "Since the guest has an \`hpet\` test, \`-accel kvm\` fails that too: QEMU sends the HPET's"
	echo "route 2 as GSI 2, which its KVM routing table leaves unconnected (guest/README.md)."
	run_status qemu_harness_bench.sh "$HARNESS_RC"
	echo
	cat "$HARNESS_MD"
} > "$HARNESS_SECTION"
echo
cat "$HARNESS_SECTION"

GDB_SECTION=$OUT/gdb_section.md
{
	echo "## The GDB stub"
	echo
	echo "Made by \`${GDB_CMD[*]}\` (run by \`make bench\`): Debian's gdb in batch mode against"
	echo "tinyvmm's stub and QEMU's gdbstub (\`-M microvm\`, KVM) on \`tests/guests/pio_loop_mb.elf\`,"
	echo "timed inside gdb (\`shell date\` before and after). Each \`stepi\` is a vCont;s, the stop"
	echo "reply and gdb's register and memory reads (5 packets); each breakpoint hit is a stop, gdb's"
	echo "reads and a resume (gdb evaluates the \`ignore\` count). On this host software breakpoints"
	echo "are debug registers (kvm_pvm does not report int3) in both VMMs."
	run_status bench_gdb.sh "$GDB_RC"
	echo
	cat "$GDB_MD"
} > "$GDB_SECTION"
echo
cat "$GDB_SECTION"

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
	echo "has tinyvmm's set-up but an exit loop with no VMM logic; for the IPI rows it runs with KVM's"
	echo "in-kernel LAPIC (\`--irqchip\`), the floor of a LAPIC with no VMM around it."
	echo "Guest code at CPL0 runs in KVM's instruction emulator on this machine (kvm_pvm),"
	echo "so absolute numbers are not those of a VMX/SVM host: read the ratios."
	echo
	cat "$REPORT"
	echo
	cat "$IPI_SECTION"
	echo
	cat "$BLK_SECTION"
	echo
	cat "$PIT_SECTION"
	echo
	cat "$HARNESS_SECTION"
	echo
	cat "$GDB_SECTION"
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
