# SPDX-License-Identifier: Apache-2.0
"""`report RUN`: report.md and a self-contained report.html (plots inlined) for one run.

The report is for a person who has not read the code, in the order such a person reads:
1. one picture: every path's primary metric ÷ the reference path, paired by repetition, 95% intervals;
2. the three common claims, one sentence of verdict each;
3. how far this run's ratios would move on a rerun, and which repetitions ran in an abnormal state;
4. the details: tables, configuration effort, scale, plots, BPF cost, failures, environment, method.

Which paths a claim is about comes from the run's catalogue (technology, kind, compare_against),
never from names.  Sentences only state what the 95% intervals allow: a difference is named only
when the interval of the ratio excludes 1; without an interval (fewer than 6 repetitions) the
report says "CI unavailable at 95% with n=..." and decides nothing.
"""

from __future__ import annotations

import os
import statistics

from . import metrics as M
from .doc import Doc, to_html, to_markdown
from .load import Run
from .plots import plot_all
from .stats import LEVEL_TEXT, Ratio
from .summary import RunSummary, rerun_movement, summarize, verdict
from .report_claims import (Claim, claim_ebpf_config, claim_ebpf_efficient, claim_tproxy,  # noqa: F401
                            offload_changes)  # offload_changes and Claim: re-exported for callers of report
from .report_api import api_section
from .report_details import (bpf_section, claims_details, environment_section, failures_section, method_section,
                             paths_section, reference_section, scale_section, tables_section)
from .report_format import _need_n, _ns_text, ratio_text


# Under TCG (qemu's software CPU) the cost of a path is not what it costs on hardware: measured on
# the development VM, tc-redirect came out 1.35x baseline under TCG against 1.07x natively.
TCG_NOTE = ("this run ran under TCG, qemu's software CPU emulation: its numbers are **functional truth, "
            "not performance truth**. Which paths work on this kernel, and their proofs, hold; ratios "
            "between paths do not (tc-redirect came out 1.35× baseline under TCG against 1.07× natively).")

# A cost-mode run (analysis/cost.py, docs/cost.md): what its numbers are, and what they are not.
COST_NOTE = ("this run ran in a qemu guest with `-icount shift=0,sleep=off` on one vCPU, where one guest nanosecond "
             "is one guest instruction. Every figure is an **instruction count**: instructions per unit of work, "
             "instructions between request and reply, instructions per BPF program run. It is **the CPU work a path "
             "adds, not the time a user waits**: stalls on caches and memory, wake-up latency and copies that cost "
             "time but few instructions are not in it (docs/cost.md puts cost ratios beside native ones). Counts "
             "repeat exactly enough that verdicts are decided against the cost mode's own A/A bound, not against "
             "95% intervals.")


# ---- first screen: header, reproducibility, flagged repetitions --------------------------------

def header(doc: Doc, run: Run, S: RunSummary) -> None:
    tool = run.doc.get("tool") if isinstance(run.doc.get("tool"), dict) else {}
    doc.h1(f"pathbench report: run {run.run_id}, Linux {run.kernel}")
    ps, wls = S.paths(), S.workloads()
    dur = run.options.get("duration_s")
    doc.p(f"{run.started or 'start time not recorded'} · {run.where} · {len(ps)} paths × {len(wls)} workloads · "
          f"{_ns_text(S)} repetitions{f' of {dur} s' if dur is not None else ''}, interleaved · status **{run.status}** · "
          f"{tool.get('name', 'pathbench')} {tool.get('version', '?')} (git {tool.get('git_sha', '?')})"
          + (" · numbers without flagged repetitions (--exclude-flagged)" if S.exclude_flagged else ""), cls="lead")
    if run.accelerator == "tcg":
        doc.p("**Warning**: " + TCG_NOTE, cls="warn")
    if S.cost:
        doc.p("**Cost mode**: " + COST_NOTE, cls="lead")
    if run.status != "complete":
        doc.p(f"**Warning: this run is {run.status}**"
              f"{': ' + str(run.doc.get('status_reason')) if run.doc.get('status_reason') else ''}. "
              f"Results below are what was recorded before it stopped.", cls="warn")


def reproducibility(doc: Doc, S: RunSummary) -> None:
    ref = S.reference
    doc.h2("How reproducible these ratios are")
    if S.cost:
        reproducibility_cost(doc, S)
        return
    items = []
    for wl in S.workloads():
        rs = []
        for g in S.own(wl):
            if g.key.path == ref or not g.ok:
                continue
            r = S.ratio_to_reference(g.key, g.primary)
            if r.value is not None:
                rs.append((g, r))
        if not rs:
            continue
        n = "/".join(map(str, sorted({r.n for _, r in rs})))
        moves = [(m, g) for g, r in rs for m in [rerun_movement(r)] if m is not None]
        if moves:
            typ = statistics.median(m[0] for m, _ in moves)
            (t_top, p_top), g_top = max(moves, key=lambda t: t[0][1])
            lacking = len(rs) - len(moves)
            items.append(f"**{wl}**: on a rerun the ratios to `{ref}` would typically move by ±{typ * 100:.1f}% "
                         f"(median over {len(moves)} paths), the least stable `{g_top.key.name}` by up to "
                         f"±{p_top * 100:.1f}% (90% of split halves of this run's n={n} repetitions)"
                         + (f"; {lacking} ratio{'s' if lacking > 1 else ''} unpaired or with fewer than 4 pairs"
                            if lacking else "") + ".")
        else:
            items.append(f"**{wl}**: not estimable from n={n} repetitions (a split-half estimate needs 4, a "
                         f"{LEVEL_TEXT} interval {_need_n()}).")
    if not items:
        doc.p(f"No ratios to `{ref}` in this run.")
    else:
        doc.ul(items)


def reproducibility_cost(doc: Doc, S: RunSummary) -> None:
    """Cost mode: how far repetitions of one configuration disagree, per workload, against the floor."""
    from .cost import COST_FLOOR_PCT, relative_range
    items = []
    for wl in S.workloads():
        spreads = [(relative_range(g.values.get(g.primary, [])), g) for g in S.own(wl) if g.ok and g.primary]
        spreads = [(sp, g) for sp, g in spreads if len(g.values.get(g.primary, [])) >= 2]
        if not spreads:
            items.append(f"**{wl}**: one repetition per configuration: only the floor of ±{COST_FLOOR_PCT:g}% (two "
                         f"boots) bounds its ratios.")
            continue
        typ = statistics.median(sp for sp, _ in spreads)
        worst, gw = max(spreads, key=lambda t: t[0])
        items.append(f"**{wl}**: repetitions of one configuration range over a median {typ * 100:.3f}% of their "
                     f"median, at most {worst * 100:.3f}% (`{gw.key.name}`); ratios are bounded by ±{COST_FLOOR_PCT:g}% "
                     f"(two boots) or twice the wider of a configuration's own range (one outlying repetition left "
                     f"out) and the workload's typical range, where that is wider.")
    doc.ul(items)


def flagged_section(doc: Doc, S: RunSummary, S_other: RunSummary | None) -> None:
    ab = S.abnormal
    doc.h2("Repetitions flagged abnormal")
    if not ab.has_state:
        doc.p("Not checked: this run records no `metrics.system_state` (steal, foreign load, CPU speed probe, "
              "packet sizes, congestion control).")
        return
    fl = ab.flagged()
    if not fl:
        doc.p("None: every repetition ran in a normal state (steal, foreign load, CPU speed, packet batching and "
              "congestion control within the thresholds in \"How to read this\").")
        return
    n_ok = sum(1 for r in S.run.results if r.get("status") == "ok")
    keep = ("left out of every number in this report (--exclude-flagged)" if S.exclude_flagged else
            "kept in every number (nothing is dropped silently); `report --exclude-flagged` leaves them out")
    doc.p(f"{len(fl)} of {n_ok} successful repetitions ran in an abnormal state; they are {keep}. The table "
          f"\"With and without flagged repetitions\" below shows what they change.")
    by: dict[tuple, list[str]] = {}
    for r, flags in fl:
        by.setdefault((r["workload"], r["path"], M.config_signature(r)), []).append(
            f"rep {r.get('repetition', 0)}: " + "; ".join(map(str, flags)))
    items = [f"`{p}` / {w}: " + " · ".join(v) for (w, p, _), v in
             sorted(by.items(), key=lambda kv: (S.cat.workload_sort_key(kv[0][0]), S.cat.path_sort_key(kv[0][1])))]
    doc.ul(items[:40] + ([f"… and {len(items) - 40} more configurations"] if len(items) > 40 else []))


def with_without_section(doc: Doc, S: RunSummary, S_other: RunSummary | None) -> None:
    if S_other is None or not S.abnormal.flagged():
        return
    incl, excl = (S_other, S) if S.exclude_flagged else (S, S_other)
    doc.h2("With and without flagged repetitions")
    doc.p(f"Ratio to `{S.reference}` of each configuration touched by a flagged repetition (its own or the "
          f"reference's of the same index), with all repetitions and without the flagged ones.")
    rows = []
    for k, g in incl.items():
        if k.reference or k.path == incl.reference or not g.ok:
            continue
        base = incl.reference_group(k)
        reps = {int(r.get("repetition", 0)) for r in g.flagged} | (
            {int(r.get("repetition", 0)) for r in base.flagged} if base else set())
        if not reps:
            continue
        a = incl.ratio_to_reference(k, g.primary)
        b = excl.ratio_to_reference(k, g.primary) if k in excl else Ratio(None)
        met = M.METRICS.get(g.primary)
        rows.append([k.name, k.workload, met.label if met else "–", ", ".join(map(str, sorted(reps))),
                     ratio_text(a), verdict(a, met.higher_is_better if met else True),
                     ratio_text(b), verdict(b, met.higher_is_better if met else True)])
    doc.table(["configuration", "workload", "metric", "flagged reps", "all repetitions", "meaning",
               "without flagged", "meaning"], rows)


def build(run: Run, outdir: str, exclude_flagged: bool = False, native: Run | None = None) -> tuple[str, str, list]:
    S = summarize(run, exclude_flagged)
    S_other = summarize(run, not exclude_flagged) if S.abnormal.flagged() else None
    plotdir = os.path.join(outdir, "plots")
    figs = plot_all(run, S, plotdir)
    forest = [f for f in figs if f.name == "forest"]
    claims = [claim_tproxy(S), claim_ebpf_efficient(S, run), claim_ebpf_config(S)]
    doc = Doc()
    header(doc, run, S)
    for f in forest:
        doc.fig(f)
    if not forest:
        doc.p(f"No overview picture: the run has no successful result of the reference path "
              f"(`{S.reference or 'none in the catalogue'}`) to divide by.")
    doc.h2("Verdicts on three common claims")
    doc.ul([cl.line for cl in claims], cls="verdicts")
    reproducibility(doc, S)
    flagged_section(doc, S, S_other)
    doc.toc()
    paths_section(doc, S)
    claims_details(doc, claims)
    tables_section(doc, S)
    with_without_section(doc, S, S_other)
    scale_section(doc, S, figs)
    if native is not None:
        from .report_cost import section as cost_native_section
        cost_native_section(doc, run, S, native)
    api_section(doc, run, S)          # only for a run with HTTP workloads behind a gateway
    reference_section(doc, run, S)
    doc.h2("Plots")
    rest = [f for f in figs if f.name != "forest" and not f.name.startswith(("scale-", "sweep-"))]
    if not rest:
        doc.p("No further plots: the run has no successful measurements.")
    for f in rest:
        doc.fig(f)
    bpf_section(doc, run, S)
    failures_section(doc, run, S)
    environment_section(doc, run, S)
    method_section(doc, S)
    md_path = os.path.join(outdir, "report.md")
    html_path = os.path.join(outdir, "report.html")
    _write(md_path, to_markdown(doc, outdir))
    _write(html_path, to_html(doc, f"pathbench report: run {run.run_id}, Linux {run.kernel}"))
    return md_path, html_path, figs


def _write(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)