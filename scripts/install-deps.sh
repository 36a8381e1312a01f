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
  iperf3 sockperf haproxy wrk nghttp2-client
  # `pathbench vm`: another kernel in a qemu guest (TCG where KVM does not work)
  qemu-system-x86 busybox-static cpio
  # the report test renders report.html headless and looks at its first screen
  chromium
)
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${PKGS[@]}"

# `pathbench run --hosts`: OpenSSH to the three hosts; the SSH test runs its own sshd instances
# inside namespaces it creates. Installing openssh-server must not start an sshd in the host
# namespace: a policy-rc.d answering 101 ("action forbidden") stops the package's service start
# (invoke-rc.d and deb-systemd-invoke both ask it); one that exists already is left as it is.
policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# pathbench install-deps.sh: no service starts while openssh-server installs\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  own_policy=1
fi
rc=0
apt-get install -y -qq --no-install-recommends openssh-client openssh-server || rc=$?
if [ -n "$own_policy" ]; then rm -f "$policy"; fi
[ "$rc" = 0 ] || exit "$rc"
# Under systemd the unit may still be enabled for the next boot; pathbench needs no host sshd,
# but an administrator's existing one is theirs: leave the enablement as the package set it.
