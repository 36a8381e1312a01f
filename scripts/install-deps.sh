#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs everything pathbench builds and runs with, from Debian 12's own packages (apt-get).
# Used by the README's first command and by CI (.ci/run). Idempotent.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then echo "install-deps.sh: run as root (apt-get)" >&2; exit 3; fi
export DEBIAN_FRONTEND=noninteractive
PKGS=(
  # build
  build-essential cmake make pkg-config git
  clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool
  libpcap-dev libboost-program-options-dev libbenchmark-dev libgtest-dev libgmock-dev
  nlohmann-json3-dev libfmt-dev
  # run: topology, paths, offload control
  iproute2 ethtool nftables iptables kmod procps
  # analysis (Debian's python3, not a pyenv/venv one)
  python3 python3-matplotlib python3-numpy python3-scipy
  # reference tools for `pathbench run --peers`
  iperf3 sockperf haproxy wrk
  # `pathbench vm`: another kernel in a qemu guest (TCG where KVM does not work)
  qemu-system-x86 busybox-static cpio
  # the report test renders report.html headless and looks at its first screen
  chromium
)
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${PKGS[@]}"
