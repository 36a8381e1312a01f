#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/detection-power.sh (`make bench-power`): what `analysis compare` can detect at the
# default suite's cost, proven with a known, physical slowdown instead of assumed.
#
#   A, A2   baseline, 5 workloads, the default suite's timing and repetitions, with the cost hook
#           attached but spinning nothing (`--inject-cost-ns-per-packet 0`: attaching a TC program
#           at all costs something, measured at 10-15% on streams here, so a clean control carries
#           the hook too). A runs first, A2 last, so the A/A pair spans the whole measurement and
#           compare must flag nothing between them.
#   B-*     the same with `--inject-cost-ns-per-packet N`: bpf/tc_spin.bpf.c at TC ingress of
#           both DUT veths, N calibrated under BPF_PROG_TEST_RUN (bench/run/calibration.h). N is a
#           share of A's time per packet the DUT receives (window / (dut0 + dut1 rx packets): for
#           a request/response workload that is a transaction's time over its packets, ACKs
#           included; for a stream the ACKs pay too)
#           - tcp_rr, udp_rr: +10% of a transaction's time -> compare must flag both
#           - tcp_stream, udp_pps, xdp_pps: +5%, +10%, +20% of the time per packet at the DUT
#             -> the smallest size compare flags is reported
#
# Writes $OUT/power.md and power.json; exits 1 when A/A flags anything or the calibrated
# +10% on tcp_rr or udp_rr goes unflagged, 0 otherwise.
set -euo pipefail
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
DURATION=${DURATION:-0.4} WARMUP=${WARMUP:-0.25} COOLDOWN=${COOLDOWN:-0.05} REPS=${REPS:-6}
OUT=${OUT:-results/power-$(date -u +%Y%m%dT%H%M%SZ)}
PB=$BUILD/pathbench
[ -x "$PB" ] || { echo "detection-power: $PB not built (make build)" >&2; exit 3; }
mkdir -p "$OUT"
echo "detection-power: runs and verdicts in $OUT"

run() {  # run NAME ARGS...: one baseline run; a failed proof (exit 1) is recorded, not fatal
  local name=$1
  shift
  echo "  $name $*"
  local rc=0
  "$PB" run --paths baseline --duration-s "$DURATION" --warmup-s "$WARMUP" --cooldown-s "$COOLDOWN" \
    --repetitions "$REPS" --out "$OUT/$name" "$@" > "$OUT/$name.log" 2>&1 || rc=$?
  if [ "$rc" -gt 1 ]; then
    echo "detection-power: pathbench run $name exited $rc (see $OUT/$name.log)" >&2
    exit "$rc"
  fi
}

WL=tcp_rr,udp_rr,tcp_stream,udp_pps,xdp_pps
run A --workloads $WL --inject-cost-ns-per-packet 0

# Time per transaction and per packet at the DUT, medians over A's repetitions.
read -r P_TCP P_UDP P_STREAM P_UPPS P_XPPS < <("$PYTHON" - "$OUT/A/run.json" <<'PY'
import json, statistics, sys
d = json.load(open(sys.argv[1]))
def med(wl, f):
    return statistics.median(f(r["metrics"]) for r in d["results"] if r["workload"] == wl and r["status"] == "ok")
def per_dut_packet(m):
    i = m["system_state"]["interfaces"]
    return m["duration_ns"] / max(1, i["dut0"]["rx_packets"] + i["dut1"]["rx_packets"])
per_pkt = lambda m: 1e9 / m["packets_per_s"]  # xdp_pps: frames made at the DUT's own interface
print(med("tcp_rr", per_dut_packet), med("udp_rr", per_dut_packet), med("tcp_stream", per_dut_packet),
      med("udp_pps", per_dut_packet), med("xdp_pps", per_pkt))
PY
)
ns() { "$PYTHON" -c "print(round($1, 1))"; }
run B-tcp_rr-10 --workloads tcp_rr --inject-cost-ns-per-packet "$(ns "0.10 * $P_TCP")"
run B-udp_rr-10 --workloads udp_rr --inject-cost-ns-per-packet "$(ns "0.10 * $P_UDP")"
for pct in 5 10 20; do
  run "B-tcp_stream-$pct" --workloads tcp_stream --inject-cost-ns-per-packet "$(ns "$pct / 100 * $P_STREAM")"
  run "B-udp_pps-$pct" --workloads udp_pps --inject-cost-ns-per-packet "$(ns "$pct / 100 * $P_UPPS")"
  run "B-xdp_pps-$pct" --workloads xdp_pps --inject-cost-ns-per-packet "$(ns "$pct / 100 * $P_XPPS")"
done
run A2 --workloads $WL --inject-cost-ns-per-packet 0

"$PYTHON" - "$OUT" <<'PY'
import glob, json, os, sys
sys.path.insert(0, os.getcwd())
from analysis.compare import compare_runs, REGRESSIONS
from analysis.power import detection_power
from analysis.load import load_run
out = sys.argv[1]
a, a2 = load_run(out + "/A"), load_run(out + "/A2")
aa = compare_runs(a, a2)
false_pos = [f"{r.path}/{r.workload} {r.metric} {r.change_pct:+.1f}%" for r in aa.rows if r.status in REGRESSIONS]
rows, ok = [], not false_pos
for b_dir in sorted(glob.glob(out + "/B-*/")):
    name = os.path.basename(b_dir.rstrip("/"))
    _, wl, pct = name.split("-")
    b = load_run(b_dir)
    res = detection_power(a, a2, b)
    prim = [p for p in res["rows"] if p.workload == wl and p.metric in ("transactions_per_s", "throughput_bps", "packets_per_s")]
    p = prim[0] if prim else None
    inst = [pi.get("injected_cost") or {} for pi in b.doc.get("path_instances", [])]
    measured = sorted(i.get("measured_ns_per_packet", 0) for i in inst)
    rows.append({"workload": wl, "injected_pct": int(pct), "injected_ns_per_packet": b.options.get("inject_cost_ns_per_packet"),
                 "calibrated_ns_per_packet_median": measured[len(measured) // 2] if measured else None,
                 "change_pct": p.ab_change_pct if p else None,
                 "ci_pct": [p.ab_ci_lo_pct, p.ab_ci_hi_pct] if p else None,
                 "verdict": p.ab_status if p else "not compared", "flagged": bool(p and p.detected),
                 # what compare itself predicts it can see at A and B's noise (80% power)
                 "predicted_detectable_pct": (res["detectable_pct"].get(wl) or {}).get("one_row"),
                 "family": res["family"]})
    if wl in ("tcp_rr", "udp_rr") and not (p and p.detected):
        ok = False
# The detection limit: the smallest size from which every larger size was flagged too (a size
# flagged while a larger one was not is luck, not power).
smallest = {}
for wl in sorted({r["workload"] for r in rows} - {"tcp_rr", "udp_rr"}):
    sizes = sorted((r["injected_pct"], r["flagged"]) for r in rows if r["workload"] == wl)
    limit = None
    for pct, flagged in reversed(sizes):
        if not flagged:
            break
        limit = pct
    smallest[wl] = limit
doc = {"a_a_false_positives": false_pos, "threshold_pct": aa.threshold_pct if hasattr(aa, "threshold_pct") else None,
       "rows": rows, "smallest_flagged_pct": smallest, "ok": ok}
json.dump(doc, open(out + "/power.json", "w"), indent=1)
lines = ["# Detection power of `analysis compare` at the default suite's cost", "",
         f"- A vs A2 (A/A): {'no regression flagged' if not false_pos else 'FLAGGED: ' + '; '.join(false_pos)}", ""]
lines += ["| workload | injected | ns/packet | change of primary metric | 95% CI | verdict | compare's own detectable size (80% power) |",
          "|---|---|---|---|---|---|---|"]
for r in rows:
    ci = "–" if not r["ci_pct"] or r["ci_pct"][0] is None else f"[{r['ci_pct'][0]:+.1f}%, {r['ci_pct'][1]:+.1f}%]"
    ch = "–" if r["change_pct"] is None else f"{r['change_pct']:+.1f}%"
    what = "per transaction" if r["workload"] in ("tcp_rr", "udp_rr") else "per packet"
    det = "over 100%" if r["predicted_detectable_pct"] is None else f"{r['predicted_detectable_pct']:.0f}%"
    lines.append(f"| {r['workload']} | +{r['injected_pct']}% {what} | {r['injected_ns_per_packet']} | {ch} | {ci} | {r['verdict']} | {det} |")
lines += ["", "Detected from (this and every larger size flagged): " + (", ".join(
    f"{k} +{v}%" if v is not None else f"{k} not reliably at any size tried" for k, v in sorted(smallest.items())) or "none"),
          "", "RESULT: " + ("ok" if ok else "FAILED")]
open(out + "/power.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
sys.exit(0 if ok else 1)
PY
