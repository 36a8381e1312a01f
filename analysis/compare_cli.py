# SPDX-License-Identifier: Apache-2.0
"""`compare A B` on the command line: the rule in words, the table, the summary line, --json and
--markdown.  The verdicts themselves are made in analysis/compare.py."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict

from . import metrics as M
from .compare import (DEFAULT_FDR, DEFAULT_STREAM_THRESHOLD_PCT, NOT_COMPARED, NOT_SIG, NO_DATA, ONLY_A, ONLY_B,
                      SMALL, STATUS_ORDER, UNTESTABLE, CompareOptions, Comparison, Row, compare_runs)
from .load import Run, load_run
from .stats import LEVEL_TEXT


def _num(met_key: str, v: float | None) -> str:
    if v is None:
        return "–"
    met = M.METRICS.get(met_key)
    return M.fmt(met.display(v)) if met else M.fmt(v)


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:+.1f}%"


def _table(rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    header = ["workload", "path", "metric", "A", "B", "unit", "change", "95% CI (cost: ± bound)", "n A/B", "verdict"]
    out = []
    for r in rows:
        met = M.METRICS.get(r.metric)
        arrow = "" if met is None else ("↑ better" if met.higher_is_better else "↓ better")
        ci = "–" if r.ci_lo_pct is None else f"[{r.ci_lo_pct:+.1f}%, {r.ci_hi_pct:+.1f}%]"
        out.append([r.workload + (f" ({r.variant})" if r.variant else ""),
                    r.path + (f" [{r.reference}]" if r.reference else ""),
                    f"{met.label} ({arrow})" if met else r.metric,
                    _num(r.metric, r.median_a), _num(r.metric, r.median_b), r.unit,
                    _pct(r.change_pct), ci, f"{r.n_a}/{r.n_b}",
                    r.status + (f": {r.note}" if r.note and r.status != NOT_COMPARED else "")])
    return header, out


def _text_table(header, rows) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _md_table(header, rows) -> str:
    esc = lambda s: str(s).replace("|", "\\|")
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
                     + ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows])


def run_line(tag: str, run: Run) -> str:
    return (f"{tag}: run {run.run_id}, Linux {run.kernel}, {run.where}, started {run.started or '?'} "
            f"({run.filename})")


ENV_KEYS = ("kernel_release", "cpu_model", "nproc", "cpu_pinning", "offloads")


def env_differences(a: Run, b: Run) -> list[str]:
    diffs = []
    for k in ENV_KEYS:
        va, vb = a.environment.get(k), b.environment.get(k)
        if json.dumps(va, sort_keys=True) != json.dumps(vb, sort_keys=True):
            diffs.append(k)
    oa, ob = a.options, b.options
    for k in ("duration_s", "repetitions", "tcp_cc", "pinning"):
        if oa.get(k) != ob.get(k):
            diffs.append(f"options.{k}")
    return diffs


def _summary(rows: list[Row]) -> dict:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    return {s: counts[s] for s in STATUS_ORDER if s in counts}


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def rule_text(c: Comparison) -> str:
    if c.cost:
        from .cost import RULE
        return (f"cost mode (instructions): regression = the change of the median on the bad side beyond the row's "
                f"cost bound, {RULE}; change = B vs A")
    fam = (f" AND significant among all {c.family} gated rows (Benjamini-Hochberg, false discovery rate "
           f"{c.fdr:g}: q < {c.fdr:g})" if c.fdr is not None else " (each row on its own: --per-row)")
    return (f"regression = the {LEVEL_TEXT} interval of the change (Hodges-Lehmann, distribution-free) entirely on the "
            f"bad side{fam} AND the change beyond {c.threshold_pct:g}% ({c.tail_threshold_pct:g}% for p99.9); "
            f"change = B vs A")


def detectable_text(c: Comparison) -> str | None:
    if not c.detectable:
        return None
    if c.cost:
        parts = [f"{wl} ±{d['one_row']:.2g}% (widest ±{d['widest']:.2g}%)" for wl, d in c.detectable.items()]
        return ("detectable in cost mode: any change of a row's instructions beyond its cost bound (median bound "
                "per workload's primary metric, widest in parentheses): " + ", ".join(parts))
    pct = lambda d: "over 100%" if d is None else f"{d:.0f}%"
    parts = [f"{wl} {pct(d['one_row'])}" + (f" (on all {d['configurations']} paths: {pct(d['all_paths'])})"
                                            if d["configurations"] >= 2 else "")
             for wl, d in c.detectable.items()]
    return ("detectable at these runs' noise (smallest change of the primary metric flagged with 80% power, at a "
            f"false discovery rate of {c.fdr:g} over {c.family} gated rows: in one configuration alone; in parentheses "
            "shared by every path, as a kernel change would be, through the pooled row): " + ", ".join(parts))


def options_from_args(args, gate: tuple | None = None, fdr: float | None = DEFAULT_FDR) -> CompareOptions:
    return CompareOptions(threshold_pct=args.threshold_pct, tail_threshold_pct=args.tail_threshold_pct,
                          stream_threshold_pct=getattr(args, "stream_threshold_pct", DEFAULT_STREAM_THRESHOLD_PCT),
                          exclude_flagged=args.exclude_flagged, gate=gate or CompareOptions().gate,
                          speed_adjust=not getattr(args, "no_speed_adjust", False), fdr=fdr)


def main(args) -> int:
    a, b = load_run(args.a), load_run(args.b)
    if args.threshold_pct < 0 or args.tail_threshold_pct < 0:
        print("pathbench-analysis: error: --threshold-pct and --tail-threshold-pct must be >= 0", file=sys.stderr)
        return 2
    gate = tuple(g.strip() for g in getattr(args, "gate", "rate,cpu,cost").split(",") if g.strip())
    bad = [g for g in gate if g not in ("rate", "cpu", "cost", "latency")]
    if bad:
        print(f"pathbench-analysis: error: --gate {','.join(bad)}: want rate, cpu, cost, latency", file=sys.stderr)
        return 2
    fdr = None if getattr(args, "per_row", False) else getattr(args, "fdr", DEFAULT_FDR)
    c = compare_runs(a, b, options_from_args(args, gate, fdr), allow_cross_environment=args.allow_cross_environment)
    rows, regressions, code = c.rows, c.regressions, c.exit_code
    diffs = env_differences(a, b)

    collapsed = (ONLY_A, ONLY_B, NO_DATA)
    quiet = (NOT_SIG, SMALL, NOT_COMPARED)
    # Untestable rows are shown for the primary metrics and where the point estimate is beyond the
    # threshold (a possible regression); the rest would repeat the same warning dozens of times.
    shown = rows if args.all else [r for r in rows if r.status not in collapsed and (
        r.metric in M.RATE_KEYS or r.metric in M.COST_KEYS or (r.status not in quiet and (r.status != UNTESTABLE or "possible" in r.note)))]
    header, table = _table(shown)
    summary = _summary(rows)
    print(run_line("A (before)", a))
    print(run_line("B (after) ", b))
    if a.kernel != b.kernel:
        print(f"kernel: A Linux {a.kernel} -> B Linux {b.kernel}")
    if diffs:
        print(f"note: the runs differ in {', '.join(diffs)}")
    print(f"rule: {rule_text(c)}")
    print()
    print(_text_table(header, table))
    if not args.all:
        for st, what in ((ONLY_A, "only in A (not compared)"), (ONLY_B, "only in B (not compared)"),
                         (NO_DATA, "no successful result in either run")):
            by_path: dict[str, list[str]] = {}
            for r in rows:
                if r.status == st:
                    by_path.setdefault(r.config, []).append(r.workload)
            if by_path:
                print(f"{what}: " + "; ".join(f"{p} ({', '.join(w)})" for p, w in sorted(by_path.items())))
        hidden = len(rows) - len(shown) - sum(1 for r in rows if r.status in collapsed)
        if hidden:
            print(f"({hidden} rows without a verdict of interest hidden: no significant change, within threshold, "
                  f"untestable without a possible regression{', not compared' if c.guard else ''}; --all shows every row)")
    print()
    dt = detectable_text(c)
    if dt:
        print(dt)
    for w in c.warnings:
        print(f"warning: {w}")
    if not any(r.median_a is not None and r.median_b is not None for r in rows):
        print("warning: the two runs have no successful path x workload in common: nothing was compared")
    print("summary: " + (", ".join(f"{n} {s}" for s, n in summary.items()) or "no rows"))
    if regressions:
        names = [f"{r.config} / {r.workload} {M.METRICS[r.metric].label if r.metric in M.METRICS else r.metric}"
                 f"{'' if r.change_pct is None else f' {r.change_pct:+.1f}%'}" for r in regressions]
        more = f"; and {len(names) - 8} more" if len(names) > 8 else ""
        print(f"RESULT: {len(regressions)} regression(s) in B: " + "; ".join(names[:8]) + more)
    elif c.guard:
        print("RESULT: not compared (different environments; exit 77): no performance verdict")
    else:
        n_un = sum(1 for r in rows if r.status == UNTESTABLE)
        print("RESULT: no significant regression" + (f" ({n_un} row(s) untestable at {LEVEL_TEXT}; see the warning)"
                                                      if n_un else ""))

    meta = lambda r: {"file": r.filename, "run_id": r.run_id, "kernel_release": r.kernel, "started_utc": r.started,
                      "where": r.where, "virtualization": r.virtualization or None}
    if args.json:
        doc = {"a": meta(a), "b": meta(b), "threshold_pct": c.threshold_pct,
               "tail_threshold_pct": c.tail_threshold_pct, "level": 0.95, "rule": rule_text(c),
               "fdr": c.fdr, "family": c.family, "detectable_pct": c.detectable,
               "environment_guard": c.guard, "environment_differs_in": diffs, "warnings": c.warnings,
               "summary": summary, "exit_code": code,
               "rows": [{k: _clean(v) for k, v in asdict(r).items()} for r in rows]}
        _write(args.json, json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n")
    if args.markdown:
        h, t = _table(rows)
        result = ('%d regression(s)' % len(regressions) if regressions else
                  ('not compared (different environments)' if c.guard else 'no significant regression'))
        md = [f"# pathbench compare: {b.run_id} (Linux {b.kernel}) against {a.run_id} (Linux {a.kernel})", "",
              f"- A (before): run {a.run_id}, Linux {a.kernel}, {a.where}, started {a.started}",
              f"- B (after): run {b.run_id}, Linux {b.kernel}, {b.where}, started {b.started}",
              f"- rule: {rule_text(c)}",
              f"- result: **{result}**"]
        md += [f"- note: the runs differ in {', '.join(diffs)}"] if diffs else []
        md += [f"- {detectable_text(c)}"] if detectable_text(c) else []
        md += [f"- warning: {w}" for w in c.warnings]
        md += ["", _md_table(h, t), ""]
        _write(args.markdown, "\n".join(md))
    return code


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
