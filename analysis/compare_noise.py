# SPDX-License-Identifier: Apache-2.0
"""What two runs' own noise allows compare to say: the machine-speed factor between them, the
pooled "all paths" index per repetition, and the smallest change compare would detect."""

from __future__ import annotations

import math

from . import metrics as M
from .load import Run
from .stats import detectable_change
from .summary import GroupSummary, RunSummary


def _speed_probe_median(run: Run) -> float | None:
    vals = []
    for r in run.results:
        st = (r.get("metrics") or {}).get("system_state") or {}
        p = st.get("cpu_speed_ns_per_mop") if isinstance(st, dict) else None
        if r.get("status") == "ok" and isinstance(p, dict) and M.is_num(p.get("before")) and M.is_num(p.get("after")):
            vals.append((p["before"] + p["after"]) / 2)
    if len(vals) < 6:
        return None
    vals.sort()
    return vals[len(vals) // 2]


def _cpu_saturated(run: Run) -> bool:
    """Did the workloads' CPUs stay busy through their windows (>= 95% in nine of ten results)?"""
    fracs = []
    for r in run.results:
        m = r.get("metrics") or {}
        st = m.get("system_state") if isinstance(m, dict) else None
        if not isinstance(st, dict):
            continue
        cpus, per, dur = st.get("workload_cpus"), st.get("per_cpu"), m.get("duration_ns")
        if r.get("status") != "ok" or not isinstance(cpus, list) or not cpus or not isinstance(per, list) \
                or not M.is_num(dur) or dur <= 0:
            continue
        busy = [c["busy_ns"] for c in per if isinstance(c, dict) and c.get("cpu") in cpus and M.is_num(c.get("busy_ns"))]
        if busy:
            fracs.append(sum(busy) / (len(busy) * dur))
    return len(fracs) >= 6 and sum(f >= 0.95 for f in fracs) >= 0.9 * len(fracs)


def speed_factor(a: Run, b: Run) -> tuple[float | None, str]:
    """(f, why): B's machine was f times as slow as A's (f > 1: slower), or None with the reason it
    is not used."""
    pa, pb = _speed_probe_median(a), _speed_probe_median(b)
    if pa is None or pb is None:
        return None, "a run has no CPU speed probe (older pathbench)"
    if not (_cpu_saturated(a) and _cpu_saturated(b)):
        return None, "the workloads' CPUs were not saturated in both runs, so rates do not scale with CPU speed"
    return pb / pa, ""


def _best_p(m: int, n: int) -> float:
    return 2 / math.comb(m + n, m) if m and n else 1.0


def _by_repetition(g: GroupSummary, mk: str, factor: float = 1.0) -> dict[int, float]:
    out = {}
    for r in g.ok:
        v = M.value(r, mk)
        if M.is_num(v) and v > 0 and M.is_num(r.get("repetition")):
            out[int(r["repetition"])] = v * factor
    return out


def pooled_index(strata: list[tuple[dict, dict]]) -> tuple[list[float], list[float]]:
    """One number per repetition of each run for a set of configurations (the paths of a workload):
    the geometric mean over the configurations of value ÷ that configuration's median over both runs.
    The repetition, not the result, is the unit: the paths measured in one repetition share its
    state (on a noisy host whole repetitions run 20-40% fast or slow), so pooling results as if
    independent would call that state a change.  A change every path shares moves every index; a
    per-path difference in scale cancels in value ÷ median."""
    def index(side: int) -> list[float]:
        logs: dict[int, list[float]] = {}
        for st in strata:
            both = sorted(list(st[0].values()) + list(st[1].values()))
            if not both:
                continue
            n = len(both)
            med = both[n // 2] if n % 2 else math.sqrt(both[n // 2 - 1] * both[n // 2])
            for rep, v in st[side].items():
                logs.setdefault(rep, []).append(math.log(v / med))
        return [math.exp(sum(v) / len(v)) for _, v in sorted(logs.items())]
    return index(0), index(1)


def _detectable(sa: RunSummary, sb: RunSummary, pairs, factor, family: int, fdr: float, threshold_pct: float,
                stream_threshold_pct: float, cat) -> dict:
    """Per workload: the smallest change of its primary metric this compare flags with 80% power when
    it is the only regression among `family` gated rows (Benjamini-Hochberg then needs p < fdr/family),
    at the repetition-to-repetition noise of these two runs: every configuration's log deviations from
    its own median, pooled over the workload's configurations and both runs (stats.detectable_change).
    A change spread over many rows is caught smaller."""
    pooled: dict[str, list[float]] = {}
    reps: dict[str, tuple[int, int]] = {}
    configs: dict[str, int] = {}
    per_rep: dict[str, list] = {}
    for ka, kb in pairs:
        if ka is None or kb is None:
            continue
        ga, gb = sa.get(ka), sb.get(kb)
        if not ga or not gb or not ga.ok or not gb.ok or not ga.primary or ga.primary not in gb.values \
                or ga.primary not in ga.values:
            continue
        for vals in (ga.values[ga.primary], gb.values[ga.primary]):
            vs = [v for v in vals if M.is_num(v) and v > 0]
            if len(vs) < 2:
                continue
            med = sorted(vs)[len(vs) // 2]
            pooled.setdefault(ka.workload, []).extend(math.log(v / med) for v in vs)
        reps.setdefault(ka.workload, (len(ga.values[ga.primary]), len(gb.values[ga.primary])))
        if not ka.reference and not ka.variant:
            configs[ka.workload] = configs.get(ka.workload, 0) + 1
            f = factor or 1.0
            per_rep.setdefault(ka.workload, []).append((_by_repetition(ga, ga.primary),
                                                        _by_repetition(gb, ga.primary, f)))
    out = {}
    for wl in sorted(pooled, key=cat.workload_sort_key):
        stream = cat.workload(wl).pattern == "stream"
        thr = (stream_threshold_pct if stream else threshold_pct) / 100
        n_a, n_b = reps[wl]
        d = detectable_change(pooled[wl], n_a, n_b, fdr / max(1, family), thr)
        k = configs.get(wl, 0)
        shared = None
        if k >= 2:
            xa, xb = pooled_index(per_rep[wl])
            res = [math.log(x / sorted(xs)[len(xs) // 2]) for xs in (xa, xb) for x in xs]
            shared = detectable_change(res, len(xa), len(xb), fdr / max(1, family), thr)
        out[wl] = {"one_row": None if d is None else round(d * 100, 1),
                   "all_paths": None if shared is None else round(shared * 100, 1), "configurations": k}
    return out
