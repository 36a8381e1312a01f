#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/bench-api.sh (`make bench-api`): API traffic, docs/gateway.md.
#  1. Closed loop: http_rr and http_crr on API_PATHS, each with pathbench's L4 proxy and with the
#     L7 gateway (--gateway none,haproxy), wrk through the same path instance (--peers), API_REPS
#     interleaved repetitions; the report's section "API traffic: what intercepting and observing
#     it costs". Like for like with wrk (docs/peers.md): the responder and the proxy in processes of
#     their own (--responder process --proxy-model process), the namespaces' congestion control and
#     autotuned buffers, as wrk and HAProxy get, and one route (wrk sends one request).
#  2. Open loop: per path behind the gateway, http_rr at 50% and 90% of that path's closed-loop
#     median rate (--rate-rps, latency from each request's intended send time), OPEN_REPS
#     repetitions each: openloop.md beside the report.
#  3. Observing the API calls (docs/observe.md): http_rr and http_crr on OBSERVE_PATHS (the routed
#     baseline, the plain gateway and one interception), each with --observe none, ebpf-empty,
#     ebpf-http and (behind the gateway) gateway-log, API_REPS interleaved repetitions, the default
#     three routes; its own run and report (results/latest-api-observe), whose API section has the
#     observation table.
#
#   API_PATHS API_REPS OPEN_REPS OBSERVE_PATHS RUN_ARGS
#   (defaults: the five proxy paths, 6, 3, baseline,proxy-plain,tproxy-nft, none)
# Exit: 0, or the worst pathbench exit code; 2 for bad input; 3 when nothing came back.
set -uo pipefail
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
PB=$BUILD/pathbench
[ -x "$PB" ] || { echo "bench-api: $PB not built (make build-suite)" >&2; exit 3; }
paths=${API_PATHS:-proxy-plain,tproxy-nft,tproxy-ipt,sk-lookup,tc-sk-assign}
reps=${API_REPS:-6}
open_reps=${OPEN_REPS:-3}
[[ "$reps" =~ ^[1-9][0-9]?$ ]] || { echo "bench-api: API_REPS '$reps': want 1-99" >&2; exit 2; }
[[ "$open_reps" =~ ^[1-9][0-9]?$ ]] || { echo "bench-api: OPEN_REPS '$open_reps': want 1-99" >&2; exit 2; }
# One route: wrk sends one request (the first route's), so both generators send the same one.
like=(--responder process --proxy-model process --tcp-cc default --tcp-buffer-bytes autotuning
      --http-routes "GET /api/v1/users")
rc=0
# shellcheck disable=SC2086
"$PB" run --paths "$paths" --workloads http_rr,http_crr --gateway none,haproxy --peers "${like[@]}" \
    --duration-s 1 --warmup-s 1 --cooldown-s 0.2 --repetitions "$reps" ${RUN_ARGS:-} \
    --out-parent results --latest-link results/latest-api || rc=$?
[ $rc -ge 2 ] && exit $rc
[ -f results/latest-api/run.json ] || { echo "bench-api: no run came back" >&2; exit 3; }
closed=$(readlink -f results/latest-api)
"$PYTHON" -m analysis report "$closed" || { r=$?; echo "bench-api: report failed" >&2; exit $r; }

# Each gateway path's closed-loop http_rr median (pathbench's own rows, proofs ok).
rates=$("$PYTHON" - "$closed/run.json" <<'EOF'
import json, statistics, sys
doc = json.load(open(sys.argv[1]))
by = {}
for r in doc["results"]:
    if (r.get("workload") == "http_rr" and r.get("status") == "ok" and "reference" not in r
            and (r.get("path_options") or {}).get("gateway") == "haproxy"):
        by.setdefault(r["path"], []).append(r["metrics"]["transactions_per_s"])
for p, v in by.items():
    print(p, round(statistics.median(v)))
EOF
)
[ -n "$rates" ] || { echo "bench-api: no closed-loop http_rr rate behind the gateway" >&2; exit 3; }
mkdir -p "$closed/openloop"
while read -r path rate; do
  for pct in 50 90; do
    r=$(( rate * pct / 100 ))
    echo "bench-api: open loop, $path behind the gateway at $pct% of $rate = $r requests/s"
    # shellcheck disable=SC2086
    "$PB" run --paths "$path" --workloads http_rr --gateway haproxy "${like[@]}" --rate-rps "$r" \
        --duration-s 1 --warmup-s 0.5 --cooldown-s 0.2 --repetitions "$open_reps" ${RUN_ARGS:-} \
        --out "$closed/openloop/$path-$pct" > "$closed/openloop/$path-$pct.log" 2>&1 || {
          x=$?; [ $x -gt $rc ] && rc=$x; echo "bench-api: $path at $pct% exited $x (see $closed/openloop/$path-$pct.log)" >&2; }
  done
done <<< "$rates"
"$PYTHON" - "$closed" <<'EOF' | tee "$closed/openloop.md"
import glob, json, os, statistics, sys
closed = sys.argv[1]
print("## Open loop behind the gateway (http_rr, latency from each request's intended send time)\n")
print("| path | of closed-loop max | intended req/s | achieved req/s | kept up | p50 µs | p90 µs | p99 µs | reps |")
print("|---|---|---|---|---|---|---|---|---|")
for d in sorted(glob.glob(os.path.join(closed, "openloop", "*-[0-9]*"))):
    if not os.path.isdir(d) or not os.path.exists(os.path.join(d, "run.json")):
        continue
    doc = json.load(open(os.path.join(d, "run.json")))
    rows = [r for r in doc["results"] if r.get("status") == "ok"]
    if not rows:
        continue
    path, pct = os.path.basename(d).rsplit("-", 1)
    ol = [r["metrics"]["open_loop"] for r in rows]
    lat = lambda k: statistics.median(r["metrics"]["latency_ns"][k] for r in rows) / 1e3
    kept = sum(1 for o in ol if o.get("kept_up"))
    print(f"| `{path}` | {pct}% | {statistics.median(o['intended_rate_rps'] for o in ol):,.0f} | "
          f"{statistics.median(o['achieved_rate_rps'] for o in ol):,.0f} | {kept}/{len(ol)} | "
          f"{lat('p50'):.1f} | {lat('p90'):.1f} | {lat('p99'):.1f} | {len(rows)} |")
EOF

# 3. Observation: the same like-for-like settings, three routes (no wrk: what is measured is the
# observer's cost on pathbench's own rows).
obs_like=(--responder process --proxy-model process --tcp-cc default --tcp-buffer-bytes autotuning)
orc=0
# shellcheck disable=SC2086
"$PB" run --paths "${OBSERVE_PATHS:-baseline,proxy-plain,tproxy-nft}" --workloads http_rr,http_crr --gateway haproxy \
    --observe none,ebpf-empty,ebpf-http,gateway-log "${obs_like[@]}" \
    --duration-s 1 --warmup-s 1 --cooldown-s 0.2 --repetitions "$reps" ${RUN_ARGS:-} \
    --out-parent results --latest-link results/latest-api-observe || orc=$?
[ $orc -gt $rc ] && rc=$orc
if [ -f results/latest-api-observe/run.json ]; then
  "$PYTHON" -m analysis report "$(readlink -f results/latest-api-observe)" || { r=$?; echo "bench-api: observation report failed" >&2; [ $r -gt $rc ] && rc=$r; }
else
  echo "bench-api: the observation run came back empty" >&2
fi
echo "bench-api: report $closed/report.html, open loop $closed/openloop.md, observation results/latest-api-observe/report.html"
exit $rc
