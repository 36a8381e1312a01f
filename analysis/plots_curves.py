# SPDX-License-Identifier: Apache-2.0
"""Plots of curves: a run's cost against a swept workload option (payload, flows) and against N
services (scale). Split out of plots.py by concern (plots.py keeps the per-run comparisons and the
shared set-up: _setup, _save, Figure); the same determinism rules hold."""

from __future__ import annotations

import matplotlib.pyplot as plt

from . import metrics as M
from . import scale as SC
from .load import Run
from .plots import Figure, _save, _setup, _slug, _tight, path_color
from .stats import LEVEL_TEXT
from .summary import RunSummary


# ---- 5. curves against a swept option (payload, flows) and against N services (scale) ------------

def _curve(ax, S: RunSummary, s: SC.Series, mk: str, label: str):
    met = M.METRICS[mk]
    pts = [(x, g.estimate(mk)) for x, g in s.points if g.estimate(mk).median is not None]
    if not pts:
        return False
    xs = [x for x, _ in pts]
    ys = [met.display(e.median) for _, e in pts]
    lo = [y - met.display(e.lo) if e.has_ci else 0 for y, (_, e) in zip(ys, pts)]
    hi = [met.display(e.hi) - y if e.has_ci else 0 for y, (_, e) in zip(ys, pts)]
    ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", ms=4, capsize=3, lw=1.3,
                color=path_color(S.cat, s.path), label=label)
    return True


def _heading(S: RunSummary, wl: str, mk: str) -> str:
    """Axis label in the workload's own words: 'connections/s', 'CPU per connection [CPU µs/connection]'."""
    met = M.METRICS[mk]
    label = SC.metric_label(S, wl, mk)
    if label == met.label:
        return met.heading
    if met.unit == met.label:
        return label
    return f"{label} [{met.unit.replace('transaction', 'connection')}]"


def _log_x_if_wide(ax, xs):
    xs = [x for x in xs if x > 0]
    if xs and max(xs) / min(xs) > 20:
        ax.set_xscale("log")


def plot_sweeps(run: Run, S: RunSummary, outdir: str) -> list[Figure]:
    """Primary metric (and CPU cost) against a swept workload option (payload size, flows ...), one
    line per path."""
    _setup()
    figs = []
    for (wl, axis), ss in sorted(SC.workload_sweeps(S).items(),
                                 key=lambda kv: (S.cat.workload_sort_key(kv[0][0]), kv[0][1])):
        panels = [m for m in SC.scale_metrics(S, wl) if m in M.RATE_KEYS or m in M.CPU_KEYS]
        if not panels:
            continue
        fig, axes = plt.subplots(1, len(panels), figsize=(5.6 * len(panels), 4.2), squeeze=False)
        allx = []
        for ax, mk in zip(axes[0], panels):
            met = M.METRICS[mk]
            for s in sorted(ss, key=lambda s: (S.cat.path_sort_key(s.path), s.rest)):
                _curve(ax, S, s, mk, s.path + (f" ({s.rest})" if s.rest else ""))
                allx += [x for x, _ in s.points]
            _log_x_if_wide(ax, allx)
            ax.set_xlabel(axis + (" (log scale)" if ax.get_xscale() == "log" else ""))
            ax.set_ylabel(_heading(S, wl, mk))
            ax.set_ylim(bottom=0)
            ax.set_title(f"{SC.metric_label(S, wl, mk)} ({'higher' if met.higher_is_better else 'lower'} is better)")
        axes[0][-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        fig.suptitle(f"{wl}: against {axis} (median; bars = {LEVEL_TEXT} CI where n >= 6)\n{run.label}", fontsize=9)
        _tight(fig)
        stem = f"sweep-{_slug(wl)}-{_slug(axis)}"
        png, svg = _save(fig, outdir, stem)
        figs.append(Figure(stem, f"{wl}: how each path's cost changes with {axis}",
                           f"Each point is the median over repetitions at one value of {axis}; error bars are the "
                           f"{LEVEL_TEXT} interval of the median where one exists.", png, svg))
    return figs


def plot_scale(run: Run, S: RunSummary, outdir: str) -> list[Figure]:
    """Cost against N (a path option such as services) per path that accepts it: connect latency
    p50 and p99, connections/s, CPU per connection; log x."""
    _setup()
    figs = []
    for (wl, axis), ss in sorted(SC.path_sweeps(S).items(),
                                 key=lambda kv: (S.cat.workload_sort_key(kv[0][0]), kv[0][1])):
        panels = SC.scale_metrics(S, wl)
        if not panels:
            continue
        ncols = min(2, len(panels))
        nrows = (len(panels) + ncols - 1) // ncols
        fig, axes = plt.subplots(nrows, ncols, figsize=(5.8 * ncols + 1.6, 3.6 * nrows), squeeze=False)
        for idx, mk in enumerate(panels):
            ax = axes[idx // ncols][idx % ncols]
            met = M.METRICS[mk]
            allx = []
            for s in sorted(ss, key=lambda s: (S.cat.path_sort_key(s.path), s.rest)):
                _curve(ax, S, s, mk, s.path + (f" ({s.rest})" if s.rest else ""))
                allx += [x for x, _ in s.points]
            if allx and min(allx) > 0:
                ax.set_xscale("log")
            ax.set_xlabel(f"{axis} (log scale)")
            ax.set_ylabel(_heading(S, wl, mk))
            ax.set_ylim(bottom=0)
            ax.set_title(f"{SC.metric_label(S, wl, mk)} ({'higher' if met.higher_is_better else 'lower'} is better)")
        for j in range(len(panels), nrows * ncols):
            axes[j // ncols][j % ncols].axis("off")
        axes[0][ncols - 1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        fig.suptitle(f"{wl}: cost against {axis} per path (median; bars = {LEVEL_TEXT} CI where n >= 6)\n{run.label}",
                     fontsize=9)
        _tight(fig)
        stem = f"scale-{_slug(wl)}-{_slug(axis)}"
        png, svg = _save(fig, outdir, stem)
        figs.append(Figure(stem, f"{wl}: cost against {axis}",
                           f"Each path installs {axis} its own natural way (rules, set elements, map entries). "
                           f"Points are medians over repetitions at each {axis}, error bars the {LEVEL_TEXT} interval "
                           f"of the median where one exists; x is logarithmic.", png, svg))
    return figs
