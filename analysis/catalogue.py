# SPDX-License-Identifier: Apache-2.0
"""The run's catalogue: traits of every path and workload, read from run.json (schema 2).

Behaviour in the analysis follows traits, never names: which path is the reference for ratios
(kind "kernel-routed"), which paths a claim is about (technology "tproxy" / "ebpf", kind
"intercepted" / "bpf-forwarded"), which ratio isolates a path's own cost (compare_against), which
metric is a workload's primary one and which its CPU cost, display order.  Schema-1 files get their
catalogue from load.V1_CATALOGUE when they are upgraded.

A path or workload that appears in the results but not in the catalogue gets neutral traits (kind
"unknown", technology "none", no compare_against) and sorts after the known ones; its primary metric
is whichever rate metric its results carry.  Standard library only (validate must not need numpy).
"""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("kernel-routed", "bpf-forwarded", "intercepted", "control")
TECHNOLOGIES = ("none", "tproxy", "ebpf")

# When a workload is not in the catalogue, its primary/CPU metric is the first of these its results carry.
RATE_METRICS = ("throughput_bps", "transactions_per_s", "packets_per_s")
CPU_METRICS = ("cpu_ns_per_transaction", "cpu_ns_per_byte", "cpu_ns_per_packet")

UNKNOWN_ORDER = 10_000


def _str(v, default=None):
    return v if isinstance(v, str) and v else default


def _int(v, default):
    return v if isinstance(v, int) and not isinstance(v, bool) else default


@dataclass(frozen=True)
class PathTraits:
    name: str
    order: int = UNKNOWN_ORDER
    description: str = ""
    kind: str = "unknown"
    technology: str = "none"
    via_proxy: bool = False
    routes: bool = False
    compare_against: str | None = None
    control_for: str | None = None
    parameters: tuple = ()
    in_default_suite: bool = True
    known: bool = True            # False: in the results but not in the catalogue

    @property
    def intercepts(self) -> bool:
        return self.kind == "intercepted"


@dataclass(frozen=True)
class WorkloadTraits:
    name: str
    order: int = UNKNOWN_ORDER
    description: str = ""
    protocol: str | None = None
    transport: str | None = None
    pattern: str | None = None
    application: str | None = None      # "http": the workload speaks an application protocol (requests)
    primary_metric: str | None = None
    cpu_metric: str | None = None
    latency: bool | None = None
    default_payload_bytes: int | None = None
    known: bool = True


def _path(e: dict) -> PathTraits:
    kind = _str(e.get("kind"), "unknown")
    tech = _str(e.get("technology"), "none")
    params = e.get("parameters")
    return PathTraits(
        name=e["name"], order=_int(e.get("order"), UNKNOWN_ORDER), description=_str(e.get("description"), ""),
        kind=kind if kind in KINDS else "unknown", technology=tech if tech in TECHNOLOGIES else "none",
        via_proxy=e.get("via_proxy") is True, routes=e.get("routes") is True,
        compare_against=_str(e.get("compare_against")) if e.get("compare_against") != e["name"] else None,
        control_for=_str(e.get("control_for")),
        parameters=tuple(p for p in params if isinstance(p, str)) if isinstance(params, list) else (),
        in_default_suite=e.get("in_default_suite") is not False)


def _workload(e: dict) -> WorkloadTraits:
    pm, cm = _str(e.get("primary_metric")), _str(e.get("cpu_metric"))
    return WorkloadTraits(
        name=e["name"], order=_int(e.get("order"), UNKNOWN_ORDER), description=_str(e.get("description"), ""),
        protocol=_str(e.get("protocol")), transport=_str(e.get("transport")), pattern=_str(e.get("pattern")),
        application=_str(e.get("application")) if e.get("application") != "none" else None,
        primary_metric=pm, cpu_metric=cm,
        latency=e.get("latency") if isinstance(e.get("latency"), bool) else None,
        default_payload_bytes=_int(e.get("default_payload_bytes"), None))


@dataclass
class Catalogue:
    paths: dict[str, PathTraits] = field(default_factory=dict)
    workloads: dict[str, WorkloadTraits] = field(default_factory=dict)

    @classmethod
    def of(cls, doc: dict) -> "Catalogue":
        """The catalogue of a loaded (validated, upgraded) document, completed with neutral traits
        for names that only the results mention."""
        cat = doc.get("catalogue") if isinstance(doc.get("catalogue"), dict) else {}
        c = cls()
        for e in cat.get("paths", []) if isinstance(cat.get("paths"), list) else []:
            if isinstance(e, dict) and isinstance(e.get("name"), str) and e["name"] not in c.paths:
                c.paths[e["name"]] = _path(e)
        for e in cat.get("workloads", []) if isinstance(cat.get("workloads"), list) else []:
            if isinstance(e, dict) and isinstance(e.get("name"), str) and e["name"] not in c.workloads:
                c.workloads[e["name"]] = _workload(e)
        results = doc.get("results") if isinstance(doc.get("results"), list) else []
        for r in results:
            if not isinstance(r, dict):
                continue
            p, w = r.get("path"), r.get("workload")
            if isinstance(p, str) and p not in c.paths:
                c.paths[p] = PathTraits(p, known=False)
            if isinstance(w, str) and w not in c.workloads:
                c.workloads[w] = WorkloadTraits(w, known=False)
        return c

    # ---- lookups -----------------------------------------------------------------------------
    def path(self, name: str) -> PathTraits:
        return self.paths.get(name) or PathTraits(name, known=False)

    def workload(self, name: str) -> WorkloadTraits:
        return self.workloads.get(name) or WorkloadTraits(name, known=False)

    def path_sort_key(self, name: str):
        return (self.path(name).order, name)

    def workload_sort_key(self, name: str):
        return (self.workload(name).order, name)

    def path_index(self, name: str) -> int:
        """Stable position of a path in the catalogue (colours): its rank by order."""
        ranked = sorted(self.paths, key=self.path_sort_key)
        return ranked.index(name) if name in ranked else len(ranked)

    @property
    def reference_path(self) -> str | None:
        """The path every other path is set against ("baseline"): the kernel-routed path with the
        lowest order.  None when the catalogue has no kernel-routed path."""
        ks = [p for p in self.paths.values() if p.kind == "kernel-routed"]
        return min(ks, key=lambda p: (p.order, p.name)).name if ks else None

    def counterpart(self, name: str) -> str | None:
        """compare_against: the path whose ratio isolates this path's own cost (None for none)."""
        c = self.path(name).compare_against
        return c if c and c != name else None

    def select(self, names, technology: str | None = None, kinds: tuple | None = None) -> list[str]:
        """The given path names that have these traits, in catalogue order."""
        out = [n for n in names if (technology is None or self.path(n).technology == technology)
               and (kinds is None or self.path(n).kind in kinds)]
        return sorted(set(out), key=self.path_sort_key)

    def primary_metric(self, workload: str, results: list[dict] | None = None) -> str | None:
        """The workload's primary metric from its traits; for a workload the catalogue does not
        describe, the first rate metric its results carry."""
        pm = self.workload(workload).primary_metric
        if pm:
            return pm
        return _first_present(RATE_METRICS, results or [])

    def cpu_metric(self, workload: str, results: list[dict] | None = None) -> str | None:
        cm = self.workload(workload).cpu_metric
        if cm:
            return cm
        return _first_present(CPU_METRICS, results or [])


def _first_present(keys, results) -> str | None:
    for k in keys:
        for r in results:
            m = r.get("metrics") if isinstance(r, dict) else None
            v = m.get(k) if isinstance(m, dict) else None
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return k
    return None
