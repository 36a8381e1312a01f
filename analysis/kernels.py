# SPDX-License-Identifier: Apache-2.0
"""`kernels RUN...`: the cross-kernel report (kernels.md and a self-contained kernels.html).

Runs from several kernels (made on the host, or with `pathbench vm` on other kernels) side by side:
* per workload, each path's primary metric ÷ the reference path **within each run** (paired by
  repetition, 95% intervals), one marker per kernel: ratios are comparable across machines of
  different speed where absolute numbers are not;
* per path x workload the primary metric per kernel with its 95% interval (or why it is missing);
* what each kernel lacks: paths skipped or failed and why, kernel features (environment.features)
  not available, and the attach mode each path's proof recorded (e.g. tcx on 6.6+, clsact before).

One column per run, ordered by kernel release (then start time).  Runs from different environments
(accelerator, VM guest or host) are marked, and TCG runs carry the functional-truth caveat.
"""

from __future__ import annotations

import os

from . import EXIT_OK
from . import metrics as M
from .doc import Doc, to_html, to_markdown
from .load import Run, load_run
from .stats import LEVEL_TEXT
from .summary import RunSummary, summarize
from .trend import environment_warnings, merged_catalogue, order_runs


def column_label(run: Run) -> str:
    acc = f", {run.accelerator}" if run.is_guest else ""
    return f"Linux {run.kernel}{acc} ({run.run_id})"


def _reason_of(g) -> str:
    rs = sorted({str(r.get("reason") or r.get("status")) for r in g.not_ok})
    st = sorted({str(r.get("status")) for r in g.not_ok})
    return f"{'/'.join(st)}: {'; '.join(rs)[:160]}" if rs else "not run"


def attach_modes(run: Run) -> dict[str, str]:
    """path -> attach mode(s) its proofs recorded ("tcx", "clsact", "native" ...)."""
    modes: dict[str, set] = {}
    for r in run.results:
        p = r.get("proof")
        if r.get("status") == "ok" and isinstance(p, dict) and isinstance(p.get("attach_mode"), str):
            modes.setdefault(r["path"], set()).add(p["attach_mode"])
    return {k: "/".join(sorted(v)) for k, v in modes.items()}


def features(run: Run) -> dict[str, tuple[bool | None, str]]:
    f = run.environment.get("features")
    out = {}
    if isinstance(f, dict):
        for k, v in f.items():
            if isinstance(v, dict):
                a = v.get("available")
                out[k] = (a if isinstance(a, bool) else None, str(v.get("reason") or ""))
    return out


def plot_kernels(runs: list[Run], sums: list[RunSummary], cat, outdir: str):
    from .plots import Figure, _save, _setup, _tight
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    _setup()
    wls = sorted({w for S in sums for w in S.workloads()}, key=cat.workload_sort_key)
    rows_of = {}
    for w in wls:
        ps = sorted({g.key.path for S in sums for g in S.own(w)
                     if g.key.path != S.reference and not g.key.variant and not g.key.pvariant}, key=cat.path_sort_key)
        if ps:
            rows_of[w] = ps
    wls = [w for w in wls if w in rows_of]
    if not wls:
        return []
    ncols = min(3, len(wls))
    nrows = (len(wls) + ncols - 1) // ncols
    height = max(1.8, 0.32 * max(len(v) for v in rows_of.values()) + 1.0)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.9 * ncols + 1.6, height * nrows + 0.8), squeeze=False)
    colors = plt.get_cmap("viridis")
    vals = []
    for idx, w in enumerate(wls):
        ax = axes[idx // ncols][idx % ncols]
        ps = rows_of[w]
        for j, (run, S) in enumerate(zip(runs, sums)):
            dy = (j - (len(runs) - 1) / 2) * min(0.18, 0.7 / max(1, len(runs)))
            c = colors(j / max(1, len(runs) - 1) * 0.85)
            for i, p in enumerate(ps):
                g = S.get(M.GroupKey(w, p))
                if g is None:
                    continue
                r = S.ratio_to_reference(g.key, g.primary)
                if r.value is None:
                    continue
                if r.has_ci:
                    ax.plot([r.lo, r.hi], [i + dy] * 2, "-", color=c, lw=2)
                    vals += [r.lo, r.hi]
                ax.plot([r.value], [i + dy], "o", color=c, ms=4.5, label=column_label(run) if i == 0 else None)
                vals.append(r.value)
        ax.axvline(1.0, color="0.2", lw=1)
        ax.set_yticks(range(len(ps)))
        ax.set_yticklabels(ps, fontsize=8)
        ax.set_ylim(len(ps) - 0.5, -0.5)
        ax.set_title(w, fontsize=9)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    for j in range(len(wls), nrows * ncols):
        axes[j // ncols][j % ncols].axis("off")
    if vals:
        lo, hi = min(vals + [1.0]) / 1.1, max(vals + [1.0]) * 1.1
        for idx in range(len(wls)):
            axes[idx // ncols][idx % ncols].set_xlim(lo, hi)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=8, frameon=False,
                   bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(f"Each path's primary metric ÷ the reference path within each run, per kernel "
                 f"(median of paired ratios; bars = {LEVEL_TEXT} CI where n >= 6)", fontsize=9)
    _tight(fig)
    fig.subplots_adjust(bottom=0.08 + 0.03 * ((len(runs) + 3) // 4))
    png, svg = _save(fig, outdir, "kernels-ratios")
    return [Figure("kernels-ratios", "Each path ÷ the reference path, per kernel",
                   "Ratios are taken within each run (paired by repetition), so a faster or slower machine does not "
                   "move them; a change of a ratio between kernels is a change of the path's relative cost.", png, svg)]


def build(runs: list[Run], outdir: str, exclude_flagged: bool = False,
          profiles: list[Run] | None = None) -> tuple[str, str]:
    runs = order_runs(runs, "kernel")
    sums = [summarize(r, exclude_flagged) for r in runs]
    cost = bool(runs) and all(r.cost_mode for r in runs)
    cat = merged_catalogue(runs)
    cols = [column_label(r) for r in runs]
    doc = Doc()
    doc.h1("pathbench across kernels: " + ", ".join(dict.fromkeys(f"Linux {r.kernel}" for r in runs)))
    doc.p(f"{len(runs)} runs, one column each, ordered by kernel release.", cls="lead")
    for w in environment_warnings(runs):
        doc.p(f"**Warning**: {w}.", cls="warn")
    figs = plot_kernels(runs, sums, cat, os.path.join(outdir, "plots"))
    for f in figs:
        doc.fig(f)
    doc.h2("Runs")
    doc.table(["column", "kernel build", "where", "CPU", "repetitions", "file"],
              [[c, str(r.environment.get("kernel_version") or "–"), r.where, str(r.environment.get("cpu_model") or "–"),
                str(r.options.get("repetitions", "–")), f"`{r.filename}`"] for c, r in zip(cols, runs)])
    doc.toc()

    if cost:
        from .kernels_cost import section_cost, section_profiles
        section_cost(doc, runs, sums, cat, cols)
        profiles = [p for p in (profiles or []) if p.cost_mode]
        section_profiles(doc, runs, sums, profiles, [summarize(p, exclude_flagged) for p in profiles], cat, cols)
    doc.h2("Primary metric per kernel" + (" and its ratio to the reference path" if cost else ""))
    doc.p(f"Median over a run's repetitions with its {LEVEL_TEXT} interval (none below 6 repetitions), and in "
          f"parentheses the ratio to the run's own reference path (paired by repetition). A missing cell says why.")
    wls = sorted({w for S in sums for w in S.workloads()}, key=cat.workload_sort_key)
    for w in wls:
        ps = sorted({g.key.path for S in sums for g in S.own(w) if not g.key.variant and not g.key.pvariant},
                    key=cat.path_sort_key)
        rows = []
        unit = ""
        for p in ps:
            row = [f"`{p}`"]
            for S in sums:
                g = S.get(M.GroupKey(w, p))
                if g is None:
                    row.append("not run")
                    continue
                if not g.ok:
                    row.append(_reason_of(g))
                    continue
                met = M.METRICS.get(g.primary)
                e = g.estimate(g.primary)
                unit = met.unit if met else ""
                txt = M.fmt(met.display(e.median)) if met else M.fmt(e.median)
                if e.has_ci and met:
                    txt += f" [{M.fmt(met.display(e.lo))}–{M.fmt(met.display(e.hi))}]"
                r = S.ratio_to_reference(g.key, g.primary)
                if p != S.reference and r.value is not None:
                    txt += f" ({r.value:.2f}×" + (f" [{r.lo:.2f}–{r.hi:.2f}]" if r.has_ci else "") + ")"
                row.append(txt)
            rows.append(row)
        doc.h3(f"{w}" + (f" [{unit}]" if unit else ""))
        doc.table(["path"] + cols, rows)

    doc.h2("What each kernel lacks")
    lack_rows = []
    all_paths = sorted({r["path"] for run in runs for r in run.results}, key=cat.path_sort_key)
    for p in all_paths:
        cells, differs = [], set()
        for run, S in zip(runs, sums):
            gs = [g for k, g in S.items() if k.path == p and not k.reference]
            if not gs:
                cells.append("not run")
                differs.add("not run")
                continue
            bad = [g for g in gs if not g.ok]
            if not bad:
                cells.append("ok")
                differs.add("ok")
            else:
                wl = ", ".join(g.key.workload for g in bad)
                txt = f"{wl}: {_reason_of(bad[0])}" if len(bad) < len(gs) else f"all workloads: {_reason_of(bad[0])}"
                cells.append(txt)
                differs.add(txt)
        if len(differs) > 1 or any(c != "ok" for c in cells):
            lack_rows.append([f"`{p}`"] + cells)
    if lack_rows:
        doc.p("Paths that were skipped or failed on some kernel (workloads affected and the recorded reason):")
        doc.table(["path"] + cols, lack_rows)
    else:
        doc.p("Every path that ran worked on every kernel.")
    feats = [features(r) for r in runs]
    names = sorted({k for f in feats for k in f})
    if names:
        doc.p("Kernel features the harness probes (environment.features):")
        doc.table(["feature"] + cols,
                  [[n] + [("yes" if f[n][0] else (f"no: {f[n][1]}" if f[n][0] is False else "unknown")) if n in f
                          else "not recorded" for f in feats] for n in names])
    else:
        doc.p("No run records environment.features (schema 1 runs do not).")
    modes = [attach_modes(r) for r in runs]
    mpaths = sorted({p for m in modes for p in m}, key=cat.path_sort_key)
    if mpaths:
        doc.p("Attach mode recorded in each path's proof (for example TCX links on 6.6+, clsact before):")
        doc.table(["path"] + cols, [[f"`{p}`"] + [m.get(p, "–") for m in modes] for p in mpaths])
    doc.h2("How to read this")
    doc.ul((["Cost mode: every figure is an instruction count in a one-vCPU qemu guest with -icount shift=0 "
             "(docs/cost.md); two boots of one kernel agree within the bound each change is decided against, so a "
             "change beyond it is the kernel's."] if cost else []) + ["Absolute numbers are only comparable between runs on the same machine in the same environment; the "
            "ratios to each run's reference path are the kernel-to-kernel view that survives a different machine "
            "speed. For a regression verdict between two runs use `python3 -m analysis compare A B`.",
            "Runs inside a pathbench VM guest under TCG (software CPU emulation) are functional truth, not "
            "performance truth in time: which paths work, their proofs and attach modes hold; their times do not "
            "(cost mode's instruction counts do).",
            f"Intervals are distribution-free {LEVEL_TEXT} intervals, or absent (fewer than 6 repetitions)."])
    os.makedirs(outdir, exist_ok=True)
    md_path, html_path = os.path.join(outdir, "kernels.md"), os.path.join(outdir, "kernels.html")
    with open(md_path, "w", encoding="utf-8") as f:
        f.write(to_markdown(doc, outdir))
    with open(html_path, "w", encoding="utf-8") as f:
        f.write(to_html(doc, "pathbench across kernels"))
    return md_path, html_path


def main(args) -> int:
    runs = [load_run(r) for r in args.runs]
    profiles = [load_run(r) for r in getattr(args, "profiles", None) or []]
    md, html = build(runs, args.out, args.exclude_flagged, profiles)
    for w in environment_warnings(runs):
        print(f"warning: {w}")
    print(f"kernels: {html}\n         {md}")
    return EXIT_OK
