# SPDX-License-Identifier: Apache-2.0
"""`peers RUN [RUN...]`: does pathbench agree with the tools people know, run after run?

For every `--peers` run, per path and workload, pathbench's figure ÷ its reference tool's, both
medians over the run's repetitions (the two are interleaved on the same path instance):

    rr (tcp_rr, udp_rr)   latency p50            target ±5%
    tcp_stream            throughput (bit/s)     target ±10%
    tcp_crr               connections/s          target ±10%

then over the runs the median ratio, the worst one (farthest from 1) and whether every run is
within the target.  This is a benchmark, not a test (docs/peers.md): the exit status is 0 whether
the targets are met or not, 2 for bad input; a miss is read beside its measured cause in
docs/peers.md.  `make bench-peers` runs five short `--peers` runs and prints this table.
"""

from __future__ import annotations

import dataclasses
import json
import statistics

from .load import InputError, load_run
from .metrics import group_results

# Chosen by the workload's pattern (catalogue traits), never its name: request/response is judged
# on its latency p50, everything else on its primary metric (a rate).
RR_TARGET, RATE_TARGET = 0.05, 0.10
UNITS = {"throughput_bps": "Gbit/s", "transactions_per_s": "k/s", "packets_per_s": "Mpps"}
SCALE = {"us": 1e-3, "Gbit/s": 1e-9, "k/s": 1e-3, "Mpps": 1e-6, "": 1.0}


def figure_of(cat, workload: str) -> tuple[tuple, str, str, float] | None:
    """(metric keys, label, unit, target) of a workload, from its pattern; None for patterns no
    reference tool mirrors (pps)."""
    t = cat.workload(workload)
    if t.pattern == "rr":
        return ("latency_ns", "p50"), "p50", "us", RR_TARGET
    if t.pattern in ("stream", "crr") and t.primary_metric:
        return (t.primary_metric,), "rate", UNITS.get(t.primary_metric, ""), RATE_TARGET
    return None


def _figure(result: dict, keys: tuple) -> float | None:
    v = result.get("metrics")
    for k in keys:
        if not isinstance(v, dict):
            return None
        v = v.get(k)
    return float(v) if isinstance(v, (int, float)) and v > 0 else None


def pairs(doc: dict, cat) -> dict[tuple, dict]:
    """(path, workload, tool) -> {"ours", "theirs", "ratio", "n", "figure"} for one run: medians over
    the ok repetitions of pathbench's row and of the reference row mirroring it."""
    ok = [r for r in doc.get("results", []) if r.get("status") == "ok" and figure_of(cat, r.get("workload", ""))]
    groups = group_results(ok)
    out = {}
    for key, rs in groups.items():
        if not key.reference:
            continue
        own = groups.get(dataclasses.replace(key, reference=""))
        if not own:
            continue
        fig = figure_of(cat, key.workload)
        keys = fig[0]
        a = [x for x in (_figure(r, keys) for r in own) if x is not None]
        b = [x for x in (_figure(r, keys) for r in rs) if x is not None]
        if not a or not b:
            continue
        ours, theirs = statistics.median(a), statistics.median(b)
        out[(key.path, key.workload, key.reference)] = {"ours": ours, "theirs": theirs, "ratio": ours / theirs,
                                                        "n": min(len(a), len(b)), "figure": fig[1:]}
    return out


def agreement(per_run: list[dict[tuple, dict]]) -> list[dict]:
    """One row per (path, workload, tool) present in any run: ratios per run, median, worst, verdict."""
    keys = sorted({k for p in per_run for k in p}, key=lambda k: (k[1], k[0], k[2]))
    rows = []
    for k in keys:
        path, wl, tool = k
        got = [p[k] for p in per_run if k in p]
        label, unit, target = got[0]["figure"]
        ratios = [g["ratio"] for g in got]
        worst = max(ratios, key=lambda r: abs(r - 1))
        rows.append({"path": path, "workload": wl, "tool": tool, "figure": label, "unit": unit,
                     "target_pct": target * 100, "runs": len(got), "of_runs": len(per_run),
                     "ratios": ratios, "median": statistics.median(ratios), "worst": worst,
                     "ours_median": statistics.median(g["ours"] for g in got),
                     "theirs_median": statistics.median(g["theirs"] for g in got),
                     "met": len(got) == len(per_run) and all(abs(r - 1) <= target + 1e-12 for r in ratios)})
    return rows


def main(args) -> int:
    runs = [load_run(p) for p in args.runs]
    per_run = [pairs(r.doc, r.catalogue) for r in runs]
    for r, p in zip(runs, per_run):
        if not p:
            raise InputError(r.filename, "no pathbench row with a reference row beside it (a run without --peers?)")
    rows = agreement(per_run)
    print(f"pathbench ÷ reference tool, medians of each run's repetitions, {len(runs)} run(s) "
          f"(rr: latency p50, target ±5%; tcp_stream and tcp_crr: rate, target ±10%)")
    for i, r in enumerate(runs):
        o = r.options
        print(f"run {i + 1}: {r.filename} (responder {o.get('responder', 'thread')}, tcp_cc {o.get('tcp_cc')}, "
              f"buffers {o.get('tcp_buffer_bytes')})")
    head = f"{'path':<14} {'workload':<11} {'tool':<9} {'pathbench':>10} {'reference':>10} {'unit':<7} " \
           f"{'median':>7} {'worst':>7} {'target':>7}  per run"
    print(head)
    for w in rows:
        s = SCALE[w["unit"]]
        per = " ".join(f"{x:.3f}" for x in w["ratios"])
        verdict = "met" if w["met"] else "MISSED"
        print(f"{w['path']:<14} {w['workload']:<11} {w['tool']:<9} {w['ours_median'] * s:>10.3g} "
              f"{w['theirs_median'] * s:>10.3g} {w['unit']:<7} {w['median']:>7.3f} {w['worst']:>7.3f} "
              f"{'±' + format(w['target_pct'], 'g') + '%':>7}  {per}  {verdict}"
              + ("" if w["runs"] == w["of_runs"] else f" (in {w['runs']} of {w['of_runs']} runs)"))
    missed = [w for w in rows if not w["met"]]
    print(f"{len(rows) - len(missed)} of {len(rows)} within target in every run"
          + ("" if not missed else "; missed: " + ", ".join(f"{w['path']} {w['workload']}" for w in missed)
             + " (docs/peers.md says what each measured cause moves)"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": [r.filename for r in runs], "rows": rows}, f, indent=1)
    return 0
