# SPDX-License-Identifier: Apache-2.0
"""`power A A' B`: which configurations compare flags when a known cost was injected into B, and
whether it flags anything between A and A' (an A/A pair).  scripts/detection-power.sh drives it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from . import EXIT_OK
from . import metrics as M
from .compare import DEFAULT_FDR, DEFAULT_TAIL_THRESHOLD_PCT, DEFAULT_THRESHOLD_PCT, REGRESSIONS, UNTESTABLE, \
    CompareOptions, compare_runs
from .compare_cli import _clean, _pct, _text_table, _write, run_line
from .load import Run, load_run


@dataclass
class PowerRow:
    workload: str
    path: str
    variant: str
    reference: str
    metric: str
    aa_status: str
    ab_status: str
    aa_change_pct: float | None
    ab_change_pct: float | None
    ab_ci_lo_pct: float | None
    ab_ci_hi_pct: float | None
    false_positive: bool       # flagged as a regression between A and A' (no change was made)
    detected: bool             # flagged as a regression between A and B (cost injected)


def detection_power(a: Run, a_prime: Run, b: Run, threshold_pct: float = DEFAULT_THRESHOLD_PCT,
                    tail_threshold_pct: float = DEFAULT_TAIL_THRESHOLD_PCT, exclude_flagged: bool = False,
                    fdr: float | None = DEFAULT_FDR) -> dict:
    """Which configurations compare flags when a known cost was injected.

    a, a_prime: an A/A pair (same build, same machine, no injected cost); b: like A with
    options.inject_cost_ns_per_packet > 0.  Returns {"injected_cost_ns_per_packet", "threshold_pct",
    "rows": [PowerRow ...], "summary": {...}, "warnings": [...]}: per configuration and metric whether
    A vs A' flagged it (a false positive) and whether A vs B did (a detection)."""
    opts = CompareOptions(threshold_pct=threshold_pct, tail_threshold_pct=tail_threshold_pct,
                          exclude_flagged=exclude_flagged, fdr=fdr)
    aa = compare_runs(a, a_prime, opts)
    ab = compare_runs(a, b, opts)
    warnings = []
    inj = b.options.get("inject_cost_ns_per_packet")
    if not (M.is_num(inj) and inj > 0):
        warnings.append("B records no options.inject_cost_ns_per_packet > 0: detections cannot be attributed to an "
                        "injected cost")
    for r, name in ((a, "A"), (a_prime, "A'")):
        v = r.options.get("inject_cost_ns_per_packet")
        if M.is_num(v) and v > 0:
            warnings.append(f"{name} has an injected cost ({v} ns/packet): it is not a clean A/A reference")
    if aa.guard or ab.guard:
        warnings.append(f"environment guard: {aa.guard or ab.guard}")
    by_aa = {r.key: r for r in aa.rows}
    rows = []
    for r in ab.rows:
        if r.median_a is None and r.status not in REGRESSIONS:
            continue
        q = by_aa.get(r.key)
        rows.append(PowerRow(r.workload, r.path, r.variant, r.reference, r.metric,
                             q.status if q else "not in A'", r.status,
                             q.change_pct if q else None, r.change_pct, r.ci_lo_pct, r.ci_hi_pct,
                             bool(q and q.status in REGRESSIONS), r.status in REGRESSIONS))
    primary = {(r.workload, r.path, r.variant, r.reference): r.metric for r in ab.rows
               if r.metric in M.RATE_KEYS or r.metric in M.COST_KEYS}
    prim_rows = [p for p in rows if primary.get((p.workload, p.path, p.variant, p.reference)) == p.metric]
    summary = {
        "configurations": len(prim_rows),
        "detected_primary": sum(p.detected for p in prim_rows),
        "false_positive_primary": sum(p.false_positive for p in prim_rows),
        "rows": len(rows),
        "detected_rows": sum(p.detected for p in rows),
        "false_positive_rows": sum(p.false_positive for p in rows),
        "untestable_rows": sum(1 for p in rows if p.ab_status == UNTESTABLE),
    }
    return {"injected_cost_ns_per_packet": inj if M.is_num(inj) else None, "threshold_pct": threshold_pct,
            "tail_threshold_pct": tail_threshold_pct, "rows": rows, "summary": summary, "fdr": fdr,
            "family": ab.family, "detectable_pct": ab.detectable,
            "warnings": warnings + aa.warnings[:1] + ab.warnings[:1]}


def power_main(args) -> int:
    a, a2, b = load_run(args.a), load_run(args.a_prime), load_run(args.b)
    fdr = None if getattr(args, "per_row", False) else getattr(args, "fdr", DEFAULT_FDR)
    res = detection_power(a, a2, b, args.threshold_pct, args.tail_threshold_pct, args.exclude_flagged, fdr)
    s = res["summary"]
    print(run_line("A  ", a))
    print(run_line("A' ", a2))
    print(run_line("B  ", b))
    print(f"injected cost in B: {res['injected_cost_ns_per_packet']} ns/packet; threshold {res['threshold_pct']:g}%"
          + (f"; false discovery rate {fdr:g} over {res['family']} gated rows" if fdr is not None else "; per row"))
    header = ["workload", "path", "metric", "A vs A'", "A vs B", "change A->B", "95% CI"]
    rows = [[p.workload + (f" ({p.variant})" if p.variant else ""), p.path + (f" [{p.reference}]" if p.reference else ""),
             M.METRICS[p.metric].label if p.metric in M.METRICS else p.metric, p.aa_status, p.ab_status,
             _pct(p.ab_change_pct),
             "–" if p.ab_ci_lo_pct is None else f"[{p.ab_ci_lo_pct:+.1f}%, {p.ab_ci_hi_pct:+.1f}%]"]
            for p in res["rows"] if args.all or p.metric in M.RATE_KEYS or p.metric in M.COST_KEYS or p.detected
            or p.false_positive]
    print()
    print(_text_table(header, rows))
    print()
    for w in res["warnings"]:
        print(f"warning: {w}")
    print(f"summary: primary metric flagged in {s['detected_primary']} of {s['configurations']} configurations "
          f"(false positives A vs A': {s['false_positive_primary']}); all metrics: {s['detected_rows']} of "
          f"{s['rows']} rows flagged, {s['false_positive_rows']} false positives, {s['untestable_rows']} untestable")
    if args.json:
        doc = dict(res, rows=[{k: _clean(v) for k, v in asdict(p).items()} for p in res["rows"]])
        _write(args.json, json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n")
    return EXIT_OK


