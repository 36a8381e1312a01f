# SPDX-License-Identifier: Apache-2.0
"""Cost mode: runs made inside a `pathbench vm --accel tcg-icount` guest (docs/cost.md).

There qemu counts instructions instead of time (`-icount shift=0,sleep=off`, one vCPU,
single-threaded TCG): one guest nanosecond is one guest instruction.  Every figure pathbench wrote
in nanoseconds is therefore an instruction count, and every rate is work per 10⁹ instructions.  A
cost-mode run is read in those units, never in seconds:

* rates become instructions per unit of work: per transaction (tcp_rr, udp_rr, tcp_crr: one
  connection is one transaction), per byte (tcp_stream, at the receiver), per packet (udp_pps,
  xdp_pps).  The guest's one vCPU is saturated in every window (the generator, the path and the
  responder share it), so a window's instructions over its work is the CPU work per unit, all of
  it: the path's, the stack's and both ends'.  It is the primary metric and the CPU metric at once;
* latency percentiles become instructions between request and reply;
* BPF programs' run_time_ns becomes instructions per program run.

The conversion happens once, when a run is loaded (load.check_document calls convert): the time
keys (throughput_bps, transactions_per_s, latency_ns …) are replaced by instruction keys in memory,
so no view can print "Gbit/s" or "µs" for a cost-mode run by accident.  The file is not changed.

Verdicts: instruction counts repeat, so intervals are not statistical.  A ratio or a change is
decided against the cost mode's own bound: the larger of COST_FLOOR_PCT (what two boots of the same
guest disagree by, measured) and COST_SPREAD_FACTOR times the larger of two spreads: the row's own
repetitions' relative range with its single most distant repetition left out (one repetition in a
window in which the vCPU idled for a tick, counted as instructions, must not blind the row: the median is robust
to it, so the bound is too), and the workload's typical spread, the median relative range over all
of its configurations (xdp_pps and udp_pps repeat less well on every path: docs/cost.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from .stats import Ratio

ACCELERATOR = "tcg-icount"

# Two boots of the same kernel and build (docs/cost.md, "A/A across boots"): path ÷ baseline
# ratios disagreed by at most COST_FLOOR_PCT.  Below it a difference is not told from a reboot.
COST_FLOOR_PCT = 0.5
# A bound from the repetitions themselves: twice their spread (relative range, see bound()).
# Two medians of runs whose repetitions range over r differ by at most about r; twice that keeps
# a margin for the cross-boot part that one run's repetitions cannot see.
COST_SPREAD_FACTOR = 2.0

# Latency percentiles come from histograms with 128 buckets per power of two (bench/measure/
# histogram.h): above 256 instructions a percentile moves in steps of 1/256 to 1/128 of its value.
# Two steps are not a verdict: an A/A pair's tcp_rr p99 moved by one step (-0.7%) across boots.
LATENCY_FLOOR_PCT = 2 * 100 / 128

# The workload's typical spread needs this many (configuration, run) lists of repetitions.
TYPICAL_MIN_LISTS = 3

# time key -> (instruction key, how): "rate" turns work per 10⁹ ns into instructions per unit
# (scale / value), "same" keeps the number (a duration in ns is a count of instructions).
CONVERSIONS: dict[str, tuple[str, str, float]] = {
    "transactions_per_s": ("instructions_per_transaction", "rate", 1e9),
    "throughput_bps": ("instructions_per_byte", "rate", 8e9),
    "packets_per_s": ("instructions_per_packet", "rate", 1e9),
}
LATENCY_CONVERSIONS = {"latency_ns": "latency_instructions", "connect_latency_ns": "connect_latency_instructions"}
# Dropped in cost mode: /proc/stat ticks (10 ms each, so ±3% in a 0.3 s window); the instructions
# per unit above are the exact CPU work of the one saturated vCPU.
DROPPED = ("cpu_ns_per_transaction", "cpu_ns_per_byte", "cpu_ns_per_packet")


def is_cost_doc(doc: dict) -> bool:
    env = doc.get("environment") if isinstance(doc, dict) else None
    virt = env.get("virtualization") if isinstance(env, dict) else None
    if not isinstance(virt, dict):
        return False
    return virt.get("accelerator") == ACCELERATOR or virt.get("time_unit") == "instruction"


def convert_metrics(m: dict) -> None:
    """One result's metrics, in place: time keys -> instruction keys (see the module text)."""
    for key, (new, how, scale) in CONVERSIONS.items():
        v = m.pop(key, None)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
            m[new] = scale / v if how == "rate" else float(v)
    for key, new in LATENCY_CONVERSIONS.items():
        v = m.pop(key, None)
        if isinstance(v, dict):
            m[new] = dict(v)
    for key in DROPPED:
        m.pop(key, None)
    for hk in ("histogram", "connect_histogram"):
        h = m.get(hk)
        if isinstance(h, dict):
            h["unit_read_as"] = "instructions"


def convert(doc: dict) -> None:
    """A whole cost-mode document, in memory: results' metrics and the catalogue's metric names."""
    for r in doc.get("results") or []:
        if isinstance(r, dict) and isinstance(r.get("metrics"), dict):
            convert_metrics(r["metrics"])
    cat = doc.get("catalogue")
    wls = cat.get("workloads") if isinstance(cat, dict) else None
    for w in wls if isinstance(wls, list) else []:
        if not isinstance(w, dict):
            continue
        pm = w.get("primary_metric")
        if pm in CONVERSIONS:
            w["primary_metric"] = CONVERSIONS[pm][0]
            w["cpu_metric"] = CONVERSIONS[pm][0]    # the one saturated vCPU: the same count
        elif w.get("cpu_metric") in DROPPED:
            w["cpu_metric"] = None


def cost_metric_for(time_key: str) -> str | None:
    c = CONVERSIONS.get(time_key)
    return c[0] if c else None


def relative_range(values) -> float:
    """(max − min) / median of positive values; 0 for fewer than two."""
    vs = sorted(v for v in values if isinstance(v, (int, float)) and v > 0)
    if len(vs) < 2:
        return 0.0
    n = len(vs)
    med = vs[n // 2] if n % 2 else (vs[n // 2 - 1] + vs[n // 2]) / 2
    return (vs[-1] - vs[0]) / med


def core_range(values) -> float:
    """relative_range without the repetition farthest from the median, for three or more: one
    repetition with a tick of idle in its window (docs/cost.md, "How exact") moves the median by nothing
    and must not widen the bound either."""
    vs = sorted(v for v in values if isinstance(v, (int, float)) and v > 0)
    if len(vs) < 3:
        return relative_range(vs)
    med = _median(vs)
    far = max(range(len(vs)), key=lambda i: abs(vs[i] - med))
    return relative_range(vs[:far] + vs[far + 1:])


def typical_spread(value_lists) -> float:
    """The median relative range over a workload's configurations (lists of repetitions, one per
    configuration and run): how well this workload repeats in this guest, whatever the path. 0 below
    TYPICAL_MIN_LISTS lists: one configuration's range is its own, not the workload's."""
    rs = [relative_range(v) for v in value_lists if len([x for x in v if x and x > 0]) >= 2]
    return _median(rs) if len(rs) >= TYPICAL_MIN_LISTS else 0.0


def bound(*value_lists, typical: float = 0.0, latency: bool = False) -> float:
    """The cost mode's bound (a fraction) for numbers built from these repetitions' values; typical:
    the workload's typical spread (typical_spread) in the runs involved; latency: a percentile read
    from a histogram (at least LATENCY_FLOOR_PCT)."""
    spread = max([core_range(v) for v in value_lists] + [typical])
    floor = max(COST_FLOOR_PCT, LATENCY_FLOOR_PCT if latency else 0.0) / 100
    return max(floor, COST_SPREAD_FACTOR * spread)


def _median(vs: list[float]) -> float:
    vs = sorted(vs)
    n = len(vs)
    return vs[n // 2] if n % 2 else (vs[n // 2 - 1] + vs[n // 2]) / 2


def ratio(num: dict, den: dict, typical: float = 0.0, latency: bool = False) -> Ratio:
    """num ÷ den (per-repetition values) in cost mode: the median of the paired per-repetition
    ratios (the ratio of medians when no repetition is common), with [value·(1−b), value·(1+b)]
    where b is the cost bound of the two configurations' repetitions.  level None: a bound, not a
    confidence level."""
    common = sorted(set(num) & set(den))
    if common:
        rs = [num[i] / den[i] for i in common if den[i]]
        if not rs:
            return Ratio(None)
        v, method = _median(rs), "cost"
    else:
        if not num or not den or not _median(list(den.values())):
            return Ratio(None)
        rs = []
        v, method = _median(list(num.values())) / _median(list(den.values())), "cost (unpaired)"
    b = bound(list(num.values()), list(den.values()), typical=typical, latency=latency)
    return Ratio(v, v * (1 - b), v * (1 + b), None, len(common) or min(len(num), len(den)), method, tuple(rs))


@dataclass(frozen=True)
class Change:
    """B vs A for one configuration and metric in cost mode."""
    change: float | None      # median_b / median_a − 1
    bound: float              # the cost bound of both runs' repetitions
    n_a: int
    n_b: int

    @property
    def lo(self):
        return None if self.change is None else self.change - self.bound

    @property
    def hi(self):
        return None if self.change is None else self.change + self.bound

    @property
    def beyond(self) -> bool:
        return self.change is not None and abs(self.change) > self.bound


def change(a: list[float], b: list[float], typical: float = 0.0, latency: bool = False) -> Change:
    """B vs A: the change of the medians and its bound (bound())."""
    a = [v for v in a if v > 0]
    b = [v for v in b if v > 0]
    bd = bound(a, b, typical=typical, latency=latency)
    if not a or not b:
        return Change(None, bd, len(a), len(b))
    return Change(_median(b) / _median(a) - 1, bd, len(a), len(b))


RULE = (f"the larger of {COST_FLOOR_PCT:g}% (what two boots of one guest disagree by) and {COST_SPREAD_FACTOR:g}× "
        f"the wider of the repetitions' own relative range (with the one repetition farthest from the median left "
        f"out, from three on) and the workload's typical range (the median over its configurations); latency "
        f"percentiles at least {LATENCY_FLOOR_PCT:.2g}% (two histogram steps)")


def bound_text(b: float | None = None) -> str:
    if b is None:
        return f"the cost mode's bound ({RULE})"
    return f"±{b * 100:.2g}% (cost-mode bound)"
