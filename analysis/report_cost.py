# SPDX-License-Identifier: Apache-2.0
"""The cost-mode report's section "Instructions beside time": each path ÷ the reference path in
instructions (this cost-mode run) beside the same ratio measured natively (a time-based run given
with `report --native DIR`), in CPU per unit of work and in time per unit of work, with the native
ratios' 95% intervals.

What the two lenses measure differs (docs/cost.md): instructions are the CPU work a path adds;
native CPU time adds what an instruction costs there (cache and memory stalls, copies, the kernel's
offloads), and native time per unit adds waiting (wake-ups, scheduling).  Where the cost ratio lies
inside the native CPU ratio's interval the two agree; the largest gaps are listed for the reader.
"""

from __future__ import annotations

import math

from . import metrics as M
from .doc import Doc
from .load import Run
from .stats import Ratio
from .summary import RunSummary, summarize


def _inverse(r: Ratio) -> Ratio:
    """Rate ratio -> time-per-unit ratio (path's time ÷ reference's time)."""
    if r.value is None or not r.value:
        return Ratio(None)
    lo = 1 / r.hi if r.has_ci and r.hi else None
    hi = 1 / r.lo if r.has_ci and r.lo else None
    return Ratio(1 / r.value, lo, hi, r.level, r.n, r.method)


def _txt(r: Ratio, digits: int = 2) -> str:
    if r.value is None:
        return "–"
    s = f"{r.value:.{digits}f}×"
    return s + (f" [{r.lo:.{digits}f}–{r.hi:.{digits}f}]" if r.has_ci else " [no 95% CI]")


def rows(S: RunSummary, N: RunSummary) -> list[dict]:
    """One row per (workload, path) measured in both runs, except the reference path."""
    out = []
    ref = S.reference
    for g in S.own():
        if g.key.path == ref or not g.ok or not g.primary or g.key.pvariant or g.key.variant:
            continue
        cost = S.ratio_to_reference(g.key, g.primary)
        ng = N.get(M.GroupKey(g.key.workload, g.key.path))
        if ng is None or not ng.ok or cost.value is None:
            continue
        cpu = N.ratio_to_reference(ng.key, ng.cpu) if ng.cpu else Ratio(None)
        time = _inverse(N.ratio_to_reference(ng.key, ng.primary)) if ng.primary else Ratio(None)
        agree = None
        if cpu.has_ci:
            agree = cpu.lo <= cost.value <= cpu.hi
        gap = math.log(cost.value / cpu.value) if cpu.value else None
        out.append({"workload": g.key.workload, "path": g.key.path, "cost": cost, "cpu": cpu, "time": time,
                    "agree": agree, "gap": gap})
    out.sort(key=lambda r: (S.cat.workload_sort_key(r["workload"]), S.cat.path_sort_key(r["path"])))
    return out


def section(doc: Doc, run: Run, S: RunSummary, native: Run) -> None:
    doc.h2("Instructions beside time")
    if native.cost_mode:
        doc.p(f"`--native {native.directory}` is itself a cost-mode run: nothing to set beside.")
        return
    N = summarize(native)
    ref = S.reference
    rs = rows(S, N)
    doc.p(f"Each path ÷ `{ref}` per unit of work: in instructions (this run, cost mode, with its bound) and natively "
          f"(run {native.run_id}, Linux {native.kernel}, {native.where}) in CPU time per unit of work and in time per "
          f"unit of work (the inverse of the rate ratio), with their 95% intervals. Above 1 costs more than `{ref}`. "
          f"**Cost mode is the CPU work a path adds, not the time a user waits**: where the native CPU ratio is larger, "
          f"the path's instructions cost more there than the reference's (cache and memory stalls, copies, offloads); "
          f"where native time is larger than native CPU, waiting (wake-ups, scheduling) adds to it. docs/cost.md "
          f"explains the gaps measured on the development machine.")
    if not rs:
        doc.p("No path × workload was measured in both runs.")
        return
    table = []
    for r in rs:
        a = "–" if r["agree"] is None else ("yes" if r["agree"] else "no")
        table.append([f"`{r['path']}`", r["workload"], _txt(r["cost"], 3), _txt(r["cpu"]), _txt(r["time"]), a])
    doc.table(["path", "workload", "instructions ÷ ref [cost bound]", "native CPU ÷ ref [95% CI]",
               "native time ÷ ref [95% CI]", "cost inside native CPU CI"], table)
    n_ci = sum(1 for r in rs if r["agree"] is not None)
    n_ok = sum(1 for r in rs if r["agree"])
    worst = sorted((r for r in rs if r["gap"] is not None), key=lambda r: -abs(r["gap"]))[:3]
    doc.p(f"The instruction ratio lies inside the native CPU ratio's 95% interval in {n_ok} of {n_ci} comparisons "
          f"that have one. Largest gaps (native CPU ratio against instruction ratio): "
          + "; ".join(f"`{r['path']}` {r['workload']} {r['cpu'].value:.2f}× natively against {r['cost'].value:.2f}× in "
                      f"instructions" for r in worst) + ".")
