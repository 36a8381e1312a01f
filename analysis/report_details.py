# SPDX-License-Identifier: Apache-2.0
"""The report's detail sections: what each path is, tables of medians and ratios, scale, reference
tools, BPF program cost, failures, environment, and how to read it all."""

from __future__ import annotations

import json

from . import metrics as M
from . import scale as SC
from .doc import Doc
from .load import Run
from .plots import bpf_stats
from .stats import LEVEL_TEXT, Estimate, Ratio, median_ci, paired_ratio
from .summary import RunSummary
from . import state as ST
from .report_claims import Claim, _default_groups, offload_changes
from .report_format import _need_n, est_text, ratio_text, short_verdict


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
        for k, what in (("better", f"significantly better than `{ref}`"), ("no sig. difference", "no significant difference"),
                        ("worse", f"significantly worse than `{ref}`"), ("no 95% CI", f"no {LEVEL_TEXT} interval")):
            if buckets.get(k):
                parts.append(f"{what}: " + ", ".join(buckets[k]))
        items.append(f"**{wl}** ({met.label}, {'higher' if met.higher_is_better else 'lower'} is better): "
                     + "; ".join(parts) + ".")
    doc.ul(items)


def claims_details(doc: Doc, claims: list[Claim]) -> None:
    doc.h2("The claims in detail")
    for cl in claims:
        doc.h3(cl.title)
        doc.p(f"**{cl.word}**: {cl.sentence}")
        for d in cl.details:
            d(doc)


def _floor_pct() -> str:
    from .cost import COST_FLOOR_PCT
    return f"{COST_FLOOR_PCT:g}"


def tables_section(doc: Doc, S: RunSummary) -> None:
    ref = S.reference
    doc.h2(f"Medians, intervals and ratios to {ref}")
    if S.cost:
        doc.p(f"Median over successful repetitions, in instructions (cost mode); ratios are paired by repetition "
              f"(median of path ÷ `{ref}` per repetition) with the cost mode's bound in brackets: ±{_floor_pct()}% "
              f"measured across two boots, or twice the repetitions' own range (one outlying repetition left out) or the "
              f"workload's typical range where that is wider. Instructions per "
              f"unit of work are lower-is-better, so a ratio above 1 costs more than `{ref}`. Latency columns are "
              f"instructions between request and reply.")
    else:
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
        cm = M.METRICS.get(cpu) if cpu and cpu != primary else None   # cost mode: one count is both
        U = S.units
        has_lat = any(g.estimate(U.latency("p50")).median is not None for g in gs)
        has_conn = any(g.estimate(U.connect("p50")).median is not None for g in gs)
        header = ["path", "reps ok", "flagged"]
        if pm:
            header += [pm.heading, f"× {ref}", "vs ref", "× counterpart"]
        if cm:
            header += [cm.heading, f"× {ref}", "vs ref"]
        per_g = S.cost and pm is not None     # cost mode: the rate, as work per 10⁹ instructions
        if per_g:
            header += [pm.unit.split("/")[-1] + "s per 10⁹ instructions"]
        if has_lat:
            header += [f"p50 {U.latency_unit}", f"p99 {U.latency_unit}", f"p99.9 {U.latency_unit}"]
        if has_conn:
            header += [f"connect p50 {U.latency_unit}", f"connect p99 {U.latency_unit}"]
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
                row += [est_text(g.estimate(m), met, with_ci=not S.cost), "1 (reference)" if is_ref and r.value else ratio_text(r),
                        "" if is_ref else short_verdict(r, met.higher_is_better)]
                if m == primary:
                    c = S.cat.counterpart(g.key.path)
                    rc = S.ratio_to_counterpart(g.key, m)
                    row.append("" if not c or c == ref else (f"{ratio_text(rc)} ÷ {c}" if rc.value else f"– ({c} not run)"))
            if per_g:
                med = g.estimate(primary).median
                row.append(M.fmt(1e9 / med) if med else "–")
            if has_lat:
                for lk in (U.latency("p50"), U.latency("p99"), U.latency("p999")):
                    row.append(est_text(g.estimate(lk), M.METRICS[lk], with_ci=False))
            if has_conn:
                for lk in (U.connect("p50"), U.connect("p99")):
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


def reference_section(doc: Doc, run: Run, S: RunSummary) -> None:
    refs = [(k, g) for k, g in S.items() if k.reference]
    if not refs:
        return
    doc.h2("pathbench beside reference tools")
    doc.p("Rows measured by an established tool on the same topology, shown beside pathbench's own "
          "measurement of the same path and workload (paired by repetition). A ratio far from 1 means the two "
          "tools do not measure the same thing (or one of them measures itself). CPU is the whole machine's "
          "per unit of work (connection, transaction or byte) in each one's own window: where the reference "
          "is a proxy in place of pathbench's (HAProxy), it is the proxy's cost per connection beside "
          "HAProxy's, with everything else the same.")
    rows = []
    proxies = False
    for k, g in refs:
        own = S.get(M.GroupKey(k.workload, k.path, k.variant, "", k.pvariant))
        met = M.METRICS.get(g.primary) if g.primary else None
        ref = next((r.get("reference") for r in g.results if isinstance(r.get("reference"), dict)), {})
        proxies = proxies or ref.get("tool") == "haproxy" and "mode tcp" in str(ref.get("config", ""))
        r = (paired_ratio(own.by_rep[g.primary], g.by_rep[g.primary])
             if own and g.primary in own.by_rep and g.primary in g.by_rep else Ratio(None))
        cpu = M.METRICS.get(g.cpu) if g.cpu else None
        rc = (paired_ratio(own.by_rep[g.cpu], g.by_rep[g.cpu])
              if own and cpu and g.cpu in own.by_rep and g.cpu in g.by_rep else Ratio(None))
        cpu_text = (f"{est_text(own.estimate(g.cpu), cpu, with_ci=False)} ÷ {est_text(g.estimate(g.cpu), cpu, with_ci=False)} "
                    f"{cpu.unit}: {ratio_text(rc)}" if own and cpu and rc.value is not None else "–")
        # The path with its options (a gateway, a services count): one path may carry several.
        rows.append([M.GroupKey(k.workload, k.path, "", "", k.pvariant).name, k.workload,
                     f"{ref.get('tool', '?')} {ref.get('version', '')}".strip(),
                     f"{est_text(own.estimate(g.primary), met) if own else '–'} {met.unit if met else ''}",
                     f"{est_text(g.estimate(g.primary), met)} {met.unit if met else ''}",
                     ratio_text(r), cpu_text, f"`{ref.get('command', '')}`" if ref.get("command") else ""])
    doc.table(["path", "workload", "reference tool", "pathbench", "reference", "pathbench ÷ reference",
               "CPU per unit, pathbench ÷ reference", "reference command"], rows)
    if proxies and run.options.get("proxy_model", "thread") != "process":
        doc.p("Our proxy ran as threads of pathbench (`proxy_model` thread), in the generator's address space; "
              "HAProxy is a process of its own, so each round trip through it switches address spaces twice more. "
              "On a host with page-table isolation and no PCID that alone favours our proxy: the proxy ÷ HAProxy "
              "rows are upper bounds. `--proxy-model process` makes them like for like (docs/peers.md).")


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
    doc.table(["path", "workload", "program", S.units.bpf_unit, "repetitions"], rows)


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
    if S.cost:
        method_cost(doc, S)
        return
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


def method_cost(doc: Doc, S: RunSummary) -> None:
    """How to read a cost-mode report (analysis/cost.py, docs/cost.md)."""
    from .cost import COST_FLOOR_PCT, COST_SPREAD_FACTOR
    ref = S.reference
    doc.ul([
        "**Cost mode**: the run ran in a qemu guest on one vCPU with `-icount shift=0,sleep=off`: the guest's clock "
        "advances one nanosecond per instruction executed, so every duration pathbench recorded is an instruction "
        "count (environment.virtualization says so: `time_unit` instruction). The guest's one vCPU is busy through "
        "every window, so a window's instructions divided by its work are the CPU work per unit: the path's, the "
        "stack's and both ends' (generator and responder are the same on every path).",
        "Each number is the **median over repetitions**. Instruction counts repeat: repetitions of one configuration "
        "typically agree to a few hundredths of a percent (\"How reproducible\" above gives this run's own figures).",
        f"**Bounds, not confidence intervals**: a ratio's bracket is ±{COST_FLOOR_PCT:g}% (what two boots of the same "
        f"guest disagreed by, docs/cost.md) or {COST_SPREAD_FACTOR:g}× the wider of the repetitions' own relative "
        f"range (the one farthest from the median left out) and the workload's typical range, where that is wider. better/worse is named only where the bracket excludes 1; the claims are decided the same way.",
        f"**Paired ratios**: a path's repetition i is divided by `{ref}`'s repetition i (same workload and options); "
        f"the ratio is the median of those. Instructions per unit are lower-is-better: above 1 costs more.",
        "Latency percentiles are instructions between a request's send and its reply's arrival, from the stored "
        "histograms (buckets under 0.8% wide); BPF program cost is instructions per program run (bpf_stats' "
        "run_time_ns in the guest).",
        "**What instructions miss**: cache and memory stalls, wake-up latency and waiting, which make the same "
        "instructions cost more time on real hardware; a native run shows them (`report --native DIR`, docs/cost.md).",
        "Configuration setup and teardown \"M instructions\" are guest clock during set-up, which includes idle "
        "jumps while the guest waits for the host's filesystem: a measure of effort, not of CPU work.",
    ])
