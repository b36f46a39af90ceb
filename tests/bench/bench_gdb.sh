#!/bin/bash
# The GDB stub: single-step rate and breakpoint round trip, tinyvmm vs
# QEMU's gdbstub (-M microvm, KVM), the same gdb driving the same guest.
#
#   tests/bench/bench_gdb.sh [REPS [CSV]]     STEPS=N (default 500) HITS=N (default 500)
#
# Builds nothing: run `make` and `make guest` first. The guest is
# tests/guests/pio_loop_mb.elf (multiboot: an `outb` to the UART's scratch
# register, `decl`, `jnz`, in a loop). Each repetition starts the VMM held
# at its first instruction (tinyvmm --gdb PORT --gdb-wait; QEMU -s -S) and
# runs gdb -batch with no symbol file (QEMU's stub would refuse the ELF32
# file's i386 layout) and one of:
#   stepi STEPS                          -> steps per second
#   hbreak *LOOP; ignore 1 HITS; continue -> microseconds per breakpoint hit
#                                           (each hit is a stop reply, gdb's
#                                           register and memory reads, and a
#                                           resume: gdb evaluates the ignore)
# timed inside gdb between two `shell date +%s%N` lines, so neither VMM's
# start-up nor gdb's counts. Output: a Markdown table of medians, the
# commands; with CSV, "figure,who,median,min,max" lines. Exit status 0, 1 if
# a run failed (its figures are left out of the medians), 2 on misuse.
set -euo pipefail

REPS=${1:-3}
CSV=${2:-}
cd "$(dirname "$0")/../.." || exit 1
. tests/bench/lib.sh

TINYVMM=./tinyvmm
GUEST=tests/guests/pio_loop_mb.elf
QEMU=${QEMU:-qemu-system-x86_64}
STEPS=${STEPS:-500}
HITS=${HITS:-500}
PORT=${GDB_BENCH_PORT:-12340}

for f in "$TINYVMM" "$GUEST"; do
	[ -e "$f" ] || { echo "bench_gdb: $f missing: run make and make guest" >&2; exit 2; }
done
command -v gdb >/dev/null || { echo "bench_gdb: gdb is not installed" >&2; exit 2; }
WHO="tinyvmm"
command -v "$QEMU" >/dev/null && WHO="tinyvmm qemu"

RES=$(mktemp)
LOGDIR=$(mktemp -d)
trap 'rm -f "$RES"' EXIT
failed=0
# The loop's `decl`: after _start's movl (5 bytes), movl (5), movw (4) and
# the loop's 1-byte outb.
ENTRY=$(readelf -h "$GUEST" | awk '/Entry point/ { print $4 }')
LOOP=$(printf '0x%x' $((ENTRY + 5 + 5 + 4 + 1)))

start_vmm() {	# WHO LOG
	case $1 in
	tinyvmm) "$TINYVMM" --gdb "$PORT" --gdb-wait --serial none "$GUEST" 2>"$2" &;;
	qemu) "$QEMU" -accel kvm -M microvm -kernel "$GUEST" -display none -serial none \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -gdb "tcp::$PORT" -S 2>"$2" &;;
	esac
	VMM_PID=$!
	for _ in $(seq 100); do
		ss -ltn 2>/dev/null | grep -q ":$PORT " && return 0
		sleep 0.05
	done
	return 1
}

# One gdb session: the ns between the two date lines, divided as FIGURE says.
measure() {	# WHO FIGURE REP GDB-COMMANDS...
	local who=$1 fig=$2 rep=$3 log=$LOGDIR/$1-$2-$3.log t0 t1 n
	shift 3
	if ! start_vmm "$who" "$log.vmm"; then
		echo "bench_gdb: $who did not listen; see $log.vmm" >&2
		failed=1
		return
	fi
	gdb -batch -nx -ex "target remote 127.0.0.1:$PORT" -ex 'shell date +T0=%s%N' \
		"$@" -ex 'shell date +T1=%s%N' -ex kill >"$log" 2>&1 || true
	kill "$VMM_PID" 2>/dev/null || true
	wait "$VMM_PID" 2>/dev/null || true
	t0=$(sed -n 's/^T0=//p' "$log")
	t1=$(sed -n 's/^T1=//p' "$log")
	if [ -z "$t0" ] || [ -z "$t1" ] || grep -q "Remote connection closed\|error" "$log"; then
		echo "bench_gdb: $who $fig run $rep failed; log kept: $log" >&2
		failed=1
		return
	fi
	case $fig in
	steps_per_s) n=$(awk -v d=$((t1 - t0)) -v n="$STEPS" 'BEGIN { print n / (d / 1e9) }');;
	us_per_hit) n=$(awk -v d=$((t1 - t0)) -v n="$HITS" 'BEGIN { print d / 1e3 / (n + 1) }');;
	esac
	echo "$who $fig $n" >>"$RES"
}

for rep in $(seq "$REPS"); do
	for who in $WHO; do
		measure "$who" steps_per_s "$rep" -ex "stepi $STEPS"
		measure "$who" us_per_hit "$rep" -ex "hbreak *$LOOP" -ex "ignore 1 $HITS" \
			-ex continue
	done
done

echo "| figure (median of $REPS) | tinyvmm | QEMU gdbstub (microvm, KVM) | tinyvmm / QEMU |"
echo "| --- | --- | --- | --- |"
for fig in steps_per_s us_per_hit; do
	t=$(median tinyvmm $fig)
	q=$(median qemu $fig)
	case $fig in
	steps_per_s) label="stepi rate, steps/s ($STEPS steps)";;
	us_per_hit) label="breakpoint hit round trip, µs ($HITS hits)";;
	esac
	echo "| $label | $(fmt "$t" 0) | $(fmt "$q" 0) | $(ratio "$t" "$q") |"
	if [ -n "$CSV" ]; then
		for w in tinyvmm qemu; do
			s=$(stats $w $fig)
			[ -n "$s" ] && echo "$fig,$w,${s// /,}" >>"$CSV"
		done
	fi
done
echo
echo "    $TINYVMM --gdb $PORT --gdb-wait --serial none $GUEST"
echo "    $QEMU -accel kvm -M microvm -kernel $GUEST -display none -serial none -device isa-debug-exit,iobase=0xf4,iosize=4 -gdb tcp::$PORT -S"
echo "    gdb -batch -nx -ex 'target remote 127.0.0.1:$PORT' -ex 'stepi $STEPS'"
echo "    gdb -batch -nx -ex 'target remote 127.0.0.1:$PORT' -ex 'hbreak *$LOOP' -ex 'ignore 1 $HITS' -ex continue"
[ "$failed" = 0 ] && rm -rf "$LOGDIR"
exit "$failed"
