# SPDX-License-Identifier: Apache-2.0
"""The report's three claims ("TPROXY's performance impact is minimal", "eBPF is highly efficient",
"eBPF needs less configuration"): the comparisons behind them, their verdict words and evidence.

Which paths a claim is about comes from the run's catalogue (technology, kind, compare_against),
never from names.  A difference is named only when the ratio's interval excludes 1: a 95% interval
in a time-based run, the cost mode's own A/A bound in a cost-mode run (analysis/cost.py).
"""

from __future__ import annotations

import statistics

from . import metrics as M
from . import scale as SC
from .doc import Doc
from .load import Run
from .plots import bpf_stats
from .stats import LEVEL_TEXT, median_ci
from .summary import RunSummary, numeric_label_key, verdict
from .report_format import _need_n, _paths_text, ratio_text

MINIMAL_PCT = 5.0   # claim 1: a cost above this (with 95% confidence) is not "minimal"


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
                keys += [k for k in (S.units.latency("p50"), S.units.latency("p99")) if k in g.values]
            for mk in dict.fromkeys(keys):   # cost mode: the primary metric is the CPU metric too
                c = Comparison(S, g.key, b, mk)
                if c.r.value is not None:
                    out.append(c)
    return out


def _comparison_table(cs: list[Comparison], S: RunSummary | None = None) -> tuple[list[str], list[list[str]]]:
    bracket = "cost bound" if S is not None and S.cost else "95% CI"
    header = ["comparison", "workload", "metric", f"A ÷ B [{bracket}]", "meaning", "n pairs"]
    rows = [[f"`{c.key.path}` ÷ `{c.other}`", c.key.workload + (f" ({c.key.variant})" if c.key.variant else ""),
             f"{c.label} ({'↑' if c.hib else '↓'} better)", ratio_text(c.r), verdict(c.r, c.hib), str(c.r.n)]
            for c in cs]
    return header, rows


def _sure(S: RunSummary) -> str:
    """How sure a verdict is, in this run's terms."""
    return "beyond the cost mode's A/A bound" if S.cost else "with 95% confidence"


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
        cl.sentence = (f"{basis} costs more than {MINIMAL_PCT:g}% {_sure(S)} in "
                       f"{len(bad)} of {len(cs)} comparisons, most: {w.text()}." + tot_txt)
    elif not with_ci:
        worst = max(cs, key=lambda c: c.cost())
        cl.word = "Not decided"
        cl.sentence = (f"{_no_ci_phrase(cs)}; point estimates of the cost of {basis} reach "
                       f"{worst.cost() * 100:.0f}% ({worst.text()})." + tot_txt)
    elif len(with_ci) == len(cs) and all(c.within(MINIMAL_PCT) for c in cs):
        cl.word = "Supported"
        cl.sentence = (f"for {basis} every {'bound' if S.cost else '95% interval'} lies within ±{MINIMAL_PCT:g}% of 1 "
                       f"({'instructions per unit of work, request→reply instructions' if S.cost else 'work rate, CPU per unit of work, latency'}; "
                       f"{len(cs)} comparisons)." + tot_txt)
    else:
        widest = max(with_ci, key=lambda c: max(1 - c.r.lo, c.r.hi - 1))
        cl.word = "Not decided"
        cl.sentence = (f"for {basis} no comparison shows a cost above {MINIMAL_PCT:g}% {_sure(S)}, but "
                       f"{sum(1 for c in cs if not c.within(MINIMAL_PCT))} of {len(cs)} intervals reach beyond "
                       f"±{MINIMAL_PCT:g}% (widest: {widest.text()})." + tot_txt)

    def details(doc: Doc):
        doc.p(f"Set against each other: {basis}. \"More than {MINIMAL_PCT:g}%\" means the whole "
              f"{'cost bound' if S.cost else '95% interval'} "
              f"lies beyond {MINIMAL_PCT:g}% on the worse side; \"supported\" needs every interval inside "
              f"±{MINIMAL_PCT:g}%.")
        doc.table(*_comparison_table(cs, S))
        if own and total:
            doc.p(f"For context, the whole path (proxy included) against `{ref}`:")
            doc.table(*_comparison_table(total, S))
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
    what = ("instructions per unit of work" if S.cost else "CPU per unit of work") + \
        ", each eBPF path against its like-for-like counterpart"
    if not any(c.r.has_ci for c in cs):
        best = min(cs, key=lambda c: c.cost())
        cl.word = "Not decided"
        cl.sentence = (f"{_no_ci_phrase(cs)}; point estimates of {what} range from {min(c.r.value for c in cs):.2f}× "
                       f"to {max(c.r.value for c in cs):.2f}× (lowest: {best.text()}).")
    elif better and not worse:
        cl.word = "Supported" if len(better) == len(cs) else "Supported in part"
        cl.sentence = (f"eBPF uses {'fewer instructions' if S.cost else 'significantly less CPU'} per unit of work in "
                       f"{len(better)} of {len(cs)} comparisons "
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
        cl.sentence = (f"none of the {len(cs)} comparisons ({what}) shows a difference "
                       f"{'beyond the cost bound' if S.cost else 'significant at 95%'}.")

    def details(doc: Doc):
        doc.p("Compared like with like: eBPF steering into the proxy (technology ebpf, kind intercepted) against "
              "netfilter TPROXY into the same proxy, and eBPF forwarding (kind bpf-forwarded) against its "
              "`compare_against` path (the reference path when that one was not run). Netfilter and kernel "
              "forwarding run in the kernel too: where in the stack the work happens, and whether a user-space "
              "proxy is involved, separates these paths.")
        doc.table(*_comparison_table(cs + ctx, S))
        note = _offload_note(run, S, sorted({a for a, _ in pairs}, key=cat.path_sort_key))
        if note:
            doc.p(note)
        bs = bpf_stats(run.results)
        if bs:
            per_prog: dict[tuple[str, str], list[float]] = {}
            for (p, wl, prog), vals in bs.items():
                per_prog.setdefault((p, prog), []).append(median_ci(vals).median)
            u = S.units.bpf_unit
            items = [f"`{p}`: program `{prog}` {M.fmt(min(v))}–{M.fmt(max(v))} {u}" if len(v) > 1 and
                     M.fmt(min(v)) != M.fmt(max(v)) else f"`{p}`: program `{prog}` {M.fmt(v[0])} {u}"
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
    unit = "M instructions of guest clock" if S.cost else "ms"
    st_txt = (f"; setup takes {min(es):.0f}–{max(es):.0f} {unit} against {min(ts):.0f}–{max(ts):.0f} {unit}" if es and ts else "")
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
                                                "setup " + ("M instr." if S.cost else "ms"),
                                                "teardown " + ("M instr." if S.cost else "ms"), "instances"]
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
