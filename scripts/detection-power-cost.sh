#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/detection-power-cost.sh (`make bench-power COST=1`): what `analysis compare` detects in
# cost mode (docs/cost.md), proven with a known number of instructions added per packet.
#
#   A, A2   baseline × tcp_rr, udp_rr, udp_pps in a cost-mode guest (two boots: an A/A pair across
#           boots), the cost hook attached spinning nothing (`--inject-cost-ns-per-packet 0`)
#   B-*     the same with `--inject-cost-ns-per-packet N` (bpf/tc_spin.bpf.c at TC ingress of both
#           DUT veths), N calibrated inside the guest with BPF_PROG_TEST_RUN, where a nanosecond is
#           an instruction: N is +1% and +5% of A's instructions per packet the DUT receives
#           (window ÷ (dut0 + dut1 rx packets): per transaction for tcp_rr and udp_rr, ACKs
#           included; per datagram for udp_pps)
# compare must flag every B on its primary metric and nothing between A and A2.
#
# Writes $OUT/power.md and power.json; exit 1 when A/A flags anything or an injection goes
# unflagged, 0 otherwise.
set -euo pipefail
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
DURATION=${DURATION:-0.3} WARMUP=${WARMUP:-0.15} COOLDOWN=${COOLDOWN:-0.05} REPS=${REPS:-3}
KERNEL=${KERNEL:-auto}
OUT=${OUT:-results/power-cost-$(date -u +%Y%m%dT%H%M%SZ)}
PB=$BUILD/pathbench
[ -x "$PB" ] || { echo "detection-power-cost: $PB not built (make build)" >&2; exit 3; }
mkdir -p "$OUT"
echo "detection-power-cost: runs and verdicts in $OUT (kernel $KERNEL, cost mode)"

run() {  # run NAME ARGS...: one baseline run in a cost-mode guest, into $OUT/NAME
  local name=$1
  shift
  echo "  $name $*"
  local rc=0
  rm -rf "$OUT/.$name"
  "$PB" vm --accel tcg-icount --kernel "$KERNEL" --out-parent "$OUT/.$name" -- --paths baseline \
    --duration-s "$DURATION" --warmup-s "$WARMUP" --cooldown-s "$COOLDOWN" --repetitions "$REPS" "$@" \
    > "$OUT/$name.log" 2>&1 || rc=$?
  if [ "$rc" -gt 1 ]; then
    echo "detection-power-cost: $name exited $rc (see $OUT/$name.log)" >&2
    exit "$rc"
  fi
  mv "$OUT/.$name"/*/ "$OUT/$name" && rmdir "$OUT/.$name"
}

WL=tcp_rr,udp_rr,udp_pps
run A --workloads $WL --inject-cost-ns-per-packet 0
read -r P_TCP P_UDP P_UPPS < <("$PYTHON" - "$OUT/A/run.json" <<'PY'
import json, statistics, sys
d = json.load(open(sys.argv[1]))
def med(wl):
    def per_dut_packet(m):
        i = m["system_state"]["interfaces"]
        return m["duration_ns"] / max(1, i["dut0"]["rx_packets"] + i["dut1"]["rx_packets"])
    return statistics.median(per_dut_packet(r["metrics"]) for r in d["results"] if r["workload"] == wl and r["status"] == "ok")
print(med("tcp_rr"), med("udp_rr"), med("udp_pps"))
PY
)
ns() { "$PYTHON" -c "print(round($1, 1))"; }
for pct in 1 5; do
  run "B-tcp_rr-$pct" --workloads tcp_rr --inject-cost-ns-per-packet "$(ns "$pct / 100 * $P_TCP")"
  run "B-udp_rr-$pct" --workloads udp_rr --inject-cost-ns-per-packet "$(ns "$pct / 100 * $P_UDP")"
  run "B-udp_pps-$pct" --workloads udp_pps --inject-cost-ns-per-packet "$(ns "$pct / 100 * $P_UPPS")"
done
run A2 --workloads $WL --inject-cost-ns-per-packet 0

"$PYTHON" - "$OUT" "$P_TCP" "$P_UDP" "$P_UPPS" <<'PY'
import glob, json, os, sys
sys.path.insert(0, os.getcwd())
from analysis.compare import REGRESSIONS, compare_runs
from analysis.load import load_run
out = sys.argv[1]
per_packet = {"tcp_rr": float(sys.argv[2]), "udp_rr": float(sys.argv[3]), "udp_pps": float(sys.argv[4])}
a, a2 = load_run(out + "/A"), load_run(out + "/A2")
aa = compare_runs(a, a2)
false_pos = [f"{r.path}/{r.workload} {r.metric} {r.change_pct:+.3f}%" for r in aa.rows if r.status in REGRESSIONS]
aa_max = max((abs(r.change_pct) for r in aa.rows if r.change_pct is not None and r.metric.startswith("instructions_per")),
             default=None)
rows, ok = [], not false_pos
for b_dir in sorted(glob.glob(out + "/B-*/")):
    _, wl, pct = os.path.basename(b_dir.rstrip("/")).split("-")
    b = load_run(b_dir)
    ab = compare_runs(a, b)
    prim = [r for r in ab.rows if r.workload == wl and r.metric.startswith("instructions_per")]
    p = prim[0] if prim else None
    inst = [pi.get("injected_cost") or {} for pi in b.doc.get("path_instances", [])]
    measured = sorted(i.get("measured_ns_per_packet", 0) for i in inst)
    flagged = bool(p and p.status in REGRESSIONS)
    rows.append({"workload": wl, "injected_pct": int(pct), "instructions_per_dut_packet_in_A": round(per_packet[wl], 1),
                 "injected_instructions_per_packet": b.options.get("inject_cost_ns_per_packet"),
                 "calibrated_instructions_per_packet": measured[len(measured) // 2] if measured else None,
                 "change_pct": p.change_pct if p else None, "bound_pct": p.threshold_pct if p else None,
                 "verdict": p.status if p else "not compared", "flagged": flagged})
    ok = ok and flagged
doc = {"mode": "cost", "a_a_false_positives": false_pos, "a_a_max_change_pct": aa_max, "rows": rows, "ok": ok}
json.dump(doc, open(out + "/power.json", "w"), indent=1)
lines = ["# Detection power of `analysis compare` in cost mode", "",
         f"- A vs A2 (two boots, A/A): {'no regression flagged' if not false_pos else 'FLAGGED: ' + '; '.join(false_pos)}"
         + (f"; largest change of instructions per unit {aa_max:.3f}%" if aa_max is not None else ""), "",
         "| workload | injected | instructions/packet added (calibrated in the guest) | measured change | cost bound | verdict |",
         "|---|---|---|---|---|---|"]
for r in rows:
    what = "per transaction" if r["workload"] in ("tcp_rr", "udp_rr") else "per packet"
    ch = "–" if r["change_pct"] is None else f"{r['change_pct']:+.3f}%"
    bd = "–" if r["bound_pct"] is None else f"±{r['bound_pct']:.2g}%"
    lines.append(f"| {r['workload']} | +{r['injected_pct']}% {what} | {r['injected_instructions_per_packet']} "
                 f"({r['calibrated_instructions_per_packet']}) | {ch} | {bd} | {r['verdict']} |")
lines += ["", "RESULT: " + ("ok" if ok else "FAILED")]
open(out + "/power.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
sys.exit(0 if ok else 1)
PY
