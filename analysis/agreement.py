# SPDX-License-Identifier: Apache-2.0
"""`agreement RUN RUN [RUN...]`: do repeated runs of one suite give the same ratios?

The reproducibility criterion of docs/noise.md, as a command a user (or CI) can run on their own
repeated runs: for every configuration (path x workload x options) that is not the reference path,
the primary metric ÷ the reference path's, paired by repetition (the ratio the report shows), in
each run; then for every pair of runs the relative disagreement of each ratio,

    d = max(r1, r2) / min(r1, r2) - 1        (symmetric: 0.05 = the runs disagree by 5%)

summarised as median, p90 and max over the configurations the two runs share, next to what the
runs' own repetitions predict for it: every balanced split of each run's per-repetition ratios into
halves, |half ÷ half - 1| / sqrt(2) (stats.split_half_values), pooled over the shared configurations
and both runs.  Disagreement within about that is the noise the runs carry (more repetitions, or a
quieter machine, is the remedy); well beyond it (p90 over 1.5 times the prediction) the runs
differed in state, which noise does not explain.  Exit 0 when every
pair meets the targets (--p90-pct, --max-pct; default 5% and 10%), 1 when one does not, 2 for bad
input. Runs must come from the same suite: configurations present in only one run are counted and
named, not compared.
"""

from __future__ import annotations

import itertools
import json
import statistics

from . import EXIT_FAIL, EXIT_OK
from .load import InputError, load_run
from .stats import split_half_values
from .summary import summarize

EXIT_NOT_MET = EXIT_FAIL


def ratios(run, exclude_flagged: bool = False, steal_adjust: bool = False, movements: dict | None = None) \
        -> dict[str, float]:
    """configuration name -> median paired ratio of its primary metric to the reference path; with
    `movements`, also fills it with name -> split-half movements of that ratio (may be empty)."""
    S = summarize(run, exclude_flagged, steal_adjust)
    out = {}
    for wl in S.workloads():
        for g in S.own(wl):
            if g.key.path == S.reference or not g.ok:
                continue
            r = S.ratio_to_reference(g.key, g.primary)
            if r.value is not None and r.value > 0:
                out[f"{g.key.name} {wl}"] = r.value
                if movements is not None:
                    movements[f"{g.key.name} {wl}"] = split_half_values(r.ratios) if r.method == "paired" else []
    return out


def expected(ma: dict, mb: dict, common) -> dict | None:
    """Median and p90 of the split-half movements of the shared configurations in both runs."""
    pooled = sorted(v for k in common for m in (ma, mb) for v in m.get(k, []))
    if not pooled:
        return None
    return {"median": statistics.median(pooled), "p90": _quantile(pooled, 0.9)}


def _quantile(xs: list[float], q: float) -> float:
    """Nearest-rank quantile (no interpolation: the value of an actual configuration)."""
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(-(-q * len(s) // 1)) - 1))]


def disagreement(a: dict[str, float], b: dict[str, float]) -> dict:
    common = sorted(set(a) & set(b))
    ds = {k: max(a[k], b[k]) / min(a[k], b[k]) - 1 for k in common}
    if not ds:
        return {"n": 0, "only_in_one": sorted(set(a) ^ set(b))}
    v = list(ds.values())
    worst = sorted(ds.items(), key=lambda kv: -kv[1])[:5]
    return {"n": len(v), "median": statistics.median(v), "p90": _quantile(v, 0.9), "max": max(v),
            "over_10pct": sum(1 for x in v if x > 0.10), "worst": worst,
            "only_in_one": sorted(set(a) ^ set(b))}


def main(args) -> int:
    if len(args.runs) < 2:
        raise InputError("agreement", "needs at least two runs of the same suite")
    runs = [load_run(p) for p in args.runs]
    mv = [{} for _ in runs]
    rs = [ratios(r, args.exclude_flagged, args.steal_adjust, m) for r, m in zip(runs, mv)]
    for run, r in zip(runs, rs):
        if not r:
            raise InputError(run.directory, "no ratio to a reference path (a run of one path?)")
    p90_t, max_t = args.p90_pct / 100, args.max_pct / 100
    pairs, met = [], True
    print(f"paired ratio to the reference path, disagreement between runs (targets: p90 <= {args.p90_pct:g}%, "
          f"max <= {args.max_pct:g}%)")
    for i, run in enumerate(runs):
        print(f"run {i + 1}: {run.directory} ({run.run_id}, {len(rs[i])} ratios)")
    for (i, a), (j, b) in itertools.combinations(enumerate(rs), 2):
        d = disagreement(a, b)
        d["expected"] = expected(mv[i], mv[j], set(a) & set(b))
        ok = d["n"] > 0 and d["p90"] <= p90_t and d["max"] <= max_t
        met &= ok
        tag = f"run {i + 1} vs run {j + 1}"
        if d["n"] == 0:
            print(f"{tag}: no configuration in common")
        else:
            worst = ", ".join(f"{k} {v * 100:.1f}%" for k, v in d["worst"][:3])
            print(f"{tag}: {d['n']} ratios, median {d['median'] * 100:.1f}%, p90 {d['p90'] * 100:.1f}%, "
                  f"max {d['max'] * 100:.1f}%, {d['over_10pct']} over 10% — {'met' if ok else 'NOT met'}; "
                  f"worst: {worst}")
            e = d["expected"]
            if e:
                beyond = d["p90"] > 1.5 * e["p90"]
                print(f"  expected from the runs' own repetitions (split halves): median {e['median'] * 100:.1f}%, "
                      f"p90 {e['p90'] * 100:.1f}% — " + (
                          "the runs disagree beyond their own noise: they differed in state" if beyond else
                          "within the runs' own noise: more repetitions or a quieter machine, not a fix, "
                          "would narrow it"))
        if d["only_in_one"]:
            print(f"  {len(d['only_in_one'])} configuration(s) in only one run, not compared: "
                  + ", ".join(d["only_in_one"][:5]) + (" …" if len(d["only_in_one"]) > 5 else ""))
        pairs.append({"a": runs[i].directory, "b": runs[j].directory, "met": ok, **d})
    print("criterion " + ("met by every pair" if met else "NOT met"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"p90_target": p90_t, "max_target": max_t, "exclude_flagged": args.exclude_flagged,
                       "steal_adjust": args.steal_adjust,
                       "met": met, "pairs": pairs}, f, indent=1)
    return EXIT_OK if met else EXIT_NOT_MET
