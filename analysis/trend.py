"""`trend RUN...`: each path's primary metric across runs, e.g. one run per kernel.

Runs are ordered by kernel release (natural version order: 6.1 < 6.6 < 6.12) and then by start time.
Writes trend.png, trend.svg and trend.md into --out and prints the table.  Values are medians over a
run's repetitions with their interval; compare two runs with `compare` for a significance test.
"""

from __future__ import annotations

import os
import re

from . import EXIT_OK
from . import metrics as M
from .load import Run, load_run
from .summary import summarize


def kernel_key(release: str) -> tuple:
    """Natural order of kernel releases: '6.1.0-13-amd64' < '6.6.9' < '6.12.1'."""
    parts = re.split(r"(\d+)", release or "")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p != "")


def order_runs(runs: list[Run]) -> list[Run]:
    return sorted(runs, key=lambda r: (kernel_key(r.kernel), r.started, r.run_id, r.filename))


def collect(runs: list[Run]):
    """{workload: {path: [Estimate per run]}} for pathbench's own rows (no variants, no references)."""
    table: dict[str, dict[str, list]] = {}
    metric_of: dict[str, str] = {}
    for i, run in enumerate(runs):
        for key, g in summarize(run).items():
            if key.reference or key.variant or g.primary is None:
                continue
            metric_of.setdefault(key.workload, g.primary)
            row = table.setdefault(key.workload, {}).setdefault(key.path, [None] * len(runs))
            row[i] = g.estimate(metric_of[key.workload]) if g.ok else None
    return table, metric_of


def run_label(run: Run) -> str:
    return f"{run.kernel}\n{run.run_id}"


def render(runs: list[Run], outdir: str) -> tuple[str, str, str, str]:
    from .plots import _save, _setup, _tight, path_color
    import matplotlib.pyplot as plt

    runs = order_runs(runs)
    table, metric_of = collect(runs)
    wls = sorted(table, key=M.workload_sort_key)
    _setup()
    n = max(1, len(wls))
    fig, axes = plt.subplots(n, 1, figsize=(max(6.0, 1.3 * len(runs) + 3.5), 3.0 * n), squeeze=False)
    for ax, wl in zip(axes[:, 0], wls):
        met = M.METRICS[metric_of[wl]]
        ps = sorted(table[wl], key=M.path_sort_key)
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
                        color=path_color(p), label=p)
        ax.set_xticks(range(len(runs)))
        ax.set_xticklabels([run_label(r) for r in runs], fontsize=8)
        ax.set_xlim(-0.5, len(runs) - 0.5)
        ax.set_ylabel(met.heading)
        ax.set_title(f"{wl}: {met.label} per path across runs (median, bars = CI; higher is better)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    if not wls:
        axes[0, 0].text(0.5, 0.5, "no successful results in these runs", ha="center", transform=axes[0, 0].transAxes)
    axes[-1, 0].set_xlabel("run (kernel release, run id), ordered by kernel release then start time")
    _tight(fig)
    png, svg = _save(fig, outdir, "trend")

    header = ["workload", "metric", "path"] + [f"{r.kernel} ({r.run_id})" for r in runs]
    rows = []
    for wl in wls:
        met = M.METRICS[metric_of[wl]]
        for p in sorted(table[wl], key=M.path_sort_key):
            cells = []
            for e in table[wl][p]:
                if e is None or e.median is None:
                    cells.append("–")
                else:
                    ci = f" [{M.fmt(met.display(e.lo))}–{M.fmt(met.display(e.hi))}]" if e.has_ci else ""
                    cells.append(M.fmt(met.display(e.median)) + ci)
            rows.append([wl, met.heading, p] + cells)
    md = ["# pathbench trend", "", "Runs, in plot order:", ""]
    md += [f"{i + 1}. run {r.run_id}, Linux {r.kernel}, started {r.started or '?'} (`{r.filename}`)"
           for i, r in enumerate(runs)]
    md += ["", "Median of each run's repetitions, interval in brackets (see report.md for its level). "
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
    png, svg, mdp, text = render(runs, args.out)
    print(text)
    print(f"\ntrend: {png}\n       {svg}\n       {mdp}")
    return EXIT_OK
