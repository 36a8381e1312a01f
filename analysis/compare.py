"""`compare A B`: did B (e.g. a new kernel) get worse than A?

For every path x workload x metric present in both runs:
* change  = (median_B - median_A) / median_A, signed so the direction is clear; a metric's direction
  (higher is better for rates, lower for latency and CPU cost) decides whether it is a regression;
* p       = two-sided Mann-Whitney U over the repetitions (exact for small samples);
* noise   = the larger of the two runs' relative IQR (run-to-run spread of that configuration).
A row is a **regression** when it moves in the bad direction by more than --threshold-pct AND by more
than the noise AND p <= alpha.  With too few repetitions the U test cannot reach alpha at all (3 vs 3:
smallest possible p = 0.1); such rows are reported as "possible regression (untestable)" with a
warning instead of being silently passed or falsely flagged.  A configuration that was ok in A and
failed in B is also a regression.

Exit: 1 if any regression, else 0 (2 for unreadable input).
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass

from . import EXIT_FAIL, EXIT_OK
from . import metrics as M
from .load import Run, load_run
from .stats import mann_whitney, min_two_sided_mwu_p, relative_spread
from .summary import GroupSummary, summarize

P_TOLERANCE = 1e-9  # exact p-values such as 0.1 may come back as 0.1000000000000001

# Statuses, in the order rows are sorted when printed (worst first).
REGRESSION = "REGRESSION"
NOW_FAILING = "REGRESSION (now failing)"
POSSIBLE_REG = "possible regression (untestable)"
IMPROVEMENT = "improvement"
POSSIBLE_IMP = "possible improvement (untestable)"
NOT_SIG = "not significant"
NOISE = "within noise"
UNCHANGED = "unchanged"
NOW_SKIPPED = "not measured in B"
NEW_IN_B = "new in B"
ONLY_A = "only in A"
ONLY_B = "only in B"
NO_DATA = "no data"
STATUS_ORDER = [REGRESSION, NOW_FAILING, POSSIBLE_REG, NOW_SKIPPED, IMPROVEMENT, POSSIBLE_IMP, NOT_SIG,
                NOISE, UNCHANGED, NEW_IN_B, ONLY_A, ONLY_B, NO_DATA]
REGRESSIONS = (REGRESSION, NOW_FAILING)


@dataclass
class Row:
    workload: str
    path: str
    variant: str
    reference: str
    metric: str
    unit: str
    higher_is_better: bool
    n_a: int
    n_b: int
    median_a: float | None
    median_b: float | None
    change_pct: float | None
    noise_pct: float | None
    p_value: float | None
    min_possible_p: float | None
    status: str
    note: str = ""

    @property
    def config(self) -> str:
        return M.GroupKey(self.workload, self.path, self.variant, self.reference).name


def _metrics_of(g: GroupSummary) -> list[str]:
    ks = [k for k in (g.primary, g.cpu) if k] + list(M.LATENCY_KEYS)
    return [k for k in dict.fromkeys(ks) if k in g.values]


def _match(sa: dict, sb: dict) -> tuple[list[tuple], list[str]]:
    """Pairs (key_a, key_b) plus notes.  Same path, workload and reference tool, then in order:
    the same full set of workload options; the same variant label; and where each side has exactly
    one configuration left, those two, with a note that their options differ."""
    notes = []
    pairs = []
    rest_a = sorted(sa, key=M.group_sort_key)
    rest_b = sorted(sb, key=M.group_sort_key)
    base = lambda k: (k.workload, k.path, k.reference)
    for same in (lambda ka, kb: sa[ka].signature == sb[kb].signature,
                 lambda ka, kb: ka.variant == kb.variant):
        for ka in list(rest_a):
            kb = next((kb for kb in rest_b if base(kb) == base(ka) and same(ka, kb)), None)
            if kb is not None:
                pairs.append((ka, kb))
                rest_a.remove(ka)
                rest_b.remove(kb)
    ga: dict[tuple, list] = {}
    gb: dict[tuple, list] = {}
    for k in rest_a:
        ga.setdefault(base(k), []).append(k)
    for k in rest_b:
        gb.setdefault(base(k), []).append(k)
    for t in sorted(set(ga) & set(gb)):
        if len(ga[t]) == 1 and len(gb[t]) == 1:
            ka, kb = ga[t][0], gb[t][0]
            pairs.append((ka, kb))
            notes.append(f"{t[1]} / {t[0]}: workload options differ ({sa[ka].signature or 'none'} vs "
                         f"{sb[kb].signature or 'none'}); compared anyway")
            rest_a.remove(ka)
            rest_b.remove(kb)
    pairs += [(k, None) for k in rest_a] + [(None, k) for k in rest_b]
    return pairs, notes


def compare_runs(a: Run, b: Run, threshold_pct: float = 5.0, alpha: float = 0.05) -> tuple[list[Row], list[str]]:
    sa, sb = summarize(a), summarize(b)
    pairs, warnings = _match(sa, sb)
    rows: list[Row] = []
    for ka, kb in pairs:
        ga, gb = sa.get(ka) if ka else None, sb.get(kb) if kb else None
        key = kb if (ka is None or (kb is not None and kb.variant and not ka.variant)) else ka
        base = dict(workload=key.workload, path=key.path, variant=key.variant, reference=key.reference)
        if ga is None or gb is None:
            g = ga or gb
            status = ONLY_A if gb is None else ONLY_B
            mk = g.primary or "-"
            met = M.METRICS.get(mk)
            rows.append(Row(**base, metric=mk, unit=met.unit if met else "", higher_is_better=True,
                            n_a=len(ga.ok) if ga else 0, n_b=len(gb.ok) if gb else 0, median_a=None,
                            median_b=None, change_pct=None, noise_pct=None, p_value=None, min_possible_p=None,
                            status=status, note="configuration not run in the other run"))
            continue
        if not ga.ok or not gb.ok:
            if ga.ok and not gb.ok:
                failed = any(r.get("status") == "failed" for r in gb.results)
                reason = next((str(r.get("reason")) for r in gb.results if r.get("reason")), "no reason recorded")
                status = NOW_FAILING if failed else NOW_SKIPPED
            elif gb.ok and not ga.ok:
                status, reason = NEW_IN_B, "had no successful result in A"
            else:
                status, reason = NO_DATA, "no successful result in either run"
            mk = ga.primary or gb.primary or "-"
            met = M.METRICS.get(mk)
            rows.append(Row(**base, metric=mk, unit=met.unit if met else "", higher_is_better=True,
                            n_a=len(ga.ok), n_b=len(gb.ok), median_a=None, median_b=None, change_pct=None,
                            noise_pct=None, p_value=None, min_possible_p=None, status=status, note=reason))
            continue
        for mk in _metrics_of(ga):
            if mk not in gb.values:
                continue
            met = M.METRICS[mk]
            va, vb = ga.values[mk], gb.values[mk]
            ma, mb = ga.estimate(mk).median, gb.estimate(mk).median
            change = None if not ma else (mb - ma) / ma * 100.0
            spreads = [s for s in (relative_spread(va), relative_spread(vb)) if s is not None]
            noise = max(spreads) * 100.0 if spreads else None
            p = mann_whitney(va, vb)
            minp = min_two_sided_mwu_p(len(va), len(vb))
            rows.append(Row(**base, metric=mk, unit=met.unit, higher_is_better=met.higher_is_better,
                            n_a=len(va), n_b=len(vb), median_a=ma, median_b=mb, change_pct=change,
                            noise_pct=noise, p_value=p, min_possible_p=minp,
                            status=_classify(change, noise, p, minp, met.higher_is_better, threshold_pct, alpha)))
    rows.sort(key=lambda r: (M.workload_sort_key(r.workload), r.variant, M.path_sort_key(r.path), r.reference,
                             _metric_rank(r.metric)))
    untestable = [r for r in rows if r.min_possible_p is not None and r.min_possible_p > alpha * (1 + P_TOLERANCE)]
    if untestable:
        ns = sorted({(r.n_a, r.n_b) for r in untestable})
        worst = max(r.min_possible_p for r in untestable)
        warnings.insert(0, f"too few repetitions for the Mann-Whitney U test to reach alpha={alpha:g} in "
                           f"{len(untestable)} of {sum(1 for r in rows if r.min_possible_p is not None)} rows "
                           f"(repetitions A vs B: {', '.join(f'{x} vs {y}' for x, y in ns)}; smallest possible "
                           f"p = {worst:.3g}); such changes are reported as 'untestable', never as regressions. "
                           f"Use at least 4 repetitions per run (pathbench run --repetitions 5) for a usable test.")
    return rows, warnings


def _metric_rank(mk: str) -> int:
    order = list(M.PRIMARY_CANDIDATES) + list(M.CPU_CANDIDATES) + list(M.LATENCY_KEYS)
    return order.index(mk) if mk in order else len(order)


def _classify(change, noise, p, minp, hib, threshold_pct, alpha) -> str:
    if change is None:
        return NO_DATA
    if abs(change) <= threshold_pct:
        return UNCHANGED
    if noise is not None and abs(change) <= noise:
        return NOISE
    worse = (change < 0) if hib else (change > 0)
    if minp is not None and minp > alpha * (1 + P_TOLERANCE):
        return POSSIBLE_REG if worse else POSSIBLE_IMP
    if p is None or p > alpha * (1 + P_TOLERANCE):
        return NOT_SIG
    return REGRESSION if worse else IMPROVEMENT


# ---- output -------------------------------------------------------------------------------------------

def _num(met_key: str, v: float | None) -> str:
    if v is None:
        return "–"
    met = M.METRICS.get(met_key)
    return M.fmt(met.display(v)) if met else M.fmt(v)


def _table(rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    header = ["workload", "path", "metric", "A", "B", "unit", "change", "noise", "p", "n A/B", "verdict"]
    out = []
    for r in rows:
        met = M.METRICS.get(r.metric)
        arrow = "" if met is None else ("↑ better" if met.higher_is_better else "↓ better")
        out.append([r.workload + (f" ({r.variant})" if r.variant else ""),
                    r.path + (f" [{r.reference}]" if r.reference else ""),
                    f"{met.label if met else r.metric} ({arrow})" if met else r.metric,
                    _num(r.metric, r.median_a), _num(r.metric, r.median_b), r.unit,
                    "–" if r.change_pct is None else f"{r.change_pct:+.1f}%",
                    "–" if r.noise_pct is None else f"{r.noise_pct:.1f}%",
                    "–" if r.p_value is None else f"{r.p_value:.3g}",
                    f"{r.n_a}/{r.n_b}",
                    r.status + (f": {r.note}" if r.note else "")])
    return header, out


def _text_table(header, rows) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _md_table(header, rows) -> str:
    esc = lambda s: str(s).replace("|", "\\|")
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
                     + ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows])


def _run_line(tag: str, run: Run) -> str:
    return f"{tag}: run {run.run_id}, Linux {run.kernel}, started {run.started or '?'} ({run.filename})"


ENV_KEYS = ("kernel_release", "cpu_model", "nproc", "cpu_pinning", "offloads")


def env_differences(a: Run, b: Run) -> list[str]:
    diffs = []
    for k in ENV_KEYS:
        va, vb = a.environment.get(k), b.environment.get(k)
        if json.dumps(va, sort_keys=True) != json.dumps(vb, sort_keys=True):
            diffs.append(k)
    oa, ob = a.doc.get("options") or {}, b.doc.get("options") or {}
    for k in ("duration_s", "repetitions"):
        if isinstance(oa, dict) and isinstance(ob, dict) and oa.get(k) != ob.get(k):
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


def main(args) -> int:
    a, b = load_run(args.a), load_run(args.b)
    if args.threshold_pct < 0 or not (0 < args.alpha < 1):
        print("pathbench-analysis: error: --threshold-pct must be >= 0 and --alpha in (0, 1)", file=sys.stderr)
        return 2
    rows, warnings = compare_runs(a, b, args.threshold_pct, args.alpha)
    regressions = [r for r in rows if r.status in REGRESSIONS]
    code = EXIT_FAIL if regressions else EXIT_OK
    diffs = env_differences(a, b)

    collapsed = (ONLY_A, ONLY_B, NO_DATA)
    shown = rows if args.all else [r for r in rows if (r.status not in (UNCHANGED, NOISE, NOT_SIG)
                                                       or r.metric in M.PRIMARY_CANDIDATES)
                                   and r.status not in collapsed]
    header, table = _table(shown)
    summary = _summary(rows)
    print(_run_line("A (before)", a))
    print(_run_line("B (after) ", b))
    if diffs:
        print(f"note: the runs differ in {', '.join(diffs)}")
    print(f"rule: regression = worse by > {args.threshold_pct:g}% and by more than the run-to-run noise "
          f"(relative IQR), with Mann-Whitney U p <= {args.alpha:g}; change = (B - A) / A")
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
                print(f"{what}: " + "; ".join(f"{p} ({', '.join(w)})" for p, w in
                                               sorted(by_path.items(), key=lambda kv: M.path_sort_key(kv[0]))))
        hidden = len(rows) - len(shown) - sum(1 for r in rows if r.status in collapsed)
        if hidden:
            print(f"({hidden} unchanged / within-noise / not-significant latency and CPU rows hidden; "
                  f"--all shows every row)")
    print()
    for w in warnings:
        print(f"warning: {w}")
    if not any(r.median_a is not None and r.median_b is not None for r in rows):
        print("warning: the two runs have no successful path x workload in common: nothing was compared")
    print("summary: " + (", ".join(f"{n} {s}" for s, n in summary.items()) or "no rows"))
    if regressions:
        names = [f"{r.path} / {r.workload} {M.METRICS[r.metric].label if r.metric in M.METRICS else r.metric}"
                 f"{'' if r.change_pct is None else f' {r.change_pct:+.1f}%'}" for r in regressions]
        more = f"; and {len(names) - 8} more" if len(names) > 8 else ""
        print(f"RESULT: {len(regressions)} regression(s) in B: " + "; ".join(names[:8]) + more)
    else:
        possible = sum(1 for r in rows if r.status == POSSIBLE_REG)
        print("RESULT: no significant regression" + (f" ({possible} possible regression(s) could not be tested; "
                                                        "see the warning)" if possible else ""))

    if args.json:
        doc = {"a": {"file": a.filename, "run_id": a.run_id, "kernel_release": a.kernel, "started_utc": a.started},
               "b": {"file": b.filename, "run_id": b.run_id, "kernel_release": b.kernel, "started_utc": b.started},
               "threshold_pct": args.threshold_pct, "alpha": args.alpha, "environment_differs_in": diffs,
               "warnings": warnings, "summary": summary, "exit_code": code,
               "rows": [{k: _clean(v) for k, v in asdict(r).items()} for r in rows]}
        _write(args.json, json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n")
    if args.markdown:
        h, t = _table(rows)
        md = [f"# pathbench compare: {b.run_id} (Linux {b.kernel}) against {a.run_id} (Linux {a.kernel})", "",
              f"- A (before): run {a.run_id}, Linux {a.kernel}, started {a.started}",
              f"- B (after): run {b.run_id}, Linux {b.kernel}, started {b.started}",
              f"- rule: regression = worse by more than {args.threshold_pct:g}% and more than the run-to-run "
              f"noise, Mann-Whitney U p <= {args.alpha:g}",
              f"- result: **{'%d regression(s)' % len(regressions) if regressions else 'no significant regression'}**"]
        md += [f"- note: the runs differ in {', '.join(diffs)}"] if diffs else []
        md += [f"- warning: {w}" for w in warnings]
        md += ["", _md_table(h, t), ""]
        _write(args.markdown, "\n".join(md))
    return code


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
