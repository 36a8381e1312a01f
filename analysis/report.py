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

import json
import os
import statistics

from . import metrics as M
from . import scale as SC
from .doc import Doc, to_html, to_markdown
from .load import Run
from .plots import bpf_stats, plot_all
from .stats import LEVEL_TEXT, Estimate, Ratio, median_ci, min_n_for_median_ci, paired_ratio
from .summary import RunSummary, numeric_label_key, rerun_movement, summarize, verdict
from . import state as ST

MINIMAL_PCT = 5.0   # claim 1: a cost above this (with 95% confidence) is not "minimal"

# Under TCG (qemu's software CPU) the cost of a path is not what it costs on hardware: measured on
# the development VM, tc-redirect came out 1.35x baseline under TCG against 1.07x natively.
TCG_NOTE = ("this run ran under TCG, qemu's software CPU emulation: its numbers are **functional truth, "
            "not performance truth**. Which paths work on this kernel, and their proofs, hold; ratios "
            "between paths do not (tc-redirect came out 1.35× baseline under TCG against 1.07× natively).")


# ---- small formatting helpers ---------------------------------------------------------------------

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


# ---- comparisons behind the claims --------------------------------------------------------------

class Comparison:
    """One path ÷ another path on one workload and metric (paired by repetition)."""

    def __init__(self, S: RunSummary, key: M.GroupKey, other: str, metric: str):
        self.key, self.other, self.metric = key, other, metric
        self.met = M.METRICS[metric]
        self.r = S.ratio(key, other, metric)
        self.label = SC.metric_label(S, key.workload, metric)

    @property
    def hib(self) -> bool:
        return self.met.higher_is_better

    def worse_beyond(self, pct: float) -> bool:
        """Worse by more than pct with 95% confidence: the whole interval beyond the margin."""
        if not self.r.has_ci:
            return False
        lim = pct / 100
        return self.r.hi < 1 - lim if self.hib else self.r.lo > 1 + lim

    def within(self, pct: float) -> bool:
        lim = pct / 100
        return self.r.has_ci and 1 - lim <= self.r.lo and self.r.hi <= 1 + lim

    def significant(self) -> str | None:
        """'better' / 'worse' when the interval excludes 1, else None."""
        if not self.r.has_ci or self.r.crosses_one:
            return None
        return "better" if (self.r.value > 1) == self.hib else "worse"

    def cost(self) -> float:
        """How much worse (positive) or better (negative) as a fraction, from the point estimate."""
        if self.r.value is None:
            return 0.0
        return (1 - self.r.value) if self.hib else (self.r.value - 1)

    def text(self) -> str:
        return f"`{self.key.path}` ÷ `{self.other}` on {self.key.workload} ({self.label}): {ratio_text(self.r)}"


def _default_groups(S: RunSummary, path: str):
    """The groups of a path used in claims: no reference rows; for a path-option sweep, only its
    smallest point (the others are in the scale section)."""
    out = {}
    for g in S.own():
        if g.key.path != path or not g.ok:
            continue
        k = (g.key.workload, g.key.variant)
        if k not in out or S.group_sort_key(g.key) < S.group_sort_key(out[k].key):
            out[k] = g
    return [out[k] for k in sorted(out, key=lambda k: (S.cat.workload_sort_key(k[0]), k[1]))]


def _comparisons(S: RunSummary, pairs, metrics=("primary", "cpu", "latency")) -> list[Comparison]:
    out = []
    for a, b in pairs:
        if not S.has_data(b):
            continue
        for g in _default_groups(S, a):
            keys = []
            if "primary" in metrics and g.primary:
                keys.append(g.primary)
            if "cpu" in metrics and g.cpu:
                keys.append(g.cpu)
            if "latency" in metrics:
                keys += [k for k in ("latency_ns.p50", "latency_ns.p99") if k in g.values]
            for mk in keys:
                c = Comparison(S, g.key, b, mk)
                if c.r.value is not None:
                    out.append(c)
    return out


def _comparison_table(cs: list[Comparison]) -> tuple[list[str], list[list[str]]]:
    header = ["comparison", "workload", "metric", "A ÷ B [95% CI]", "meaning", "n pairs"]
    rows = [[f"`{c.key.path}` ÷ `{c.other}`", c.key.workload + (f" ({c.key.variant})" if c.key.variant else ""),
             f"{c.label} ({'↑' if c.hib else '↓'} better)", ratio_text(c.r), verdict(c.r, c.hib), str(c.r.n)]
            for c in cs]
    return header, rows


class Claim:
    def __init__(self, title: str):
        self.title = title
        self.word = "Could not be checked"     # bold verdict word(s)
        self.sentence = ""
        self.details: list = []                # callables(doc) adding the evidence

    @property
    def line(self) -> str:
        return f"**{self.title}** — **{self.word}**: {self.sentence}"


def _no_ci_phrase(cs: list[Comparison]) -> str:
    ns = sorted({c.r.n for c in cs})
    return f"no {LEVEL_TEXT} interval exists with n={'/'.join(map(str, ns))} repetitions (needs {_need_n()})"


def claim_tproxy(S: RunSummary) -> Claim:
    cl = Claim("\"TPROXY's performance impact is minimal\"")
    cat, ref = S.cat, S.reference
    tps = [p for p in cat.select(S.paths(), technology="tproxy", kinds=("intercepted",)) if S.has_data(p)]
    if not tps:
        cl.sentence = "this run has no successful TPROXY interception path (technology tproxy, kind intercepted)."
        return cl
    # The interception's own cost: against compare_against (the same proxy without interception).
    own_pairs = [(p, cat.counterpart(p)) for p in tps if cat.counterpart(p) and S.has_data(cat.counterpart(p))]
    total_pairs = [(p, ref) for p in tps if ref and S.has_data(ref)]
    own = _comparisons(S, own_pairs)
    total = _comparisons(S, total_pairs, metrics=("primary",))
    cs = own or _comparisons(S, total_pairs)
    basis = (f"the interception itself ({_paths_text(tps)} ÷ their `compare_against` "
             f"{_paths_text(sorted({b for _, b in own_pairs}))}, the same proxy, no interception)" if own else
             f"the whole path, proxy included ({_paths_text(tps)} ÷ `{ref}`; their `compare_against` was not run)")
    if not cs:
        cl.sentence = f"no path to set {_paths_text(tps)} against was measured."
        return cl
    tot_txt = ""
    if total:
        vals = [c.r.value for c in total]
        tot_txt = f" With the proxy: {min(vals):.2f}–{max(vals):.2f}× `{ref}`'s primary metric."
    with_ci = [c for c in cs if c.r.has_ci]
    bad = sorted([c for c in cs if c.worse_beyond(MINIMAL_PCT)], key=lambda c: -c.cost())
    if bad:
        w = bad[0]
        cl.word = "Contradicted"
        cl.sentence = (f"{basis} costs more than {MINIMAL_PCT:g}% with 95% confidence in "
                       f"{len(bad)} of {len(cs)} comparisons, most: {w.text()}." + tot_txt)
    elif not with_ci:
        worst = max(cs, key=lambda c: c.cost())
        cl.word = "Not decided"
        cl.sentence = (f"{_no_ci_phrase(cs)}; point estimates of the cost of {basis} reach "
                       f"{worst.cost() * 100:.0f}% ({worst.text()})." + tot_txt)
    elif len(with_ci) == len(cs) and all(c.within(MINIMAL_PCT) for c in cs):
        cl.word = "Supported"
        cl.sentence = (f"for {basis} every 95% interval lies within ±{MINIMAL_PCT:g}% of 1 (work rate, CPU per unit "
                       f"of work, latency; {len(cs)} comparisons)." + tot_txt)
    else:
        widest = max(with_ci, key=lambda c: max(1 - c.r.lo, c.r.hi - 1))
        cl.word = "Not decided"
        cl.sentence = (f"for {basis} no comparison shows a cost above {MINIMAL_PCT:g}% with 95% confidence, but "
                       f"{sum(1 for c in cs if not c.within(MINIMAL_PCT))} of {len(cs)} intervals reach beyond "
                       f"±{MINIMAL_PCT:g}% (widest: {widest.text()})." + tot_txt)

    def details(doc: Doc):
        doc.p(f"Set against each other: {basis}. \"More than {MINIMAL_PCT:g}%\" means the whole 95% "
              f"interval lies beyond {MINIMAL_PCT:g}% on the worse side; \"supported\" needs every interval inside "
              f"±{MINIMAL_PCT:g}%.")
        doc.table(*_comparison_table(cs))
        if own and total:
            doc.p(f"For context, the whole path (proxy included) against `{ref}`:")
            doc.table(*_comparison_table(total))
    cl.details.append(details)
    return cl


def claim_ebpf_efficient(S: RunSummary, run: Run) -> Claim:
    cl = Claim("\"eBPF is highly efficient\"")
    cat, ref = S.cat, S.reference
    have = [p for p in S.paths() if S.has_data(p)]
    ebpf_int = cat.select(have, technology="ebpf", kinds=("intercepted",))
    ebpf_fwd = cat.select(have, technology="ebpf", kinds=("bpf-forwarded",))
    tps = cat.select(have, technology="tproxy", kinds=("intercepted",))
    pairs = [(e, t) for e in ebpf_int for t in tps]
    for f in ebpf_fwd:
        c = cat.counterpart(f)
        pairs.append((f, c if c and S.has_data(c) else ref))
    pairs = [(a, b) for a, b in pairs if b and S.has_data(b)]
    if not pairs:
        cl.sentence = ("it needs an eBPF path (technology ebpf) and its like-for-like counterpart (a TPROXY "
                       "interceptor, or the forwarding path's compare_against) in the same run.")
        return cl
    cs = _comparisons(S, pairs, metrics=("cpu",))
    ctx = _comparisons(S, pairs, metrics=("primary",))
    if not cs:
        cl.sentence = "no CPU cost per unit of work was recorded."
        return cl
    better = sorted([c for c in cs if c.significant() == "better"], key=lambda c: c.cost())
    worse = sorted([c for c in cs if c.significant() == "worse"], key=lambda c: -c.cost())
    what = "CPU per unit of work, each eBPF path against its like-for-like counterpart"
    if not any(c.r.has_ci for c in cs):
        best = min(cs, key=lambda c: c.cost())
        cl.word = "Not decided"
        cl.sentence = (f"{_no_ci_phrase(cs)}; point estimates of {what} range from {min(c.r.value for c in cs):.2f}× "
                       f"to {max(c.r.value for c in cs):.2f}× (lowest: {best.text()}).")
    elif better and not worse:
        cl.word = "Supported" if len(better) == len(cs) else "Supported in part"
        cl.sentence = (f"eBPF uses significantly less CPU per unit of work in {len(better)} of {len(cs)} comparisons "
                       f"({what}); the largest saving: {better[0].text()}.")
    elif worse and not better:
        cl.word = "Contradicted"
        cl.sentence = (f"in none of {len(cs)} comparisons ({what}) does eBPF use significantly less CPU, in "
                       f"{len(worse)} it uses more; the largest: {worse[0].text()}.")
    elif better and worse:
        cl.word = "Mixed"
        cl.sentence = (f"eBPF uses significantly less CPU per unit of work than its like-for-like counterpart in "
                       f"{len(better)} and more in {len(worse)} of {len(cs)} comparisons; best {better[0].text()}, "
                       f"worst {worse[0].text()}.")
    else:
        cl.word = "Not supported, not contradicted"
        cl.sentence = f"none of the {len(cs)} comparisons ({what}) shows a significant difference at 95%."

    def details(doc: Doc):
        doc.p("Compared like with like: eBPF steering into the proxy (technology ebpf, kind intercepted) against "
              "netfilter TPROXY into the same proxy, and eBPF forwarding (kind bpf-forwarded) against its "
              "`compare_against` path (the reference path when that one was not run). Netfilter and kernel "
              "forwarding run in the kernel too: where in the stack the work happens, and whether a user-space "
              "proxy is involved, separates these paths.")
        doc.table(*_comparison_table(cs + ctx))
        note = _offload_note(run, S, sorted({a for a, _ in pairs}, key=cat.path_sort_key))
        if note:
            doc.p(note)
        bs = bpf_stats(run.results)
        if bs:
            per_prog: dict[tuple[str, str], list[float]] = {}
            for (p, wl, prog), vals in bs.items():
                per_prog.setdefault((p, prog), []).append(median_ci(vals).median)
            items = [f"`{p}`: program `{prog}` {M.fmt(min(v))}–{M.fmt(max(v))} ns per run" if len(v) > 1 and
                     M.fmt(min(v)) != M.fmt(max(v)) else f"`{p}`: program `{prog}` {M.fmt(v[0])} ns per run"
                     for (p, prog), v in sorted(per_prog.items(), key=lambda kv: (cat.path_sort_key(kv[0][0]), kv[0][1]))]
            doc.p("In-kernel cost of the BPF programs themselves (median per workload, range over workloads):")
            doc.ul(items)
    cl.details.append(details)
    return cl


# ---- configuration effort (path_instances[].configuration) ----------------------------------------

PER_SERVICE_COUNTS = ("bpf_map_entries", "nft_set_elements")   # data per service, not objects to configure


def config_effort(S: RunSummary) -> dict[tuple[str, str], dict]:
    """(path, path options label) -> medians over the path's instances: every count, objects (counts
    without per-service entries), per-service entries, commands, syscalls, setup and teardown time."""
    inst = S.run.doc.get("path_instances")
    acc: dict[tuple[str, str], list[dict]] = {}
    for i in inst if isinstance(inst, list) else []:
        if not isinstance(i, dict) or not isinstance(i.get("configuration"), dict):
            continue
        acc.setdefault((str(i.get("path")), M.variant_label(i.get("path_options"))), []).append(i["configuration"])
    out = {}
    for key, cfgs in acc.items():
        row: dict = {"instances": len(cfgs)}
        counts: dict[str, list[float]] = {}
        for c in cfgs:
            cc = c.get("counts") if isinstance(c.get("counts"), dict) else {}
            for k, v in cc.items():
                if M.is_num(v):
                    counts.setdefault(k, []).append(float(v))
        # absent = 0: a count missing from one instance but present in another is 0 there
        row["counts"] = {k: statistics.median(v + [0.0] * (len(cfgs) - len(v))) for k, v in counts.items()}
        row["objects"] = sum(v for k, v in row["counts"].items() if k not in PER_SERVICE_COUNTS)
        row["entries"] = sum(v for k, v in row["counts"].items() if k in PER_SERVICE_COUNTS)
        for k in ("commands", "syscalls", "setup_ns", "teardown_ns"):
            vals = [float(c[k]) for c in cfgs if M.is_num(c.get(k))]
            row[k] = median_ci(vals) if vals else None
        out[key] = row
    return out


def claim_ebpf_config(S: RunSummary) -> Claim:
    cl = Claim("\"eBPF needs less configuration\"")
    eff = config_effort(S)
    if not eff:
        cl.sentence = ("this run records no configuration (`path_instances[].configuration`: schema 2), so it says "
                       "nothing about it.")
        return cl
    cat = S.cat
    have = [p for p in S.paths() if S.has_data(p)]
    ebpf = cat.select(have, technology="ebpf", kinds=("intercepted",))
    tps = cat.select(have, technology="tproxy", kinds=("intercepted",))

    def smallest(p):
        ks = sorted((k for k in eff if k[0] == p), key=lambda k: numeric_label_key(k[1]))
        return eff[ks[0]] if ks else None
    pairs = [(e, t, smallest(e), smallest(t)) for e in ebpf for t in tps]
    pairs = [x for x in pairs if x[2] and x[3]]
    cl.details.append(lambda doc: config_table(doc, S, eff))
    if not pairs:
        cl.sentence = "it needs both an eBPF and a TPROXY interception path with recorded configuration."
        return cl
    less = [x for x in pairs if x[2]["objects"] < x[3]["objects"]]
    more = [x for x in pairs if x[2]["objects"] > x[3]["objects"]]
    e_obj = sorted({x[2]["objects"] for x in pairs})
    t_obj = sorted({x[3]["objects"] for x in pairs})
    rng = lambda v: f"{v[0]:g}" if len(v) == 1 else f"{v[0]:g}–{v[-1]:g}"

    def how(p):
        r = smallest(p)
        c, s = r.get("commands"), r.get("syscalls")
        return f"{c.median:g} commands + {s.median:g} syscalls" if c and s else "commands/syscalls not recorded"
    setup = lambda ps: [smallest(p)["setup_ns"].median / 1e6 for p in ps if smallest(p) and smallest(p).get("setup_ns")]
    es, ts = setup(ebpf), setup(tps)
    st_txt = (f"; setup takes {min(es):.0f}–{max(es):.0f} ms against {min(ts):.0f}–{max(ts):.0f} ms" if es and ts else "")
    base = (f"eBPF interceptors ({_paths_text(ebpf)}) install {rng(e_obj)} objects ({how(ebpf[0])}), TPROXY ones "
            f"({_paths_text(tps)}) {rng(t_obj)} ({how(tps[0])}){st_txt}")
    if less and not more:
        cl.word = "Supported"
        cl.sentence = base + " (counted from each path's own undo log; per-service map entries and set elements are data, not counted)."
    elif more and not less:
        cl.word = "Contradicted"
        cl.sentence = base + " (counted from each path's own undo log; per-service map entries and set elements are data, not counted)."
    else:
        cl.word = "Mixed" if less and more else "Neither"
        cl.sentence = base + "."
    return cl


def config_table(doc: Doc, S: RunSummary, eff: dict) -> None:
    keys = sorted(eff, key=lambda k: (S.cat.path_sort_key(k[0]), numeric_label_key(k[1])))
    counts = sorted({c for k in keys for c, v in eff[k]["counts"].items() if v})
    header = ["path", "technology"] + counts + ["objects", "per-service entries", "commands", "syscalls",
                                                "setup ms", "teardown ms", "instances"]
    rows = []
    for k in keys:
        e = eff[k]
        ms = lambda x: "–" if not x else M.fmt(x.median / 1e6)
        rows.append([f"`{k[0]}`" + (f" ({k[1]})" if k[1] else ""), S.cat.path(k[0]).technology]
                    + [M.fmt(e["counts"].get(c, 0)) for c in counts]
                    + [M.fmt(e["objects"]), M.fmt(e["entries"]),
                       M.fmt(e["commands"].median) if e["commands"] else "–",
                       M.fmt(e["syscalls"].median) if e["syscalls"] else "–",
                       ms(e["setup_ns"]), ms(e["teardown_ns"]), str(e["instances"])])
    doc.p("What each path installed, from its own undo log (`path_instances[].configuration`), median over its "
          "instances. \"objects\" adds up the counts except per-service data (BPF map entries, nft set elements); "
          "commands are external programs run (ip, nft, iptables, ethtool), syscalls the bpf()/setsockopt-level "
          "steps done in-process.")
    doc.table(header, rows)


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
    if run.status != "complete":
        doc.p(f"**Warning: this run is {run.status}**"
              f"{': ' + str(run.doc.get('status_reason')) if run.doc.get('status_reason') else ''}. "
              f"Results below are what was recorded before it stopped.", cls="warn")


def reproducibility(doc: Doc, S: RunSummary) -> None:
    ref = S.reference
    doc.h2("How reproducible these ratios are")
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


# ---- details -----------------------------------------------------------------------------------------

def paths_section(doc: Doc, S: RunSummary) -> None:
    doc.h2("What this run shows")
    ref = S.reference
    doc.p("Paths in this run (traits from the run's catalogue):")
    doc.ul(f"`{p}` ({S.cat.path(p).kind}, {S.cat.path(p).technology}"
           + (f", set against `{S.cat.counterpart(p)}`" if S.cat.counterpart(p) else "") + "): "
           + (S.cat.path(p).description or "no description in the catalogue")
           + (f" — control for {S.cat.path(p).control_for}" if S.cat.path(p).control_for else "")
           for p in S.paths())
    items = []
    for wl in S.workloads():
        gs = [g for g in S.own(wl) if not g.key.pvariant or g in _default_groups(S, g.key.path)]
        primary = next((g.primary for g in gs if g.primary), None)
        if primary is None or primary not in M.METRICS:
            items.append(f"**{wl}**: no successful measurement.")
            continue
        met = M.METRICS[primary]
        base = next((g for g in gs if g.key.path == ref), None)
        if base is None or base.estimate(primary).median is None:
            items.append(f"**{wl}** ({met.label}): `{ref}` not measured, so no ratios.")
            continue
        buckets: dict[str, list[str]] = {}
        for g in gs:
            if g.key.path == ref or g.estimate(primary).median is None:
                continue
            r = S.ratio_to_reference(g.key, primary)
            if r.value is not None:
                buckets.setdefault(short_verdict(r, met.higher_is_better), []).append(f"{g.key.name} {r.value:.2f}×")
        parts = [f"`{ref}` {est_text(base.estimate(primary), met, False)} {met.unit}"]
        for k, what in (("better", f"significantly above `{ref}`"), ("no sig. difference", f"no significant difference"),
                        ("worse", f"significantly below `{ref}`"), ("no 95% CI", f"no {LEVEL_TEXT} interval")):
            if buckets.get(k):
                parts.append(f"{what}: " + ", ".join(buckets[k]))
        items.append(f"**{wl}** ({met.label}, higher is better): " + "; ".join(parts) + ".")
    doc.ul(items)


def claims_details(doc: Doc, claims: list[Claim]) -> None:
    doc.h2("The claims in detail")
    for cl in claims:
        doc.h3(cl.title)
        doc.p(f"**{cl.word}**: {cl.sentence}")
        for d in cl.details:
            d(doc)


def tables_section(doc: Doc, S: RunSummary) -> None:
    ref = S.reference
    doc.h2(f"Medians, intervals and ratios to {ref}")
    doc.p(f"Median over successful repetitions with its {LEVEL_TEXT} interval in brackets (none below n={_need_n()}); "
          f"ratios are paired by repetition (median of path ÷ `{ref}` per repetition) with their {LEVEL_TEXT} interval; "
          f"\"× counterpart\" is the ratio to the path's `compare_against`. \"better/worse\" only where the interval "
          f"excludes 1. Latency columns are medians of the per-repetition percentiles, in µs; \"flagged\" counts "
          f"repetitions that ran in an abnormal state.")
    for wl in S.workloads():
        gs = [g for k, g in S.items() if k.workload == wl and not k.reference]
        primary = next((g.primary for g in gs if g.primary), None)
        cpu = next((g.cpu for g in gs if g.cpu), None)
        pm = M.METRICS.get(primary) if primary else None
        cm = M.METRICS.get(cpu) if cpu else None
        has_lat = any(g.estimate("latency_ns.p50").median is not None for g in gs)
        has_conn = any(g.estimate("connect_latency_ns.p50").median is not None for g in gs)
        header = ["path", "reps ok", "flagged"]
        if pm:
            header += [pm.heading, f"× {ref}", "vs ref", "× counterpart"]
        if cm:
            header += [cm.heading, f"× {ref}", "vs ref"]
        if has_lat:
            header += ["p50 µs", "p99 µs", "p99.9 µs"]
        if has_conn:
            header += ["connect p50 µs", "connect p99 µs"]
        rows = []
        for g in gs:
            row = [g.key.name, f"{len(g.ok)}/{len(g.results)}", str(len(g.flagged)) if g.flagged else ""]
            if not g.ok:
                st = sorted({str(r.get("status")) for r in g.results})
                rows.append(row + [" / ".join(st) + " (reason below)"] + [""] * (len(header) - 4))
                continue
            is_ref = g.key.path == ref
            for m, met in ((primary, pm), (cpu, cm)):
                if not met:
                    continue
                r = S.ratio_to_reference(g.key, m)
                row += [est_text(g.estimate(m), met), "1 (reference)" if is_ref and r.value else ratio_text(r),
                        "" if is_ref else short_verdict(r, met.higher_is_better)]
                if m == primary:
                    c = S.cat.counterpart(g.key.path)
                    rc = S.ratio_to_counterpart(g.key, m)
                    row.append("" if not c or c == ref else (f"{ratio_text(rc)} ÷ {c}" if rc.value else f"– ({c} not run)"))
            if has_lat:
                for lk in ("latency_ns.p50", "latency_ns.p99", "latency_ns.p999"):
                    row.append(est_text(g.estimate(lk), M.METRICS[lk], with_ci=False))
            if has_conn:
                for lk in ("connect_latency_ns.p50", "connect_latency_ns.p99"):
                    row.append(est_text(g.estimate(lk), M.METRICS[lk], with_ci=False))
            rows.append(row)
        doc.h3(wl)
        doc.table(header, rows)


def scale_section(doc: Doc, S: RunSummary, figs) -> None:
    sweeps = SC.path_sweeps(S)
    wsweeps = SC.workload_sweeps(S)
    upd = SC.update_rows(S)
    if not sweeps and not wsweeps and not upd:
        return
    doc.h2("Scale")
    if sweeps:
        axes = sorted({a for _, a in sweeps})
        doc.p(f"Cost against {', '.join(axes)} per path that accepts it (each installs them its own natural way: "
              f"rules, set elements, map entries); medians with {LEVEL_TEXT} intervals, log x.")
    for f in figs:
        if f.name.startswith("scale-") or f.name.startswith("sweep-"):
            doc.fig(f)
    if sweeps:
        doc.h3("Where eBPF's advantage appears")
        xs = SC.crossovers(S)
        if not xs:
            doc.p("No pair to compare: it needs an eBPF interceptor (technology ebpf, kind intercepted) and a "
                  "TPROXY one (technology tproxy, kind intercepted) measured at the same N.")
        else:
            doc.p(f"For each eBPF interceptor against each TPROXY interceptor, paired by repetition at equal N: the N "
                  f"from which eBPF is significantly better ({LEVEL_TEXT} interval of the ratio on the better side of 1) "
                  f"at that N and every larger one, the crossover lying between the N before and that N.")
            by_pair: dict[tuple, list[str]] = {}
            for x in xs:
                by_pair.setdefault((x.workload, x.ebpf, x.tproxy), []).append(x.text)
            for (wl, e, t), texts in by_pair.items():
                doc.p(f"**`{e}` against `{t}`** ({wl}):")
                doc.ul(texts)
    if upd:
        doc.h3("Install time and update cost per path")
        doc.p("From `path_instances[].scale`, medians over instances: the time to install N services, and the cost "
              "of adding / removing one more service (p50 and p90 of the recorded updates).")
        ms = lambda e: "–" if not isinstance(e, Estimate) else M.fmt(e.median / 1e6)
        us = lambda e: "–" if not isinstance(e, Estimate) else M.fmt(e.median / 1e3)
        mem = lambda r: "–" if not isinstance(r.get("memory_bytes"), Estimate) else M.fmt(r["memory_bytes"].median / 1024)
        doc.table(["path", "services", "match position", "install ms", "add p50 µs", "add p90 µs", "remove p50 µs",
                   "remove p90 µs", "memory KiB", "memory source", "instances"],
                  [[f"`{r['path']}`", f"{int(r['services']):,}" if M.is_num(r["services"]) else "–", r["match_position"] or "–",
                    ms(r.get("install_ns")), us(r.get("add_ns.p50")), us(r.get("add_ns.p90")), us(r.get("remove_ns.p50")),
                    us(r.get("remove_ns.p90")), mem(r), r.get("memory_source", "–"), str(r["instances"])] for r in upd])


def offload_changes(run: Run) -> dict[str, set[tuple[str, str, str, str]]]:
    """path -> {(interface, feature, before, during)} from proof.offloads, which paths record when
    their run's NIC offloads differ from the run's start (xdp-redirect: tx checksumming turned off
    on the end veths, and the kernel turns TSO off on a veth whose peer runs native XDP).
    Reads both recorded shapes, {"iface": {"feature", "before", "during"}} and
    {"iface": {"changed": {...}, "during": {feature: value}}}, the latter compared with
    environment.offloads; anything else is ignored."""
    env_off = run.environment.get("offloads")
    env_off = env_off if isinstance(env_off, dict) else {}
    out: dict[str, set] = {}
    for r in run.results:
        proof = r.get("proof")
        off = proof.get("offloads") if isinstance(proof, dict) else None
        if not isinstance(off, dict):
            continue
        found = out.setdefault(r["path"], set())
        for iface, v in off.items():
            if not isinstance(v, dict):
                continue
            changed = v.get("changed", v if "feature" in v else None)
            for e in changed if isinstance(changed, list) else [changed]:
                if isinstance(e, dict) and "feature" in e:
                    found.add((str(iface), str(e["feature"]), str(e.get("before", "?")), str(e.get("during", "?"))))
            during = v.get("during")
            if isinstance(during, dict):
                before = env_off.get(iface) if isinstance(env_off.get(iface), dict) else {}
                for feat, val in during.items():
                    if feat in before and str(before[feat]) != str(val):
                        found.add((str(iface), str(feat), str(before[feat]), str(val)))
        if not found:
            del out[r["path"]]
    return out


def _offload_note(run: Run, S: RunSummary, paths_: list[str]) -> str | None:
    ch = offload_changes(run)
    parts = []
    for p in paths_:
        if ch.get(p):
            items = ", ".join(f"{f} {b}→{d} on {i}" for i, f, b, d in sorted(ch[p]))
            parts.append(f"`{p}` ran with {items}")
    if not parts:
        return None
    return ("Offloads differed during some paths' runs (recorded in `proof.offloads`): " + "; ".join(parts)
            + ", so part of such a path's difference to the reference path may come from the offload setting "
              "rather than from the path itself.")


def reference_section(doc: Doc, run: Run, S: RunSummary) -> None:
    refs = [(k, g) for k, g in S.items() if k.reference]
    if not refs:
        return
    doc.h2("pathbench beside reference tools")
    doc.p("Rows measured by an established tool on the same topology, shown beside pathbench's own "
          "measurement of the same path and workload (paired by repetition). A ratio far from 1 means the two "
          "tools do not measure the same thing (or one of them measures itself).")
    rows = []
    for k, g in refs:
        own = S.get(M.GroupKey(k.workload, k.path, k.variant, "", k.pvariant))
        met = M.METRICS.get(g.primary) if g.primary else None
        ref = next((r.get("reference") for r in g.results if isinstance(r.get("reference"), dict)), {})
        r = (paired_ratio(own.by_rep[g.primary], g.by_rep[g.primary])
             if own and g.primary in own.by_rep and g.primary in g.by_rep else Ratio(None))
        rows.append([k.path, k.workload, f"{ref.get('tool', '?')} {ref.get('version', '')}".strip(),
                     f"{est_text(own.estimate(g.primary), met) if own else '–'} {met.unit if met else ''}",
                     f"{est_text(g.estimate(g.primary), met)} {met.unit if met else ''}",
                     ratio_text(r), f"`{ref.get('command', '')}`" if ref.get("command") else ""])
    doc.table(["path", "workload", "reference tool", "pathbench", "reference", "pathbench ÷ reference",
               "reference command"], rows)


def bpf_section(doc: Doc, run: Run, S: RunSummary) -> None:
    bs = bpf_stats(run.results)
    doc.h2("In-kernel BPF program cost")
    if not bs:
        doc.p("No BPF statistics (`proof.bpf_stats`) in this run.")
        return
    rows = []
    for (p, wl, prog), vals in sorted(bs.items(), key=lambda kv: (S.cat.path_sort_key(kv[0][0]), S.cat.workload_sort_key(kv[0][1]), kv[0][2])):
        e = median_ci(vals)
        ci = f"[{M.fmt(e.lo)}–{M.fmt(e.hi)}]" if e.has_ci else "[no 95% CI]"
        rows.append([p, wl, f"`{prog}`", f"{M.fmt(e.median)} {ci}", str(len(vals))])
    doc.table(["path", "workload", "program", "ns per run", "repetitions"], rows)


def failures_section(doc: Doc, run: Run, S: RunSummary) -> None:
    doc.h2("Skipped and failed results")
    agg: dict[tuple, list[int]] = {}
    for r in run.results:
        if r.get("status") != "ok":
            k = (r["path"], r["workload"], r.get("status"), str(r.get("reason") or "no reason recorded"))
            agg.setdefault(k, []).append(int(r.get("repetition", 0)))
    proof_bad: dict[tuple, list[int]] = {}
    for r in run.results:
        pr = r.get("proof")
        if r.get("status") == "ok" and isinstance(pr, dict) and pr.get("ok") is False:
            proof_bad.setdefault((r["path"], r["workload"]), []).append(int(r.get("repetition", 0)))
    if not agg:
        doc.p("None: every result has status ok.")
    else:
        # Paths that failed or skipped the same workload for the same reason share one row.
        merged: dict[tuple, list[str]] = {}
        for (p, w, st, reason), reps in agg.items():
            merged.setdefault((w, st, reason, ", ".join(map(str, sorted(reps)))), []).append(p)
        rows = [[", ".join(sorted(ps, key=S.cat.path_sort_key)), w, st, reps, reason]
                for (w, st, reason, reps), ps in sorted(merged.items(), key=lambda kv: (
                    kv[0][1] != "failed", S.cat.workload_sort_key(kv[0][0]), S.cat.path_sort_key(min(kv[1], key=S.cat.path_sort_key)),
                    kv[0][2]))]
        doc.table(["paths", "workload", "status", "repetitions", "reason"], rows)
    n_ok = sum(1 for r in run.results if r.get("status") == "ok")
    n_proof = sum(1 for r in run.results if r.get("status") == "ok" and isinstance(r.get("proof"), dict)
                  and r["proof"].get("ok") is True)
    doc.p(f"Proof of path (traffic verifiably took the path under test): {n_proof} of {n_ok} successful "
          f"results carry `proof.ok = true`.")
    if proof_bad:
        doc.p("**Results whose proof failed** (their numbers may not describe the named path):")
        doc.ul(f"{p} / {w}, repetitions {', '.join(map(str, sorted(v)))}" for (p, w), v in sorted(proof_bad.items()))


def _flat(d, prefix="") -> list[tuple[str, str]]:
    out = []
    if isinstance(d, dict):
        for k in sorted(d):
            out += _flat(d[k], f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(d, list):
        out.append((prefix, ", ".join(json.dumps(x) if not isinstance(x, str) else x for x in d)))
    else:
        out.append((prefix, "null" if d is None else str(d)))
    return out


def environment_section(doc: Doc, run: Run, S: RunSummary) -> None:
    env = run.environment
    doc.h2("Environment")
    keys = [("kernel_release", "kernel release"), ("kernel_version", "kernel build"),
            ("kernel_config_sha256", "kernel config sha256"), ("cpu_model", "CPU"), ("nproc", "CPUs"),
            ("compiler", "compiler"), ("libbpf_version", "libbpf"), ("libpcap_version", "libpcap"),
            ("boost_version", "Boost")]
    rows = [[label, str(env.get(k)) if env.get(k) is not None else "not recorded"] for k, label in keys]
    tool = run.doc.get("tool") if isinstance(run.doc.get("tool"), dict) else {}
    rows.append(["pathbench", f"{tool.get('version', '?')} (git {tool.get('git_sha', '?')})"])
    pin = env.get("cpu_pinning")
    rows.append(["CPU pinning", "; ".join(f"{k}={v}" for k, v in _flat(pin)) if pin else "not recorded"])
    rows.append(["where it ran", run.where])
    known = {k for k, _ in keys} | {"cpu_pinning", "offloads", "sysctls", "netns_sysctls", "topology", "tools",
                                    "virtualization", "features"}
    for k in sorted(env):
        if k not in known and not isinstance(env[k], (dict, list)):
            rows.append([k, str(env[k])])
    doc.table(["what", "value"], rows)

    off = env.get("offloads")
    if isinstance(off, dict) and off:
        feats = sorted({f for v in off.values() if isinstance(v, dict) for f in v})
        ifs = sorted(off)
        doc.h3("NIC offloads (per interface)")
        doc.table(["feature"] + ifs,
                  [[f] + [str(off[i].get(f, "–")) if isinstance(off[i], dict) else "–" for i in ifs] for f in feats])
    else:
        doc.p("Offloads: not recorded.")
    ch = offload_changes(run)
    if ch:
        doc.h3("Offloads changed by paths for their runs")
        doc.table(["path", "interface", "feature", "before", "during the path's runs"],
                  [[p, i, f, b, d] for p in sorted(ch, key=S.cat.path_sort_key) for i, f, b, d in sorted(ch[p])])
    virt = run.virtualization
    if virt:
        doc.h3("Virtualization")
        doc.table(["key", "value"], [[k, v] for k, v in _flat(virt)])
    feats = env.get("features")
    if isinstance(feats, dict) and feats:
        doc.h3("Kernel features (change which attach mode or path is used)")
        doc.table(["feature", "available", "reason"],
                  [[f, str(v.get("available")) if isinstance(v, dict) else str(v),
                    str(v.get("reason") or "") if isinstance(v, dict) else ""] for f, v in sorted(feats.items())])
    tools = env.get("tools")
    if isinstance(tools, dict) and tools:
        doc.h3("Tools")
        doc.table(["tool", "version"], [[k, str(tools[k])] for k in sorted(tools)])
    for key, title in (("sysctls", "Host sysctls"), ("netns_sysctls", "Namespace sysctls"),
                       ("topology", "Topology")):
        v = env.get(key)
        if isinstance(v, dict) and v:
            doc.h3(title)
            doc.table(["key", "value"], [[k, val] for k, val in _flat(v)])
    opts = run.doc.get("options")
    if isinstance(opts, dict) and opts:
        doc.h3("Resolved options (reproduce the run with these)")
        doc.table(["option", "value"], [[k, val] for k, val in _flat(opts)])




def method_section(doc: Doc, S: RunSummary) -> None:
    ref = S.reference
    doc.h2("How to read this")
    doc.ul([
        "Each number is the **median over repetitions**; repetitions of all paths are interleaved in one run "
        "(rep 0 of every path, then rep 1 ...), so slow drift of the machine affects every path alike. Compare paths "
        "within one run; to compare runs (e.g. two kernels) use `python3 -m analysis compare A B`.",
        f"Every interval is a **{LEVEL_TEXT} interval**, or there is none: distribution-free order-statistic "
        f"(binomial) intervals of the median, which need at least {_need_n()} repetitions at {LEVEL_TEXT}. With fewer, "
        f"the report says \"CI unavailable at {LEVEL_TEXT} with n=…\" rather than showing a lower level "
        f"(the min–max of 3 repetitions covers the median only 75% of the time).",
        f"**Paired ratios**: a path's repetition i is divided by `{ref}`'s repetition i (same workload and options), "
        f"and the ratio is the median of those per-repetition ratios with its {LEVEL_TEXT} interval. Pairing cancels "
        f"drift between repetitions. Without common repetitions, the conservative ratio of medians is used "
        f"([low A ÷ high B, high A ÷ low B], each median at √95% so that the pair holds at ≥ {LEVEL_TEXT}). "
        f"better/worse only where the interval excludes 1; \"no significant difference\" is not proof of equality.",
        "**Rerun movement** (split-half): the run's repetitions are split into two halves every balanced way; "
        "|median ratio of one half ÷ of the other − 1| ÷ √2 is how far two half-runs disagree, scaled to two full "
        "runs. \"Typically\" is the median over splits, \"up to\" their 90th percentile. On the development VM "
        "(12 A/A comparisons of 8-repetition runs) the observed movement was below the typical value 7 times and "
        "below the 90% value 11 times. Two back-to-back 3-repetition suites moved ratios by a median 2% and up "
        "to 8.7%, which 3 repetitions cannot predict: hence \"not estimable\" below 4.",
        "**Abnormal repetitions** (from `metrics.system_state`): steal above "
        f"{ST.STEAL_MAX_FRACTION * 100:g}% of the window; other CPUs busy above {ST.FOREIGN_BUSY_MAX_FRACTION * 100:g}% "
        f"(foreign load); the CPU speed probe taking more than {ST.SPEED_SLOWER_MAX * 100:g}% longer than the run's median; "
        f"bytes per packet on a DUT interface more than {ST.BYTES_PER_PACKET_MAX_DEVIATION * 100:g}% from the "
        "configuration's median (another GSO/GRO batching state); a congestion control other than the run's. "
        "Thresholds and the measurements behind them are in analysis/state.py. Flagged repetitions are shown and "
        "kept unless `--exclude-flagged` is given.",
        "Latency curves come from the latency histograms stored for every repetition, merged, not from the summary "
        "percentiles. Histogram buckets are under 0.8% wide, so percentiles are that precise.",
        "CPU cost is whole-machine busy time (user + system + softirq, from /proc/stat) over the measured window "
        "divided by the work done: it includes the load generator and the server, which do roughly the same work "
        "per unit for every path, so differences between paths are mostly the path's cost.",
    ])


def build(run: Run, outdir: str, exclude_flagged: bool = False) -> tuple[str, str, list]:
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
