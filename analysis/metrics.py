"""What each metric means: unit, direction, display scale, and which metric is primary per workload.

Everything that decides "higher is better" or "how do we print this" lives here, once.
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
    Metric("udp_loss_ratio", "UDP loss ratio", "fraction lost", 1.0, False),
]}

PRIMARY_CANDIDATES = ("throughput_bps", "transactions_per_s", "packets_per_s")
CPU_CANDIDATES = ("cpu_ns_per_transaction", "cpu_ns_per_byte", "cpu_ns_per_packet")
LATENCY_KEYS = ("latency_ns.p50", "latency_ns.p90", "latency_ns.p99", "latency_ns.p999")


def primary_metric_key(workload: str) -> str:
    """throughput for *_stream, transactions/s for *_rr / *_crr, packets/s for *_pps."""
    if workload.endswith("_pps"):
        return "packets_per_s"
    if workload.endswith("_rr") or workload.endswith("_crr"):
        return "transactions_per_s"
    return "throughput_bps"


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


def primary_key_for(workload: str, results: list[dict]) -> str | None:
    """Primary metric of a workload; falls back to whatever rate metric the results carry."""
    key = primary_metric_key(workload)
    if any(value(r, key) is not None for r in results):
        return key
    for k in PRIMARY_CANDIDATES:
        if any(value(r, k) is not None for r in results):
            return k
    return None


def cpu_key_for(results: list[dict]) -> str | None:
    for k in CPU_CANDIDATES:
        if any(value(r, k) is not None for r in results):
            return k
    return None


@dataclass(frozen=True, order=True)
class GroupKey:
    """One configuration measured over repetitions: path x workload (x variant) (x reference tool)."""
    workload: str
    path: str
    variant: str = ""       # canonical workload_options when a run holds several per path/workload
    reference: str = ""     # "" for pathbench's own rows, else the reference tool's name

    @property
    def name(self) -> str:
        s = self.path if not self.reference else f"{self.path} [{self.reference}]"
        return s if not self.variant else f"{s} ({self.variant})"


# workload_options that never define a different configuration (they are bookkeeping, or the same
# for every path by construction), so they never split a group into sweep variants.
VOLATILE_OPTIONS = ("name", "port", "duration_s", "warmup_s", "cooldown_s", "stall_timeout_s", "seed")


def _config_options(options: dict | None) -> dict:
    """The workload options that can make two results different configurations (payload size,
    flows, rate, rule count ...), without bookkeeping such as ports and CPU numbers."""
    if not isinstance(options, dict):
        return {}
    return {k: v for k, v in options.items()
            if k not in VOLATILE_OPTIONS and "port" not in k and "cpu" not in k and "pin" not in k}


def variant_label(options: dict | None, keys=None) -> str:
    """Canonical text of the configuration options (only `keys` if given), e.g. 'payload_bytes=1024'."""
    opts = _config_options(options)
    return ", ".join(f"{k}={json.dumps(opts[k], sort_keys=True)}" for k in sorted(opts)
                     if keys is None or k in keys)


def config_signature(result: dict) -> str:
    """Every configuration option of a result: what compare matches across runs."""
    return variant_label(result.get("workload_options"))


def group_results(results: list[dict]) -> dict[GroupKey, list[dict]]:
    """Group results by configuration.  Workload options only become part of the key (the variant)
    when they vary within the run for a workload (a sweep), and then only the options that vary,
    so a payload sweep reads 'payload_bytes=1024', not every option.  Results without options
    (skipped ones) join the path's only variant, or stay apart when there are several."""
    seen: dict[str, dict[str, set]] = {}
    for r in results:
        for k, v in _config_options(r.get("workload_options")).items():
            seen.setdefault(r["workload"], {}).setdefault(k, set()).add(json.dumps(v, sort_keys=True))
    varying = {w: {k for k, vals in ks.items() if len(vals) > 1} for w, ks in seen.items()}
    groups: dict[GroupKey, list[dict]] = {}
    for r in results:
        ref = r.get("reference")
        ref_name = str(ref.get("tool") or "reference") if isinstance(ref, dict) else ""
        keys = varying.get(r["workload"], set())
        variant = variant_label(r.get("workload_options"), keys) if keys else ""
        groups.setdefault(GroupKey(r["workload"], r["path"], variant, ref_name), []).append(r)
    for rs in groups.values():
        rs.sort(key=lambda r: (r.get("repetition", 0), r.get("order", 0)))
    return dict(sorted(groups.items()))


# Display order of paths: the order of the design table, unknown paths after, alphabetically.
PATH_ORDER = ("baseline", "proxy-plain", "tproxy-nft", "tproxy-nft-transparent", "tproxy-ipt", "sk-lookup",
              "tc-sk-assign", "tc-redirect", "xdp-redirect", "sockmap")

# One line per path for readers of the report (docs: /work/shared/DESIGN.md, "Paths under test").
PATH_DESCRIPTIONS = {
    "baseline": "plain kernel IP forwarding in the middle namespace (the reference)",
    "proxy-plain": "a user-space proxy the client connects to explicitly, no interception (control)",
    "tproxy-nft": "nftables TPROXY rule + policy route intercepts into the proxy",
    "tproxy-nft-transparent": "tproxy-nft, and the proxy keeps the client's source address upstream",
    "tproxy-ipt": "iptables -j TPROXY intercepts into the same proxy",
    "sk-lookup": "a BPF sk_lookup program steers connections to the proxy socket (no netfilter)",
    "tc-sk-assign": "a TC BPF program assigns packets to the proxy socket (bpf_sk_assign)",
    "tc-redirect": "a TC BPF program forwards instead of the kernel's routing (fib lookup + redirect)",
    "xdp-redirect": "an XDP program forwards at the driver hook (fib lookup + devmap redirect)",
    "sockmap": "the proxy accelerated by sockmap / sk_msg redirection",
}
WORKLOAD_ORDER = ("tcp_stream", "tcp_rr", "tcp_crr", "udp_rr", "udp_pps", "xdp_pps")


def path_sort_key(p: str):
    return (PATH_ORDER.index(p), p) if p in PATH_ORDER else (len(PATH_ORDER), p)


def workload_sort_key(w: str):
    return (WORKLOAD_ORDER.index(w), w) if w in WORKLOAD_ORDER else (len(WORKLOAD_ORDER), w)


def group_sort_key(g: GroupKey):
    return (workload_sort_key(g.workload), g.variant, path_sort_key(g.path), g.reference)


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
