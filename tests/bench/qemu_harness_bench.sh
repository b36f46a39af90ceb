#!/bin/bash
# The course-style harness (tests/boot/qemu_harness.sh) on the bundled
# guest's self-tests: wall time under QEMU (as the harness runs it: TCG;
# and with QEMU_EXTRA="-accel kvm") and under tinyvmm's qemu-system-x86_64
# symlink, median of N runs each, interleaved.
#
#   tests/bench/qemu_harness_bench.sh [N]      (default 5; after `make`)
set -u
cd "$(dirname "$0")/../.."
N=${1:-5}
GUEST=guest/guest.elf
TINY_DIR=$(pwd)/build/qemu
[ -x "$TINY_DIR/qemu-system-x86_64" ] || { echo "run make first (no $TINY_DIR)" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null && HAVE_QEMU=1 || HAVE_QEMU=0
LOG=$(mktemp)

# "SECONDS PASS|FAIL [FAILED_TEST ...]": one harness run with
# PATH=$1:$PATH (none if empty) and QEMU_EXTRA=$2.
one_run() {
	local start end out verdict=PASS
	start=$(date +%s.%N)
	out=$(env ${1:+PATH="$1:$PATH"} QEMU_EXTRA="$2" LOG="$LOG" \
		tests/boot/qemu_harness.sh "$GUEST" bench 2>/dev/null) || verdict=FAIL
	end=$(date +%s.%N)
	echo "$(echo "$end - $start" | bc) $verdict $(sed -n '/^harness:/d; s/: FAIL$//p' <<<"$out" | xargs)"
}

# "MEDIAN s (harness passed P of N[; failed: TEST xK ...])" of one_run
# lines on stdin.
summary() {
	sort -g | awk '{ v[NR] = $1; if ($2 == "PASS") p++; for (i = 3; i <= NF; i++) f[$i]++ }
		END { if (!NR) { print "-"; exit }
		      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
		      printf "%.2f (harness passed %d of %d", m, p, NR
		      sep = "; failed:"
		      for (t in f) { printf "%s %s ×%d", sep, t, f[t]; sep = "," }
		      print ")" }'
}

tiny=$(mktemp) tcg=$(mktemp) kvm=$(mktemp)
trap 'rm -f "$LOG" "$tiny" "$tcg" "$kvm"' EXIT
for ((i = 0; i < N; i++)); do
	one_run "$TINY_DIR" "" >>"$tiny"
	if [ "$HAVE_QEMU" = 1 ]; then
		one_run "" "" >>"$tcg"
		one_run "" "-accel kvm" >>"$kvm"
	fi
done
echo "runs (s): tinyvmm $(cut -d' ' -f1 "$tiny" | xargs)"
echo "          QEMU (TCG) $(cut -d' ' -f1 "$tcg" | xargs)"
echo "          QEMU -accel kvm $(cut -d' ' -f1 "$kvm" | xargs)"
echo
echo "| qemu_harness.sh on guest/guest.elf, median of $N | wall time (s) |"
echo "| --- | --- |"
echo "| QEMU 7.2 \`-M pc\`, as the harness runs it (TCG) | $(summary <"$tcg") |"
echo "| QEMU 7.2 \`-M pc\`, QEMU_EXTRA=\"-accel kvm\" | $(summary <"$kvm") |"
echo "| tinyvmm as \`qemu-system-x86_64\` (KVM) | $(summary <"$tiny") |"
