#!/bin/bash
# PIT ticks: tinyvmm vs QEMU -M pc, the same guest, a 1 kHz tick.
#
#   tests/bench/bench_pit.sh [REPS [CSV]]     TICKS=N ticks measured (default 2000)
#
# Builds nothing: run `make` and `make guest` first. The guest,
# tests/guests/pit_tick_mb.elf, runs PIT counter 0 at 1 kHz through the 8259
# and LINT0 (ExtINT), halting between ticks; it prints "pit-bench start" on
# tick 100 and "pit-bench stop" TICKS ticks later, ticks on for 100 more,
# then "pit-bench ticks=N tsc=C total=T" and exits. Each of REPS repetitions
# runs, interleaved:
#   tinyvmm --stats GUEST -- TICKS
#   $QEMU -accel kvm -M pc ... -kernel GUEST -append TICKS  (if installed;
#       QEMU names the binary; its PIT and PICs are KVM's, in the kernel)
# On each marker line this script samples the VMM process: host wall clock,
# CPU time of all its threads (/proc/PID/task/*/schedstat, ns) and the
# user/sys split (/proc/PID/stat), and, when perf can count the tracepoint
# kvm:kvm_userspace_exit, switches that count on (start) and off (stop): a
# return from KVM_RUN to the VMM, an exit or an interrupted KVM_RUN alike.
# So every figure per tick covers exactly the TICKS measured ticks, not the
# VMM's start-up (seconds of emulated SeaBIOS for QEMU -M pc). tinyvmm's
# own --stats (exits by reason, PIT ticks coalesced) cover its whole run.
#
# Output: a Markdown table of medians on stdout, then the exact commands;
# with CSV, lines "figure,who,median,min,max" appended to that file. Logs
# of failed runs are kept and named on stderr. Exit status: 0, 1 if a run
# failed (the table then holds the runs that worked), 2 on misuse or
# missing binaries.
set -euo pipefail

REPS=${1:-3}
CSV=${2:-}
cd "$(dirname "$0")/../.." || exit 1

TINYVMM=./tinyvmm
GUEST=tests/guests/pit_tick_mb.elf
QEMU=${QEMU:-qemu-system-x86_64}
TICKS=${TICKS:-2000}
VM_TIMEOUT=120
PIT_HZ=1193182
PIT_COUNT=1193		# the guest's (pit_tick_mb.S)

case $REPS in '' | *[!0-9]* | 0) echo "usage: $0 [REPS [CSV]]" >&2; exit 2 ;; esac
case $TICKS in '' | *[!0-9]* | 0) echo "$0: TICKS must be 1..99999999" >&2; exit 2 ;; esac
[ "${#TICKS}" -le 8 ] || { echo "$0: TICKS must be 1..99999999" >&2; exit 2; }
for f in "$TINYVMM" "$GUEST"; do
	[ -e "$f" ] || { echo "$0: $f missing: run make and make guest" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/tvmm-bench-pit.XXXXXX) || exit 1
RES=$WORK/results	# lines: who figure value
SERIAL=$WORK/serial	# the VMM's stdout (its serial port), a FIFO
PIDFILE=$WORK/pid	# the VMM's PID, written just before it is exec'd
CTL=$WORK/perf.ctl	# perf stat --control FIFOs
ACK=$WORK/perf.ack
failed=0
keep_work=0
trap '[ "$keep_work" = 1 ] || rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# Without QEMU the rest still runs (tests/bench/lib.sh).
. tests/bench/lib.sh	# check_qemu, stats, median, fmt, ratio (the cwd is the root)
check_qemu
have_perf=0
NO_PERF_NOTE=""
if perf stat -e kvm:kvm_userspace_exit -x, -o /dev/null true >/dev/null 2>&1; then
	have_perf=1
else
	NO_PERF_NOTE="perf cannot count kvm:kvm_userspace_exit here: no exit counts for QEMU."
	echo "# $NO_PERF_NOTE" >&2
fi

QEMU_ARGS=(-accel kvm -M pc -m 128M -nographic -nodefaults -serial stdio -no-reboot
	   -device isa-debug-exit,iobase=0xf4,iosize=4)
mkfifo "$SERIAL"

# sample PID: wall clock (s), CPU time of PID's threads (ns) and its user
# and system time (clock ticks) into S_WALL, S_CPU, S_UTIME, S_STIME.
# Builtins only: no fork between the marker and the numbers. Fails once
# the process is gone.
sample() {
	local f ns stat
	local -a fields
	S_WALL=$EPOCHREALTIME
	S_CPU=0
	for f in /proc/"$1"/task/*/schedstat; do
		if read -r ns _ <"$f"; then S_CPU=$((S_CPU + ns)); fi
	done 2>/dev/null
	read -r stat <"/proc/$1/stat" || return 1
	read -ra fields <<<"${stat##*) }"	# fields from 3 (state) on
	S_UTIME=${fields[11]} S_STIME=${fields[12]}
}

# perf_ctl enable|disable: switch the count, wait for perf's answer.
perf_ctl() {
	[ -n "$PERF_ON" ] || return 0
	echo "$1" >&7 && read -r -t 5 _ <&8 || PERF_ON=""
}

# measure WHO LOG CMD...: one run; its figures go to $RES as WHO's.
measure() {
	local who=$1 log=$2 line pid="" rc=0 a_wall="" a_cpu a_ut a_st result=""
	local -a perf=()
	shift 2
	PERF_ON=""
	if [ "$have_perf" = 1 ]; then
		rm -f "$CTL" "$ACK" && mkfifo "$CTL" "$ACK"
		exec 7<>"$CTL" 8<>"$ACK"
		perf=(perf stat -e kvm:kvm_userspace_exit -x, -o "$log.perf" --delay=-1
		      --control "fifo:$CTL,$ACK" --)
		PERF_ON=1
	fi
	rm -f "$PIDFILE"
	"${perf[@]}" timeout -k 5 "$VM_TIMEOUT" \
		sh -c 'echo $$ >"$0" && exec "$@"' "$PIDFILE" "$@" \
		<"/dev/null" >"$SERIAL" 2>"$log.err" &
	local launcher=$!
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		*"pit-bench start"*)
			read -r pid <"$PIDFILE" && sample "$pid" || break
			a_wall=$S_WALL a_cpu=$S_CPU a_ut=$S_UTIME a_st=$S_STIME
			perf_ctl enable ;;
		*"pit-bench stop"*)
			if [ -n "$a_wall" ] && sample "$pid"; then
				perf_ctl disable
				awk -v who="$who" -v n="$TICKS" -v w0="$a_wall" -v w1="$S_WALL" \
				    -v c0="$a_cpu" -v c1="$S_CPU" -v u="$((S_UTIME - a_ut))" \
				    -v s="$((S_STIME - a_st))" 'BEGIN {
					printf "%s wall_us_per_tick %.2f\n", who, (w1 - w0) * 1e6 / n
					printf "%s cpu_us_per_tick %.2f\n", who, (c1 - c0) / 1e3 / n
					if (u + s > 0) printf "%s sys_pct %.1f\n", who, 100 * s / (u + s)
				}' >>"$WORK/run"
			fi ;;
		*"pit-bench ticks="*) result=${line#*pit-bench } ;;
		esac
		printf '%s\n' "$line" >>"$log"
	done <"$SERIAL"
	wait "$launcher" || rc=$?
	if [ "$have_perf" = 1 ]; then exec 7>&- 8>&-; fi
	# The guest's status 0 is exit code 1; its count must be the one asked.
	if [ "$rc" != 1 ] || [ ! -s "$WORK/run" ] || [ "${result%% *}" != "ticks=$TICKS" ]; then
		echo "# $who: run failed (exit $rc), log kept: $log{,.err,.perf}" >&2
		failed=1
		keep_work=1
		rm -f "$WORK/run"
		return
	fi
	cat "$WORK/run" >>"$RES"
	rm -f "$WORK/run"
	# "ticks=N tsc=C total=T" and perf's "count,,event,..." line.
	awk -v who="$who" -v r="$result" 'BEGIN {
		split(r, kv, /[ =]/)
		print who, "ticks", kv[2]
		printf "%s tsc_per_tick %.0f\n", who, kv[4] / kv[2]
		print who, "total_ticks", kv[6]
	}' >>"$RES"
	if [ -n "$PERF_ON" ]; then
		awk -F, -v who="$who" -v n="$TICKS" '$3 == "kvm:kvm_userspace_exit" && $1 ~ /^[0-9]+$/ {
			printf "%s exits_per_tick %.3f\n", who, $1 / n }' "$log.perf" >>"$RES"
	fi
	# tinyvmm --stats: "vcpu0 exits: io=.. hlt=..", "ticks coalesced N".
	awk -v who="$who" -v r="$result" '
	BEGIN { split(r, kv, /[ =]/); total = kv[6] }
	/^vcpu[0-9]+ exits:/ { for (i = 3; i <= NF; i++) { split($i, p, "="); by[p[1]] += p[2]; all += p[2] } }
	/ticks coalesced/ { coalesced = $NF }
	END {
		if (all == "") exit
		printf "%s stats_exits_per_tick %.3f\n", who, all / total
		for (k in by) printf "%s stats_%s_per_tick %.3f\n", who, k, by[k] / total
		if (coalesced != "") print who, "coalesced", coalesced
	}' "$log.err" >>"$RES"
}

read -r LOAD_START _ </proc/loadavg	# a late timer thread loses ticks: say how busy
: >"$RES"
for ((rep = 1; rep <= REPS; rep++)); do
	echo "# rep $rep/$REPS" >&2
	measure tinyvmm "$WORK/tinyvmm.$rep.log" "$TINYVMM" --stats "$GUEST" -- "$TICKS"
	if [ "$have_qemu" = 1 ]; then
		measure qemu "$WORK/qemu.$rep.log" "$QEMU" "${QEMU_ARGS[@]}" \
			-kernel "$GUEST" -append "$TICKS"
	fi
done


# row LABEL FIGURE DECIMALS [QEMU_CELL]: tinyvmm, QEMU, tinyvmm/QEMU; a
# QEMU_CELL replaces QEMU's (a figure it has not).
row() {
	local t q
	t=$(median tinyvmm "$2")
	q=$(median qemu "$2")
	if [ -n "${4:-}" ]; then
		printf '| %s | %s | %s | - |\n' "$1" "$(fmt "$t" "$3")" "$4"
	else
		printf '| %s | %s | %s | %s |\n' "$1" "$(fmt "$t" "$3")" "$(fmt "$q" "$3")" \
			"$(ratio "$t" "$q")"
	fi
}

NOMINAL_US=$(awk -v c="$PIT_COUNT" -v hz="$PIT_HZ" 'BEGIN { printf "%.2f", c * 1e6 / hz }')
echo
echo "PIT counter 0 at 1 kHz (count $PIT_COUNT: one tick per $NOMINAL_US µs) through the 8259" \
     "and LINT0, $TICKS ticks measured, medians of $REPS runs; $(nproc) host CPUs," \
     "load average $LOAD_START at the start"
echo
for note in "$NO_QEMU_NOTE" "$NO_PERF_NOTE"; do
	if [ -n "$note" ]; then printf '%s\n\n' "$note"; fi
done
echo "| figure | tinyvmm | QEMU -M pc | tinyvmm/QEMU |"
echo "| --- | ---: | ---: | ---: |"
row "ticks delivered (guest count)" ticks 0
row "wall time per tick, µs (host clock)" wall_us_per_tick 1
row "guest TSC cycles per tick" tsc_per_tick 0
row "host CPU per tick, µs (all VMM threads)" cpu_us_per_tick 1
row "of which system time, %" sys_pct 0
row "returns from KVM_RUN per tick (perf)" exits_per_tick 3
row "exits per tick, whole run (--stats)" stats_exits_per_tick 3 "- (no --stats)"
for fig in $(awk '$1 == "tinyvmm" && $2 ~ /^stats_.*_per_tick$/ && $2 != "stats_exits_per_tick" {
		print $2 }' "$RES" | sort -u); do
	reason=${fig#stats_}
	row "… of which ${reason%_per_tick}" "$fig" 3 "-"
done
row "PIT periods coalesced, whole run (--stats)" coalesced 0 "- (KVM: re-injected)"
echo
echo "A tick's figures are taken between the guest's start and stop lines (its first" \
     "100 ticks and the VMM's start-up are left out). wall: host time between the two" \
     "lines / $TICKS: above $NOMINAL_US µs, the VMM delivers fewer ticks than the PIT" \
     "counts (tinyvmm coalesces late ones, see devices/timer/i8254.h; KVM's in-kernel" \
     "PIT re-injects them). CPU: the VMM process's threads (schedstat), user + system." \
     "KVM_RUN returns: perf's kvm:kvm_userspace_exit over the same ticks, exits and" \
     "interrupted runs alike. --stats: tinyvmm's exits by reason over the whole run" \
     "(start-up and printing included) / all ticks counted."
echo
echo "Commands, each repetition:"
echo
echo '```'
echo "$TINYVMM --stats $GUEST -- $TICKS"
if [ "$have_qemu" = 1 ]; then
	echo "$QEMU ${QEMU_ARGS[*]} -kernel $GUEST -append $TICKS"
fi
if [ "$have_perf" = 1 ]; then
	echo "# each under: perf stat -e kvm:kvm_userspace_exit --delay=-1 --control fifo:CTL,ACK --"
fi
echo '```'

if [ -n "$CSV" ]; then
	for who in $(awk '{ print $1 }' "$RES" | sort -u); do
		for fig in $(awk -v w="$who" '$1 == w { print $2 }' "$RES" | sort -u); do
			echo "pit-$fig,$who,$(stats "$who" "$fig" | tr ' ' ',')"
		done
	done >>"$CSV"
fi
exit $failed
