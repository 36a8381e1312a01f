#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# netns/topology.sh: build or remove pathbench's client — DUT — server topology.
#
#   pb-<id>-cli              pb-<id>-dut                          pb-<id>-srv
#   cli0 198.18.1.1/24 ==veth== dut0 198.18.1.254 | dut1 198.18.2.254 ==veth== srv0 198.18.2.2/24
#   load generator           path under test (forwarding on)      sink / responder
#
# Usage: topology.sh up <id> | down <id> | status <id> | list
#   <id>: 1-8 characters [a-z0-9]; names are pb-<id>-{cli,dut,srv}.
#
# Everything is created inside the run's own namespaces: veths are created in the client/server
# namespace with their peer moved straight into the DUT, so no link ever exists in the host
# namespace, and no host sysctl, route or rule is touched. Deleting the namespaces removes it all.
# `up` is idempotent (an existing complete topology is left as is, a partial one is rebuilt);
# `down` removes whatever exists of it, even after a partial `up`, and kills processes still in
# the namespaces (they can only be ours: nothing else knows these names).
# Addresses come only from 198.18.0.0/15 (RFC 2544). MACs are fixed so neighbour entries can be
# static (no ARP noise); IPv6 is disabled on the links (no DAD, RA or ND traffic).
set -euo pipefail

EXIT_USAGE=2
EXIT_ENV=3

die() { echo "topology.sh: $*" >&2; exit "${2:-$EXIT_ENV}"; }
usage() { echo "usage: topology.sh up|down|status <id> | list" >&2; exit $EXIT_USAGE; }

CLI_IP=198.18.1.1  DUT_CLI_IP=198.18.1.254
SRV_IP=198.18.2.2  DUT_SRV_IP=198.18.2.254
CLI_MAC=02:00:c6:12:01:01 DUT0_MAC=02:00:c6:12:01:fe
DUT1_MAC=02:00:c6:12:02:fe SRV_MAC=02:00:c6:12:02:02

check_id() {
  [[ "${1:-}" =~ ^[a-z0-9]{1,8}$ ]] || die "bad run id '${1:-}': want 1-8 characters [a-z0-9]" $EXIT_USAGE
}

names() { CLI="pb-$1-cli"; DUT="pb-$1-dut"; SRV="pb-$1-srv"; }

ns_exists() { [ -e "/run/netns/$1" ]; }

# Per-namespace sysctls only (net.* inside a netns is that namespace's own copy).
nsctl() { ip netns exec "$1" sysctl -q -w "$2" >/dev/null; }

complete() {
  ns_exists "$CLI" && ns_exists "$DUT" && ns_exists "$SRV" || return 1
  ip -n "$CLI" -o addr show dev cli0 2>/dev/null | grep -q "$CLI_IP/" || return 1
  ip -n "$SRV" -o addr show dev srv0 2>/dev/null | grep -q "$SRV_IP/" || return 1
  ip -n "$DUT" -o addr show dev dut1 2>/dev/null | grep -q "$DUT_SRV_IP/" || return 1
  ip -n "$SRV" route show default 2>/dev/null | grep -q "$DUT_SRV_IP" || return 1
  ip -n "$CLI" route show default 2>/dev/null | grep -q "$DUT_CLI_IP" || return 1
  [ "$(ip netns exec "$DUT" sysctl -n net.ipv4.ip_forward)" = 1 ] || return 1
}

kill_ns_procs() {
  local pids
  pids=$(ip netns pids "$1" 2>/dev/null || true)
  [ -n "$pids" ] || return 0
  kill -TERM $pids 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    pids=$(ip netns pids "$1" 2>/dev/null || true)
    [ -n "$pids" ] || return 0
    sleep 0.1
  done
  kill -KILL $pids 2>/dev/null || true
}

down() {
  names "$1"
  local ns
  for ns in "$CLI" "$DUT" "$SRV"; do
    ns_exists "$ns" || continue
    kill_ns_procs "$ns"
    ip netns del "$ns" 2>/dev/null || true
  done
  for ns in "$CLI" "$DUT" "$SRV"; do
    ! ns_exists "$ns" || die "could not delete namespace $ns"
  done
}

ns_setup() {
  ip netns add "$1"
  ip -n "$1" link set lo up
  nsctl "$1" net.ipv6.conf.all.disable_ipv6=1
  nsctl "$1" net.ipv6.conf.default.disable_ipv6=1
  nsctl "$1" net.ipv6.conf.default.accept_dad=0
  nsctl "$1" net.ipv6.conf.default.accept_ra=0
  # Wide port range and TIME_WAIT reuse for connection-rate workloads (tcp_crr opens tens of
  # thousands of connections per repetition; docs/gotchas.md "TIME_WAIT on the server port").
  nsctl "$1" net.ipv4.ip_local_port_range="1024 65000"
  nsctl "$1" net.ipv4.tcp_tw_reuse=1
}

up() {
  names "$1"
  if complete; then return 0; fi
  down "$1"   # partial or missing: start clean
  trap 'down "$ID"' ERR
  ns_setup "$CLI"; ns_setup "$DUT"; ns_setup "$SRV"

  ip -n "$CLI" link add cli0 address $CLI_MAC type veth peer name dut0 address $DUT0_MAC netns "$DUT"
  ip -n "$SRV" link add srv0 address $SRV_MAC type veth peer name dut1 address $DUT1_MAC netns "$DUT"

  ip -n "$CLI" addr add $CLI_IP/24 dev cli0
  ip -n "$DUT" addr add $DUT_CLI_IP/24 dev dut0
  ip -n "$DUT" addr add $DUT_SRV_IP/24 dev dut1
  ip -n "$SRV" addr add $SRV_IP/24 dev srv0
  ip -n "$CLI" link set cli0 up
  ip -n "$DUT" link set dut0 up
  ip -n "$DUT" link set dut1 up
  ip -n "$SRV" link set srv0 up
  ip -n "$CLI" route add default via $DUT_CLI_IP dev cli0
  ip -n "$SRV" route add default via $DUT_SRV_IP dev srv0

  # Static neighbours: no ARP during measurements.
  ip -n "$CLI" neigh replace $DUT_CLI_IP lladdr $DUT0_MAC dev cli0 nud permanent
  ip -n "$DUT" neigh replace $CLI_IP lladdr $CLI_MAC dev dut0 nud permanent
  ip -n "$DUT" neigh replace $SRV_IP lladdr $SRV_MAC dev dut1 nud permanent
  ip -n "$SRV" neigh replace $DUT_SRV_IP lladdr $DUT1_MAC dev srv0 nud permanent

  nsctl "$DUT" net.ipv4.ip_forward=1
  nsctl "$DUT" net.ipv4.conf.all.rp_filter=0
  nsctl "$DUT" net.ipv4.conf.default.rp_filter=0
  nsctl "$DUT" net.ipv4.conf.dut0.rp_filter=0
  nsctl "$DUT" net.ipv4.conf.dut1.rp_filter=0
  # No ICMP redirects: the DUT forwards between two different subnets, but be explicit.
  nsctl "$DUT" net.ipv4.conf.all.send_redirects=0
  trap - ERR
  complete || die "topology $1 incomplete after up"
}

status() {
  names "$1"
  if complete; then echo "up"; return 0; fi
  if ns_exists "$CLI" || ns_exists "$DUT" || ns_exists "$SRV"; then echo "partial"; return 1; fi
  echo "down"; return 1
}

list() {
  ip netns list 2>/dev/null | awk '{print $1}' | sed -n 's/^pb-\([a-z0-9]\{1,8\}\)-\(cli\|dut\|srv\)$/\1/p' | sort -u
}

[ $# -ge 1 ] || usage
cmd=$1; shift
[ "$(id -u)" = 0 ] || die "must run as root (network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN)"
command -v ip >/dev/null || die "ip not found: apt-get install iproute2"
case "$cmd" in
  up)     [ $# = 1 ] || usage; check_id "$1"; ID=$1; up "$1" ;;
  down)   [ $# = 1 ] || usage; check_id "$1"; down "$1" ;;
  status) [ $# = 1 ] || usage; check_id "$1"; status "$1" ;;
  list)   list ;;
  *)      usage ;;
esac
