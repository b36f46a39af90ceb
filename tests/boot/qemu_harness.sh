#!/bin/sh
# A boot-test harness in the style of an OS course's `make test`: boot a
# -kernel guest under $QEMU with a fixed command line, then grade its TAP
# report and its isa-debug-exit status ((failed tests << 1) | 1).
#
#   QEMU=qemu-system-x86_64 tests/boot/qemu_harness.sh KERNEL [APPEND]
#
# Prints one "NAME: OK|FAIL" line per test (a TAP SKIP counts as OK), then
# the verdict; exits 0 when every test passed and the status says so.
# $LOG keeps the guest's serial output, $TIMEOUT bounds the run (seconds),
# $QEMU_EXTRA adds options, $INITRD is -initrd's one argument (modules).
QEMU=${QEMU:-qemu-system-x86_64}
TIMEOUT=${TIMEOUT:-300}
[ $# -ge 1 ] || { echo "usage: $0 KERNEL [APPEND]" >&2; exit 2; }
LOG=${LOG:-$(mktemp)}

# shellcheck disable=SC2086
timeout "$TIMEOUT" "$QEMU" -kernel "$1" -append "${2-}" -serial stdio \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 -display none -no-reboot \
	-m 128 -smp 2 ${INITRD:+-initrd "$INITRD"} $QEMU_EXTRA </dev/null >"$LOG"
status=$?

plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$LOG" | head -n 1)
ran=$(grep -cE '^(not )?ok [0-9]+ - ' "$LOG")
failed=$(grep -cE '^not ok [0-9]+ - ' "$LOG")
sed -n -E 's/^ok [0-9]+ - ([^#]*[^ #]).*/\1: OK/p; s/^not ok [0-9]+ - ([^#]*[^ #]).*/\1: FAIL/p' "$LOG"
echo "exit status $status, $ran of ${plan:-?} tests ran, $failed failed"
if [ -n "$plan" ] && [ "$ran" -eq "$plan" ] && [ "$failed" -eq 0 ] && [ "$status" -eq 1 ]; then
	echo "harness: PASS"
	exit 0
fi
echo "harness: FAIL"
exit 1
