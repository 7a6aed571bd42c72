#!/bin/sh
# Install everything the test suite needs, check lint and types, and run the tests (README Quick
# start, command 2; CI runs it too).
# As root on Debian it installs the system packages; elsewhere it assumes they are present.
set -eu
cd "$(dirname "$0")/.."

PACKAGES="tesseract-ocr tesseract-ocr-eng qemu-system-x86 busybox-static dnsmasq iproute2 e2fsprogs xfsprogs btrfs-progs kmod git chromium cpio prometheus-alertmanager zstd"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    missing=""
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
    done
    export DEBIAN_FRONTEND=noninteractive
    # Another install may hold the package manager's lock (unattended-upgrades, a parallel run): wait.
    APT="apt-get -o DPkg::Lock::Timeout=600"
    # The QEMU guest kit fetches Debian kernels with `apt-get download`: it needs package lists.
    if [ -n "$missing" ] || ! ls /var/lib/apt/lists/*Packages* >/dev/null 2>&1; then
        $APT update -qq
    fi
    if [ -n "$missing" ]; then
        $APT install -y -qq --no-install-recommends $missing >/dev/null
    fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# Lint and types first (.ci/lint: ruff and mypy, seconds): a finding fails the run before the tests.
sh .ci/lint
exec .venv/bin/python -m pytest -q "$@"
