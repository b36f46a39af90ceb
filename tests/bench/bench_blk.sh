#!/bin/bash
# virtio-blk: tinyvmm vs QEMU vs host dd, the same guest and the same image.
#
#   tests/bench/bench_blk.sh [REPS [CSV]]
#
# Builds nothing: run `make` and `make -C guest` first. Makes a 128 MiB
# image of random bytes in /tmp (read once, so it is in the page cache) and
# for each of REPS (default 3) repetitions runs, interleaved:
#   tinyvmm --disk IMG guest/guest.elf -- blk-bench [no-event-idx]
#   $QEMU ... -append 'blk-bench [no-event-idx]'  (if installed; QEMU names the
#       binary, default qemu-system-x86_64)
#   dd if=IMG of=/dev/null bs=1M; dd if=/dev/zero of=IMG2 bs=1M count=64 conv=notrunc
# The guest (guest/bench_blk.c) prints one "# bench PHASE MBps=.. IOPS=..
# reqs=.. kicks=.. irqs=.." line per phase; kicks and interrupts are counted
# by the guest, so they mean the same on both VMMs.
#
# Output: a Markdown table of medians on stdout, then the exact commands;
# with CSV, lines "figure,who,median,min,max" appended to that file. Logs
# of failed runs are kept and named on stderr. Without QEMU a line on stdout
# says so and its columns read "-"; the rest runs as usual. Exit status: 0,
# 1 if a run failed (the table then holds the runs that worked), 2 on misuse
# or missing binaries.
set -euo pipefail

REPS=${1:-3}
CSV=${2:-}
cd "$(dirname "$0")/../.." || exit 1

TINYVMM=./tinyvmm
GUEST=guest/guest.elf
QEMU=${QEMU:-qemu-system-x86_64}
IMG_MB=128
VM_TIMEOUT=120
DD_REPS=3		# dd runs per repetition (each one is short)

case $REPS in '' | *[!0-9]* | 0) echo "usage: $0 [REPS [CSV]]" >&2; exit 2 ;; esac
for f in "$TINYVMM" "$GUEST"; do
	[ -e "$f" ] || { echo "$0: $f missing: run make and make -C guest" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/tvmm-bench-blk.XXXXXX) || exit 1
IMG=$WORK/disk.img
IMG2=$WORK/disk2.img
RES=$WORK/results	# lines: who figure value
QEMU_PIDFILE=$WORK/qemu.pid
failed=0
keep_work=0

cleanup() {
	local pid
	if [ -s "$QEMU_PIDFILE" ]; then
		pid=$(cat "$QEMU_PIDFILE")
		if [ -n "$pid" ] && grep -qs qemu "/proc/$pid/comm"; then
			kill "$pid" 2>/dev/null || true	# it may have just exited
		fi
	fi
	rm -f "$IMG" "$IMG2"
	[ "$keep_work" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Without QEMU the rest still runs (tests/bench/lib.sh).
. tests/bench/lib.sh	# check_qemu, stats, median, fmt, ratio (the cwd is the root)
check_qemu

# QEMU's machine: the guest is multiboot (-kernel), the disk a modern-only
# virtio-blk-pci device, like tinyvmm's. Kept here so the printed command
# is the one that ran.
QEMU_ARGS=(-accel kvm -M pc -m 256 -device isa-debug-exit,iobase=0xf4,iosize=4
	   -nographic -no-reboot -pidfile "$QEMU_PIDFILE"
	   -drive "file=$IMG,if=none,id=d0,format=raw,cache=writeback,aio=threads"
	   -device virtio-blk-pci,drive=d0,disable-legacy=on)

: >"$RES"	# exists even if every run fails, so the summary still reads it
dd if=/dev/urandom of="$IMG" bs=1M count=$IMG_MB status=none || exit 1
cp "$IMG" "$IMG2" || exit 1
# Into the page cache (and keep them there: both are read again each rep).
cat "$IMG" "$IMG2" >/dev/null

# The "# bench" lines of log $2 as results of $1: per phase MBps, IOPS,
# kicks and irqs per request.
parse_guest() {
	local who=$1 log=$2
	if ! grep -aq '^# bench done' "$log"; then
		return 1
	fi
	awk -v who="$who" '
	/^# bench / && $4 ~ /=/ {
		delete kv
		for (i = 4; i <= NF; i++) {
			split($i, p, "=")
			kv[p[1]] = p[2]
		}
		if ($3 == "insn-cost" || $3 == "pio-exit")
			print who, $3 ".ns", kv["ns"]
		if (kv["reqs"] == "" || kv["reqs"] == 0)
			next
		print who, $3 ".MBps", kv["MBps"]
		print who, $3 ".IOPS", kv["IOPS"]
		printf "%s %s.kicks_per_req %.4f\n", who, $3, kv["kicks"] / kv["reqs"]
		printf "%s %s.irqs_per_req %.4f\n", who, $3, kv["irqs"] / kv["reqs"]
		printf "%s %s.busy_us_per_req %.1f\n", who, $3, (kv["us"] - kv["idle_us"]) / kv["reqs"]
		printf "%s %s.idle_us_per_req %.1f\n", who, $3, kv["idle_us"] / kv["reqs"]
	}' "$log" | tr -d '\r' >>"$RES"
}

# run_vm WHO LOG CMD...: the guest reports success as exit code 1, so a
# non-zero status is no error here (hence `|| rc=$?` under set -e).
run_vm() {
	local who=$1 log=$2 rc=0
	shift 2
	timeout -k 5 "$VM_TIMEOUT" "$@" </dev/null >"$log" 2>&1 || rc=$?
	rm -f "$QEMU_PIDFILE"
	if [ "$rc" != 1 ] || ! parse_guest "$who" "$log"; then
		echo "# $who: run failed (exit $rc), log kept: $log" >&2
		failed=1
		keep_work=1
	fi
}

run_tinyvmm() {	# REP [no-event-idx]
	local who=tinyvmm${2:+-$2}
	run_vm "$who" "$WORK/$who.$1.log" "$TINYVMM" --disk "$IMG" "$GUEST" -- blk-bench ${2:-}
}

run_qemu() {	# REP [no-event-idx]
	local who=qemu${2:+-$2}
	run_vm "$who" "$WORK/$who.$1.log" "$QEMU" "${QEMU_ARGS[@]}" \
		-kernel "$GUEST" -append "blk-bench${2:+ $2}"
}

# dd's own summary line: "N bytes (...) copied, S s, R MB/s" -> N / S / 1e6.
# Prints nothing, and fails, if dd fails.
dd_mbps() {
	LC_ALL=C "$@" 2>&1 >/dev/null | awk '
	/ copied, / { for (i = 1; i <= NF; i++) if ($i == "copied,") s = $(i + 1)
		      if (s > 0) printf "%.1f\n", $1 / s / 1e6 }'
}

run_dd() {
	local i r w
	for ((i = 0; i < DD_REPS; i++)); do
		cat "$IMG" >/dev/null
		# A failed dd is a failed run: no sample, exit status 1 at the end.
		r=$(dd_mbps dd if="$IMG" of=/dev/null bs=1M) || r=""
		w=$(dd_mbps dd if=/dev/zero of="$IMG2" bs=1M count=64 conv=notrunc) || w=""
		if [ -n "$r" ]; then
			echo "dd seq-read.MBps $r" >>"$RES"
		else
			echo "# dd read: run failed" >&2
			failed=1
		fi
		if [ -n "$w" ]; then
			echo "dd seq-write.MBps $w" >>"$RES"
		else
			echo "# dd write: run failed" >&2
			failed=1
		fi
	done
}

for ((rep = 1; rep <= REPS; rep++)); do
	echo "# rep $rep/$REPS" >&2
	run_tinyvmm "$rep"
	if [ "$have_qemu" = 1 ]; then run_qemu "$rep"; fi
	run_dd
	run_tinyvmm "$rep" no-event-idx
	if [ "$have_qemu" = 1 ]; then run_qemu "$rep" no-event-idx; fi
done


# row LABEL TV_WHO QEMU_WHO FIGURE DD_FIGURE DECIMALS
row() {
	local t q d=""
	t=$(median "$2" "$4")
	q=$(median "$3" "$4")
	if [ -n "$5" ]; then d=$(median dd "$5"); fi
	printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(fmt "$t" "$6")" "$(fmt "$q" "$6")" \
		"$(fmt "$d" "$6")" "$(ratio "$t" "$q")" "$(ratio "$t" "$d")"
}

echo
echo "virtio-blk, ${IMG_MB} MiB raw image in the page cache, medians of $REPS runs" \
     "(dd: $((REPS * DD_REPS)) runs); $(nproc) host CPUs"
echo
if [ -n "$NO_QEMU_NOTE" ]; then
	echo "$NO_QEMU_NOTE"
	echo
fi
echo "| figure | tinyvmm | QEMU | host dd | tinyvmm/QEMU | tinyvmm/dd |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
row "seq read 1 MiB QD8, MB/s" tinyvmm qemu seq-read-1m-qd8.MBps seq-read.MBps 1
row "seq read 1 MiB QD1, MB/s" tinyvmm qemu seq-read-1m-qd1.MBps seq-read.MBps 1
row "seq write 1 MiB QD8, MB/s" tinyvmm qemu seq-write-1m-qd8.MBps seq-write.MBps 1
row "seq write 1 MiB QD1, MB/s" tinyvmm qemu seq-write-1m-qd1.MBps seq-write.MBps 1
row "4K rand read QD1, IOPS" tinyvmm qemu rand-read-4k-qd1.IOPS "" 0
row "4K rand read QD32, IOPS" tinyvmm qemu rand-read-4k-qd32.IOPS "" 0
for ph in seq-read-1m-qd8 seq-write-1m-qd8 rand-read-4k-qd1 rand-read-4k-qd32; do
	for what in kicks irqs; do
		row "$what/request $ph, EVENT_IDX" tinyvmm qemu "$ph.${what}_per_req" "" 3
		row "$what/request $ph, no EVENT_IDX" tinyvmm-no-event-idx \
			qemu-no-event-idx "$ph.${what}_per_req" "" 3
	done
done
row "4K rand read QD1 IOPS, no EVENT_IDX" tinyvmm-no-event-idx qemu-no-event-idx \
	rand-read-4k-qd1.IOPS "" 0
row "4K rand read QD32 IOPS, no EVENT_IDX" tinyvmm-no-event-idx qemu-no-event-idx \
	rand-read-4k-qd32.IOPS "" 0
row "guest: ns per simple instruction (dec/jnz)" tinyvmm qemu insn-cost.ns "" 0
row "guest: ns per user-space PIO exit (COM1 LSR)" tinyvmm qemu pio-exit.ns "" 0
for ph in seq-read-1m-qd1 seq-read-1m-qd8 seq-write-1m-qd8 rand-read-4k-qd1 rand-read-4k-qd32; do
	row "guest busy us/request $ph" tinyvmm qemu "$ph.busy_us_per_req" "" 1
	row "guest idle (HLT) us/request $ph" tinyvmm qemu "$ph.idle_us_per_req" "" 1
done
echo
echo "seq: 512 MiB per phase (4 passes over the image) in 1 MiB requests; rand: 1.5 s" \
     "of 4 KiB reads at random 4 KiB-aligned offsets; QDn: up to n requests kept in flight." \
     "kicks: doorbell writes, irqs: interrupts taken, both counted by the guest;" \
     "busy: the guest's own time per request (driver instructions and exits), idle: in HLT."
echo
# The commands as run, the image's path generic (it is a fresh temp file).
echo "Commands, each repetition, IMG a ${IMG_MB} MiB file of random bytes:"
echo
echo '```'
echo "$TINYVMM --disk IMG $GUEST -- blk-bench [no-event-idx]"
if [ "$have_qemu" = 1 ]; then
	q_args="${QEMU_ARGS[*]}"
	q_args=${q_args//$IMG/IMG}
	q_args=${q_args//$QEMU_PIDFILE/PIDFILE}
	echo "$QEMU $q_args -kernel $GUEST -append 'blk-bench [no-event-idx]'"
fi
echo "dd if=IMG of=/dev/null bs=1M    # $DD_REPS times"
echo "dd if=/dev/zero of=IMG2 bs=1M count=64 conv=notrunc    # $DD_REPS times"
echo '```'

if [ -n "$CSV" ]; then
	for who in $(awk '{ print $1 }' "$RES" | sort -u); do
		for fig in $(awk -v w="$who" '$1 == w { print $2 }' "$RES" | sort -u); do
			echo "$fig,$who,$(stats "$who" "$fig" | tr ' ' ',')"
		done
	done >>"$CSV"
fi
exit $failed
