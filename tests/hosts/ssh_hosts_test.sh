#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/hosts/ssh_hosts_test.sh: `pathbench run --hosts` against real sshd, all inside namespaces
# this test makes (nothing in the host namespace):
#
#   pbs-<id>-mgmt: br0 198.18.200.1/24 (the orchestrator runs here)
#      | veth mgmt0 in each role namespace, 198.18.200.11/.12/.13, sshd listening there only
#   pbs-<id>-cli  cli0 198.18.1.1 ==veth== dut0 198.18.1.254 [pbs-<id>-dut] dut1 198.18.2.254 ==veth== srv0 198.18.2.2  pbs-<id>-srv
#
# Each role namespace runs Debian's sshd with a throwaway host key and a config of the test's own
# (ListenAddress on the management subnet, root by key only, no PAM); the orchestrator's
# known_hosts is made from those keys. Asserts:
#   1. bad input: each case one line, its own exit code, nothing changed in any namespace;
#   2. a run in --hosts mode passes every proof, and leaves nothing behind in any namespace;
#   3. the same suite in namespace mode, twice (the A/A spread), and --hosts mode are equivalent;
#   4. SIGINT and SIGKILL of the orchestrator: the agents remove everything (timed);
#  2b. every run option does what it says with --hosts (tests/hosts/options_hold.py): the TCP buffer
#      size reaches the client host's generator and the DUT host's proxy, --until-ci-pct stops as
#      in namespace mode, --inject-cost-ns-per-packet is installed on the DUT host;
# and, around all of it, the host namespace is as it was (scripts/host-snapshot).
# Usage: ssh_hosts_test.sh <pathbench binary>. Exit 77 (skipped) when root, sshd or ssh is missing.
set -uo pipefail
PB=${1:?usage: ssh_hosts_test.sh <pathbench binary>}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (namespaces, sshd, BPF)"
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || skip "sshd not found: apt-get install openssh-server (scripts/install-deps.sh)"
command -v ssh >/dev/null || skip "ssh not found: apt-get install openssh-client"
command -v ssh-keygen >/dev/null || skip "ssh-keygen not found: apt-get install openssh-client"

ID=$(head -c 64 /dev/urandom | tr -dc 'a-z0-9' | head -c 5)
MG=pbs-$ID-mgmt CLI=pbs-$ID-cli DUT=pbs-$ID-dut SRV=pbs-$ID-srv
# The host namespace before anything: compared after the teardown (another run's pb-* namespaces
# or BPF programs, made meanwhile, would show there too: a difference names its owner).
HOST0=$(mktemp /tmp/pbs-$ID-host.XXXX)
"$SRC/scripts/host-snapshot" > "$HOST0"
T=$(mktemp -d /tmp/pbs-$ID-XXXX)
chmod 700 "$T"
FAILS=0
made_run_sshd=
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

teardown() {
  for r in cli dut srv; do
    [ -f "$T/$r/sshd.pid" ] && kill "$(cat "$T/$r/sshd.pid")" 2>/dev/null
  done
  for ns in $CLI $DUT $SRV $MG; do
    [ -e /run/netns/$ns ] || continue
    for p in $(ip netns pids $ns 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del $ns 2>/dev/null
  done
  [ -n "$made_run_sshd" ] && rmdir /run/sshd 2>/dev/null
  rm -rf "$T"
  if ! "$SRC/scripts/host-snapshot" | diff "$HOST0" - > "$HOST0.diff"; then
    echo "FAIL: the host namespace is not as it was: $(head -10 "$HOST0.diff" | tr '\n' '|')"
    RC=1
  fi
  rm -f "$HOST0" "$HOST0.diff"
}
trap 'RC=$?; teardown; exit $RC' EXIT

# --- namespaces -------------------------------------------------------------------------------
nsctl() { ip netns exec "$1" sysctl -q -w "$2" >/dev/null; }
for ns in $MG $CLI $DUT $SRV; do
  ip netns add $ns || { echo "FAIL: ip netns add $ns"; exit 1; }
  ip -n $ns link set lo up
  nsctl $ns net.ipv6.conf.all.disable_ipv6=1
  nsctl $ns net.ipv6.conf.default.disable_ipv6=1
done
ip -n $MG link add br0 type bridge
ip -n $MG addr add 198.18.200.1/24 dev br0
ip -n $MG link set br0 up
declare -A MIP=([cli]=198.18.200.11 [dut]=198.18.200.12 [srv]=198.18.200.13)
declare -A NS=([cli]=$CLI [dut]=$DUT [srv]=$SRV)
for r in cli dut srv; do
  ip -n ${NS[$r]} link add mgmt0 type veth peer name m-$r netns $MG
  ip -n ${NS[$r]} addr add ${MIP[$r]}/24 dev mgmt0
  ip -n ${NS[$r]} link set mgmt0 up
  ip -n $MG link set m-$r master br0
  ip -n $MG link set m-$r up
  # The management side carries the default route, as on a lab host.
  ip -n ${NS[$r]} route add default via 198.18.200.1 dev mgmt0
  nsctl ${NS[$r]} net.ipv4.ip_local_port_range="1024 65000"
  nsctl ${NS[$r]} net.ipv4.tcp_tw_reuse=1
done
# The data path: netns/topology.sh's wiring, MACs and settings, with routes to the far subnet
# instead of a default route (the default route is the management interface's).
ip -n $CLI link add cli0 address 02:00:c6:12:01:01 type veth peer name dut0 address 02:00:c6:12:01:fe netns $DUT
ip -n $SRV link add srv0 address 02:00:c6:12:02:02 type veth peer name dut1 address 02:00:c6:12:02:fe netns $DUT
ip -n $CLI addr add 198.18.1.1/24 dev cli0
ip -n $DUT addr add 198.18.1.254/24 dev dut0
ip -n $DUT addr add 198.18.2.254/24 dev dut1
ip -n $SRV addr add 198.18.2.2/24 dev srv0
for x in "$CLI cli0" "$DUT dut0" "$DUT dut1" "$SRV srv0"; do set -- $x; ip -n $1 link set $2 up; done
ip -n $CLI route add 198.18.2.0/24 via 198.18.1.254 dev cli0
ip -n $SRV route add 198.18.1.0/24 via 198.18.2.254 dev srv0
ip -n $CLI neigh replace 198.18.1.254 lladdr 02:00:c6:12:01:fe dev cli0 nud permanent
ip -n $DUT neigh replace 198.18.1.1 lladdr 02:00:c6:12:01:01 dev dut0 nud permanent
ip -n $DUT neigh replace 198.18.2.2 lladdr 02:00:c6:12:02:02 dev dut1 nud permanent
ip -n $SRV neigh replace 198.18.2.254 lladdr 02:00:c6:12:02:fe dev srv0 nud permanent
nsctl $DUT net.ipv4.ip_forward=1
for k in all default dut0 dut1; do nsctl $DUT net.ipv4.conf.$k.rp_filter=0; done
nsctl $DUT net.ipv4.conf.all.send_redirects=0

# --- sshd in each role namespace ------------------------------------------------------------------
if [ ! -d /run/sshd ]; then mkdir -m 755 /run/sshd && made_run_sshd=1; fi  # sshd's privilege separation dir
ssh-keygen -q -t ed25519 -N '' -C pbs-test -f "$T/id"
cp "$T/id.pub" "$T/authorized_keys"
: > "$T/known_hosts"
for r in cli dut srv; do
  mkdir -p "$T/$r"
  ssh-keygen -q -t ed25519 -N '' -C pbs-$r -f "$T/$r/host_key"
  cat > "$T/$r/sshd_config" <<EOF
ListenAddress ${MIP[$r]}:22
HostKey $T/$r/host_key
PidFile $T/$r/sshd.pid
AuthorizedKeysFile $T/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding no
X11Forwarding no
PermitTTY no
PrintMotd no
MaxSessions 30
MaxStartups 30
LogLevel VERBOSE
EOF
  "$SSHD" -t -f "$T/$r/sshd_config" || { echo "FAIL: sshd -t rejects the test's config"; exit 1; }
  ip netns exec ${NS[$r]} "$SSHD" -f "$T/$r/sshd_config" -E "$T/$r/sshd.log" || { echo "FAIL: sshd in ${NS[$r]}"; exit 1; }
  echo "${MIP[$r]} $(cut -d' ' -f1,2 "$T/$r/host_key.pub")" >> "$T/known_hosts"
done
for _ in $(seq 50); do
  n=0; for r in cli dut srv; do [ -s "$T/$r/sshd.pid" ] && n=$((n + 1)); done
  [ $n = 3 ] && break; sleep 0.1
done
SSHD_PIDS=" $(cat "$T"/*/sshd.pid | tr '\n' ' ') "

# hosts file: $1 = output, then overrides as key=value for jq-less editing (python3).
hosts_file() {
  /usr/bin/python3 - "$@" <<EOF
import json, sys
out = sys.argv[1]
T = "$T"
def host(role, ip, data):
    return {"role": role, "ssh": "root@" + ip, "identity": T + "/id", "known_hosts": T + "/known_hosts",
            "ssh_config": "/dev/null", "pathbench": "$PB", "management": "mgmt0", "data": data}
doc = {"hosts": [
    host("client", "${MIP[cli]}", [{"dev": "cli0", "address": "198.18.1.1/24"}]),
    host("dut", "${MIP[dut]}", [{"dev": "dut0", "address": "198.18.1.254/24"}, {"dev": "dut1", "address": "198.18.2.254/24"}]),
    host("server", "${MIP[srv]}", [{"dev": "srv0", "address": "198.18.2.2/24"}])]}
for kv in sys.argv[2:]:
    exec(kv)
json.dump(doc, open(out, "w"), indent=1)
EOF
}
hosts_file "$T/hosts.json"

# What must be as it was in every namespace: links, addresses, rules, routes, qdiscs and filters,
# nft, iptables, BPF attachments, and processes other than sshd.
ns_state() {
  for ns in ${NSLIST:-$MG $CLI $DUT $SRV}; do
    echo "## $ns"
    ip netns exec $ns sh -c '
      ip -o link | awk -F": " "{print \$2}" | sort
      ip -o addr | awk "{print \$2, \$3, \$4}" | sort
      ip rule; ip route show table all | grep -v "^local\|^broadcast" | sort
      tc qdisc show | sort
      for d in $(ls /sys/class/net); do tc filter show dev $d ingress; tc filter show dev $d egress; done 2>/dev/null
      nft list ruleset 2>/dev/null
      iptables-save 2>/dev/null | grep -v "^#" | sed "s/\[[0-9]*:[0-9]*\]//"
      bpftool net show 2>/dev/null | grep -v "^$"
      for d in $(ls /sys/class/net); do ethtool -k $d 2>/dev/null | grep -E "^(tx-checksumming|generic-receive-offload|tcp-segmentation-offload):"; done'
    for p in $(ip netns pids $ns); do
      case "$SSHD_PIDS" in *" $p "*) continue;; esac
      # sshd's per-connection process lives as long as the orchestrator's master connection
      # (ControlPersist): with NO_SSHD_SESSIONS the agents are judged alone.
      [ -n "${NO_SSHD_SESSIONS:-}" ] && [ "$(cat /proc/$p/comm 2>/dev/null)" = sshd ] && continue
      echo "process $p: $(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null | cut -c1-80)"
    done
  done
}
agents_alive() {
  local n=0
  for ns in $CLI $DUT $SRV; do
    for p in $(ip netns pids $ns); do
      case "$SSHD_PIDS" in *" $p "*) ;; *) grep -q agent /proc/$p/cmdline 2>/dev/null && n=$((n + 1));; esac
    done
  done
  echo $n
}
# ns_state into $1 until it equals the initial state (sshd's per-session processes take a moment
# to go after a session ends), at most 3 s.
settled() {
  for _ in $(seq 30); do
    ns_state > "$1"
    diff -q "$T/state.0" "$1" >/dev/null && return 0
    sleep 0.1
  done
  return 1
}
ns_state > "$T/state.0"
NO_SSHD_SESSIONS=1 NSLIST="$CLI $DUT $SRV" ns_state > "$T/state.0r"
in_mg() { ip netns exec $MG "$@"; }

# --- 1. bad input ----------------------------------------------------------------------------------
# expect <code> <label> <hosts file> [run options...]: exit code, one error line, nothing changed.
bad_case() {
  local want=$1 label=$2 file=$3; shift 3
  local t0=$(date +%s%N)
  timeout 60 ip netns exec $MG "$PB" run --hosts "$file" --paths baseline --workloads udp_rr --duration-s 0.2 \
    --warmup-s 0.1 --cooldown-s 0.05 --repetitions 1 --out "$T/bad-$want" "$@" > "$T/bad.out" 2> "$T/bad.err"
  local rc=$? dt=$(( ($(date +%s%N) - t0) / 1000000 ))
  local errs=$(grep -c "error:" "$T/bad.err")
  rm -rf "$T/bad-$want"
  settled "$T/state.bad"
  if [ $rc != "$want" ]; then fail "$label: exit $rc, want $want: $(tail -2 "$T/bad.err")"
  elif [ "$errs" != 1 ]; then fail "$label: $errs error lines, want 1: $(cat "$T/bad.err")"
  elif ! diff -q "$T/state.0" "$T/state.bad" >/dev/null; then fail "$label: state changed: $(diff "$T/state.0" "$T/state.bad" | head -5)"
  else ok "$label: exit $rc in ${dt} ms: $(grep "error:" "$T/bad.err")"; fi
}
hosts_file "$T/h-missing.json" 'doc["hosts"].pop(2)'
bad_case 20 "role missing" "$T/h-missing.json"
hosts_file "$T/h-double.json" 'doc["hosts"][2]["role"] = "dut"'
bad_case 20 "role doubled" "$T/h-double.json"
hosts_file "$T/h-mgmt.json" 'doc["hosts"][0]["data"][0]["dev"] = "mgmt0"'
bad_case 21 "data interface = management interface" "$T/h-mgmt.json"
hosts_file "$T/h-sess.json" 'doc["hosts"][1]["management"] = "lo"; doc["hosts"][1]["data"][0] = {"dev": "mgmt0", "address": "198.18.200.12/24"}'
bad_case 21 "data interface carries the ssh session" "$T/h-sess.json"
hosts_file "$T/h-unreach.json" 'doc["hosts"][2]["ssh"] = "root@198.18.200.99"'
bad_case 22 "unreachable host" "$T/h-unreach.json"
ssh-keygen -q -t ed25519 -N '' -f "$T/other_key"
sed "s|^${MIP[dut]} .*|${MIP[dut]} $(cut -d' ' -f1,2 "$T/other_key.pub")|" "$T/known_hosts" > "$T/known_hosts.bad"
hosts_file "$T/h-key.json" "doc['hosts'][1]['known_hosts'] = '$T/known_hosts.bad'"
bad_case 23 "host-key mismatch" "$T/h-key.json"
hosts_file "$T/h-auth.json" "doc['hosts'][0]['identity'] = '$T/other_key'"
bad_case 24 "key not accepted" "$T/h-auth.json"
hosts_file "$T/h-dev.json" 'doc["hosts"][2]["data"][0]["dev"] = "nosuch0"'
bad_case 25 "wrong interface name" "$T/h-dev.json"
printf '#!/bin/sh\nPATHBENCH_FAULT=agent-version exec %s "$@"\n' "$PB" > "$T/pathbench-other"
chmod 755 "$T/pathbench-other"
hosts_file "$T/h-version.json" "doc['hosts'][1]['pathbench'] = '$T/pathbench-other'"
bad_case 26 "version mismatch" "$T/h-version.json"
if command -v setpriv >/dev/null; then
  printf '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups %s "$@"\n' "$PB" > "$T/pathbench-nobody"
  chmod 755 "$T/pathbench-nobody"
  chmod 755 "$T"   # nobody must reach the wrapper; the keys stay 0600
  hosts_file "$T/h-priv.json" "doc['hosts'][2]['pathbench'] = '$T/pathbench-nobody'"
  bad_case 27 "missing privilege" "$T/h-priv.json"
  chmod 700 "$T"
else
  echo "SKIP (one case): setpriv missing (util-linux), no unprivileged agent to test with"
fi

# PBS_ONLY=bad: stop after the bad-input cases (no load is generated: light enough to debug with).
if [ "${PBS_ONLY:-}" = bad ]; then [ $FAILS = 0 ] && { echo PASS; exit 0; }; echo "$FAILS failure(s)"; exit 1; fi

# --- 2. every default path on the hosts: proofs, and nothing left -------------------------------------
t0=$(date +%s)
timeout 300 ip netns exec $MG "$PB" run --hosts "$T/hosts.json" --paths default --workloads tcp_rr,udp_rr,tcp_stream \
  --duration-s 0.2 --warmup-s 0.1 --cooldown-s 0.05 --repetitions 1 --out "$T/proofs-run" > "$T/proofs-run.log" 2>&1
rc=$?
echo "hosts-mode default paths: exit $rc in $(( $(date +%s) - t0 )) s"
[ $rc = 0 ] || fail "hosts-mode default-paths run exited $rc: $(grep -E 'error|warn' "$T/proofs-run.log" | head -5)"
[ -f "$T/proofs-run/run.json" ] && /usr/bin/python3 "$SRC/tests/hosts/equivalence.py" --proofs "$T/proofs-run/run.json" ||
  fail "a result, proof or pcap probe of the hosts-mode run failed"
settled "$T/state.1"
diff "$T/state.0" "$T/state.1" > "$T/diff.1" && ok "normal end: nothing left in any namespace" ||
  fail "normal end left state: $(head -10 "$T/diff.1")"

# --- 2b. every option holds with --hosts -------------------------------------------------------------
# The size the generator's and the proxy's TCP sockets get (4 MiB: not the default, so a field
# left at its default on the way to an agent cannot pass), and autotuning.
for bytes in 4194304 0; do
  arg=$bytes; [ $bytes = 0 ] && arg=autotuning
  timeout 120 ip netns exec $MG "$PB" run --hosts "$T/hosts.json" --paths proxy-plain --workloads tcp_stream,tcp_rr \
    --duration-s 0.2 --warmup-s 0.1 --cooldown-s 0.05 --repetitions 1 --tcp-buffer-bytes $arg --out "$T/buf-$bytes" \
    > "$T/buf-$bytes.log" 2>&1 || fail "--tcp-buffer-bytes $arg with --hosts exited $?: $(grep -E 'error|warn' "$T/buf-$bytes.log" | head -3)"
  out=$(/usr/bin/python3 "$SRC/tests/hosts/options_hold.py" buffers "$T/buf-$bytes/run.json" $bytes 2>&1) && ok "--tcp-buffer-bytes $arg with --hosts: $out" ||
    fail "--tcp-buffer-bytes $arg with --hosts: $out"
done
timeout 120 ip netns exec $MG "$PB" run --hosts "$T/hosts.json" --paths baseline --workloads udp_rr --duration-s 0.1 \
  --warmup-s 0.05 --cooldown-s 0.02 --repetitions 6 --until-ci-pct 50 --max-repetitions 7 --no-proof-capture \
  --out "$T/adaptive" > "$T/adaptive.log" 2>&1 || fail "--until-ci-pct with --hosts exited $?: $(grep -E 'error|warn' "$T/adaptive.log" | head -3)"
out=$(/usr/bin/python3 "$SRC/tests/hosts/options_hold.py" adaptive "$T/adaptive/run.json" 2>&1) && ok "--until-ci-pct with --hosts: $out" ||
  fail "--until-ci-pct with --hosts: $out"
timeout 120 ip netns exec $MG "$PB" run --hosts "$T/hosts.json" --paths baseline --workloads udp_rr --duration-s 0.2 \
  --warmup-s 0.1 --cooldown-s 0.05 --repetitions 1 --inject-cost-ns-per-packet 200 --out "$T/inject" > "$T/inject.log" 2>&1 ||
  fail "--inject-cost-ns-per-packet with --hosts exited $?: $(grep -E 'error|warn' "$T/inject.log" | head -3)"
out=$(/usr/bin/python3 "$SRC/tests/hosts/options_hold.py" injected "$T/inject/run.json" 200 2>&1) &&
  ok "--inject-cost-ns-per-packet with --hosts: $out" || fail "--inject-cost-ns-per-packet with --hosts: $out"
# --peers is the one option hosts mode refuses: bad input, its reason in one line, nothing made.
timeout 60 ip netns exec $MG "$PB" run --hosts "$T/hosts.json" --peers --duration-s 1 --warmup-s 1 --repetitions 1 \
  --out "$T/peers" > /dev/null 2> "$T/peers.err"
rc=$?
if [ $rc = 2 ] && [ "$(grep -c 'error:' "$T/peers.err")" = 1 ] && grep -q -- "--peers is not available with --hosts" "$T/peers.err" &&
   [ ! -e "$T/peers" ]; then ok "--peers with --hosts refused: $(grep 'error:' "$T/peers.err")"
else fail "--peers with --hosts: exit $rc, want 2 with its reason: $(cat "$T/peers.err")"; fi
settled "$T/state.5" && ok "the option runs left nothing in any namespace" ||
  fail "the option runs left state: $(diff "$T/state.0" "$T/state.5" | head -10)"

# --- 3. the same suite in both modes ------------------------------------------------------------------
# Paths that install no policy rule: the hosts' DUT is not rebuilt between path instances, and a
# policy rule slows its forwarding for the namespace's life (docs/gotchas.md), so a TPROXY path
# would make every later instance of the hosts run slower than the namespace mode's fresh ones.
SUITE=(--paths baseline,tc-redirect,xdp-pass --workloads tcp_rr,udp_rr,tcp_stream --duration-s 0.3 --warmup-s 0.1
       --cooldown-s 0.05 --repetitions 3)
t0=$(date +%s)
timeout 300 ip netns exec $MG "$PB" run --hosts "$T/hosts.json" "${SUITE[@]}" --out "$T/hosts-run" > "$T/hosts-run.log" 2>&1
rc=$?
echo "hosts-mode suite: exit $rc in $(( $(date +%s) - t0 )) s"
[ $rc = 0 ] || fail "hosts-mode run exited $rc: $(grep -E 'error|warn' "$T/hosts-run.log" | head -5)"
for i in 1 2; do
  t0=$(date +%s)
  timeout 300 "$PB" run "${SUITE[@]}" --out "$T/ns-run$i" > "$T/ns-run$i.log" 2>&1 || fail "namespace-mode run $i failed: $(tail -3 "$T/ns-run$i.log")"
  echo "namespace-mode suite $i: $(( $(date +%s) - t0 )) s"
done
/usr/bin/python3 "$SRC/tests/hosts/equivalence.py" "$T/ns-run1/run.json" "$T/ns-run2/run.json" "$T/hosts-run/run.json" --gross-factor 2 ||
  fail "hosts mode's ratios to baseline are off by more than a factor of 2 from namespace mode's (or a proof failed)"

# A window longer than the watchdog's stall timeout: the server host's counters must reach the
# client's watchdog during the window (they used to arrive only at its edges, and a stream or pps
# window over --stall-timeout-s failed as "no progress").
rc=0
timeout 120 ip netns exec $MG "$PB" run --hosts "$T/hosts.json" --paths baseline --workloads tcp_stream,udp_pps \
  --duration-s 2.5 --warmup-s 0.2 --cooldown-s 0.05 --stall-timeout-s 1 --repetitions 1 --no-proof-capture \
  --out "$T/long" > "$T/long.log" 2>&1 || rc=$?
n_ok=$(/usr/bin/python3 -c 'import json,sys; print(sum(r["status"] == "ok" for r in json.load(open(sys.argv[1]))["results"]))' \
  "$T/long/run.json" 2>/dev/null || echo 0)
[ $rc = 0 ] && [ "$n_ok" = 2 ] && ok "2.5 s stream and pps windows with a 1 s stall timeout: both ok" ||
  fail "long windows in hosts mode: exit $rc, $n_ok of 2 ok: $(grep -E 'error|watchdog' "$T/long.log" | head -2 | tr '\n' '|')"

# --- 4. SIGINT and SIGKILL of the orchestrator ------------------------------------------------------
interrupt_case() {
  local sig=$1 want=$2
  ip netns exec $MG "$PB" run --hosts "$T/hosts.json" --paths tproxy-nft --workloads tcp_stream --duration-s 6 --warmup-s 0.2 \
    --cooldown-s 0.05 --repetitions 1 --no-proof-capture --out "$T/sig-$sig" > "$T/sig-$sig.log" 2>&1 &
  local pid=$!
  # Until the path is installed on the DUT and the load runs.
  for _ in $(seq 150); do grep -q "rep 1/1 tproxy-nft tcp_stream" "$T/sig-$sig.log" && break; sleep 0.1; done
  sleep 1.5
  ns_state > "$T/state.during"
  diff -q "$T/state.0" "$T/state.during" >/dev/null && fail "$sig: nothing was installed before the signal (test is void)"
  local t0=$(date +%s%N)
  kill -$sig $pid
  local clean_ms=
  # The three hosts (role namespaces); the orchestrator's side (its ssh masters, ControlPersist) apart.
  for _ in $(seq 300); do
    NO_SSHD_SESSIONS=1 NSLIST="$CLI $DUT $SRV" ns_state > "$T/state.after"
    if [ "$(agents_alive)" = 0 ] && diff -q "$T/state.0r" "$T/state.after" >/dev/null; then
      clean_ms=$(( ($(date +%s%N) - t0) / 1000000 )); break
    fi
    sleep 0.05
  done
  wait $pid; local rc=$?
  [ -n "$want" ] && [ $rc != "$want" ] && fail "$sig: orchestrator exited $rc, want $want: $(grep -E 'error|warn|signal' "$T/sig-$sig.log" | tail -4 | tr '\n' '|')"
  if [ -n "$clean_ms" ]; then ok "$sig of the orchestrator: agents gone and every namespace clean ${clean_ms} ms after the signal"
  else fail "$sig: still there after 15 s: $(diff "$T/state.0r" "$T/state.after" | head -8)"; fi
  echo "$sig ${clean_ms:-none}" >> "$T/cleanup-times"
}
interrupt_case INT 130
interrupt_case KILL ""
# An agent SIGKILLed itself cannot tear down: the orchestrator ends with 28 (agent lost), the
# path's state stays on the DUT, and `pathbench cleanup --hosts` runs the undo commands the agent
# journaled.
ip netns exec $MG "$PB" run --hosts "$T/hosts.json" --paths tproxy-nft --workloads tcp_rr --duration-s 2 --warmup-s 0.2 \
  --cooldown-s 0.05 --repetitions 1 --no-proof-capture --out "$T/agentkill" > "$T/agentkill.log" 2>&1 &
pid=$!
for _ in $(seq 150); do grep -q "rep 1/1 tproxy-nft tcp_rr" "$T/agentkill.log" && break; sleep 0.1; done
sleep 0.5
for p in $(ip netns pids $DUT); do tr "\0" " " < /proc/$p/cmdline 2>/dev/null | grep -q -- "agent --role dut" && kill -KILL $p; done
wait $pid; rc=$?
[ $rc = 28 ] && ok "DUT agent SIGKILLed: orchestrator exit 28: $(grep 'error:' "$T/agentkill.log" | head -1)" ||
  fail "DUT agent SIGKILLed: orchestrator exited $rc, want 28: $(tail -3 "$T/agentkill.log")"
settled "$T/state.ak" && fail "DUT agent SIGKILLed: nothing was left to clean (test is void)"
out=$(timeout 60 ip netns exec $MG "$PB" cleanup --hosts "$T/hosts.json" 2>&1); rc=$?
if [ $rc = 0 ] && settled "$T/state.ak2"; then ok "cleanup --hosts after a dead agent: every namespace clean: $(echo "$out" | grep dut | cut -c1-200)"
else fail "cleanup --hosts after a dead agent: exit $rc, left: $(diff "$T/state.0" "$T/state.ak2" | head -6) ($out)"; fi

# After the orchestrator's SIGKILL and the dead agent's cleanup, `pathbench cleanup --hosts` finds nothing left to stop.
out=$(timeout 60 ip netns exec $MG "$PB" cleanup --hosts "$T/hosts.json" 2>&1); rc=$?
[ $rc = 0 ] && ok "cleanup --hosts: $(echo "$out" | tr '\n' ' ' | cut -c1-200)" || fail "cleanup --hosts exited $rc: $out"
# No ssh master of the killed orchestrator outlives ControlPersist (10 s after its last session).
for _ in $(seq 120); do [ "$(ip netns pids $MG | wc -w)" = 0 ] && break; sleep 0.1; done
left=$(ip netns pids $MG | wc -w)
[ "$left" = 0 ] && ok "no ssh process left in the management namespace" || fail "$left processes left in $MG"

# Nothing outside 198.18.0.0/15 was ever configured to be addressed: every address the test and
# the runs used is in the management or data subnets.
ns_state > "$T/state.end"
grep -oE '([0-9]{1,3}\.){3}[0-9]{1,3}' "$T/state.end" | sort -u | grep -vE '^(198\.1[89]\.|127\.|0\.0\.0\.0)' &&
  fail "an address outside 198.18.0.0/15 appears in the namespaces"

[ $FAILS = 0 ] && { echo "PASS"; exit 0; }
echo "$FAILS failure(s)"
for r in cli dut srv; do echo "--- sshd $r"; tail -5 "$T/$r/sshd.log"; done
exit 1
