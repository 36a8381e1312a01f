# SPDX-License-Identifier: Apache-2.0
"""`trend RUN...`: each path's primary metric across runs, e.g. one run per kernel.

Kernel is the default axis: runs are ordered and labelled by kernel release (natural version order:
6.1 < 6.6 < 6.12), then by start time; `--axis time` orders by start time.  A run inside a pathbench
VM guest is labelled with its accelerator, and mixing accelerators draws a warning (their numbers are
not comparable; under TCG they are functional truth only).  Writes trend.png, trend.svg and trend.md
into --out and prints the table.  Values are medians over a run's repetitions with their 95%
interval where one exists; compare two runs with `compare` for a verdict.
"""

from __future__ import annotations

import os
import re

from . import EXIT_OK
from . import metrics as M
from .catalogue import Catalogue
from .load import Run, load_run
from .summary import summarize


def kernel_key(release: str) -> tuple:
    """Natural order of kernel releases: '6.1.0-13-amd64' < '6.6.9' < '6.12.1'."""
    parts = re.split(r"(\d+)", release or "")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p != "")


def order_runs(runs: list[Run], axis: str = "kernel") -> list[Run]:
    if axis == "time":
        return sorted(runs, key=lambda r: (r.started, kernel_key(r.kernel), r.run_id, r.filename))
    return sorted(runs, key=lambda r: (kernel_key(r.kernel), r.started, r.run_id, r.filename))


def merged_catalogue(runs: list[Run]) -> Catalogue:
    """Traits for ordering across runs: the newest run's catalogue first, then anything older ones add."""
    cat = Catalogue()
    for run in sorted(runs, key=lambda r: r.started, reverse=True):
        for name, t in run.catalogue.paths.items():
            if name not in cat.paths or (not cat.paths[name].known and t.known):
                cat.paths[name] = t
        for name, t in run.catalogue.workloads.items():
            if name not in cat.workloads or (not cat.workloads[name].known and t.known):
                cat.workloads[name] = t
    return cat


def collect(runs: list[Run], exclude_flagged: bool = False):
    """{workload: {path: [Estimate per run]}} for pathbench's own rows (no sweeps, no references)."""
    table: dict[str, dict[str, list]] = {}
    metric_of: dict[str, str] = {}
    for i, run in enumerate(runs):
        for key, g in summarize(run, exclude_flagged).items():
            if key.reference or key.variant or key.pvariant or g.primary is None:
                continue
            metric_of.setdefault(key.workload, g.primary)
            row = table.setdefault(key.workload, {}).setdefault(key.path, [None] * len(runs))
            row[i] = g.estimate(metric_of[key.workload]) if g.ok else None
    return table, metric_of


def run_label(run: Run) -> str:
    acc = f" ({run.accelerator})" if run.is_guest else ""
    return f"{run.kernel}{acc}\n{run.run_id}"


def environment_warnings(runs: list[Run]) -> list[str]:
    out = []
    envs = sorted({(r.is_guest, r.accelerator or "") for r in runs})
    if len(envs) > 1:
        out.append("the runs come from different environments (" + ", ".join(
            ("guest " + (a or "?")) if g else "host" for g, a in envs) + "): their numbers are not comparable across "
            "environments, only within one")
    if any(r.accelerator == "tcg" for r in runs):
        out.append("runs under TCG (software CPU emulation) are functional truth, not performance truth")
    return out


def render(runs: list[Run], outdir: str, axis: str = "kernel") -> tuple[str, str, str, str]:
    from .plots import _save, _setup, _tight, path_color
    import matplotlib.pyplot as plt

    runs = order_runs(runs, axis)
    cat = merged_catalogue(runs)
    table, metric_of = collect(runs)
    wls = sorted(table, key=cat.workload_sort_key)
    _setup()
    n = max(1, len(wls))
    fig, axes = plt.subplots(n, 1, figsize=(max(6.0, 1.3 * len(runs) + 3.5), 3.0 * n), squeeze=False)
    for ax, wl in zip(axes[:, 0], wls):
        met = M.METRICS[metric_of[wl]]
        ps = sorted(table[wl], key=cat.path_sort_key)
        for k, p in enumerate(ps):
            ests = table[wl][p]
            xs = [i for i, e in enumerate(ests) if e is not None and e.median is not None]
            if not xs:
                continue
            ys = [met.display(ests[i].median) for i in xs]
            lo = [ys[j] - met.display(ests[i].lo) if ests[i].has_ci else 0 for j, i in enumerate(xs)]
            hi = [met.display(ests[i].hi) - ys[j] if ests[i].has_ci else 0 for j, i in enumerate(xs)]
            dodge = (k - (len(ps) - 1) / 2) * min(0.05, 0.5 / max(1, len(ps)))  # keep error bars apart
            ax.errorbar([x + dodge for x in xs], ys, yerr=[lo, hi], marker="o", ms=4, capsize=3, lw=1.3,
                        color=path_color(cat, p), label=p)
        ax.set_xticks(range(len(runs)))
        ax.set_xticklabels([run_label(r) for r in runs], fontsize=8)
        ax.set_xlim(-0.5, len(runs) - 0.5)
        ax.set_ylabel(met.heading)
        ax.set_title(f"{wl}: {met.label} per path across runs (median, bars = 95% CI; higher is better)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    if not wls:
        axes[0, 0].text(0.5, 0.5, "no successful results in these runs", ha="center", transform=axes[0, 0].transAxes)
    axes[-1, 0].set_xlabel("run (kernel release, run id), ordered by " +
                           ("kernel release then start time" if axis == "kernel" else "start time"))
    _tight(fig)
    png, svg = _save(fig, outdir, "trend")

    header = ["workload", "metric", "path"] + [run_label(r).replace("\n", " ") for r in runs]
    rows = []
    for wl in wls:
        met = M.METRICS[metric_of[wl]]
        for p in sorted(table[wl], key=cat.path_sort_key):
            cells = []
            for e in table[wl][p]:
                if e is None or e.median is None:
                    cells.append("–")
                else:
                    ci = f" [{M.fmt(met.display(e.lo))}–{M.fmt(met.display(e.hi))}]" if e.has_ci else ""
                    cells.append(M.fmt(met.display(e.median)) + ci)
            rows.append([wl, met.heading, p] + cells)
    md = ["# pathbench trend", "", f"Runs, in plot order ({'kernel release' if axis == 'kernel' else 'start time'}):", ""]
    md += [f"{i + 1}. run {r.run_id}, Linux {r.kernel}, {r.where}, started {r.started or '?'} (`{r.filename}`)"
           for i, r in enumerate(runs)]
    md += [""] + [f"**Warning**: {w}." for w in environment_warnings(runs)]
    md += ["", "Median of each run's repetitions, 95% interval in brackets where one exists (n >= 6). "
           "A difference between runs here is not a significance test: use `python3 -m analysis compare A B`.",
           "", "![trend](trend.png)", "",
           "| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    md += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    mdp = os.path.join(outdir, "trend.md")
    with open(mdp, "w", encoding="utf-8") as f:
        f.write("\n".join(md) + "\n")
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    text = "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
                     for r in [header, ["-" * w for w in widths]] + rows)
    return png, svg, mdp, text


def main(args) -> int:
    runs = [load_run(r) for r in args.runs]
    os.makedirs(args.out, exist_ok=True)
    png, svg, mdp, text = render(runs, args.out, getattr(args, "axis", "kernel"))
    print(text)
    for w in environment_warnings(runs):
        print(f"warning: {w}")
    print(f"\ntrend: {png}\n       {svg}\n       {mdp}")
    return EXIT_OK
