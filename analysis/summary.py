"""Per-configuration summaries of a run: values over repetitions, medians with intervals, ratios.

Shared by plots, report, compare and trend so that every view computes the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import metrics as M
from .load import Run
from .stats import Estimate, Ratio, median_ci, ratio

BASELINE = "baseline"


@dataclass
class GroupSummary:
    key: M.GroupKey
    results: list[dict]
    ok: list[dict] = field(default_factory=list)
    primary: str | None = None     # primary metric key of this workload
    cpu: str | None = None         # CPU cost metric key, if measured
    values: dict[str, list[float]] = field(default_factory=dict)
    estimates: dict[str, Estimate] = field(default_factory=dict)

    @property
    def signature(self) -> str:
        """All configuration options of this group (compare matches runs on it)."""
        sigs = sorted({M.config_signature(r) for r in self.results if r.get("workload_options")})
        return sigs[0] if len(sigs) == 1 else " | ".join(sigs)

    @property
    def not_ok(self) -> list[dict]:
        return [r for r in self.results if r.get("status") != "ok"]

    def estimate(self, metric: str | None) -> Estimate:
        if metric is None:
            return Estimate(0, None)
        return self.estimates.get(metric, Estimate(0, None))


def summarize(run: Run) -> dict[M.GroupKey, GroupSummary]:
    groups = M.group_results(run.results)
    out: dict[M.GroupKey, GroupSummary] = {}
    # The primary/CPU metric is chosen per workload over all its results so every path of one
    # workload is measured in the same unit.
    by_workload: dict[str, list[dict]] = {}
    for r in run.results:
        if r.get("status") == "ok":
            by_workload.setdefault(r["workload"], []).append(r)
    for key in sorted(groups, key=M.group_sort_key):
        rs = groups[key]
        ok = [r for r in rs if r.get("status") == "ok"]
        wl = by_workload.get(key.workload, [])
        g = GroupSummary(key, rs, ok, M.primary_key_for(key.workload, wl), M.cpu_key_for(wl))
        for mk in M.METRICS:
            vals = [v for v in (M.value(r, mk) for r in ok) if v is not None]
            if vals:
                g.values[mk] = vals
                g.estimates[mk] = median_ci(vals)
        out[key] = g
    return out


def baseline_of(key: M.GroupKey) -> M.GroupKey:
    return M.GroupKey(key.workload, BASELINE, key.variant, key.reference)


def own_of(key: M.GroupKey) -> M.GroupKey:
    """pathbench's own row matching a reference row."""
    return M.GroupKey(key.workload, key.path, key.variant, "")


def ratio_to_baseline(summaries: dict, key: M.GroupKey, metric: str | None) -> Ratio:
    b = summaries.get(baseline_of(key))
    g = summaries.get(key)
    if g is None or b is None or metric is None:
        return Ratio(None)
    return ratio(g.estimate(metric), b.estimate(metric))


def workloads(summaries: dict) -> list[str]:
    return sorted({k.workload for k in summaries}, key=M.workload_sort_key)


def paths(summaries: dict) -> list[str]:
    return sorted({k.path for k in summaries}, key=M.path_sort_key)


def verdict(r: Ratio, higher_is_better: bool = True, what: str = "") -> str:
    """Wording allowed by the data: a difference is only named when the interval excludes 1."""
    if r.value is None:
        return "not measured"
    if not r.has_ci:
        return "CI unavailable (fewer than 3 successful repetitions)"
    if r.crosses_one:
        return "no significant difference"
    better = (r.value > 1) == higher_is_better
    judgement = "better" if better else "worse"
    if r.value >= 2:  # "7551% higher" reads badly; "76.5× as high" does not
        return f"{r.value:.3g}× as high{(' ' + what) if what else ''} ({judgement})"
    pct = abs(r.value - 1) * 100
    direction = "higher" if r.value > 1 else "lower"
    return f"{pct:.0f}% {direction}{(' ' + what) if what else ''} ({judgement})"
