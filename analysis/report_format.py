# SPDX-License-Identifier: Apache-2.0
"""Formatting shared by the report's sections: estimates, ratios and their verdict words."""

from __future__ import annotations

from . import metrics as M
from .stats import Estimate, Ratio, min_n_for_median_ci
from .summary import RunSummary


def est_text(e: Estimate, met: M.Metric | None, with_ci: bool = True) -> str:
    if e.median is None or met is None:
        return "–"
    s = M.fmt(met.display(e.median))
    if with_ci:
        s += f" [{M.fmt(met.display(e.lo))}–{M.fmt(met.display(e.hi))}]" if e.has_ci else " [no 95% CI]"
    return s


def ratio_text(r: Ratio) -> str:
    if r.value is None:
        return "–"
    s = f"{r.value:.2f}×"
    if r.has_ci:
        lo, hi = f"{r.lo:.2f}", f"{r.hi:.2f}"
        if lo == hi or (r.crosses_one is False and "1.00" in (lo, hi)):
            lo, hi = f"{r.lo:.3f}", f"{r.hi:.3f}"
        s += f" [{lo}–{hi}]"
    return s


def short_verdict(r: Ratio, higher_is_better: bool) -> str:
    if r.value is None:
        return "–"
    if not r.has_ci:
        return "no 95% CI"
    if r.crosses_one:
        return "no sig. difference"
    return "better" if (r.value > 1) == higher_is_better else "worse"


def _paths_text(names) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _ns_text(S: RunSummary) -> str:
    ns = sorted({len(g.ok) for g in S.own() if g.ok})
    return "/".join(map(str, ns)) or "0"


def _need_n() -> int:
    return min_n_for_median_ci()
