# SPDX-License-Identifier: Apache-2.0
"""Plots of one run (and of several, for trend).  Headless (Agg), deterministic bytes for the same input.

One function per plot type; each returns Figure records (file names + a caption a person can read)
so the report can embed them.  Every figure names its units and the run/kernel it shows.

Determinism: matplotlib's defaults are restored (a user's matplotlibrc cannot leak in), the SVG
hash salt is fixed, PNG/SVG metadata carry no date or software version, orders are sorted.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import TwoSlopeNorm  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator  # noqa: E402

from . import metrics as M  # noqa: E402
from . import scale as SC  # noqa: E402
from .load import Run  # noqa: E402
from .stats import LEVEL_TEXT, histogram_cdf, median_ci, merge_histograms  # noqa: E402
from .summary import GroupSummary, RunSummary  # noqa: E402

RC = {
    "svg.hashsalt": "pathbench",
    "svg.fonttype": "none",  # real <text>: smaller, searchable; DejaVu Sans or a fallback font
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "path.simplify": False,
}
PNG_META = {"Software": None}
SVG_META = {"Date": None, "Creator": None}


def _setup():
    matplotlib.rcdefaults()
    matplotlib.rcParams.update(RC)


@dataclass
class Figure:
    name: str        # file stem
    title: str
    caption: str
    png: str         # absolute path
    svg: str | None


def _tight(fig) -> None:
    """tight_layout, without its warning when long labels leave no room (the figure is still fine)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout()


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s).strip("_") or "x"


def _save(fig, outdir: str, stem: str, svg: bool = True) -> tuple[str, str | None]:
    os.makedirs(outdir, exist_ok=True)
    png = os.path.join(outdir, stem + ".png")
    fig.savefig(png, format="png", metadata=PNG_META, bbox_inches="tight")
    svgp = None
    if svg:
        svgp = os.path.join(outdir, stem + ".svg")
        fig.savefig(svgp, format="svg", metadata=SVG_META, bbox_inches="tight")
    plt.close(fig)
    return png, svgp


def path_color(cat, path: str):
    """One colour per path, by its position in the run's catalogue (stable across plots of a run)."""
    return plt.get_cmap("tab10")(cat.path_index(path) % 10)


def _ci_text(gs: list[GroupSummary], metric: str) -> str:
    ns = sorted({g.estimate(metric).n for g in gs if g.estimate(metric).median is not None})
    if any(g.estimate(metric).has_ci for g in gs):
        missing = [n for n in ns if not median_ci(range(n)).has_ci]
        return (f"error bars: {LEVEL_TEXT} order-statistic CI of the median"
                + (f" (none where n={', '.join(map(str, missing))})" if missing else ""))
    return f"no {LEVEL_TEXT} CI (n={', '.join(map(str, ns)) or 0}; needs 6 or more repetitions)"


FLAG_STYLE = dict(marker="x", ms=6, color="black", mew=1.3, ls="none", zorder=6)


def _flag_marks(ax, xs, ys):
    """Flagged (abnormal-state) repetitions: a black × over their dot."""
    if xs:
        ax.plot(xs, ys, label="flagged abnormal", **FLAG_STYLE)


# ---- 0. forest: each path ÷ baseline per workload (the report's first picture) ---------------------

def forest_rows(S: RunSummary, wl: str) -> list[GroupSummary]:
    """Groups shown for a workload in the forest plot: pathbench's own rows, the default point of a
    path-option sweep (its smallest value), every workload-option variant."""
    gs = [g for g in S.own(wl) if g.key.path != S.reference]
    smallest: dict[tuple, GroupSummary] = {}
    for g in gs:
        k = (g.key.path, g.key.variant)
        if k not in smallest or S.group_sort_key(g.key) < S.group_sort_key(smallest[k].key):
            smallest[k] = g
    return [g for g in gs if smallest[(g.key.path, g.key.variant)] is g]


def plot_forest(run: Run, S: RunSummary, outdir: str) -> list[Figure]:
    """Small multiples, one panel per workload: for every path its primary metric ÷ the reference
    path's (paired by repetition), median with its 95% interval, every repetition's ratio as a dot,
    a line at 1.  Paths in catalogue order, same rows in every panel."""
    _setup()
    ref = S.reference
    wls = [w for w in S.workloads() if any(g.ok for g in S.own(w))]
    if not wls or ref is None or not S.has_data(ref):
        return []
    rows_by_wl = {w: forest_rows(S, w) for w in wls}
    labels = []
    for w in wls:
        for g in rows_by_wl[w]:
            name = g.key.path + (f" ({g.key.variant})" if g.key.variant else "")
            if name not in labels:
                labels.append(name)
    labels.sort(key=lambda s: (S.cat.path_sort_key(s.split(" (")[0]), s))
    ncols = min(3, len(wls))
    nrows = (len(wls) + ncols - 1) // ncols
    height = max(1.5, 0.19 * len(labels) + 0.85)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.75 * ncols + 1.4, height * nrows + 0.7), squeeze=False,
                             sharey=True)
    any_ci = False
    any_flag = False
    lo_all, hi_all = [], []
    for idx, w in enumerate(wls):
        ax = axes[idx // ncols][idx % ncols]
        gs = rows_by_wl[w]
        primary = next((g.primary for g in gs if g.primary), None)
        label = M.METRICS[primary].label if primary in M.METRICS else "primary metric"
        for g in gs:
            y = labels.index(g.key.path + (f" ({g.key.variant})" if g.key.variant else ""))
            r = S.ratio_to_reference(g.key, g.primary)
            color = path_color(S.cat, g.key.path)
            if r.value is None:
                why = "skipped" if any(x.get("status") == "skipped" for x in g.results) else (
                    "failed" if any(x.get("status") == "failed" for x in g.results) else "no ratio")
                ax.text(1.0, y, f"  {why}", va="center", ha="left", fontsize=7, color="0.45")
                continue
            if r.ratios:
                ax.plot(r.ratios, [y] * len(r.ratios), "o", ms=2.6, color=color, alpha=0.55, zorder=2)
                lo_all += list(r.ratios)
                hi_all += list(r.ratios)
            base = S.reference_group(g.key)
            flagged_reps = {int(x.get("repetition", 0)) for x in g.flagged} | (
                {int(x.get("repetition", 0)) for x in base.flagged} if base else set())
            if r.ratios and flagged_reps and g.primary in g.by_rep and base and g.primary in base.by_rep:
                fx = [g.by_rep[g.primary][k] / base.by_rep[g.primary][k] for k in sorted(flagged_reps)
                      if k in g.by_rep[g.primary] and k in base.by_rep[g.primary] and base.by_rep[g.primary][k]]
                if fx:
                    any_flag = True
                    ax.plot(fx, [y] * len(fx), **dict(FLAG_STYLE, ms=5))
            if r.has_ci:
                any_ci = True
                ax.plot([r.lo, r.hi], [y, y], "-", color=color, lw=2.2, solid_capstyle="butt", zorder=3)
                lo_all.append(r.lo)
                hi_all.append(r.hi)
            ax.plot([r.value], [y], "D", ms=5.5, color=color, mec="black", mew=0.6, zorder=5)
            lo_all.append(r.value)
            hi_all.append(r.value)
        ax.axvline(1.0, color="0.2", lw=1.0, zorder=1)
        ax.set_title(f"{w}: {label}", fontsize=9)
        ax.grid(True, axis="x", which="both", alpha=0.3)
        ax.grid(False, axis="y")
    for j in range(len(wls), nrows * ncols):
        axes[j // ncols][j % ncols].axis("off")
    lo = min(lo_all + [1.0]) / 1.12
    hi = max(hi_all + [1.0]) * 1.12
    for idx in range(len(wls)):
        ax = axes[idx // ncols][idx % ncols]
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ticks = [t for t in (0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0) if lo <= t <= hi]
        ax.set_xticks(ticks)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(labels, fontsize=8)
        ax.set_ylim(len(labels) - 0.5, -0.5)
        if idx // ncols == nrows - 1 or idx + ncols >= len(wls):
            ax.set_xlabel(f"÷ {ref} (log scale; right of 1 = "
                          + ("more instructions per unit)" if S.cost else "more work/s)"), fontsize=8)
    ns = sorted({r.n for w in wls for g in rows_by_wl[w] for r in [S.ratio_to_reference(g.key, g.primary)] if r.value is not None})
    how = ("diamond = median of per-repetition ratios, bar = cost-mode bound, dots = repetitions" if S.cost and any_ci
           else f"diamond = median of per-repetition ratios, bar = {LEVEL_TEXT} CI, dots = repetitions"
           if any_ci else f"diamond = median of per-repetition ratios, dots = repetitions; no {LEVEL_TEXT} CI "
                          f"with n={', '.join(map(str, ns))} (needs 6)")
    fig.suptitle(f"Each path's primary metric ÷ {ref}, paired by repetition: {how}"
                 + ("; × = repetition flagged abnormal" if any_flag else "") + f"\n{run.label}", fontsize=9)
    _tight(fig)
    png, svg = _save(fig, outdir, "forest")
    return [Figure("forest", f"Each path ÷ {ref}, per workload",
                   f"Every repetition of a path is divided by {ref}'s repetition of the same index (they ran "
                   f"back to back), which cancels slow drift of the machine; the diamond is the median of "
                   f"those ratios" + (", the bar the cost mode's bound" if S.cost and any_ci else
                                      f", the bar its distribution-free {LEVEL_TEXT} interval" if any_ci else
                                      f"; with fewer than 6 repetitions no {LEVEL_TEXT} interval exists, so none is drawn")
                   + (". Right of the line at 1 means more instructions per unit of work than " + ref + " (cost mode)."
                      if S.cost else ". Right of the line at 1 means more work per second than " + ref + "."), png, svg)]


# ---- 1. bars: median + CI per path, primary metric and CPU cost --------------------------------

def plot_bars(run: Run, S: RunSummary, outdir: str) -> list[Figure]:
    _setup()
    figs = []
    for wl in S.workloads():
        gs = [g for k, g in S.items() if k.workload == wl]
        primary = next((g.primary for g in gs if g.primary), None)
        cpu = next((g.cpu for g in gs if g.cpu), None)
        panels = [m for m in (primary, cpu) if m and any(m in g.values for g in gs)]
        if not panels:
            continue
        fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
        for ax, mk in zip(axes[0], panels):
            met = M.METRICS[mk]
            labels = []
            fx, fy = [], []
            for i, g in enumerate(gs):
                e = g.estimate(mk)
                label = g.key.name
                if 0 < len(g.ok) < len(g.results):
                    label += f"\n({len(g.ok)} of {len(g.results)} ok)"
                labels.append(label)
                color = path_color(S.cat, g.key.path)
                hatch = "//" if g.key.reference else None
                if e.median is None:
                    why = "skipped" if any(r.get("status") == "skipped" for r in g.results) else (
                        "failed" if any(r.get("status") == "failed" for r in g.results) else "n/a")
                    ax.text(i, 0, why, rotation=90, ha="center", va="bottom", fontsize=8, color="0.4")
                    continue
                ax.bar(i, met.display(e.median), color=color, alpha=0.85, hatch=hatch,
                       edgecolor="0.2" if hatch else color)
                if e.has_ci:
                    lo, hi = met.display(e.lo), met.display(e.hi)
                    med = met.display(e.median)
                    ax.errorbar(i, med, yerr=[[med - lo], [hi - med]], fmt="none", ecolor="black",
                                capsize=4, lw=1.2)
                reps = [met.display(v) for v in g.values.get(mk, [])]
                ax.plot([i] * len(reps), reps, "o", ms=3, color="black", alpha=0.6, zorder=3)
                for r in g.flagged:
                    v = M.value(r, mk)
                    if v is not None:
                        fx.append(i)
                        fy.append(met.display(v))
            _flag_marks(ax, fx, fy)
            ax.set_xticks(range(len(labels)))
            ax.set_xticklabels(labels, rotation=35, ha="right")
            arrow = "higher is better" if met.higher_is_better else "lower is better"
            ax.set_ylabel(met.heading)
            ax.set_title(f"{SC.metric_label(S, wl, mk)} ({arrow})")
            ax.set_ylim(bottom=0)
            if fx:
                ax.legend(fontsize=7, loc="lower right")
        fig.suptitle(f"{wl}: median per path, dots = repetitions, {_ci_text(gs, panels[0])}\n{run.label}",
                     fontsize=9)
        _tight(fig)
        stem = f"bars-{_slug(wl)}"
        png, svg = _save(fig, outdir, stem)
        figs.append(Figure(stem, f"{wl}: {' and '.join(M.METRICS[m].label for m in panels)} per path",
                           f"Bars are medians over repetitions, black dots the individual repetitions "
                           f"(×: flagged abnormal), whiskers the {LEVEL_TEXT} interval of the median where one "
                           f"exists ({_ci_text(gs, panels[0]).replace('error bars: ', '')})."
                           + (" Hatched bars are reference tools measuring the same path."
                              if any(g.key.reference for g in gs) else ""), png, svg))
    return figs


# ---- 2. latency CDF from merged histograms ----------------------------------------------------

TAIL_TICKS = [(0.5, "p50"), (0.1, "p90"), (0.01, "p99"), (0.001, "p99.9"), (0.0001, "p99.99"),
              (0.00001, "p99.999")]


def _cdf_figure(run: Run, S: RunSummary, wl: str, hist_key: str, what: str, outdir: str, stem: str):
    curves = []
    for k, g in S.items():
        if k.workload != wl:
            continue
        buckets = merge_histograms(g.ok, hist_key)
        total = sum(c for _, _, c in buckets)
        if total:
            curves.append((g, buckets, total))
    if not curves:
        return None
    fig, ax = plt.subplots(figsize=(8.5, 4.8))
    floor = 1.0
    for g, buckets, total in curves:
        xs, ps = histogram_cdf(buckets)
        # 1 - p on a log axis; the last bucket (p = 1) has no finite position and is dropped.
        sc = S.units.latency_scale   # ns -> µs; instructions stay instructions (cost mode)
        pts = [(x * sc, 1.0 - p) for x, p in zip(xs, ps) if 1.0 - p > 1e-12]
        first_lo = buckets[0][0] * sc
        pts = [(first_lo, 1.0)] + pts
        floor = min(floor, 1.0 / total)
        x, y = zip(*pts)
        ax.step(x, y, where="post", color=path_color(S.cat, g.key.path), lw=1.4,
                ls="--" if g.key.reference else "-",
                label=f"{g.key.name}\n({total:,} samples, {len(g.ok)} rep{'s' if len(g.ok) != 1 else ''})")
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_yscale("log")
    ax.set_ylim(1.0, max(floor * 0.8, 1e-6))
    ticks = [(v, t) for v, t in TAIL_TICKS if v >= floor * 0.8]
    ax.set_yticks([1.0] + [v for v, _ in ticks])
    ax.set_yticklabels(["p0"] + [t for _, t in ticks])
    ax.minorticks_off()
    ax.set_xlabel(f"{what} [{S.units.latency_unit}] (log scale)")
    ax.set_ylabel("percentile (log scale of 1 − p)")
    ax.set_title(f"{wl}: {what} distribution, all repetitions merged\n{run.label}")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.grid(True, which="both", alpha=0.3)
    _tight(fig)
    return _save(fig, outdir, stem)


def plot_latency_cdfs(run: Run, S: RunSummary, outdir: str) -> list[Figure]:
    _setup()
    figs = []
    for wl in S.workloads():
        for hist_key, what, prefix in (("histogram", "latency", "latency-cdf"),
                                       ("connect_histogram", "connect latency", "connect-cdf")):
            stem = f"{prefix}-{_slug(wl)}"
            saved = _cdf_figure(run, S, wl, hist_key, what, outdir, stem)
            if saved is None:
                continue
            png, svg = saved
            extra = (" Connect latency is the time from connect() to the connection being established: "
                     "the cost of the first packet (SYN) through the path." if hist_key != "histogram" else "")
            figs.append(Figure(stem, f"{wl}: {what} distribution per path",
                               "Built from the stored histograms of every repetition (not from the summary "
                               "percentiles). Read across at p99 to compare tails: a curve further right has "
                               "higher latency at that percentile. The curve ends where the samples run out." + extra,
                               png, svg))
    return figs


# ---- 3. heat map of ratio to the reference path -----------------------------------------------

def plot_ratio_heatmap(run: Run, S: RunSummary, outdir: str) -> list[Figure]:
    _setup()
    ref = S.reference
    wls = S.workloads()
    own = {k: g for k, g in S.items() if not k.reference}
    rows = sorted({(k.path, k.options_label) for k in own},
                  key=lambda pv: (S.cat.path_sort_key(pv[0]), pv[1]))
    if not wls or not rows or ref is None or not any(k.path == ref for k in own):
        return []
    data = np.full((len(rows), len(wls)), np.nan)
    text = [["" for _ in wls] for _ in rows]
    for i, (p, var) in enumerate(rows):
        for j, wl in enumerate(wls):
            key = next((k for k in own if k.workload == wl and k.path == p and k.options_label == var), None)
            if key is None:
                text[i][j] = "not run"
                continue
            g = own[key]
            r = S.ratio_to_reference(key, g.primary)
            if p == ref and r.value is not None:
                data[i, j] = 0.0
                text[i][j] = "1× (reference)"
                continue
            if r.value is None:
                st = sorted({x.get("status") for x in g.not_ok}) or [f"no {ref}"]
                text[i][j] = "/".join(s for s in st if s)
                continue
            data[i, j] = np.log2(r.value) if r.value > 0 else -4
            mark = "" if r.crosses_one is False else ("\n≈ (CI spans 1)" if r.crosses_one else f"\n(no {LEVEL_TEXT} CI)")
            text[i][j] = f"{r.value:.2f}×{mark}"
    fig, ax = plt.subplots(figsize=(1.5 * len(wls) + 2.6, 0.55 * len(rows) + 2.0))
    lim = max(0.25, float(np.nanmax(np.abs(data))) if np.isfinite(data).any() else 1.0)
    cmap = plt.get_cmap("RdBu").copy()
    cmap.set_bad("0.88")
    im = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, norm=TwoSlopeNorm(0, -lim, lim), aspect="auto")
    for i in range(len(rows)):
        for j in range(len(wls)):
            v = data[i, j]
            dark = np.isfinite(v) and abs(v) > 0.6 * lim
            ax.text(j, i, text[i][j], ha="center", va="center", fontsize=7.5,
                    color="white" if dark else "black")
    ax.set_xticks(range(len(wls)))
    labels = []
    for w in wls:
        pm = S.cat.primary_metric(w, [r for g in S.own(w) for r in g.ok])
        labels.append(f"{w}\n({M.METRICS[pm].label})" if pm in M.METRICS else w)
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([p if not v else f"{p} ({v})" for p, v in rows])
    ax.grid(False)
    cb = fig.colorbar(im, ax=ax, fraction=0.04)
    ticks = [t for t in (-3, -2, -1, -0.5, 0, 0.5, 1, 2, 3) if abs(t) <= lim]
    cb.set_ticks(ticks)
    cb.set_ticklabels([f"{2 ** t:.2g}×" for t in ticks])
    cb.set_label(f"ratio to {ref}\n" + ("(instructions per unit of work)" if S.cost else "(blue: more work per second)"))
    ax.set_title(f"Primary metric relative to {ref} (same run, paired by repetition)\n{run.label}")
    _tight(fig)
    png, svg = _save(fig, outdir, "ratio-heatmap")
    return [Figure("ratio-heatmap", f"Each path relative to {ref}",
                   f"Each cell is the median over repetitions of the path's primary metric divided by {ref}'s "
                   f"in the same repetition; above 1 means "
                   + ("more instructions per unit of work (cost mode). '≈' marks cells within the cost mode's bound"
                      if S.cost else f"more work per second. '≈' marks cells where the {LEVEL_TEXT} interval of the "
                                     f"ratio includes 1") + f": no significant difference from {ref}.", png, svg)]


# ---- 4. in-kernel BPF program cost ----------------------------------------------------------------

def bpf_stats(results: list[dict]) -> dict[tuple[str, str, str], list[float]]:
    """(path, workload, program) -> ns per program run, one value per repetition.  Tolerant: a result
    without proof.bpf_stats, or entries without numbers, contribute nothing."""
    out: dict[tuple[str, str, str], list[float]] = {}
    for r in results:
        if r.get("status") != "ok" or r.get("reference"):
            continue
        proof = r.get("proof")
        stats = proof.get("bpf_stats") if isinstance(proof, dict) else None
        if isinstance(stats, dict):  # tolerate {"name": {...}} as well as a list
            stats = [dict(v, program=k) for k, v in sorted(stats.items()) if isinstance(v, dict)]
        if not isinstance(stats, list):
            continue
        for s in stats:
            if not isinstance(s, dict):
                continue
            ns = s.get("ns_per_run")
            cnt, t = s.get("run_cnt"), s.get("run_time_ns")
            if not M.is_num(ns) and M.is_num(cnt) and M.is_num(t) and cnt > 0:
                ns = t / cnt
            if not M.is_num(ns) or (M.is_num(cnt) and cnt == 0):
                continue
            # One program can be attached at several hooks (tc_fwd on dut0 and dut1): keep them apart.
            name = str(s.get("program", "?"))
            if s.get("attach"):
                name += f" @ {s['attach']}"
            out.setdefault((r["path"], r["workload"], name), []).append(float(ns))
    return out


def plot_bpf_cost(run: Run, S: RunSummary, outdir: str) -> list[Figure]:
    _setup()
    stats = bpf_stats(run.results)
    if not stats:
        return []
    keys = sorted(stats, key=lambda k: (S.cat.path_sort_key(k[0]), S.cat.workload_sort_key(k[1]), k[2]))
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(keys) + 1.6))
    for i, k in enumerate(keys):
        e = median_ci(stats[k])
        ax.barh(i, e.median, color=path_color(S.cat, k[0]), alpha=0.85)
        if e.has_ci:
            ax.errorbar(e.median, i, xerr=[[e.median - e.lo], [e.hi - e.median]], fmt="none",
                        ecolor="black", capsize=3)
        ax.text(e.hi if e.has_ci else e.median, i, f"  {e.median:.0f} ns", va="center", fontsize=7)
    ax.set_yticks(range(len(keys)))
    ax.set_yticklabels([f"{p} / {w}: {prog}" for p, w, prog in keys], fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlim(right=ax.get_xlim()[1] * 1.12)  # room for the value labels
    ax.set_xlabel("ns per program run (kernel BPF run-time statistics)")
    ax.set_title(f"In-kernel BPF program cost, median over repetitions\n{run.label}")
    _tight(fig)
    png, svg = _save(fig, outdir, "bpf-cost")
    return [Figure("bpf-cost", "In-kernel cost of each BPF program",
                   "run_time_ns / run_cnt from the kernel's BPF statistics, per program and workload. "
                   "This is the program alone; the rest of the path (stack, proxy, copies) is not in it.",
                   png, svg)]


def plot_sweeps(run: Run, S: RunSummary, outdir: str) -> list[Figure]:
    from .plots_curves import plot_sweeps as f  # the curves live there (split by concern)
    return f(run, S, outdir)


def plot_scale(run: Run, S: RunSummary, outdir: str) -> list[Figure]:
    from .plots_curves import plot_scale as f
    return f(run, S, outdir)


def plot_all(run: Run, S: RunSummary, outdir: str) -> list[Figure]:
    """Every plot of one run, forest first (the report places them; this order is the file order)."""
    figs = []
    figs += plot_forest(run, S, outdir)
    figs += plot_ratio_heatmap(run, S, outdir)
    figs += plot_bars(run, S, outdir)
    figs += plot_scale(run, S, outdir)
    figs += plot_sweeps(run, S, outdir)
    figs += plot_latency_cdfs(run, S, outdir)
    figs += plot_bpf_cost(run, S, outdir)
    return figs
