# SPDX-License-Identifier: Apache-2.0
"""The report's section on API traffic: HTTP workloads through an L7 gateway (a `gateway` path option,
e.g. HAProxy in HTTP mode in place of pathbench's L4 proxy) behind each interception.

It answers what the seed's API-traffic claims are about: what an interception costs per request
behind the gateway (against the same gateway at a plain address, the interceptions'
`compare_against`), what the L7 gateway costs over pathbench's L4 splice proxy on the same path,
whether pathbench's request rate agrees with the reference tool's (wrk) on the same path instance,
and a verdict on each of the three claims.

Present only when the run has a result of an HTTP workload (catalogue `application` "http") with a
gateway in its path options, so reports of other runs do not change.  Which paths are interceptions,
TPROXY or eBPF, and which path is the plain gateway come from the catalogue, never from names.  The
statistics are the report's (stats.paired_ratio, median_ci, the cost mode's bound in a cost-mode run);
what is different here is only which repetitions go in: a repetition whose proof failed (the gateway
did not see every request, or answered one with an error) is left out of every number in this
section, because its numbers do not describe the gateway path.  The rest of the report keeps it and
lists it under "Skipped and failed results".
"""

from __future__ import annotations

from dataclasses import dataclass

from . import metrics as M
from . import scale as SC
from .doc import Doc
from .load import Run
from .peers import RATE_TARGET
from .report_claims import Claim, _no_ci_phrase, _sure
from .report_format import _need_n, _paths_text, ratio_text, short_verdict
from .stats import LEVEL_TEXT, Estimate, Ratio, median_ci, paired_ratio
from .summary import GroupSummary, RunSummary, numeric_label_key, verdict

TITLE = "API traffic: what intercepting and observing it costs"
GATEWAY = "gateway"          # the path option naming the L7 gateway (absent or "none": pathbench's L4 proxy)
OBSERVE = "observe"          # the path option naming who observes the API calls (absent or "none": nobody)
OBSERVERS = ("ebpf-empty", "ebpf-http", "gateway-log")
PROOF = "gateway"            # the proof's record of the gateway: tool, version, counters over the window, pid
APPLICATION = "http"         # catalogue workload trait: the workload's transactions are HTTP requests


# ---- which results: HTTP workloads, gateway or L4 proxy, proofs ------------------------------------

def http_workloads(S: RunSummary) -> list[str]:
    return [w for w in S.workloads() if S.cat.workload(w).application == APPLICATION]


def gateway_of(result: dict) -> str:
    """The gateway a result ran with, "" for pathbench's own L4 proxy (no option, or "none")."""
    po = result.get("path_options")
    g = po.get(GATEWAY) if isinstance(po, dict) else None
    return g if isinstance(g, str) and g and g != "none" else ""


def observe_of(result: dict) -> str:
    """The API observer a result ran with (--observe), "" for none."""
    po = result.get("path_options")
    o = po.get(OBSERVE) if isinstance(po, dict) else None
    return o if isinstance(o, str) and o and o != "none" else ""


def has_gateway_results(run: Run) -> bool:
    """Whether the section belongs in this run's report at all (any status: failures are explained)."""
    http = {w for w, t in run.catalogue.workloads.items() if t.application == APPLICATION}
    return any(r.get("workload") in http and gateway_of(r) for r in run.results)


def proof_failed(r: dict) -> bool:
    pr = r.get("proof")
    return isinstance(pr, dict) and pr.get("ok") is False


@dataclass(frozen=True, order=True)
class Cell:
    """One configuration of an HTTP workload, by its actual options (not only those that vary, as a
    GroupKey has): the path behind a gateway ("" = pathbench's L4 proxy), its other path options
    (services, match_position: separate variants) and the varying workload options."""
    workload: str
    variant: str
    path: str
    gateway: str
    options: str
    observe: str = ""        # the API observer ("" = none)

    @property
    def name(self) -> str:
        extra = ", ".join(x for x in (self.options, f"observe={self.observe}" if self.observe else "") if x)
        return self.path + (f" ({extra})" if extra else "")

    @property
    def wl(self) -> str:
        return self.workload + (f" ({self.variant})" if self.variant else "")


def cell_of(g: GroupSummary) -> Cell:
    r = g.results[0]
    po = r.get("path_options") if isinstance(r.get("path_options"), dict) else {}
    rest = {k: v for k, v in po.items() if k not in (GATEWAY, OBSERVE)}
    return Cell(g.key.workload, g.key.variant, g.key.path, gateway_of(r), M.variant_label(rest), observe_of(r))


def _observer_rank(o: str) -> int:
    order = ("",) + OBSERVERS
    return order.index(o) if o in order else len(order)


class ApiData:
    """The HTTP groups of a run by Cell, pathbench's own and the reference tools', each with its
    usable repetitions (successful, proof not failed)."""

    def __init__(self, S: RunSummary):
        self.S = S
        self.workloads = http_workloads(S)
        self.own: dict[Cell, GroupSummary] = {}
        self.refs: dict[tuple[Cell, str], GroupSummary] = {}
        for k, g in S.items():
            if k.workload not in self.workloads or not g.results:
                continue
            if k.reference:
                self.refs[(cell_of(g), k.reference)] = g
            else:
                self.own[cell_of(g)] = g

    def sort_key(self, c: Cell):
        cat = self.S.cat
        return (cat.workload_sort_key(c.workload), c.variant, c.gateway == "", c.gateway,
                cat.path_sort_key(c.path), numeric_label_key(c.options), _observer_rank(c.observe))

    def cells(self, gateway: bool | None = None, kinds=None, technology=None, observe: str | None = "") -> list[Cell]:
        """Own cells with usable repetitions; gateway True/False selects behind a gateway / the L4 proxy;
        observe: only cells with that observer ("" = none, the default: the sections on interception
        and gateway cost compare unobserved traffic), None = any."""
        out = []
        for c, g in self.own.items():
            t = self.S.cat.path(c.path)
            if observe is not None and c.observe != observe:
                continue
            if (gateway is None or bool(c.gateway) == gateway) and (kinds is None or t.kind in kinds) \
                    and (technology is None or t.technology == technology) and self.usable(g):
                out.append(c)
        return sorted(out, key=self.sort_key)

    @staticmethod
    def dropped(g: GroupSummary) -> list[int]:
        return sorted({int(r.get("repetition", 0)) for r in g.ok if proof_failed(r)})

    def usable(self, g: GroupSummary) -> list[dict]:
        return [r for r in g.ok if not proof_failed(r)]

    def by_rep(self, g: GroupSummary, metric: str | None) -> dict[int, float]:
        """The group's per-repetition values of metric, repetitions whose proof failed left out."""
        bad = set(self.dropped(g))
        return {rep: v for rep, v in g.by_rep.get(metric, {}).items() if rep not in bad} if metric else {}

    def estimate(self, c: Cell, metric: str | None) -> Estimate:
        g = self.own.get(c)
        return median_ci(list(self.by_rep(g, metric).values())) if g else Estimate(0, None)

    def ratio(self, a: Cell, b: Cell, metric: str | None, b_ref: str = "") -> Ratio:
        """a ÷ b (b: a reference tool's row when b_ref), paired by repetition as RunSummary.ratio is."""
        ga = self.own.get(a)
        gb = self.refs.get((b, b_ref)) if b_ref else self.own.get(b)
        if ga is None or gb is None or metric is None:
            return Ratio(None)
        num, den = self.by_rep(ga, metric), self.by_rep(gb, metric)
        if not num or not den:
            return Ratio(None)
        if self.S.cost:
            from .cost import ratio as cost_ratio
            return cost_ratio(num, den, typical=self.S.typical_spread(a.workload, metric),
                              latency=M.kind(metric) == "latency")
        return paired_ratio(num, den)

    def metrics(self, c: Cell) -> list[str]:
        """Requests/s, latency p50 and p99, CPU per request (the ones this workload records)."""
        g = self.own[c]
        U = self.S.units
        keys = [g.primary, U.latency("p50"), U.latency("p99"), g.cpu]
        return [k for k in dict.fromkeys(keys) if k and k in M.METRICS]

    def plain(self, c: Cell) -> Cell | None:
        """The plain gateway for an interception behind a gateway: its compare_against behind the same
        gateway, same workload; its path options equal to c's where it has them, else none."""
        other = self.S.cat.counterpart(c.path)
        if not other:
            return None
        cands = [x for x in self.cells(gateway=True, observe=c.observe) if x.path == other and x.workload == c.workload
                 and x.variant == c.variant and x.gateway == c.gateway]
        for x in cands:
            if x.options == c.options:
                return x
        return next((x for x in cands if not x.options), None)

    def l4(self, c: Cell) -> Cell | None:
        """The same path and options with pathbench's L4 proxy in place of the gateway."""
        x = Cell(c.workload, c.variant, c.path, "", c.options, c.observe)
        return x if x in self.own and self.usable(self.own[x]) else None

    def unobserved(self, c: Cell) -> Cell | None:
        """The same path, gateway, options and workload with no observer."""
        x = Cell(c.workload, c.variant, c.path, c.gateway, c.options, "")
        return x if x in self.own and self.usable(self.own[x]) else None


@dataclass
class Comp:
    """a ÷ b on one metric (a comparison behind a claim or a table cell)."""
    a: Cell
    b: Cell
    metric: str
    label: str
    hib: bool
    r: Ratio
    b_ref: str = ""          # b is this reference tool's row (same path instance), "" for pathbench's own

    @property
    def b_name(self) -> str:
        return f"{self.b.name} [{self.b_ref}]" if self.b_ref else self.b.name

    def significant(self) -> str | None:
        v = short_verdict(self.r, self.hib)
        return v if v in ("better", "worse") else None

    def text(self) -> str:
        return (f"`{self.a.name}` ÷ `{self.b_name}` on {self.a.wl} ({self.label}): "
                f"{ratio_text(self.r)}")


def _label(S: RunSummary, wl: str, key: str) -> str:
    return SC.metric_label(S, wl, key)


def _unit(key: str) -> str:
    """'requests/s', 'µs', 'CPU µs/request': a transaction of an HTTP workload is a request."""
    return M.METRICS[key].unit.replace("transaction", "request")


def _comp(D: ApiData, a: Cell, b: Cell, key: str, b_ref: str = "") -> Comp:
    met = M.METRICS[key]
    return Comp(a, b, key, _label(D.S, a.workload, key), met.higher_is_better, D.ratio(a, b, key, b_ref), b_ref)


def _cell_text(c: Comp) -> str:
    """'0.90× [0.88–0.92] (worse)': the ratio and what its interval allows (HTML colours the word)."""
    if c.r.value is None:
        return "–"
    return f"{ratio_text(c.r)} ({short_verdict(c.r, c.hib)})"


def _ratio_table(D: ApiData, pairs: list[tuple[Cell, Cell]], first: str,
                 rates: tuple[str, str] | None = None) -> tuple[list, list]:
    """One row per pair, a column per metric: a ÷ b with its interval, and the number of pairs; with
    rates (heading of a, of b), first the median rate of each side."""
    keys = list(dict.fromkeys(k for a, _ in pairs for k in D.metrics(a)))
    wl = pairs[0][0].workload
    header = [first, "technology"]
    if rates and keys:
        header.append(f"{_label(D.S, wl, keys[0])}, {rates[0]} / {rates[1]}")
    header += [f"{_label(D.S, wl, k)} ÷" for k in keys] + ["pairs"]
    rows = []
    for a, b in pairs:
        cs = [_comp(D, a, b, k) for k in keys]
        row = [f"`{a.name}`", D.S.cat.path(a.path).technology]
        if rates and keys:
            met = M.METRICS[keys[0]]
            row.append(" / ".join(M.fmt(met.display(e.median)) if e.median is not None else "–"
                                  for e in (D.estimate(a, keys[0]), D.estimate(b, keys[0]))))
        rows.append(row + [_cell_text(c) for c in cs]
                    + [str(max((c.r.n for c in cs if c.r.value is not None), default=0))])
    return header, rows


def _absolutes(D: ApiData, c: Cell) -> str:
    """'10,000 [9,900–10,100] requests/s, latency p50 95.0 [..] µs, ...' over the usable repetitions."""
    parts = []
    for k in D.metrics(c):
        e = D.estimate(c, k)
        if e.median is None:
            continue
        met = M.METRICS[k]
        ci = (f" [{M.fmt(met.display(e.lo))}–{M.fmt(met.display(e.hi))}]" if e.has_ci else "")
        name = "" if M.kind(k) == "rate" else f"{_label(D.S, c.workload, k)} "
        unit = _unit(k).replace("CPU ", "") if M.kind(k) == "cpu" else _unit(k)
        parts.append(f"{name}{M.fmt(met.display(e.median))}{ci} {unit}")
    n = sorted({D.estimate(c, k).n for k in D.metrics(c)} - {0})
    return ", ".join(parts) + f" (median of n={'/'.join(map(str, n))}" + \
        ("" if any(D.estimate(c, k).has_ci for k in D.metrics(c)) else f"; {LEVEL_TEXT} CI needs n ≥ {_need_n()}") + ")"


def _no_ci_note(rows_rs: list[Ratio]) -> str:
    ns = sorted({r.n for r in rows_rs if r.value is not None and not r.has_ci})
    if not ns:
        return ""
    return (f" Where a cell says \"no 95% CI\", there were too few paired repetitions (n={'/'.join(map(str, ns))}) "
            f"for a {LEVEL_TEXT} interval, which needs {_need_n()}: its point estimate decides nothing.")


# ---- 1. the interception behind the gateway, against the plain gateway ---------------------------

def interception_pairs(D: ApiData) -> list[tuple[Cell, Cell]]:
    out = []
    for c in D.cells(gateway=True, kinds=("intercepted",)):
        p = D.plain(c)
        if p is not None:
            out.append((c, p))
    return out


def interception_section(doc: Doc, D: ApiData) -> None:
    doc.h3("What an interception costs behind the gateway")
    inter = D.cells(gateway=True, kinds=("intercepted",))
    if not inter:
        doc.p("No interception path ran behind the gateway successfully in this run.")
        return
    pairs = interception_pairs(D)
    doc.p(f"Per request, each interception (kind intercepted) with the gateway behind it ÷ the same gateway at a "
          f"plain address (the interceptions' `compare_against`, no interception), paired by repetition: the median of "
          f"the per-repetition ratios with its {LEVEL_TEXT} interval in brackets. Requests/s above 1 is better, "
          f"latency and CPU per request above 1 are worse; better/worse only where the interval excludes 1.")
    missing = [c for c in inter if D.plain(c) is None]
    if missing:
        doc.p(f"Not set against a plain gateway (it was not measured with the same gateway and workload): "
              f"{', '.join(f'`{c.name}` on {c.wl}' for c in missing)}.")
    all_rs = []
    groups: dict[tuple, list[tuple[Cell, Cell]]] = {}
    for a, b in pairs:
        groups.setdefault((a.workload, a.variant, a.gateway, b), []).append((a, b))
    for (wl, _, gw, plain), ps in groups.items():
        doc.p(f"**{plain.wl}**, gateway {gw}: the plain gateway `{plain.name}` ran at {_absolutes(D, plain)}.")
        header, rows = _ratio_table(D, ps, "interception")
        doc.table(header, rows)
        all_rs += [D.ratio(a, b, k) for a, b in ps for k in D.metrics(a)]
    note = _no_ci_note(all_rs)
    if note:
        doc.p(note.strip())


# ---- 2. the gateway against pathbench's L4 proxy on the same path ------------------------------

def gateway_pairs(D: ApiData) -> list[tuple[Cell, Cell]]:
    return [(c, D.l4(c)) for c in D.cells(gateway=True) if D.l4(c) is not None]


def gateway_section(doc: Doc, D: ApiData) -> None:
    pairs = gateway_pairs(D)
    if not pairs:
        return
    doc.h3("What the L7 gateway costs over pathbench's L4 proxy")
    doc.p(f"The same path, options and workload with the gateway (HTTP parsed and forwarded request by request) ÷ "
          f"with pathbench's own L4 proxy (bytes spliced between two TCP connections), paired by repetition, "
          f"{LEVEL_TEXT} intervals. This is what an API gateway adds over a transparent TCP proxy.")
    groups: dict[tuple, list[tuple[Cell, Cell]]] = {}
    for a, b in pairs:
        groups.setdefault((a.workload, a.variant, a.gateway), []).append((a, b))
    all_rs = []
    for (_, _, gw), ps in groups.items():
        doc.p(f"**{ps[0][0].wl}**, gateway {gw} ÷ L4 proxy (medians of the usable repetitions, then the paired ratios):")
        header, rows = _ratio_table(D, ps, "path", ("gateway", "L4 proxy"))
        doc.table(header, rows)
        all_rs += [D.ratio(a, b, k) for a, b in ps for k in D.metrics(a)]
    note = _no_ci_note(all_rs)
    if note:
        doc.p(note.strip())


# ---- 3. agreement with the reference tool (wrk) ----------------------------------------------------

def agreement_word(r: Ratio, target: float = RATE_TARGET) -> str:
    """Within / outside the like-for-like target when the whole interval says so; else undecided."""
    pct = f"±{target * 100:g}%"
    if r.value is None:
        return "–"
    if r.has_ci:
        if 1 - target <= r.lo and r.hi <= 1 + target:
            return f"within {pct}"
        if r.hi < 1 - target or r.lo > 1 + target:
            return f"outside {pct}"
        return f"not decided (the interval reaches beyond {pct})"
    where = "within" if abs(r.value - 1) <= target else "outside"
    return f"point estimate {where} {pct} ({r.reason})"


def reference_comps(D: ApiData) -> list[Comp]:
    out = []
    for (c, tool), g in sorted(D.refs.items(), key=lambda kv: (D.sort_key(kv[0][0]), kv[0][1])):
        if c in D.own and D.own[c].primary and D.usable(g) and not c.observe:
            comp = _comp(D, c, c, D.own[c].primary, tool)
            if comp.r.value is not None:
                out.append(comp)
    return out


def reference_agreement(doc: Doc, D: ApiData) -> None:
    cs = reference_comps(D)
    if not cs:
        return
    doc.h3("Agreement with the reference tool")
    doc.p(f"pathbench's requests/s ÷ the reference tool's, run against the same server through the same path "
          f"instance (same path options), paired by repetition, {LEVEL_TEXT} interval. This run has no A/A measure of "
          f"a reference tool's agreement, so it is judged against the like-for-like rate target of `analysis peers` "
          f"(±{RATE_TARGET * 100:g}%): within where the whole interval lies inside it, outside where wholly beyond. "
          f"Both figures and the CPU per request of each are in \"pathbench beside reference tools\" below.")
    doc.table(["path", "gateway", "workload", "tool", "pathbench ÷ tool, requests/s", "pairs", "agreement"],
              [[f"`{c.a.name}`", c.a.gateway or "none (L4 proxy)", c.a.wl, c.b_ref,
                ratio_text(c.r), str(c.r.n), agreement_word(c.r)] for c in cs])


# ---- 4. observing the API calls ---------------------------------------------------------------------

def _observer(r: dict) -> dict | None:
    pr = r.get("proof")
    o = pr.get("observer") if isinstance(pr, dict) else None
    return o if isinstance(o, dict) else None


def _num(x) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


@dataclass
class ObsRow:
    a: Cell                  # with the observer
    b: Cell                  # the same without
    comps: list              # a ÷ b on requests/s, p99, CPU per request
    own: Estimate            # the observer's own cost per request, ns
    own_how: str
    proved: str              # "6/6": repetitions whose observer counted every request per route


def _by_rep(D: ApiData, c: Cell, fn) -> dict[int, float]:
    out = {}
    for r in D.usable(D.own[c]):
        v = fn(r)
        if v is not None:
            out[int(r.get("repetition", 0))] = v
    return out


def _own_cost(D: ApiData, a: Cell, b: Cell) -> tuple[Estimate, str]:
    """The observer's own cost per request (ns): the BPF programs' time (BPF stats x runs per request),
    or, for the gateway's log, HAProxy's CPU per request with the log minus without, paired by repetition."""
    if a.observe == "ebpf-http":
        v = _by_rep(D, a, lambda r: _num((_observer(r) or {}).get("bpf_ns_per_request")))
        return median_ci(list(v.values())), "BPF programs' run time per request (BPF stats, sampled in the warm-up)"
    if a.observe == "ebpf-empty":
        # Empty programs count no packets: runs per request are the parsing observer's on the same cell.
        http = Cell(a.workload, a.variant, a.path, a.gateway, a.options, "ebpf-http")
        ppr = median_ci(list(_by_rep(D, http, lambda r: _num((_observer(r) or {}).get("packets_per_request"))).values())) \
            if http in D.own else Estimate(0, None)

        def hook(r):
            pg = (_observer(r) or {}).get("programs") or {}
            ns = [_num((pg.get(h) or {}).get("ns_per_run")) for h in ("ingress", "egress")]
            return sum(ns) / 2 if all(x is not None for x in ns) else None
        v = list(_by_rep(D, a, hook).values())
        if ppr.median is None or not v:
            return Estimate(0, None), "empty programs' ns per run (no ebpf-http row to count runs per request)"
        e = median_ci(v)
        scale = ppr.median
        return (Estimate(e.n, e.median * scale, e.lo * scale if e.lo is not None else None,
                         e.hi * scale if e.hi is not None else None, e.level),
                f"empty programs' ns per run × {scale:.2f} runs per request")
    if a.observe == "gateway-log":
        ca = _by_rep(D, a, lambda r: _num(((r.get("proof") or {}).get(PROOF) or {}).get("cpu_ns_per_request")))
        cb = _by_rep(D, b, lambda r: _num(((r.get("proof") or {}).get(PROOF) or {}).get("cpu_ns_per_request")))
        d = [ca[k] - cb[k] for k in ca if k in cb]
        return median_ci(d), "HAProxy's CPU per request (schedstat) with its log − without, paired by repetition"
    return Estimate(0, None), ""


def observation_rows(D: ApiData) -> list[ObsRow]:
    rows = []
    for a in D.cells(observe=None):
        if a.observe not in OBSERVERS:
            continue
        b = D.unobserved(a)
        if b is None:
            continue
        keys = [k for k in D.metrics(a) if k != D.S.units.latency("p50")]
        comps = [_comp(D, a, b, k) for k in keys]
        own, how = _own_cost(D, a, b)
        okr = [r for r in D.own[a].results if r.get("status") == "ok"]
        proved = f"{sum(1 for r in okr if (_observer(r) or {}).get('ok') is True)}/{len(okr)}"
        rows.append(ObsRow(a, b, comps, own, how, proved))
    return rows


def observation_section(doc: Doc, D: ApiData) -> None:
    rows = observation_rows(D)
    if not rows:
        return
    doc.h3("What observing the API calls costs")
    doc.p(f"The same path, gateway and workload with an observer of the API calls (`--observe`) ÷ without, paired by "
          f"repetition, {LEVEL_TEXT} intervals: `ebpf-empty` is the eBPF observer's two TC hooks (ingress and egress "
          f"of the DUT's client-facing interface) with empty programs, the hook's own cost; `ebpf-http` parses each "
          f"request line there and counts it per method and route, with a latency histogram per route; `gateway-log` "
          f"is the gateway's own per-request log line. The observer's own cost per request is measured apart from "
          f"the end-to-end figures, which on this host move by more than it: the BPF programs' run time (BPF stats), "
          f"or the gateway's own CPU time with its log against without. \"Counted\" is the repetitions whose "
          f"observer counted every request per route as the generator completed it (its proof).")
    groups: dict[tuple, list[ObsRow]] = {}
    for row in rows:
        groups.setdefault((row.a.workload, row.a.variant), []).append(row)
    for _, rs in groups.items():
        wl = rs[0].a.workload
        keys = [c.metric for c in rs[0].comps]
        doc.p(f"**{rs[0].a.wl}**:")
        header = ["path", "gateway", "observer"] + [f"{_label(D.S, wl, k)} ÷ none" for k in keys] + \
            ["observer's own cost per request", "how", "counted"]
        body = []
        # In a cost-mode run (docs/cost.md) every guest nanosecond is an instruction.
        unit = "instructions" if D.S.cost else "ns"
        for row in rs:
            own = (f"{row.own.median:,.0f} {unit}" + (f" [{row.own.lo:,.0f}–{row.own.hi:,.0f}]" if row.own.has_ci else "")
                   if row.own.median is not None else "–")
            body.append([f"`{row.a.path}`", row.a.gateway or "none", row.a.observe] +
                        [_cell_text(c) for c in row.comps] + [own, row.own_how, row.proved])
        doc.table(header, body)


# ---- 5. the seed's API claims ----------------------------------------------------------------------

def _counters(r: dict) -> dict | None:
    """The gateway's counters over one repetition's window, from its proof (None when not recorded)."""
    pr = r.get("proof")
    gw = pr.get(PROOF) if isinstance(pr, dict) else None
    k = gw.get("counters") if isinstance(gw, dict) else None
    return k if isinstance(k, dict) else None


def claim_tproxy_distributes(D: ApiData) -> Claim:
    """Supported when every repetition of a TPROXY interception behind the gateway proved the gateway
    saw every request the generator completed (proof ok, with the gateway's counters)."""
    cl = Claim("\"TPROXY facilitates the distribution of API traffic\"")
    S = D.S
    gs = [(c, g) for c, g in D.own.items() if c.gateway and S.cat.path(c.path).technology == "tproxy"
          and S.cat.path(c.path).kind == "intercepted"]
    if not gs:
        cl.sentence = ("this run has no TPROXY interception (technology tproxy, kind intercepted) behind the gateway "
                       "on an HTTP workload.")
        return cl
    ok = [(c, r) for c, g in gs for r in g.results if r.get("status") == "ok"]
    paths = sorted({c.path for c, _ in gs}, key=S.cat.path_sort_key)
    wls = sorted({c.workload for c, _ in gs}, key=S.cat.workload_sort_key)
    if not ok:
        reasons = sorted({str(r.get("reason") or r.get("status")) for _, g in gs for r in g.results})
        cl.sentence = f"no repetition of {_paths_text(paths)} behind the gateway succeeded ({'; '.join(reasons)})."
        return cl
    failed = [(c, r) for c, r in ok if proof_failed(r)]
    counters = [_counters(r) for _, r in ok]
    unproven = [(c, r) for (c, r), k in zip(ok, counters) if not proof_failed(r) and
                ((r.get("proof") or {}).get("ok") is not True or not isinstance(k, dict))]
    req = sum(int(k.get("http_requests", 0)) for k in counters if isinstance(k, dict))
    ok2 = sum(int(k.get("http_2xx", 0)) for k in counters if isinstance(k, dict))
    cost = [_comp(D, a, b, D.own[a].cpu or D.own[a].primary) for a, b in interception_pairs(D) if a.path in paths]
    cost_txt = ("; per request against the plain gateway: " + "; ".join(c.text() for c in cost)) if cost else \
        "; no plain gateway was measured to set the cost per request against"
    where = f"{_paths_text(paths)} on {', '.join(wls)}"
    if failed:
        c, r = failed[0]
        cl.word = "Not supported"
        cl.sentence = (f"in {len(failed)} of {len(ok)} repetitions of {where} the proof failed, so not every request "
                       f"reached the gateway and was answered: `{c.name}` / {c.wl} repetition {r.get('repetition', 0)}: "
                       f"{(r.get('proof') or {}).get('reason', 'no reason recorded')}{cost_txt}.")
    elif unproven:
        cl.word = "Not decided"
        cl.sentence = (f"{len(unproven)} of {len(ok)} repetitions of {where} carry no proof with the gateway's "
                       f"counters (`proof.gateway`), so whether every request reached it is not shown{cost_txt}.")
    else:
        cl.word = "Supported"
        cl.sentence = (f"in all {len(ok)} repetitions of {where} the gateway's own counters show every request the "
                       f"generator completed went through it ({req:,} requests, {ok2:,} answered 2xx; proof ok)"
                       f"{cost_txt}.")

    def details(doc: Doc):
        rows = []
        for c, g in sorted(gs, key=lambda t: D.sort_key(t[0])):
            okr = [r for r in g.results if r.get("status") == "ok"]
            ks = [_counters(r) or {} for r in okr]
            rows.append([f"`{c.name}`", c.wl, c.gateway, f"{sum(1 for r in okr if (r.get('proof') or {}).get('ok') is True)}"
                         f"/{len(okr)}" + (f" ({len(g.results) - len(okr)} not ok)" if len(g.results) > len(okr) else ""),
                         f"{sum(int(k.get('http_requests', 0)) for k in ks):,}", f"{sum(int(k.get('http_2xx', 0)) for k in ks):,}",
                         f"{sum(int(k.get('http_other', 0)) for k in ks):,}", f"{sum(int(k.get('tcp_sessions', 0)) for k in ks):,}"])
        doc.p("The gateway's counters over each measured window (`proof.gateway.counters`, summed over repetitions): "
              "a proof is ok when the gateway accepted every connection and saw every request the generator "
              "completed, answered all 2xx, and relayed none as plain TCP.")
        doc.table(["path", "workload", "gateway", "proofs ok", "HTTP requests", "2xx", "other status", "relayed as TCP"],
                  rows)
    cl.details.append(details)
    return cl


def claim_ebpf_monitors(D: ApiData) -> Claim:
    """Supported when every repetition of the eBPF observer (--observe ebpf-http) counted every request per
    route as the generator completed it (its proof), with its cost per request beside the gateway log's;
    not supported when one missed requests; not measured without the observer."""
    cl = Claim("\"eBPF can monitor API calls in real time\"")
    S = D.S
    gs = [(c, g) for c, g in D.own.items() if c.observe == "ebpf-http"]
    if not gs:
        cl.word = "Not measured in this run"
        cl.sentence = ("no result ran with the eBPF API observer (`--observe ebpf-http`, `make bench-api`'s third "
                       "step), so neither its coverage (every API call seen) nor its cost per request was measured here.")
        return cl
    # A repetition whose observer missed requests failed its proof (status failed): it counts against.
    ran = [(c, r) for c, g in gs for r in g.results if r.get("status") in ("ok", "failed") and _observer(r)]
    ok = [(c, r) for c, r in ran if r.get("status") == "ok"]
    paths = sorted({c.path for c, _ in gs}, key=S.cat.path_sort_key)
    wls = sorted({c.workload for c, _ in gs}, key=S.cat.workload_sort_key)
    where = f"{_paths_text(paths)} on {', '.join(wls)}"
    bad = [(c, r) for c, r in ran if (_observer(r) or {}).get("ok") is not True]
    if bad:
        c, r = bad[0]
        cl.word = "Not supported"
        cl.sentence = (f"in {len(bad)} of {len(ran)} repetitions on {where} the eBPF observer's counts did not match "
                       f"the generator's: `{c.name}` / {c.wl} repetition {r.get('repetition', 0)}: "
                       f"{(_observer(r) or {}).get('reason', 'no observer record')}.")
        return cl
    if not ok:
        cl.sentence = f"no repetition with the eBPF observer on {where} succeeded."
        return cl
    n = sum(int(v.get("requests", 0)) for _, r in ok for v in (_observer(r).get("routes") or {}).values())
    routes = sorted({k for _, r in ok for k in (_observer(r).get("routes") or {})})
    own = [x for _, r in ok for x in [_observer(r).get("bpf_ns_per_request")] if isinstance(x, (int, float))]
    unit = "instructions" if S.cost else "ns"
    cost = f"; its programs' own time per request, from BPF stats, {median_ci(own).median:,.0f} {unit} (median over {len(own)} repetitions)" \
        if own else ""
    logs = [x for row in observation_rows(D) if row.a.observe == "gateway-log" for x in [row.own] if x.median is not None]
    log_txt = (f"; the gateway's own log costs the gateway {min(x.median for x in logs):,.0f}–"
               f"{max(x.median for x in logs):,.0f} {unit} of CPU per request" if logs else "")
    cl.word = "Supported"
    cl.sentence = (f"in all {len(ok)} repetitions on {where} a BPF program at the DUT's interface counted every "
                   f"request under its route exactly as the generator completed it ({n:,} requests over {len(routes)} "
                   f"routes, proof ok) and kept a latency histogram per route, in BPF maps user space can read at any "
                   f"moment (pathbench reads them once per run){cost}{log_txt}. The end-to-end cost is in "
                   f"\"What observing the API calls costs\".")
    return cl


def ebpf_pairs(D: ApiData) -> list[tuple[Cell, Cell]]:
    """(eBPF interception, TPROXY interception) behind the same gateway, workload and path options."""
    ebpf = D.cells(gateway=True, kinds=("intercepted",), technology="ebpf")
    tps = D.cells(gateway=True, kinds=("intercepted",), technology="tproxy")
    return [(e, t) for e in ebpf for t in tps if (e.workload, e.variant, e.gateway, e.options)
            == (t.workload, t.variant, t.gateway, t.options)]


def claim_ebpf_efficient_api(D: ApiData) -> Claim:
    """As the report's "eBPF is highly efficient", on API traffic: eBPF interceptions against TPROXY ones
    behind the gateway, on requests/s and CPU per request; a difference only where the interval excludes 1."""
    cl = Claim("\"eBPF offers high efficiency\" (API traffic)")
    S = D.S
    pairs = ebpf_pairs(D)
    if not pairs:
        cl.sentence = ("it needs an eBPF interception (technology ebpf) and a TPROXY one behind the same gateway on the "
                       "same HTTP workload.")
        return cl
    cs = [c for a, b in pairs for k in dict.fromkeys((D.own[a].primary, D.own[a].cpu)) if k
          for c in [_comp(D, a, b, k)] if c.r.value is not None]
    if not cs:
        cl.sentence = "no request rate or CPU per request was recorded for these paths."
        return cl
    better = sorted([c for c in cs if c.significant() == "better"], key=lambda c: -abs(c.r.value - 1))
    worse = sorted([c for c in cs if c.significant() == "worse"], key=lambda c: -abs(c.r.value - 1))
    what = "requests/s and CPU per request, each eBPF interception ÷ each TPROXY one behind the same gateway"
    if not any(c.r.has_ci for c in cs):
        cl.word = "Not decided"
        cl.sentence = (f"{_no_ci_phrase(cs)}; point estimates of {what} range from {min(c.r.value for c in cs):.2f}× "
                       f"to {max(c.r.value for c in cs):.2f}×.")
    elif better and not worse:
        cl.word = "Supported" if len(better) == len(cs) else "Supported in part"
        cl.sentence = (f"eBPF is significantly more efficient {_sure(S)} in {len(better)} of {len(cs)} comparisons "
                       f"({what}); the largest difference: {better[0].text()}.")
    elif worse and not better:
        cl.word = "Contradicted"
        cl.sentence = (f"in none of {len(cs)} comparisons ({what}) is eBPF significantly more efficient, in "
                       f"{len(worse)} it is less; the largest: {worse[0].text()}.")
    elif better and worse:
        cl.word = "Mixed"
        cl.sentence = (f"eBPF is significantly more efficient in {len(better)} and less in {len(worse)} of {len(cs)} "
                       f"comparisons ({what}); best {better[0].text()}, worst {worse[0].text()}.")
    else:
        cl.word = "Not supported, not contradicted"
        cl.sentence = (f"none of the {len(cs)} comparisons ({what}) shows a difference "
                       f"{'beyond the cost bound' if S.cost else 'significant at 95%'}: behind an L7 gateway the "
                       f"interception's share of the cost per request is not resolved by this run.")

    def details(doc: Doc):
        doc.p("Like with like: the same gateway, workload and path options, paired by repetition; the gateway's "
              "own work per request is common to both sides.")
        doc.table(["comparison", "workload", "metric", f"A ÷ B [{'cost bound' if S.cost else '95% CI'}]", "meaning",
                   "n pairs"],
                  [[f"`{c.a.name}` ÷ `{c.b.name}`", c.a.wl, f"{c.label} ({'↑' if c.hib else '↓'} better)",
                    ratio_text(c.r), verdict(c.r, c.hib), str(c.r.n)] for c in cs])
    cl.details.append(details)
    return cl


def api_claims(D: ApiData) -> list[Claim]:
    return [claim_tproxy_distributes(D), claim_ebpf_monitors(D), claim_ebpf_efficient_api(D)]


# ---- the section -----------------------------------------------------------------------------------

def _dropped_note(D: ApiData) -> str | None:
    items = [f"`{c.name}` / {c.wl} rep {', '.join(map(str, D.dropped(g)))}"
             for c, g in sorted(D.own.items(), key=lambda kv: D.sort_key(kv[0])) if D.dropped(g)]
    items += [f"`{c.name}` [{tool}] / {c.wl} rep {', '.join(map(str, D.dropped(g)))}"
              for (c, tool), g in sorted(D.refs.items(), key=lambda kv: (D.sort_key(kv[0][0]), kv[0][1])) if D.dropped(g)]
    if not items:
        return None
    return ("Left out of every number in this section because their proof failed (listed with the reason under "
            "\"Skipped and failed results\"): " + "; ".join(items) + ".")


def api_section(doc: Doc, run: Run, S: RunSummary) -> list[Claim]:
    """The section, when the run has HTTP results behind a gateway; returns its claims ([] when absent)."""
    if not has_gateway_results(run):
        return []
    D = ApiData(S)
    gws = sorted({c.gateway for c in D.own if c.gateway})
    doc.h2(TITLE)
    doc.p(f"HTTP workloads ({', '.join(D.workloads)}: each transaction is one HTTP/1.1 request) through an L7 "
          f"gateway ({', '.join(gws) or 'none succeeded'}, in HTTP mode in place of pathbench's L4 proxy) behind each "
          f"interception: what intercepting API traffic costs per request, what the gateway costs over an L4 "
          f"proxy, whether pathbench agrees with the reference tool, and the verdicts on three claims about API "
          f"traffic. Medians over repetitions, ratios paired by repetition with {LEVEL_TEXT} intervals "
          f"(none below n={_need_n()}).")
    note = _dropped_note(D)
    if note:
        doc.p(note)
    claims = api_claims(D)
    doc.ul([cl.line for cl in claims], cls="verdicts")
    interception_section(doc, D)
    gateway_section(doc, D)
    reference_agreement(doc, D)
    observation_section(doc, D)
    doc.h3("The API claims in detail")
    for cl in claims:
        doc.p(f"**{cl.title}** — **{cl.word}**: {cl.sentence}")
        for d in cl.details:
            d(doc)
    return claims
