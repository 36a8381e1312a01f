# SPDX-License-Identifier: Apache-2.0
"""Per-configuration summaries of a run: values per repetition, medians with 95% intervals, paired
ratios between paths, and the run's own estimate of how reproducible those ratios are.

Shared by plots, report, compare, trend and kernels so that every view computes the same numbers.
Which path is the reference ("baseline"), which path isolates another's cost (compare_against) and
which metric is primary come from the run's catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import metrics as M
from .load import Run
from .state import Abnormal, steal_factor
from .stats import LEVEL_TEXT, Estimate, Ratio, median_ci, paired_ratio, split_half_movement

# Rerun movement of a ratio: split-half over this run's paired per-repetition ratios
# (stats.split_half_movement).  Checked on 12 A/A comparisons of 8-repetition runs on the development
# VM (tcp_stream, bbr and cubic, 2 paths each): the observed movement was below the "typical" value in
# 7 of 12 and below the 90% value in 11 of 12.  The half-width of the 95% CI would not do: at n = 6..8
# it is the min..max range (coverage 97-99%), and sqrt(2) times it over-predicted the observed movement
# 3-20 times (5-20% predicted, 0.1-3.2% seen).


@dataclass
class GroupSummary:
    key: M.GroupKey
    results: list[dict]
    ok: list[dict] = field(default_factory=list)           # successful results used in the numbers
    flagged: list[dict] = field(default_factory=list)      # successful results flagged abnormal (in `ok`
                                                           # unless excluded)
    excluded: list[dict] = field(default_factory=list)     # flagged results left out (--exclude-flagged)
    primary: str | None = None
    cpu: str | None = None
    values: dict[str, list[float]] = field(default_factory=dict)
    by_rep: dict[str, dict[int, float]] = field(default_factory=dict)
    estimates: dict[str, Estimate] = field(default_factory=dict)
    options: dict = field(default_factory=dict)            # configuration options (path + workload)

    @property
    def signature(self) -> str:
        """All configuration options of this group (compare matches runs on it)."""
        sigs = sorted({M.config_signature(r) for r in self.results
                       if r.get("workload_options") or r.get("path_options")})
        return sigs[0] if len(sigs) == 1 else " | ".join(sigs)

    @property
    def not_ok(self) -> list[dict]:
        return [r for r in self.results if r.get("status") != "ok"]

    def estimate(self, metric: str | None) -> Estimate:
        if metric is None:
            return Estimate(0, None)
        return self.estimates.get(metric, Estimate(0, None))


class RunSummary(dict):
    """GroupKey -> GroupSummary for one run, in catalogue order, plus the run, its catalogue and
    its abnormal-repetition flags."""

    def __init__(self, run: Run, exclude_flagged: bool = False, steal_adjust: bool = False):
        super().__init__()
        self.steal_adjust = steal_adjust
        self.steal_adjusted = 0     # repetitions whose rates were scaled for stolen time
        self.run = run
        self.cat = run.catalogue
        self.abnormal = Abnormal(run)
        self.exclude_flagged = exclude_flagged
        self.reference = self.cat.reference_path
        self.cost = run.cost_mode               # instructions, not time (analysis/cost.py)
        self.units = M.Units(self.cost)
        groups = M.group_results(run.results)
        by_workload: dict[str, list[dict]] = {}
        for r in run.results:
            if r.get("status") == "ok":
                by_workload.setdefault(r["workload"], []).append(r)
        for key in sorted(groups, key=self.group_sort_key):
            rs = groups[key]
            ok_all = [r for r in rs if r.get("status") == "ok"]
            flagged = [r for r in ok_all if self.abnormal.of(r)]
            ok = [r for r in ok_all if not (exclude_flagged and self.abnormal.of(r))]
            wl = by_workload.get(key.workload, [])
            ok_ids = {id(r) for r in ok}
            g = GroupSummary(key, rs, ok, flagged, [r for r in flagged if id(r) not in ok_ids],
                             self.cat.primary_metric(key.workload, wl), self.cat.cpu_metric(key.workload, wl))
            if rs:
                g.options = M.option_values(rs[0])
            for mk in M.METRICS:
                per = {}
                vals = []
                for r in ok:
                    v = M.value(r, mk)
                    if v is None:
                        continue
                    if steal_adjust and mk in M.RATE_KEYS:
                        f = steal_factor(r)
                        if f:
                            v *= f
                            if mk == g.primary:
                                self.steal_adjusted += 1
                    vals.append(v)
                    per.setdefault(int(r.get("repetition", 0)), v)
                if vals:
                    g.values[mk] = vals
                    g.by_rep[mk] = per
                    g.estimates[mk] = median_ci(vals)
            self[key] = g

    # ---- order --------------------------------------------------------------------------------
    def group_sort_key(self, g: M.GroupKey):
        return (self.cat.workload_sort_key(g.workload), g.variant, self.cat.path_sort_key(g.path),
                numeric_label_key(g.pvariant), g.reference)

    def workloads(self) -> list[str]:
        return sorted({k.workload for k in self}, key=self.cat.workload_sort_key)

    def paths(self) -> list[str]:
        return sorted({k.path for k in self}, key=self.cat.path_sort_key)

    def has_data(self, path: str) -> bool:
        return any(k.path == path and not k.reference and g.ok for k, g in self.items())

    def own(self, workload: str | None = None) -> list[GroupSummary]:
        """pathbench's own groups (no reference tools), optionally of one workload."""
        return [g for k, g in self.items() if not k.reference and (workload is None or k.workload == workload)]

    # ---- ratios ---------------------------------------------------------------------------------
    def partner(self, key: M.GroupKey, path: str | None) -> GroupSummary | None:
        """The group of `path` measured like `key`: same workload options and reference tool; the
        same path options when `path` has them, else `path` without varying path options."""
        if path is None:
            return None
        for pv in (key.pvariant, ""):
            g = self.get(M.GroupKey(key.workload, path, key.variant, key.reference, pv))
            if g is not None:
                return g
        return None

    def typical_spread(self, workload: str, metric: str) -> float:
        """Cost mode: how well this workload's metric repeats over all of its configurations
        (cost.typical_spread)."""
        from .cost import typical_spread
        return typical_spread([list(g.by_rep[metric].values()) for g in self.own(workload) if metric in g.by_rep])

    def ratio(self, key: M.GroupKey, other: str | None, metric: str | None) -> Ratio:
        """key's metric ÷ other path's, paired by repetition (see stats.paired_ratio)."""
        g, o = self.get(key), self.partner(key, other)
        if g is None or o is None or metric is None or metric not in g.by_rep or metric not in o.by_rep:
            return Ratio(None)
        if self.cost:
            from .cost import ratio as cost_ratio
            return cost_ratio(g.by_rep[metric], o.by_rep[metric], typical=self.typical_spread(key.workload, metric),
                              latency=M.kind(metric) == "latency")
        return paired_ratio(g.by_rep[metric], o.by_rep[metric])

    @property
    def interval_name(self) -> str:
        """What the brackets around a ratio are, in this run."""
        if self.cost:
            from .cost import bound_text
            return bound_text()
        return f"{LEVEL_TEXT} interval"

    def ratio_to_reference(self, key: M.GroupKey, metric: str | None) -> Ratio:
        return self.ratio(key, self.reference, metric)

    def ratio_to_counterpart(self, key: M.GroupKey, metric: str | None) -> Ratio:
        return self.ratio(key, self.cat.counterpart(key.path), metric)

    def reference_group(self, key: M.GroupKey) -> GroupSummary | None:
        return self.partner(key, self.reference)


def numeric_label_key(label: str):
    """'services=1000' after 'services=100': sort numbers in a label by value."""
    import re
    return tuple((0, float(p), "") if re.fullmatch(r"-?\d+(\.\d+)?", p) else (1, 0.0, p)
                 for p in re.split(r"(-?\d+(?:\.\d+)?)", label) if p)


def summarize(run: Run, exclude_flagged: bool = False, steal_adjust: bool = False) -> RunSummary:
    """steal_adjust (opt-in, `agreement --steal-adjust`): rates of CPU-saturated repetitions per CPU
    time the guest got (state.steal_factor). Not the default: on three runs of 2026-12-02 it made
    tcp_stream's ratios agree better and the suite's as a whole no better (docs/noise.md)."""
    return RunSummary(run, exclude_flagged, steal_adjust)


def rerun_movement(r: Ratio) -> tuple[float, float] | None:
    """(typical, 90%) relative movement of this paired ratio on a rerun (0.03 = ±3%), from its own
    per-repetition ratios; None when unpaired or with fewer than 4 pairs."""
    if r.method != "paired" or r.value is None:
        return None
    return split_half_movement(r.ratios)


def verdict(r: Ratio, higher_is_better: bool = True, what: str = "") -> str:
    """Wording allowed by the data: a difference is only named when the 95% interval excludes 1."""
    if r.value is None:
        return "not measured"
    if r.has_ci and r.level is None and r.crosses_one:
        return "within the cost bound"
    if not r.has_ci:
        return r.reason or f"CI unavailable at {LEVEL_TEXT}"
    if r.crosses_one:
        return "no significant difference"
    better = (r.value > 1) == higher_is_better
    judgement = "better" if better else "worse"
    if r.value >= 2:  # "7551% higher" reads badly; "76.5× as high" does not
        return f"{r.value:.3g}× as high{(' ' + what) if what else ''} ({judgement})"
    pct = abs(r.value - 1) * 100
    direction = "higher" if r.value > 1 else "lower"
    return f"{pct:.0f}% {direction}{(' ' + what) if what else ''} ({judgement})"
