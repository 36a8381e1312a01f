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
from .load import Run  # noqa: E402
from .stats import histogram_cdf, median_ci, merge_histograms  # noqa: E402
from .summary import BASELINE, GroupSummary, ratio_to_baseline, workloads  # noqa: E402

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


def path_color(path: str):
    idx = M.PATH_ORDER.index(path) if path in M.PATH_ORDER else len(M.PATH_ORDER) + sum(map(ord, path))
    return plt.get_cmap("tab10")(idx % 10)


def _ci_text(gs: list[GroupSummary], metric: str) -> str:
    levels = sorted({g.estimate(metric).level for g in gs if g.estimate(metric).level is not None})
    if not levels:
        return "no CI (fewer than 3 repetitions)"
    lv = ", ".join(f"{x * 100:.4g}%" for x in levels)
    return f"error bars: {lv} order-statistic CI of the median"


# ---- 1. bars: median + CI per path, primary metric and CPU cost --------------------------------

def plot_bars(run: Run, summaries: dict, outdir: str) -> list[Figure]:
    _setup()
    figs = []
    for wl in workloads(summaries):
        gs = [g for k, g in summaries.items() if k.workload == wl]
        primary = next((g.primary for g in gs if g.primary), None)
        cpu = next((g.cpu for g in gs if g.cpu), None)
        panels = [m for m in (primary, cpu) if m]
        if not panels:
            continue
        fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
        for ax, mk in zip(axes[0], panels):
            met = M.METRICS[mk]
            labels = []
            for i, g in enumerate(gs):
                e = g.estimate(mk)
                label = g.key.name
                if 0 < len(g.ok) < len(g.results):
                    label += f"\n({len(g.ok)} of {len(g.results)} ok)"
                labels.append(label)
                color = path_color(g.key.path)
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
            ax.set_xticks(range(len(labels)))
            ax.set_xticklabels(labels, rotation=35, ha="right")
            arrow = "higher is better" if met.higher_is_better else "lower is better"
            ax.set_ylabel(met.heading)
            ax.set_title(f"{met.label} ({arrow})")
            ax.set_ylim(bottom=0)
        fig.suptitle(f"{wl}: median per path, dots = repetitions, {_ci_text(gs, panels[0])}\n{run.label}",
                     fontsize=9)
        _tight(fig)
        stem = f"bars-{_slug(wl)}"
        png, svg = _save(fig, outdir, stem)
        figs.append(Figure(stem, f"{wl}: {' and '.join(M.METRICS[m].label for m in panels)} per path",
                           f"Bars are medians over repetitions, black dots the individual repetitions, "
                           f"whiskers the interval of the median ({_ci_text(gs, panels[0]).replace('error bars: ', '')})."
                           + (" Hatched bars are reference tools measuring the same path."
                              if any(g.key.reference for g in gs) else ""), png, svg))
    return figs


# ---- 2. latency CDF from merged histograms ----------------------------------------------------

TAIL_TICKS = [(0.5, "p50"), (0.1, "p90"), (0.01, "p99"), (0.001, "p99.9"), (0.0001, "p99.99"),
              (0.00001, "p99.999")]


def plot_latency_cdfs(run: Run, summaries: dict, outdir: str) -> list[Figure]:
    _setup()
    figs = []
    for wl in workloads(summaries):
        curves = []
        for k, g in summaries.items():
            if k.workload != wl:
                continue
            buckets = merge_histograms(g.ok)
            total = sum(c for _, _, c in buckets)
            if total:
                curves.append((g, buckets, total))
        if not curves:
            continue
        fig, ax = plt.subplots(figsize=(8.5, 4.8))
        floor = 1.0
        for g, buckets, total in curves:
            xs, ps = histogram_cdf(buckets)
            # 1 - p on a log axis; the last bucket (p = 1) has no finite position and is dropped.
            pts = [(x / 1000.0, 1.0 - p) for x, p in zip(xs, ps) if 1.0 - p > 1e-12]
            first_lo = buckets[0][0] / 1000.0
            pts = [(first_lo, 1.0)] + pts
            floor = min(floor, 1.0 / total)
            x, y = zip(*pts)
            ax.step(x, y, where="post", color=path_color(g.key.path), lw=1.4,
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
        ax.set_xlabel("latency [µs] (log scale)")
        ax.set_ylabel("percentile (log scale of 1 − p)")
        ax.set_title(f"{wl}: latency distribution, all repetitions merged\n{run.label}")
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        ax.grid(True, which="both", alpha=0.3)
        _tight(fig)
        stem = f"latency-cdf-{_slug(wl)}"
        png, svg = _save(fig, outdir, stem)
        figs.append(Figure(stem, f"{wl}: latency distribution per path",
                           "Built from the stored latency histograms of every repetition (not from the "
                           "summary percentiles). Read across at p99 to compare tails: a curve further "
                           "right has higher latency at that percentile. The curve ends where the samples run out.",
                           png, svg))
    return figs


# ---- 3. heat map of ratio to baseline ------------------------------------------------------------

def plot_ratio_heatmap(run: Run, summaries: dict, outdir: str) -> list[Figure]:
    _setup()
    wls = workloads(summaries)
    own = {k: g for k, g in summaries.items() if not k.reference}
    rows = sorted({(k.path, k.variant) for k in own}, key=lambda pv: (M.path_sort_key(pv[0]), pv[1]))
    if not wls or not rows or not any(k.path == BASELINE for k in own):
        return []
    data = np.full((len(rows), len(wls)), np.nan)
    text = [["" for _ in wls] for _ in rows]
    for i, (p, var) in enumerate(rows):
        for j, wl in enumerate(wls):
            key = next((k for k in own if k.workload == wl and k.path == p and k.variant == var), None)
            if key is None:
                text[i][j] = "not run"
                continue
            g = own[key]
            r = ratio_to_baseline(summaries, key, g.primary)
            if p == BASELINE and r.value is not None:
                data[i, j] = 0.0
                text[i][j] = "1× (reference)"
                continue
            if r.value is None:
                st = sorted({x.get("status") for x in g.not_ok}) or ["no baseline"]
                text[i][j] = "/".join(s for s in st if s)
                continue
            data[i, j] = np.log2(r.value) if r.value > 0 else -4
            mark = "" if r.crosses_one is False else ("\n≈ (CI spans 1)" if r.crosses_one else "\n(no CI)")
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
    ax.set_xticklabels([f"{w}\n({M.METRICS[M.primary_metric_key(w)].label})" for w in wls], fontsize=8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([p if not v else f"{p} ({v})" for p, v in rows])
    ax.grid(False)
    cb = fig.colorbar(im, ax=ax, fraction=0.04)
    ticks = [t for t in (-3, -2, -1, -0.5, 0, 0.5, 1, 2, 3) if abs(t) <= lim]
    cb.set_ticks(ticks)
    cb.set_ticklabels([f"{2 ** t:.2g}×" for t in ticks])
    cb.set_label("ratio to baseline\n(blue: more work per second)")
    ax.set_title(f"Primary metric relative to baseline (same run)\n{run.label}")
    _tight(fig)
    png, svg = _save(fig, outdir, "ratio-heatmap")
    return [Figure("ratio-heatmap", "Each path relative to baseline",
                   "Each cell is the path's median primary metric divided by baseline's (throughput for "
                   "tcp_stream, transactions/s for request/response, packets/s for *_pps); above 1 means "
                   "more work per second than plain kernel forwarding. '≈' marks cells where the "
                   "interval of the ratio includes 1: no significant difference from baseline.", png, svg)]


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


def plot_bpf_cost(run: Run, summaries: dict, outdir: str) -> list[Figure]:
    _setup()
    stats = bpf_stats(run.results)
    if not stats:
        return []
    keys = sorted(stats, key=lambda k: (M.path_sort_key(k[0]), M.workload_sort_key(k[1]), k[2]))
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(keys) + 1.6))
    for i, k in enumerate(keys):
        e = median_ci(stats[k])
        ax.barh(i, e.median, color=path_color(k[0]), alpha=0.85)
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


# ---- 5. sweep curves ------------------------------------------------------------------------------

def _sweep_axis(variants: list[str]) -> str | None:
    """The option a workload is swept over, when every variant label is 'name=<number>' for one name."""
    names, ok = set(), True
    for v in variants:
        if "," in v or "=" not in v:
            return None
        name, val = v.split("=", 1)
        names.add(name)
        try:
            float(val)
        except ValueError:
            ok = False
    return names.pop() if ok and len(names) == 1 else None


def plot_sweeps(run: Run, summaries: dict, outdir: str) -> list[Figure]:
    """Primary metric against a swept numeric option (payload size, flows, rule count ...), one line
    per path, for workloads measured at two or more values of one option."""
    _setup()
    figs = []
    for wl in workloads(summaries):
        gs = [g for k, g in summaries.items() if k.workload == wl and not k.reference and k.variant]
        axis = _sweep_axis(sorted({g.key.variant for g in gs}))
        primary = next((g.primary for g in gs if g.primary), None)
        if axis is None or primary is None:
            continue
        met = M.METRICS[primary]
        fig, ax = plt.subplots(figsize=(8.5, 4.6))
        for p in sorted({g.key.path for g in gs}, key=M.path_sort_key):
            pts = sorted((float(g.key.variant.split("=", 1)[1]), g.estimate(primary)) for g in gs
                         if g.key.path == p and g.estimate(primary).median is not None)
            if not pts:
                continue
            xs = [x for x, _ in pts]
            ys = [met.display(e.median) for _, e in pts]
            lo = [y - met.display(e.lo) if e.has_ci else 0 for y, (_, e) in zip(ys, pts)]
            hi = [met.display(e.hi) - y if e.has_ci else 0 for y, (_, e) in zip(ys, pts)]
            ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", ms=4, capsize=3, lw=1.3, color=path_color(p), label=p)
        if max((float(g.key.variant.split("=", 1)[1]) for g in gs), default=1) / \
                max(1e-9, min((float(g.key.variant.split("=", 1)[1]) for g in gs), default=1)) > 20:
            ax.set_xscale("log")
        ax.set_xlabel(axis)
        ax.set_ylabel(met.heading)
        ax.set_ylim(bottom=0)
        ax.set_title(f"{wl}: {met.label} against {axis} (median, bars = interval)\n{run.label}")
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        _tight(fig)
        stem = f"sweep-{_slug(wl)}"
        png, svg = _save(fig, outdir, stem)
        figs.append(Figure(stem, f"{wl}: how each path's {met.label} changes with {axis}",
                           "Each point is the median over repetitions at one value of the swept option; "
                           "error bars are the interval of the median.", png, svg))
    return figs


def plot_all(run: Run, summaries: dict, outdir: str) -> list[Figure]:
    figs = []
    figs += plot_ratio_heatmap(run, summaries, outdir)
    figs += plot_bars(run, summaries, outdir)
    figs += plot_sweeps(run, summaries, outdir)
    figs += plot_latency_cdfs(run, summaries, outdir)
    figs += plot_bpf_cost(run, summaries, outdir)
    return figs
