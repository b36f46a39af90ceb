#!/usr/bin/env bash
# Installs the Debian packages tinyvmm needs to build and test, if missing.
# Used by run.sh and CI; safe to run again.
set -euo pipefail

packages=(make gcc binutils libc6-dev linux-libc-dev libelf-dev libseccomp-dev libcriterion-dev acpica-tools gdb)
# --check: QEMU too, so the boot tests also grade the guest under QEMU
# (tests/boot/test_qemu_cli.c skips that half, saying so, without it).
[ "${1:-}" = "--check" ] && packages+=(qemu-system-x86)
[ "${1:-}" = "--bench" ] && packages+=(qemu-system-x86 gnuplot-nox)
[ "${1:-}" = "--fuzz" ] && packages+=(clang libclang-rt-14-dev)
[ "${1:-}" = "--coverage" ] && packages+=(gcovr)
[ "${1:-}" = "--soak" ] && packages+=(stress-ng)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
