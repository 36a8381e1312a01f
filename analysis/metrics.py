# SPDX-License-Identifier: Apache-2.0
"""What each metric means (unit, direction, display scale), and how results group into configurations.

Everything that decides "higher is better" or "how do we print this" lives here, once.  Which metric
is a workload's primary one, and the order of paths and workloads, are traits of the run's
catalogue (analysis.catalogue), not of this module.
"""

from __future__ import annotations

from dataclasses import dataclass
import json


@dataclass(frozen=True)
class Metric:
    key: str            # dotted key inside result["metrics"], e.g. "latency_ns.p99"
    label: str          # human name
    unit: str           # unit after scaling, for axis labels and tables
    scale: float        # display value = raw * scale
    higher_is_better: bool

    def display(self, raw: float) -> float:
        return raw * self.scale

    @property
    def heading(self) -> str:
        """'throughput [Gbit/s]', or just 'transactions/s' when the unit would repeat the label."""
        return self.label if self.unit == self.label else f"{self.label} [{self.unit}]"


METRICS: dict[str, Metric] = {m.key: m for m in [
    Metric("throughput_bps", "throughput", "Gbit/s", 1e-9, True),
    Metric("transactions_per_s", "transactions/s", "transactions/s", 1.0, True),
    Metric("packets_per_s", "packets/s", "Mpackets/s", 1e-6, True),
    Metric("cpu_ns_per_transaction", "CPU per transaction", "CPU µs/transaction", 1e-3, False),
    Metric("cpu_ns_per_byte", "CPU per byte", "CPU ns/byte (= CPU s/GB)", 1.0, False),
    Metric("cpu_ns_per_packet", "CPU per packet", "CPU ns/packet", 1.0, False),
    Metric("latency_ns.p50", "latency p50", "µs", 1e-3, False),
    Metric("latency_ns.p90", "latency p90", "µs", 1e-3, False),
    Metric("latency_ns.p99", "latency p99", "µs", 1e-3, False),
    Metric("latency_ns.p999", "latency p99.9", "µs", 1e-3, False),
    Metric("connect_latency_ns.p50", "connect latency p50", "µs", 1e-3, False),
    Metric("connect_latency_ns.p99", "connect latency p99", "µs", 1e-3, False),
    Metric("udp_loss_ratio", "UDP loss ratio", "fraction lost", 1.0, False),
    # Cost mode (analysis/cost.py): a guest where one nanosecond is one instruction.
    Metric("instructions_per_transaction", "instructions per transaction", "instructions/transaction", 1.0, False),
    Metric("instructions_per_byte", "instructions per byte", "instructions/byte", 1.0, False),
    Metric("instructions_per_packet", "instructions per packet", "instructions/packet", 1.0, False),
    Metric("latency_instructions.p50", "request→reply p50", "instructions", 1.0, False),
    Metric("latency_instructions.p90", "request→reply p90", "instructions", 1.0, False),
    Metric("latency_instructions.p99", "request→reply p99", "instructions", 1.0, False),
    Metric("latency_instructions.p999", "request→reply p99.9", "instructions", 1.0, False),
    Metric("connect_latency_instructions.p50", "connect p50", "instructions", 1.0, False),
    Metric("connect_latency_instructions.p99", "connect p99", "instructions", 1.0, False),
]}

RATE_KEYS = ("throughput_bps", "transactions_per_s", "packets_per_s")
CPU_KEYS = ("cpu_ns_per_transaction", "cpu_ns_per_byte", "cpu_ns_per_packet")
LATENCY_KEYS = ("latency_ns.p50", "latency_ns.p90", "latency_ns.p99", "latency_ns.p999")
CONNECT_KEYS = ("connect_latency_ns.p50", "connect_latency_ns.p99")
COST_KEYS = ("instructions_per_transaction", "instructions_per_byte", "instructions_per_packet")
COST_LATENCY_KEYS = ("latency_instructions.p50", "latency_instructions.p90", "latency_instructions.p99",
                     "latency_instructions.p999")
COST_CONNECT_KEYS = ("connect_latency_instructions.p50", "connect_latency_instructions.p99")


def kind(key: str) -> str:
    """"rate", "cpu", "cost" (instructions per unit of work: the CPU work, in cost mode) or "latency"."""
    return "rate" if key in RATE_KEYS else "cpu" if key in CPU_KEYS else "cost" if key in COST_KEYS else "latency"


@dataclass(frozen=True)
class Units:
    """The unit system of one run: time (ns, the default) or cost mode (instructions)."""
    cost: bool = False

    def latency(self, q: str) -> str:
        """The latency key of percentile q ("p50") in this run."""
        return f"latency_instructions.{q}" if self.cost else f"latency_ns.{q}"

    def connect(self, q: str) -> str:
        return f"connect_latency_instructions.{q}" if self.cost else f"connect_latency_ns.{q}"

    @property
    def latency_keys(self) -> tuple:
        return COST_LATENCY_KEYS if self.cost else LATENCY_KEYS

    @property
    def connect_keys(self) -> tuple:
        return COST_CONNECT_KEYS if self.cost else CONNECT_KEYS

    @property
    def latency_unit(self) -> str:
        return "instructions" if self.cost else "µs"

    @property
    def latency_scale(self) -> float:
        """Histogram bucket bounds (ns, or instructions) -> the latency unit."""
        return 1.0 if self.cost else 1e-3

    @property
    def bpf_unit(self) -> str:
        return "instructions per run" if self.cost else "ns per run"

    def duration(self, ns: float, unit: str = "ms") -> str:
        """A recorded duration for people: '12 ms' in time, '12 M instructions' in cost mode."""
        if self.cost:
            return f"{fmt(ns / 1e6)} M instructions"
        div = {"ms": 1e6, "µs": 1e3, "s": 1e9}[unit]
        return f"{fmt(ns / div)} {unit}"


def value(result: dict, key: str) -> float | None:
    """The metric `key` (dotted) of one result, or None when absent / not a number."""
    node = result.get("metrics")
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        return None
    return float(node)


@dataclass(frozen=True, order=True)
class GroupKey:
    """One configuration measured over repetitions: path (x path options) x workload (x workload
    options) (x reference tool).  Options only appear when they vary within the run (a sweep)."""
    workload: str
    path: str
    variant: str = ""       # workload options that vary within the run for this workload
    reference: str = ""     # "" for pathbench's own rows, else the reference tool's name
    pvariant: str = ""      # path options that vary within the run for this path, e.g. services=100

    @property
    def name(self) -> str:
        s = self.path if not self.reference else f"{self.path} [{self.reference}]"
        parts = [x for x in (self.pvariant, self.variant) if x]
        return s if not parts else f"{s} ({'; '.join(parts)})"

    @property
    def options_label(self) -> str:
        return "; ".join(x for x in (self.pvariant, self.variant) if x)


# workload_options that never define a different configuration (they are bookkeeping, or the same
# for every path by construction), so they never split a group into sweep variants.
VOLATILE_OPTIONS = ("name", "port", "duration_s", "warmup_s", "cooldown_s", "stall_timeout_s", "seed")


# Options added after runs were stored, with the value those runs had: a run from before the option
# is the same configuration as one that leaves it at its default.
ADDED_DEFAULTS = {"responder": "thread"}


def _config_options(options: dict | None) -> dict:
    """The workload options that can make two results different configurations (payload size,
    flows, rate, rule count ...), without bookkeeping such as ports and CPU numbers."""
    if not isinstance(options, dict):
        return {}
    return {k: v for k, v in options.items()
            if k not in VOLATILE_OPTIONS and "port" not in k and "cpu" not in k and "pin" not in k}


def workload_options(result: dict) -> dict | None:
    """A result's workload_options, with the options added since older runs were stored filled in."""
    wo = result.get("workload_options")
    return {**ADDED_DEFAULTS, **wo} if isinstance(wo, dict) else wo


def variant_label(options: dict | None, keys=None) -> str:
    """Canonical text of the configuration options (only `keys` if given), e.g. 'payload_bytes=1024'."""
    opts = _config_options(options)
    return ", ".join(f"{k}={json.dumps(opts[k], sort_keys=True)}" for k in sorted(opts)
                     if keys is None or k in keys)


def config_signature(result: dict) -> str:
    """Every configuration option of a result, path options and workload options: what compare
    matches across runs (a sweep is compared point by point)."""
    p = variant_label(result.get("path_options"))
    w = variant_label(workload_options(result))
    return f"{p} | {w}" if p else w


def option_values(result: dict) -> dict:
    """Configuration options of a result, path options and workload options merged (for plots
    that put an option on an axis)."""
    out = dict(_config_options(workload_options(result)))
    out.update(_config_options(result.get("path_options")))
    return out


_ABSENT = "\0absent"   # an option a result does not carry, among the values of group_results' sets


def group_results(results: list[dict]) -> dict[GroupKey, list[dict]]:
    """Group results by configuration.  Options only become part of the key when they vary within
    the run: workload options per workload (a payload or flows sweep), path options per path (a
    services sweep), and then only the options that vary, so a payload sweep reads
    'payload_bytes=1024', not every option."""
    seen_w: dict[str, dict[str, set]] = {}
    seen_p: dict[str, dict[str, set]] = {}
    for r in results:
        for k, v in _config_options(workload_options(r)).items():
            seen_w.setdefault(r["workload"], {}).setdefault(k, set()).add(json.dumps(v, sort_keys=True))
        for k, v in _config_options(r.get("path_options")).items():
            seen_p.setdefault(r["path"], {}).setdefault(k, set()).add(json.dumps(v, sort_keys=True))
    # A path option some of a path's results carry and others do not varies too: the harness leaves
    # an option out at its default ("gateway" absent = pathbench's own L4 proxy), and those results are
    # another configuration than the ones with the option.
    for r in results:
        po = _config_options(r.get("path_options"))
        for k, vals in seen_p.get(r["path"], {}).items():
            if k not in po:
                vals.add(_ABSENT)
    vary_w = {w: {k for k, vals in ks.items() if len(vals) > 1} for w, ks in seen_w.items()}
    vary_p = {p: {k for k, vals in ks.items() if len(vals) > 1} for p, ks in seen_p.items()}
    groups: dict[GroupKey, list[dict]] = {}
    for r in results:
        ref = r.get("reference")
        ref_name = str(ref.get("tool") or "reference") if isinstance(ref, dict) else ""
        kw, kp = vary_w.get(r["workload"], set()), vary_p.get(r["path"], set())
        variant = variant_label(workload_options(r), kw) if kw else ""
        pvariant = variant_label(r.get("path_options"), kp) if kp else ""
        groups.setdefault(GroupKey(r["workload"], r["path"], variant, ref_name, pvariant), []).append(r)
    for rs in groups.values():
        rs.sort(key=lambda r: (r.get("repetition", 0), r.get("order", 0)))
    return dict(sorted(groups.items()))


def fmt(v: float | None, digits: int = 3) -> str:
    """Numbers for people: 3 significant digits, thousands separated, no scientific notation."""
    if v is None:
        return "–"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 10 ** digits:
        return f"{v:,.0f}"
    import math
    decimals = max(0, digits - 1 - int(math.floor(math.log10(a))))
    return f"{v:,.{decimals}f}"


def is_num(v) -> bool:
    import math
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
