#!/usr/bin/env bash
# Set up and demo: install the Debian packages tinyvmm needs, build it and
# the bundled guest, create a fresh 64 MiB disk image and boot the guest
# with it as a virtio-blk disk (the guest writes, flushes and verifies 8 MiB
# of it). Extra arguments are tinyvmm options (e.g. -c 4 --stats). Exits
# with the guest's status (0: every self-test passed), or with tinyvmm's
# own code if the VM failed.
set -euo pipefail
cd "$(dirname "$0")"

./scripts/install-deps.sh
make -s all

disk=build/disk.img
rm -f "$disk"
truncate -s 64M "$disk"

echo "--- booting guest/guest.elf under tinyvmm, disk $disk ---"
set +e
./tinyvmm --disk "$disk,serial=tinyvmm-demo" "$@" guest/guest.elf
code=$?
set -e

if (( code % 2 == 1 )); then
	status=$(( code >> 1 ))
	if (( status == 0 )); then
		echo "--- guest status 0: all self-tests passed ---"
	else
		echo "--- guest status $status: $status self-test(s) failed ---"
	fi
	exit "$status"
fi
echo "--- tinyvmm exited with code $code (see ./tinyvmm --help, 'Exit codes') ---"
exit "$code"
