# SPDX-License-Identifier: Apache-2.0
"""Scale as an axis: how each path's cost grows with a numeric parameter (services N, payload, flows).

A *series* is one path's groups of one workload along one numeric option that varies within the run
(path options such as `services`, or workload options such as `payload_bytes` / `flows`), all other
options equal.  Crossovers compare two paths point by point at equal N, paired by repetition.

"Where eBPF's advantage appears": for every eBPF interceptor (technology ebpf, kind intercepted)
against every TPROXY interceptor (technology tproxy, kind intercepted) of the run and each metric,
the smallest N from which the eBPF path is significantly better (95% interval of the paired ratio on
the better side of 1) at that N and every larger N measured.  The crossover lies between the largest
N where it was not yet significantly better and that N; when it is better from the smallest N on,
there is no crossover inside the range ("ahead at every N"); when never, "none found up to N_max".
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from . import metrics as M
from .stats import Ratio, median_ci
from .summary import GroupSummary, RunSummary

# Metrics a scale plot shows, in this order, when the workload's results carry them.
SCALE_METRICS = ("connect_latency_ns.p50", "connect_latency_ns.p99")


@dataclass
class Series:
    workload: str
    path: str
    axis: str                      # option name, e.g. "services"
    points: list[tuple[float, GroupSummary]]   # ascending x
    rest: str                      # the other options of the groups, e.g. "match_position=last"
    is_path_option: bool


def _numeric(v) -> float | None:
    return float(v) if M.is_num(v) else None


def _determines(opts: list[dict], a: str, b: str) -> bool:
    """Whether option b's value is a function of option a's across these groups."""
    seen: dict[str, str] = {}
    for o in opts:
        ka, kb = json.dumps(o.get(a), sort_keys=True), json.dumps(o.get(b), sort_keys=True)
        if seen.setdefault(ka, kb) != kb:
            return False
    return True


def series(S: RunSummary) -> list[Series]:
    """Every (workload, path, axis) with at least two numeric values of one varying option."""
    out: list[Series] = []
    for wl in S.workloads():
        gs = [g for g in S.own(wl) if g.ok]
        for path in S.paths():
            pg = [g for g in gs if g.key.path == path]
            if len(pg) < 2:
                continue
            opts = [g.options for g in pg]
            keys = sorted({k for o in opts for k in o})
            varying = [k for k in keys if len({json.dumps(o.get(k), sort_keys=True) for o in opts}) > 1]
            done: list[str] = []
            for axis in varying:
                if not all(_numeric(o.get(axis)) is not None for o in opts):
                    continue
                # An option that moves with the axis (response_bytes = payload_bytes) is not another
                # dimension: it neither splits the series nor makes a second, identical one.
                if any(_determines(opts, d, axis) and _determines(opts, axis, d) for d in done):
                    continue
                done.append(axis)
                others = [k for k in varying if k != axis and not _determines(opts, axis, k)]
                buckets: dict[str, list[GroupSummary]] = {}
                for g in pg:
                    rest = ", ".join(f"{k}={json.dumps(g.options.get(k))}" for k in others)
                    buckets.setdefault(rest, []).append(g)
                is_path = any(axis in (r.get("path_options") or {}) for g in pg for r in g.results)
                for rest, bg in sorted(buckets.items()):
                    pts = sorted(((_numeric(g.options[axis]), g) for g in bg), key=lambda t: t[0])
                    if len({x for x, _ in pts}) >= 2:
                        out.append(Series(wl, path, axis, pts, rest, is_path))
    return out


def path_sweeps(S: RunSummary) -> dict[tuple[str, str], list[Series]]:
    """(workload, axis) -> series, for path-option axes (services)."""
    d: dict[tuple[str, str], list[Series]] = {}
    for s in series(S):
        if s.is_path_option:
            d.setdefault((s.workload, s.axis), []).append(s)
    return d


def workload_sweeps(S: RunSummary) -> dict[tuple[str, str], list[Series]]:
    d: dict[tuple[str, str], list[Series]] = {}
    for s in series(S):
        if not s.is_path_option:
            d.setdefault((s.workload, s.axis), []).append(s)
    return d


def scale_metrics(S: RunSummary, workload: str) -> list[str]:
    gs = S.own(workload)
    primary = next((g.primary for g in gs if g.primary), None)
    cpu = next((g.cpu for g in gs if g.cpu), None)
    ks = [k for k in SCALE_METRICS if any(k in g.values for g in gs)]
    ks += [k for k in (primary, cpu) if k and any(k in g.values for g in gs)]
    return ks


def metric_label(S: RunSummary, workload: str, key: str) -> str:
    """'connections/s' and 'CPU per connection' for a connect-per-transaction workload (pattern crr);
    'requests/s' and 'CPU per request' for an application-protocol workload (application http), whose
    transaction is a request whether or not it opens a connection."""
    met = M.METRICS[key]
    if S.cat.workload(workload).application == "http":
        if key == "transactions_per_s":
            return "requests/s"
        if key == "cpu_ns_per_transaction":
            return "CPU per request"
    if S.cat.workload(workload).pattern == "crr":
        if key == "transactions_per_s":
            return "connections/s"
        if key == "cpu_ns_per_transaction":
            return "CPU per connection"
    return met.label


@dataclass
class Crossover:
    workload: str
    metric: str
    ebpf: str
    tproxy: str
    axis: str
    text: str                 # one phrase for the report
    n_from: float | None      # smallest N of the better-from-here-on stretch
    n_before: float | None    # largest N before it (crossover lies in (n_before, n_from])
    ratio_at: Ratio | None    # ebpf ÷ tproxy at n_from
    n_max: float | None


def _fmt_n(x: float) -> str:
    return f"{x:,.0f}" if x == int(x) else f"{x:g}"


def crossovers(S: RunSummary) -> list[Crossover]:
    out: list[Crossover] = []
    sweeps = path_sweeps(S)
    for (wl, axis), ss in sorted(sweeps.items(), key=lambda kv: (S.cat.workload_sort_key(kv[0][0]), kv[0][1])):
        by_path = {s.path: s for s in ss}
        names = list(by_path)
        ebpf = S.cat.select(names, technology="ebpf", kinds=("intercepted",))
        tpx = S.cat.select(names, technology="tproxy", kinds=("intercepted",))
        for mk in scale_metrics(S, wl):
            hib = M.METRICS[mk].higher_is_better
            for e in ebpf:
                for t in tpx:
                    te = {x: g for x, g in by_path[e].points}
                    tt = {x: g for x, g in by_path[t].points}
                    xs = sorted(set(te) & set(tt))
                    if not xs:
                        continue
                    verdicts = []
                    for x in xs:
                        r = S.ratio(te[x].key, t, mk)
                        better = (r.has_ci and not r.crosses_one and (r.value > 1) == hib)
                        verdicts.append((x, r, better))
                    # The better-from-here-on stretch at the end.
                    i = len(verdicts)
                    while i > 0 and verdicts[i - 1][2]:
                        i -= 1
                    label = metric_label(S, wl, mk)
                    nmax = xs[-1]
                    no_ci = [x for x, r, _ in verdicts if not r.has_ci]
                    if i == len(verdicts):
                        why = (f" (no 95% interval at N={', '.join(_fmt_n(x) for x in no_ci)})" if no_ci else "")
                        text = (f"{label}: none found up to {axis}={_fmt_n(nmax)} (the largest measured): "
                                f"`{e}` is not significantly better than `{t}` there{why}")
                        out.append(Crossover(wl, mk, e, t, axis, text, None, None, None, nmax))
                    elif i == 0:
                        r0 = verdicts[0][1]
                        text = (f"{label}: `{e}` is significantly better than `{t}` at every {axis} measured "
                                f"({_fmt_n(xs[0])}–{_fmt_n(nmax)}; at {_fmt_n(xs[0])}: "
                                f"{r0.value:.2f}× [{r0.lo:.2f}–{r0.hi:.2f}])")
                        out.append(Crossover(wl, mk, e, t, axis, text, xs[0], None, r0, nmax))
                    else:
                        x_from, r_from, _ = verdicts[i]
                        x_before = verdicts[i - 1][0]
                        text = (f"{label}: crossover between {axis}={_fmt_n(x_before)} and {_fmt_n(x_from)}: "
                                f"from {_fmt_n(x_from)} on `{e}` is significantly better than `{t}` "
                                f"({r_from.value:.2f}× [{r_from.lo:.2f}–{r_from.hi:.2f}] at {_fmt_n(x_from)})")
                        out.append(Crossover(wl, mk, e, t, axis, text, x_from, x_before, r_from, nmax))
    return out


# ---- per-instance scale records (path_instances[].scale) -------------------------------------------

def _instances(S: RunSummary) -> list[dict]:
    inst = S.run.doc.get("path_instances")
    return [i for i in inst if isinstance(i, dict)] if isinstance(inst, list) else []


def update_rows(S: RunSummary) -> list[dict]:
    """One row per (path, services, match_position): medians over instances of install time and the
    update costs, with how many instances recorded them."""
    acc: dict[tuple, dict[str, list[float]]] = {}
    for i in _instances(S):
        sc = i.get("scale")
        if not isinstance(sc, dict) or i.get("status", "ok") != "ok":
            continue
        n = sc.get("services")
        key = (str(i.get("path")), n if M.is_num(n) else None, str(sc.get("match_position") or ""))
        d = acc.setdefault(key, {})
        if M.is_num(sc.get("install_ns")):
            d.setdefault("install_ns", []).append(float(sc["install_ns"]))
        upd = sc.get("update") if isinstance(sc.get("update"), dict) else {}
        for op in ("add_ns", "remove_ns"):
            u = upd.get(op)
            if isinstance(u, dict):
                for q in ("p50", "p90"):
                    if M.is_num(u.get(q)):
                        d.setdefault(f"{op}.{q}", []).append(float(u[q]))
        if M.is_num(sc.get("memory_bytes")):
            d.setdefault("memory_bytes", []).append(float(sc["memory_bytes"]))
        if isinstance(sc.get("memory_source"), str):
            d.setdefault("memory_source", []).append(sc["memory_source"])
    rows = []
    for (p, n, mp), d in sorted(acc.items(), key=lambda kv: (S.cat.path_sort_key(kv[0][0]), kv[0][1] or 0, kv[0][2])):
        row = {"path": p, "services": n, "match_position": mp, "instances": len(d.get("install_ns", []))}
        for k, vs in d.items():
            if k == "memory_source":
                row[k] = sorted(set(vs))[0]
            else:
                row[k] = median_ci(vs)
        rows.append(row)
    return rows
