"""`report RUN`: report.md and a self-contained report.html (plots inlined) for one run.

The report is for a person who has not read the code: what was measured, what it shows, which
popular claims it supports or contradicts, then the details (tables, plots, failures, environment,
method).  Generated sentences only state what the intervals allow: a difference is named only when
the interval of the ratio excludes 1, otherwise "no significant difference"; with fewer than three
repetitions "CI unavailable".
"""

from __future__ import annotations

import json
import os

from . import metrics as M
from .doc import Doc, to_html, to_markdown
from .load import Run
from .plots import bpf_stats, plot_all
from .stats import Estimate, Ratio, median_ci, ratio, relative_spread
from .summary import BASELINE, own_of, paths, ratio_to_baseline, summarize, verdict, workloads

MINIMAL_PCT = 5.0   # claim 1: a significant change above this is not "minimal"

TPROXY_PATHS = ("tproxy-nft", "tproxy-ipt", "tproxy-nft-transparent")
EBPF_STEERING = ("sk-lookup", "tc-sk-assign")     # eBPF in front of the same user-space proxy
EBPF_FORWARDING = ("tc-redirect", "xdp-redirect")  # eBPF instead of kernel forwarding


# ---- small formatting helpers ---------------------------------------------------------------------

def est_text(e: Estimate, met: M.Metric | None, with_ci: bool = True) -> str:
    if e.median is None or met is None:
        return "–"
    s = M.fmt(met.display(e.median))
    if with_ci:
        if e.has_ci:
            s += f" [{M.fmt(met.display(e.lo))}–{M.fmt(met.display(e.hi))}]"
        else:
            s += " [CI n/a]"
    return s


def ratio_text(r: Ratio) -> str:
    if r.value is None:
        return "–"
    s = f"{r.value:.2f}×"
    if r.has_ci:
        s += f" [{r.lo:.2f}–{r.hi:.2f}]"
    return s


def short_verdict(r: Ratio, higher_is_better: bool) -> str:
    if r.value is None:
        return "–"
    if not r.has_ci:
        return "CI n/a"
    if r.crosses_one:
        return "no sig. difference"
    return ("better" if (r.value > 1) == higher_is_better else "worse")


def _levels(summaries: dict) -> list[float]:
    return sorted({e.level for g in summaries.values() for e in g.estimates.values() if e.level is not None})


def _level_phrase(levels: list[float]) -> str:
    """One sentence saying what the intervals in this run are."""
    if not levels:
        return ("No interval is available: every path has fewer than 3 repetitions, so no difference "
                "can be called significant.")
    txt = " and ".join(f"{x * 100:.4g}%" for x in levels)
    if max(levels) < 0.95:
        return (f"Intervals are {txt} confidence intervals: with 3–5 repetitions no distribution-free 95% "
                f"interval exists, so the interval is the min–max range of the repetitions and {txt} is its "
                f"exact confidence. Run 6 or more repetitions for 95%.")
    return f"Intervals are {txt} confidence intervals of the median."


# ---- claims ---------------------------------------------------------------------------------------

def _pair(summaries, wl: str, a: str, b: str, metric: str | None) -> Ratio:
    ga = summaries.get(M.GroupKey(wl, a))
    gb = summaries.get(M.GroupKey(wl, b))
    if ga is None or gb is None or metric is None:
        return Ratio(None)
    return ratio(ga.estimate(metric), gb.estimate(metric))


def _has_data(summaries, path: str) -> bool:
    return any(k.path == path and not k.reference and g.ok for k, g in summaries.items())


def _comparison_rows(summaries, pairs: list[tuple[str, str]]) -> tuple[list[list[str]], list[tuple[Ratio, bool, bool]]]:
    """For each (a, b) path pair and each workload both ran: primary-metric and CPU-cost ratios a / b.
    Returns table rows and (ratio, higher_is_better, is_cpu) for the verdict."""
    rows, judged = [], []
    for a, b in pairs:
        for wl in workloads(summaries):
            ga = summaries.get(M.GroupKey(wl, a))
            if ga is None or summaries.get(M.GroupKey(wl, b)) is None:
                continue
            row = [f"`{a}` ÷ `{b}`", wl]
            any_value = False
            for mk, is_cpu in ((ga.primary, False), (ga.cpu, True)):
                met = M.METRICS.get(mk) if mk else None
                r = _pair(summaries, wl, a, b, mk) if met else Ratio(None)
                if r.value is None:
                    row += ["–", ""]
                    continue
                any_value = True
                judged.append((r, met.higher_is_better, is_cpu))
                row += [f"{met.label}: {ratio_text(r)}", verdict(r, met.higher_is_better)]
            if any_value:
                rows.append(row)
    return rows, judged


CLAIM_HEADER = ["comparison", "workload", "work rate A ÷ B", "meaning", "CPU per unit of work A ÷ B", "meaning"]
LATENCY_HEADER = ["comparison", "workload", "latency p50 A ÷ B", "meaning", "latency p99 A ÷ B", "meaning"]


def _latency_rows(summaries, pairs: list[tuple[str, str]]) -> tuple[list[list[str]], list[tuple[Ratio, bool, bool]]]:
    """Like _comparison_rows, for the medians of the per-repetition p50 and p99 latency."""
    rows, judged = [], []
    for a, b in pairs:
        for wl in workloads(summaries):
            if summaries.get(M.GroupKey(wl, a)) is None:
                continue
            row = [f"`{a}` ÷ `{b}`", wl]
            any_value = False
            for mk in ("latency_ns.p50", "latency_ns.p99"):
                r = _pair(summaries, wl, a, b, mk)
                if r.value is None:
                    row += ["–", ""]
                    continue
                any_value = True
                judged.append((r, False, False))
                row += [ratio_text(r), verdict(r, higher_is_better=False)]
            if any_value:
                rows.append(row)
    return rows, judged


def _tally(judged, pct: float = 0.0) -> dict:
    t = {"better": 0, "worse": 0, "same": 0, "unknown": 0}
    for r, hib, _ in judged:
        if not r.has_ci:
            t["unknown"] += 1
        elif r.crosses_one or abs(r.value - 1) * 100 <= pct:
            t["same"] += 1
        elif (r.value > 1) == hib:
            t["better"] += 1
        else:
            t["worse"] += 1
    return t


def claims_section(doc: Doc, summaries: dict, run: Run) -> None:
    doc.h2("Common claims, checked against this run")
    doc.p("Each claim is set against the medians of this run only (same machine, same kernel, "
          "interleaved repetitions). Ratios are path A ÷ path B with their interval in brackets; "
          "\"no significant difference\" means the interval includes 1. " + _level_phrase(_levels(summaries)))
    has_base = _has_data(summaries, BASELINE)

    # 1. TPROXY's impact is minimal.
    doc.h3("\"TPROXY's performance impact is minimal\"")
    tps = [p for p in TPROXY_PATHS if _has_data(summaries, p)]
    if not tps or not has_base:
        missing = "tproxy-nft / tproxy-ipt" if not tps else "baseline"
        doc.p(f"**Could not be checked by this run**: {missing} was not run (or has no successful result).")
    else:
        rows, judged = _comparison_rows(summaries, [(p, BASELINE) for p in tps])
        lat_rows, lat_judged = _latency_rows(summaries, [(p, BASELINE) for p in tps])
        judged = judged + lat_judged
        t = _tally(judged, MINIMAL_PCT)
        if t["worse"]:
            head = (f"**Contradicted by this run**: in {t['worse']} of {len(judged)} comparisons with "
                    f"baseline (work rate, CPU per unit of work, latency p50 and p99) a TPROXY path is "
                    f"significantly worse by more than {MINIMAL_PCT:g}%.")
        elif t["unknown"] == len(judged):
            head = "**Could not be decided**: fewer than 3 repetitions, so no confidence intervals."
        else:
            lim = MINIMAL_PCT / 100
            known = [r for r, _, _ in judged if r.has_ci]
            inside = all(1 - lim <= r.lo and r.hi <= 1 + lim for r in known)
            if inside and not t["unknown"]:
                head = (f"**Supported by this run**: every interval of a TPROXY path ÷ baseline lies within "
                        f"±{MINIMAL_PCT:g}% of 1: work rate, CPU cost per unit of work and latency.")
            else:
                widest = max(known, key=lambda r: max(1 - r.lo, r.hi - 1)) if known else None
                head = (f"**Not decided by this run**: no comparison shows a significant cost above "
                        f"{MINIMAL_PCT:g}%, but the intervals are too wide to show that the cost is small"
                        + (f" (widest: {widest.lo:.2f}–{widest.hi:.2f}×)" if widest else "")
                        + (f"; {t['unknown']} comparisons have no interval" if t['unknown'] else "")
                        + ". More repetitions would narrow them.")
        doc.p(head)
        doc.table(CLAIM_HEADER, rows)
        if lat_rows:
            doc.p("Latency (medians of each repetition's percentiles; lower is better):")
            doc.table(LATENCY_HEADER, lat_rows)
        if _has_data(summaries, "proxy-plain"):
            l2, _ = _comparison_rows(summaries, [(p, "proxy-plain") for p in tps])
            if l2:
                doc.p("How much of that is the interception itself? `proxy-plain` runs the same user-space "
                      "proxy without interception (the client connects to the proxy), so TPROXY ÷ "
                      "proxy-plain isolates the TPROXY mechanism:")
                doc.table(CLAIM_HEADER, l2)

    # 2. eBPF is more efficient because it runs in the kernel.
    doc.h3("\"eBPF is more efficient because it runs in the kernel\"")
    steer = [p for p in EBPF_STEERING if _has_data(summaries, p)]
    fwd = [p for p in EBPF_FORWARDING if _has_data(summaries, p)]
    ref_tp = next((p for p in TPROXY_PATHS if _has_data(summaries, p)), None)
    pairs = ([(p, ref_tp) for p in steer] if ref_tp else []) + ([(p, BASELINE) for p in fwd] if has_base else [])
    if not pairs:
        doc.p("**Could not be checked by this run**: it needs an eBPF path (sk-lookup, tc-sk-assign, "
              "tc-redirect, xdp-redirect) together with its non-BPF counterpart (tproxy-nft/ipt or "
              "baseline).")
    else:
        rows, judged = _comparison_rows(summaries, pairs)
        cpu = [j for j in judged if j[2]]
        t = _tally(cpu)
        tot = len(cpu)
        if not tot:
            head = "**Could not be checked by this run**: no CPU cost per unit of work was recorded."
        elif t["unknown"] == tot:
            head = "**Could not be decided**: fewer than 3 repetitions, so no confidence intervals."
        elif t["better"] and not t["worse"]:
            head = (f"**Supported in part**: in {t['better']} of {tot} CPU-cost comparisons the eBPF path "
                    f"uses significantly less CPU per unit of work than its counterpart"
                    f"{'; ' + str(t['same']) + ' show no significant difference' if t['same'] else ''}.")
        elif t["worse"] and not t["better"]:
            head = (f"**Not supported by this run**: in none of {tot} CPU-cost comparisons does the eBPF path "
                    f"use significantly less CPU per unit of work; in {t['worse']} it uses significantly more"
                    f"{' (' + str(t['same']) + ' show no significant difference)' if t['same'] else ''}.")
        elif t["better"] and t["worse"]:
            head = (f"**Mixed**: eBPF uses significantly less CPU per unit of work in {t['better']} and more "
                    f"in {t['worse']} of {tot} comparisons ({t['same']} not significant"
                    f"{', ' + str(t['unknown']) + ' without CI' if t['unknown'] else ''}).")
        else:
            head = (f"**Not supported, and not contradicted, by this run**: none of the {tot} CPU-cost "
                    f"comparisons shows a significant difference"
                    f"{' (' + str(t['unknown']) + ' without CI)' if t['unknown'] else ''}.")
        sig = [(r, hib) for r, hib, is_cpu in judged if is_cpu and r.has_ci and not r.crosses_one]
        if sig:
            named = [row for row in rows if "(better)" in row[5] or "(worse)" in row[5]]
            head += " Significant: " + "; ".join(f"{row[0]} on {row[1]}: {row[4]}" for row in named) + "."
        doc.p(head)
        doc.p("Compared like with like: eBPF steering into the same proxy (sk-lookup, tc-sk-assign) "
              f"against netfilter TPROXY ({ref_tp or 'not run'}), and eBPF forwarding (tc-redirect, "
              "xdp-redirect) against kernel forwarding (baseline). Note that netfilter TPROXY and "
              "kernel forwarding run in the kernel too, so \"because it runs in the kernel\" is not what "
              "separates these paths; where in the stack the work happens, and whether a user-space "
              "proxy is involved, is.")
        doc.table(CLAIM_HEADER, rows)
        note = _offload_note(run, sorted({a for a, _ in pairs}, key=M.path_sort_key))
        if note:
            doc.p(note)
        bs = bpf_stats(run.results)
        if bs:
            per_prog: dict[tuple[str, str], list[float]] = {}
            for (p, wl, prog), vals in bs.items():
                per_prog.setdefault((p, prog), []).append(median_ci(vals).median)
            items = [f"`{p}`: program `{prog}` {M.fmt(min(v))}–{M.fmt(max(v))} ns per run" if len(v) > 1 and
                     M.fmt(min(v)) != M.fmt(max(v)) else f"`{p}`: program `{prog}` {M.fmt(v[0])} ns per run"
                     for (p, prog), v in sorted(per_prog.items(), key=lambda kv: (M.path_sort_key(kv[0][0]), kv[0][1]))]
            doc.p("In-kernel cost of the BPF programs themselves (median per workload, range over workloads; "
                  "details under \"In-kernel BPF program cost\"):")
            doc.ul(items)

    # 3. eBPF needs less configuration.
    doc.h3("\"eBPF needs less configuration\"")
    cfg = _config_effort(run)
    if not cfg:
        doc.p("**Could not be checked by this run**: run.json records no measure of configuration "
              "effort (for example the number of rules, routes, programs, maps and sysctls each path "
              "installs, or its setup time), so this run says nothing about it.")
    else:
        doc.p("What the run recorded about each path's setup (not a performance measure; judge for yourself):")
        doc.table(["path", "setup recorded"], cfg)


# Keys under a result's proof that describe configuration effort, if the harness records them.
CONFIG_KEYS = ("setup", "config", "configuration", "setup_steps", "objects_created", "rules", "setup_ns")


def _config_effort(run: Run) -> list[list[str]]:
    seen: dict[str, str] = {}
    for r in run.results:
        proof = r.get("proof")
        if not isinstance(proof, dict) or r["path"] in seen:
            continue
        found = {k: proof[k] for k in CONFIG_KEYS if k in proof}
        if found:
            seen[r["path"]] = json.dumps(found, sort_keys=True)[:300]
    return [[f"`{p}`", seen[p]] for p in sorted(seen, key=M.path_sort_key)]


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


def _offload_note(run: Run, paths_: list[str]) -> str | None:
    ch = offload_changes(run)
    parts = []
    for p in paths_:
        if ch.get(p):
            items = ", ".join(f"{f} {b}→{d} on {i}" for i, f, b, d in sorted(ch[p]))
            parts.append(f"`{p}` ran with {items}")
    if not parts:
        return None
    return ("Offloads differed during some paths' runs (recorded in `proof.offloads`): " + "; ".join(parts)
            + ", so part of such a path's difference to baseline may come from the offload setting "
              "rather than from the path itself.")


# ---- the rest of the report -------------------------------------------------------------------------

def _opt(run: Run, key: str):
    o = run.doc.get("options")
    return o.get(key) if isinstance(o, dict) else None


def header_section(doc: Doc, run: Run, summaries: dict) -> None:
    tool = run.doc.get("tool") if isinstance(run.doc.get("tool"), dict) else {}
    doc.h1(f"pathbench report: run {run.run_id}, Linux {run.kernel}")
    ps, wls = paths(summaries), workloads(summaries)
    reps = sorted({len(g.results) for g in summaries.values()})
    dur = _opt(run, "duration_s")
    doc.p(f"Started {run.started or 'at an unknown time'}, finished {run.doc.get('finished_utc') or '–'}; "
          f"run status **{run.status}**. {len(ps)} paths × {len(wls)} workloads, "
          f"{'/'.join(map(str, reps)) or 0} repetitions each"
          f"{f' of {dur} s' if dur is not None else ''}, interleaved across paths. "
          f"Produced by {tool.get('name', 'pathbench')} {tool.get('version', '?')} "
          f"(git {tool.get('git_sha', '?')}); file `{os.path.basename(run.filename)}`.")
    if run.status != "complete":
        doc.p(f"**Warning: this run is {run.status}**"
              f"{': ' + str(run.doc.get('status_reason')) if run.doc.get('status_reason') else ''}. "
              f"Results below are what was recorded before it stopped.")
    if run.upgraded_from is not None:
        doc.p(f"(Read from schema_version {run.upgraded_from}, upgraded to the current schema.)")
    doc.p("Paths in this run:")
    doc.ul(f"`{p}`: {M.PATH_DESCRIPTIONS.get(p, 'no description (a path this analysis does not know)')}"
           for p in ps)


def summary_section(doc: Doc, summaries: dict) -> None:
    doc.h2("What this run shows")
    doc.p("For each workload, every path's median primary metric relative to `baseline` from this run. "
          + _level_phrase(_levels(summaries)))
    items = []
    for wl in workloads(summaries):
        base = summaries.get(M.GroupKey(wl, BASELINE))
        gs = [g for k, g in summaries.items() if k.workload == wl and not k.reference and not k.variant]
        primary = next((g.primary for g in gs if g.primary), None)
        if primary is None:
            items.append(f"**{wl}**: no successful measurement.")
            continue
        met = M.METRICS[primary]
        if base is None or base.estimate(primary).median is None:
            items.append(f"**{wl}** ({met.label}): baseline not measured, so no ratios.")
            continue
        buckets: dict[str, list[str]] = {"worse": [], "no sig. difference": [], "better": [], "CI n/a": []}
        for g in gs:
            if g.key.path == BASELINE or g.estimate(primary).median is None:
                continue
            r = ratio_to_baseline(summaries, g.key, primary)
            buckets.setdefault(short_verdict(r, met.higher_is_better), []).append(f"{g.key.path} {r.value:.2f}×")
        nb = base.estimate(primary).n
        parts = [f"baseline {est_text(base.estimate(primary), met, False)} {met.unit}"
                 + (f" (only {nb} successful repetition{'s' if nb != 1 else ''} of {len(base.results)})"
                    if nb < min(3, len(base.results)) else "")]
        if buckets["better"]:
            parts.append("significantly above baseline: " + ", ".join(buckets["better"]))
        if buckets["no sig. difference"]:
            parts.append("no significant difference from baseline: " + ", ".join(buckets["no sig. difference"]))
        if buckets["worse"]:
            parts.append("significantly below baseline: " + ", ".join(buckets["worse"]))
        if buckets["CI n/a"]:
            parts.append("not enough repetitions to tell: " + ", ".join(buckets["CI n/a"]))
        missing = sorted({g.key.path for g in gs if g.estimate(primary).median is None}, key=M.path_sort_key)
        if missing:
            parts.append("no result: " + ", ".join(missing))
        items.append(f"**{wl}** ({met.label}, higher is better): " + "; ".join(parts) + ".")
    doc.ul(items)
    spreads = []
    for wl in workloads(summaries):
        for k, g in summaries.items():
            if k.workload == wl and not k.reference and g.primary in g.values:
                sp = relative_spread(g.values[g.primary])
                if sp is not None:
                    spreads.append((sp, wl, k.path))
    if spreads:
        sp, wl, p = max(spreads)
        if sp > 0.10:
            doc.p(f"Repetitions vary a lot in this run: the spread (interquartile range ÷ median) of the "
                  f"primary metric reaches {sp * 100:.0f}% ({p}, {wl}). Differences smaller than the spread "
                  f"cannot be told apart from noise, so large ratios can still be \"no significant "
                  f"difference\"; more repetitions narrow the intervals.")


def tables_section(doc: Doc, summaries: dict) -> None:
    doc.h2("Medians, intervals and ratios to baseline")
    doc.p("Median over successful repetitions, interval in brackets; ratio = path ÷ baseline of the same run "
          "with its interval; \"better/worse\" only where that interval excludes 1. Latency columns are "
          "medians of the per-repetition percentiles, in µs.")
    for wl in workloads(summaries):
        gs = [g for k, g in summaries.items() if k.workload == wl and not k.reference]
        primary = next((g.primary for g in gs if g.primary), None)
        cpu = next((g.cpu for g in gs if g.cpu), None)
        pm = M.METRICS.get(primary) if primary else None
        cm = M.METRICS.get(cpu) if cpu else None
        has_lat = any(g.estimate("latency_ns.p50").median is not None for g in gs)
        header = ["path", "reps ok"]
        if pm:
            header += [pm.heading, "× baseline", "vs baseline"]
        if cm:
            header += [cm.heading, "× baseline", "vs baseline"]
        if has_lat:
            header += ["p50 µs", "p99 µs", "p99.9 µs"]
        rows = []
        for g in gs:
            row = [g.key.name, f"{len(g.ok)}/{len(g.results)}"]
            if not g.ok:
                st = sorted({str(r.get("status")) for r in g.results})
                rows.append(row + [" / ".join(st) + " (reason below)"] + [""] * (len(header) - 3))
                continue
            for m, met in ((primary, pm), (cpu, cm)):
                if not met:
                    continue
                r = ratio_to_baseline(summaries, g.key, m)
                is_base = g.key.path == BASELINE
                row += [est_text(g.estimate(m), met), "1 (reference)" if is_base and r.value else ratio_text(r),
                        "" if is_base else short_verdict(r, met.higher_is_better)]
            if has_lat:
                for lk in ("latency_ns.p50", "latency_ns.p99", "latency_ns.p999"):
                    row.append(est_text(g.estimate(lk), M.METRICS[lk], with_ci=False))
            rows.append(row)
        doc.h3(wl)
        doc.table(header, rows)


def reference_section(doc: Doc, run: Run, summaries: dict) -> None:
    refs = [(k, g) for k, g in summaries.items() if k.reference]
    if not refs:
        return
    doc.h2("pathbench beside reference tools")
    doc.p("Rows measured by an established tool on the same topology, shown beside pathbench's own "
          "measurement of the same path and workload. A ratio far from 1 means the two tools do not "
          "measure the same thing (or one of them measures itself).")
    rows = []
    for k, g in refs:
        own = summaries.get(own_of(k))
        met = M.METRICS.get(g.primary) if g.primary else None
        ref = next((r.get("reference") for r in g.results if isinstance(r.get("reference"), dict)), {})
        r = ratio(own.estimate(g.primary), g.estimate(g.primary)) if own and g.primary else Ratio(None)
        rows.append([k.path, k.workload, f"{ref.get('tool', '?')} {ref.get('version', '')}".strip(),
                     f"{est_text(own.estimate(g.primary), met) if own else '–'} {met.unit if met else ''}",
                     f"{est_text(g.estimate(g.primary), met)} {met.unit if met else ''}",
                     ratio_text(r), f"`{ref.get('command', '')}`" if ref.get("command") else ""])
    doc.table(["path", "workload", "reference tool", "pathbench", "reference", "pathbench ÷ reference",
               "reference command"], rows)


def bpf_section(doc: Doc, run: Run) -> None:
    bs = bpf_stats(run.results)
    doc.h2("In-kernel BPF program cost")
    if not bs:
        doc.p("No BPF statistics (`proof.bpf_stats`) in this run.")
        return
    rows = []
    for (p, wl, prog), vals in sorted(bs.items(), key=lambda kv: (M.path_sort_key(kv[0][0]), M.workload_sort_key(kv[0][1]), kv[0][2])):
        e = median_ci(vals)
        ci = f"[{M.fmt(e.lo)}–{M.fmt(e.hi)}]" if e.has_ci else "[CI n/a]"
        rows.append([p, wl, f"`{prog}`", f"{M.fmt(e.median)} {ci}", str(len(vals))])
    doc.table(["path", "workload", "program", "ns per run", "repetitions"], rows)


def failures_section(doc: Doc, run: Run) -> None:
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
        rows = [[", ".join(sorted(ps, key=M.path_sort_key)), w, st, reps, reason]
                for (w, st, reason, reps), ps in sorted(merged.items(), key=lambda kv: (
                    kv[0][1] != "failed", M.workload_sort_key(kv[0][0]), M.path_sort_key(min(kv[1], key=M.path_sort_key)),
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


def environment_section(doc: Doc, run: Run) -> None:
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
    known = {k for k, _ in keys} | {"cpu_pinning", "offloads", "sysctls", "netns_sysctls", "topology", "tools"}
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
                  [[p, i, f, b, d] for p in sorted(ch, key=M.path_sort_key) for i, f, b, d in sorted(ch[p])])
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


def method_section(doc: Doc, summaries: dict) -> None:
    doc.h2("How to read this")
    doc.ul([
        "Each number is the **median over repetitions**; repetitions of all paths are interleaved in one "
        "run, so slow drift of the machine affects every path alike. Compare paths within one run; to compare "
        "runs (e.g. two kernels) use `python3 -m analysis compare A B`.",
        "Intervals are distribution-free order-statistic (binomial) confidence intervals of the median. A 95% "
        "interval needs at least 6 repetitions; with 3–5 the interval is the min–max range, whose exact "
        "confidence is 75% (3), 87.5% (4) or 93.75% (5) and is stated as such. Fewer than 3: no interval. "
        "In this run: " + _level_phrase(_levels(summaries)),
        "A ratio's interval is [low A ÷ high B, high A ÷ low B]: it excludes 1 exactly when the two medians' "
        "intervals do not overlap. Only then does the report say better/worse; otherwise \"no significant "
        "difference\", which is not proof that the paths are equal.",
        "Latency curves come from the latency histograms stored for every repetition, merged, not from the "
        "summary percentiles. Histogram buckets are under 0.8% wide, so percentiles are that precise.",
        "CPU cost is whole-machine busy time (user + system + softirq, from /proc/stat) over the measured "
        "window divided by the work done: it includes the load generator and the server, which do "
        "roughly the same work per unit for every path, so differences between paths are mostly the path's cost.",
    ])


def build(run: Run, outdir: str) -> tuple[str, str, list]:
    summaries = summarize(run)
    plotdir = os.path.join(outdir, "plots")
    figs = plot_all(run, summaries, plotdir)
    doc = Doc()
    header_section(doc, run, summaries)
    summary_section(doc, summaries)
    claims_section(doc, summaries, run)
    tables_section(doc, summaries)
    reference_section(doc, run, summaries)
    doc.h2("Plots")
    if not figs:
        doc.p("No plots: the run has no successful measurements.")
    for f in figs:
        doc.fig(f)
    bpf_section(doc, run)
    failures_section(doc, run)
    environment_section(doc, run)
    method_section(doc, summaries)
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
