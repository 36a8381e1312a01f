#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/bench-peers.sh (`make bench-peers`): does pathbench agree with sockperf, iperf3 and wrk?
# RUNS (default 5) back-to-back short `--peers` runs of the baseline path, each figure like for
# like (docs/peers.md): the responder in a process of its own (--responder process, as every
# reference tool's server is), the same fixed TCP buffers on both sides (iperf3 -w, sockperf
# --buffer-size), the same congestion control (--tcp-cc default: the namespaces' own, which is what
# sockperf, wrk and HAProxy get), the same pinning, sizes and warm-up cut. Then `analysis peers`
# prints per workload the median and the worst pathbench ÷ reference over the runs, against the
# targets (rr p50 ±5%, tcp_stream and tcp_crr ±10%).
#
#   RUNS PATHS WORKLOADS DURATION WARMUP REPS   the runs (defaults 5, baseline, tcp_rr,udp_rr,tcp_stream,tcp_crr, 2, 1, 3)
#   RUN_ARGS                                    more `pathbench run` options (they come last and win)
# About 100 s per run on 2 cores. The runs land in results/peers-<time>/ with the table (agreement.txt,
# agreement.json). Exit: 0, or the worst pathbench exit code; 2 for bad input.
set -uo pipefail
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
PB=$BUILD/pathbench
[ -x "$PB" ] || { echo "bench-peers: $PB not built (make build)" >&2; exit 3; }
runs=${RUNS:-5}
[[ "$runs" =~ ^[1-9][0-9]?$ ]] || { echo "bench-peers: RUNS '$runs': want 1-99" >&2; exit 2; }
out=results/peers-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
# shellcheck disable=SC2206
args=(--paths "${PATHS:-baseline}" --workloads "${WORKLOADS:-tcp_rr,udp_rr,tcp_stream,tcp_crr}" --peers
      --responder process --tcp-cc default --duration-s "${DURATION:-2}" --warmup-s "${WARMUP:-1}"
      --repetitions "${REPS:-3}" ${RUN_ARGS:-})
rc=0
dirs=()
for i in $(seq 1 "$runs"); do
  echo "bench-peers: run $i of $runs"
  before=$(ls "$out")
  "$PB" run "${args[@]}" --out-parent "$out" || { r=$?; [ $r -gt $rc ] && rc=$r; [ $r -ge 2 ] && exit $r; }
  d=$(comm -13 <(echo "$before") <(ls "$out") | head -1)
  [ -n "$d" ] && [ -f "$out/$d/run.json" ] && dirs+=("$out/$d")
done
[ ${#dirs[@]} -gt 0 ] || { echo "bench-peers: no run came back" >&2; exit 3; }
"$PYTHON" -m analysis peers "${dirs[@]}" --json "$out/agreement.json" | tee "$out/agreement.txt"
echo "bench-peers: $out/agreement.txt"
exit $rc
