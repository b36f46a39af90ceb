#!/usr/bin/env bash
# make soak (docs/RELIABILITY.md): tinyvmm over many runs, bounded by
# SOAK_MINUTES (default 10), shared equally by the phases in SOAK_PHASES:
#   boots   the bundled guest with a fresh disk, one boot after another (at
#           most SOAK_BOOTS, default 1000)
#   mixed   three loops at once: the bundled guest with -c 8 (its 8-CPU IPI
#           storm, timer and interrupt-count tests, 8 MiB disk write/verify),
#           tests/guests/ipi_storm_mb.elf, and the bundled guest with one vCPU
#           on a disk of its own
#   loaded  the same under stress-ng --cpu 2 on the host
# A run starts only while its phase has time left, so a phase may end one
# run late. Every run is checked beyond its exit code: the TAP plan met with
# no failure, the disk image equal byte for byte to what the guest's tests
# write, the IPIs that --stats counts as delivered exactly those the storm
# sends. Within a loop, every run ends with the first run's open fds and
# threads (tinyvmm's --stats line), and the last run's peak RSS is within
# RSS_TOLERANCE percent (default 10) of the first's. The logs of each loop's
# first failed runs stay in build/soak/; the table is build/soak/results.txt.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
TINYVMM=${TINYVMM:-./tinyvmm}
SOAK_MINUTES=${SOAK_MINUTES:-10}
SOAK_BOOTS=${SOAK_BOOTS:-1000}
SOAK_PHASES=${SOAK_PHASES:-boots mixed loaded}
RSS_TOLERANCE=${RSS_TOLERANCE:-10}
RUN_TIMEOUT=${RUN_TIMEOUT:-600}		# a hung run fails (exit 8), not the soak
KEEP_FAILED=5				# the logs of a loop's first failed runs
OUT=build/soak
GUEST=guest/guest.elf
STORM=tests/guests/ipi_storm_mb.elf
DISK_MIB=16				# the tests need 10 MiB + 4 KiB

die() { echo "soak: $*" >&2; exit 2; }

command -v stress-ng >/dev/null || die "needs stress-ng (scripts/install-deps.sh --soak)"
[ -x "$TINYVMM" ] && [ -f "$GUEST" ] && [ -f "$STORM" ] || die "build first: make all"
[[ $SOAK_MINUTES =~ ^[0-9]+(\.[0-9]+)?$ && $SOAK_BOOTS =~ ^[0-9]+$ ]] ||
	die "SOAK_MINUTES and SOAK_BOOTS must be numbers"

# What the guests promise, read from their sources so that they cannot drift.
define() { sed -n "s/^#define $1[[:space:]]*\\([0-9a-fx]*\\).*/\\1/p" "$2"; }
GUEST_STORM_K=$(define STORM_K guest/tests_smp.c)
GUEST_VEC=$(define VEC_STORM guest/apic.h)
STORM_CPUS=$(define STORM_CPUS tests/guests/loop.h)
STORM_K=$(define IPI_STORM_K tests/guests/loop.h)
[ -n "$GUEST_STORM_K" ] && [ -n "$GUEST_VEC" ] && [ -n "$STORM_CPUS" ] && [ -n "$STORM_K" ] ||
	die "cannot read the storm constants from the guests' sources"

rm -rf "$OUT" && mkdir -p "$OUT" || die "cannot make $OUT"

# guest/README.md's contract: the 8 MiB pattern at 1 MiB (blk-write-verify),
# blk-intx's 4 KiB at 10 MiB, zeros everywhere else.
perl -e 'binmode STDOUT; print "\0" x (1 << 20);
	for my $b (256 .. 2303) {
		print pack("Q<", 0x74766d6d00000000 | $b),
		      map { pack("Q<", 0x7061747400000000 | $_ * 8) } 1 .. 511;
	}
	print "\0" x (1 << 20), pack("C*", map { ($_ * 7 + 3) & 255 } 0 .. 4095),
	      "\0" x (($ARGV[0] - 10 << 20) - 4096)' "$DISK_MIB" >"$OUT/expected.img" ||
	die "cannot write the expected image"

# The IPIs --stats counts as delivered on vectors [$2, $3], over every vCPU.
delivered() {
	local sum=0 v c
	while IFS="=" read -r v c; do
		(( v >= $2 && v <= $3 )) && sum=$((sum + c))
	done < <(grep '^vcpu[0-9]* lapic: ' "$1" | grep -o '0x[0-9a-f]*=[0-9]*')
	echo "$sum"
}

# The TAP plan met, every test ok (SKIPs are ok lines: which may skip is the
# boot tests' business), and with APs the 8-CPU storm really ran.
check_tap() {
	local plan oks
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$1.out")
	oks=$(grep -c '^ok ' "$1.out")
	[ -n "$plan" ] || { echo "no TAP plan"; return; }
	grep -q '^not ok' "$1.out" && { grep '^not ok' "$1.out" | head -3; return; }
	[ "$oks" = "$plan" ] || { echo "$oks of $plan tests reported"; return; }
	(( $2 == 1 )) || grep -q '^ok [0-9]* - ipi-storm$' "$1.out" || echo "ipi-storm did not run"
}

# check_KIND LOG CPUS IPIS: prints why the run failed, nothing if it passed.
check_guest() {
	local got
	check_tap "$1" "$2"
	cmp -s "$1.img" "$OUT/expected.img" ||
		echo "the disk image differs: $(cmp "$1.img" "$OUT/expected.img" 2>&1)"
	got=$(delivered "$1.err" "$GUEST_VEC" $(( GUEST_VEC + $2 - 1 )))
	(( got == $3 )) || echo "$got storm IPIs delivered, $3 sent"
}

check_storm() {
	local got
	got=$(delivered "$1.err" 0x80 0xbf)	# 8 lanes for each of 8 senders
	(( got == $3 )) || echo "$got IPIs delivered, $3 sent"
}

# One run of loop NAME: tinyvmm --stats. Sets FIG="fds threads rss", and
# IPIS and VERIFIED (bytes) for the table.
one_run() {
	local name=$1 kind=$2 cpus=$3 log=$OUT/$1 args rc why
	if [ "$kind" = guest ]; then
		rm -f "$log.img" && truncate -s "${DISK_MIB}M" "$log.img" ||
			die "cannot make $log.img"
		args=(-c "$cpus" --disk "$log.img" "$GUEST")
		IPIS=$(( cpus * (cpus - 1) * GUEST_STORM_K )) VERIFIED=$(( DISK_MIB << 20 ))
	else
		args=(-c "$cpus" "$STORM")
		IPIS=$(( cpus * (cpus - 1) * STORM_K )) VERIFIED=0
	fi
	"$TINYVMM" --stats --timeout "$RUN_TIMEOUT" "${args[@]}" >"$log.out" 2>"$log.err"
	rc=$?
	why=$( ((rc == 1)) || echo "exit code $rc, wanted 1"
	       "check_$kind" "$log" "$cpus" "$IPIS")
	FIG=$(sed -n 's/^process: \([0-9]*\) open fds, \([0-9]*\) threads, peak RSS \([0-9]*\) KiB$/\1 \2 \3/p' \
		"$log.err")
	[ -n "$FIG" ] || why+=$'\n'"no process line in --stats"
	[ -z "$why" ] && return 0
	echo "$why" >"$log.why"
	return 1
}

# run_loop PHASE NAME END MAX KIND CPUS: runs until END (epoch seconds) or
# MAX runs, then writes NAME.sum for the table.
run_loop() {
	local phase=$1 name=$2 end=$3 max=$4 kind=$5 cpus=$6
	local n=0 failed=0 ipis=0 bytes=0 first="" last="" drift=0 f
	while (( n < max && $(date +%s) < end )); do
		n=$((n + 1))
		if one_run "$name" "$kind" "$cpus"; then
			ipis=$((ipis + IPIS)) bytes=$((bytes + VERIFIED)) last=$FIG
			[ -n "$first" ] || first=$FIG
			[ "${first% *}" = "${FIG% *}" ] || drift=$((drift + 1))
		else
			failed=$((failed + 1))
			echo "FAIL $phase/$name run $n: $(tr '\n' ' ' <"$OUT/$name.why" | head -c 300)"
			(( failed > KEEP_FAILED )) && continue	# a disk image each
			for f in out err img why; do
				[ -e "$OUT/$name.$f" ] && mv "$OUT/$name.$f" "$OUT/fail-$name-$n.$f"
			done
		fi
	done
	rm -f "$OUT/$name".{out,err,img,rss,why}
	echo "$phase $name $n $failed $ipis $bytes $drift ${first:-- - -} ${last:-- - -}" >"$OUT/$name.sum"
}

# The mixed loops of a phase, at once, until END.
run_mixed() {
	local phase=$1 end=$2
	local pids=()
	run_loop "$phase" "$phase-smp8" "$end" 1000000 guest 8 & pids+=($!)
	run_loop "$phase" "$phase-storm" "$end" 1000000 storm "$STORM_CPUS" & pids+=($!)
	run_loop "$phase" "$phase-disk" "$end" 1000000 guest 1 & pids+=($!)
	wait "${pids[@]}"
}

read -ra phases <<<"$SOAK_PHASES"
(( ${#phases[@]} )) || die "SOAK_PHASES is empty"
for phase in "${phases[@]}"; do
	[[ $phase =~ ^(boots|mixed|loaded)$ ]] || die "unknown phase $phase (boots, mixed, loaded)"
done
share=$(awk -v m="$SOAK_MINUTES" -v n="${#phases[@]}" 'BEGIN { print int(m * 60 / n) }')
echo "soak: $(date -u '+%F %H:%M') UTC, $SOAK_MINUTES min: ${phases[*]}, $share s each" \
	"($(nproc) host CPUs, $(uname -r))"
for phase in "${phases[@]}"; do
	end=$(( $(date +%s) + share ))
	case $phase in
	boots)	run_loop boots boots "$end" "$SOAK_BOOTS" guest 1 ;;
	mixed)	run_mixed mixed "$end" ;;
	loaded)	stress-ng --cpu 2 --timeout $((share + RUN_TIMEOUT))s --quiet &
		load=$!
		run_mixed loaded "$end"
		kill "$load" && wait "$load" 2>/dev/null ;;
	esac
done

# One line per loop; a loop fails on a failed run, fds or threads that
# changed, or RSS above the tolerance.
table=$OUT/results.txt
{
	printf '%-13s %5s %6s %9s %9s %19s %10s %9s  %s\n' loop runs failed fds threads \
		"peak RSS KiB" "IPIs exact" "MiB equal" verdict
	for phase in "${phases[@]}"; do
		for sum in "$OUT/$phase"*.sum; do
			read -r _ name n failed ipis bytes drift fd0 th0 rss0 fd1 th1 rss1 <"$sum"
			verdict=ok
			(( n > 0 )) || verdict="no run"
			(( failed == 0 )) || verdict="FAILED RUNS"
			(( drift == 0 )) || verdict="GROWTH: $drift runs with other fds/threads"
			[ "$rss0" = - ] || (( rss1 * 100 <= rss0 * (100 + RSS_TOLERANCE) )) ||
				verdict="GROWTH: RSS"
			printf '%-13s %5d %6d %9s %9s %19s %10d %9d  %s\n' "$name" "$n" "$failed" \
				"$fd0 -> $fd1" "$th0 -> $th1" "$rss0 -> $rss1" "$ipis" \
				$((bytes >> 20)) "$verdict"
		done
	done
} >"$table"
cat "$table"
! tail -n +2 "$table" | grep -vq ' ok$'		# the status: every loop ok

