# SPDX-License-Identifier: Apache-2.0
"""Repetitions that ran in an abnormal machine state, from `metrics.system_state` (schema 2).

A flagged repetition is *shown* everywhere (tables name it, plots mark it) and kept in the numbers
unless the reader asks for `--exclude-flagged`; nothing is dropped silently.  Each flag says what
was abnormal and by how much, so a reader can judge it.

Thresholds were chosen from real runs on the 2-vCPU development VM (two back-to-back default
suites, 30 x baseline tcp_stream, 8-repetition tcp_stream runs with bbr and cubic, and runs with a
CPU spinner on the other vCPU: 426 repetitions with system_state in all):

* steal > 1% of the measured window.  /proc/stat counts in 10 ms ticks: one tick is 0.67% of a
  1.5 s window and was seen twice in 426 repetitions without any effect; two ticks (1.3%) is the
  first level that is not a lone tick.
* foreign load: busy time on CPUs the workload did not use (`other_cpus_busy_ns`) > 20% of the
  window.  Normal repetitions stay at or below 5.3% (tcp_crr's timers and kworkers) with one 11.3%;
  a spinner on the other vCPU shows 99-101%.  20% sits well clear of both.
* slow CPU: the fixed-work speed probe (`cpu_speed_ns_per_mop`, mean of before and after) more than
  5% slower than the run's median probe.  Normal probes sit in two bands 2.5% apart; repetitions
  whose probe was 5-8% slow lost a median 2.2% of their primary metric (mean 3.1%), those within 2%
  lost none (the mean of the two probes tracks the loss better than the slower one: r = -0.43 vs -0.38).
* packet batching: bytes per packet on a DUT interface (GSO/GRO batching) more than 5% away from
  the configuration's median.  On tcp_stream the DUT sees two states (about 65 kB and 60.5 kB per
  packet with bbr); repetitions 5-10% off their configuration's median lost a median 3.2% of
  throughput, those within 3% none.  Only directions with >= 1000 packets in the window count
  (request/response packet sizes are fixed; the reverse ACK stream is not a batching state).
* receive window: the stream sender's share of its busy time spent limited by the receiver's
  window (TCP_INFO rwnd_limited_us / busy_time_us) on the other side of 50% from its
  configuration's median.  Through the proxy paths tcp_stream has two states (2026-12-02, 8
  repetitions each of proxy-plain, tproxy-nft, sk-lookup, tc-sk-assign): window-limited 72-93% of
  the time at 14-23 Gbit/s with 5-10k NET_RX softirqs and 60-63 kB packets, or 0% at 28-35 Gbit/s
  with 40-50k softirqs and 51-54 kB packets; nothing between.
* congestion control: `tcp_cc` different from the run's `options.tcp_cc` (or, when the run records
  none, from the value most of its repetitions used).  cubic and bbr differ 4.6x in tcp_stream
  throughput on veth (72 vs 16 Gbit/s), so a stray one is not noise but another experiment.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass

from . import metrics as M

STEAL_MAX_FRACTION = 0.01
FOREIGN_BUSY_MAX_FRACTION = 0.20
SPEED_SLOWER_MAX = 0.05
BYTES_PER_PACKET_MAX_DEVIATION = 0.05
MIN_PACKETS_FOR_BATCHING = 1000
RWND_LIMITED_STATE = 0.5       # share of the sender's busy time limited by the receiver's window
MIN_VALUES_FOR_MEDIAN = 3      # a configuration median of fewer repetitions is no reference

DUT_INTERFACE_PREFIX = "dut"   # the topology names the DUT's veths dut0 (client side), dut1 (server side)


@dataclass(frozen=True)
class Flag:
    what: str       # short: "steal", "foreign load", "slow CPU", "packet batching", "receive window", "congestion control"
    detail: str     # with the measured value and the threshold

    def __str__(self) -> str:
        return f"{self.what}: {self.detail}"


def _state(r: dict) -> dict:
    m = r.get("metrics")
    s = m.get("system_state") if isinstance(m, dict) else None
    return s if isinstance(s, dict) else {}


def _window(r: dict) -> float | None:
    d = M.value(r, "duration_ns")
    return d if d and d > 0 else None


def probe_value(r: dict) -> float | None:
    p = _state(r).get("cpu_speed_ns_per_mop")
    if not isinstance(p, dict):
        return None
    vals = [v for v in (p.get("before"), p.get("after")) if M.is_num(v) and v > 0]
    return sum(vals) / len(vals) if vals else None


def rwnd_limited_share(r: dict) -> float | None:
    """Share of the stream sender's busy time limited by the receiver's window (TCP_INFO)."""
    ti = _state(r).get("tcp_info")
    if not isinstance(ti, dict):
        return None
    busy, lim = ti.get("busy_time_us"), ti.get("rwnd_limited_us")
    return lim / busy if M.is_num(busy) and M.is_num(lim) and busy > 0 else None


STEAL_SATURATED = 0.9          # workload CPUs busy (steal included) for >= 90% of the window


def steal_factor(r: dict) -> float | None:
    """How much more work a CPU-saturated repetition would have done had the hypervisor not stolen
    time from the workload's CPUs: window x CPUs / (window x CPUs - steal on them); None when
    nothing was stolen, the state is missing, or the CPUs were not saturated (then the rate is
    not set by the CPU time the guest got, and stays as measured)."""
    s, win = _state(r), _window(r)
    cpus = s.get("per_cpu")
    if not win or not isinstance(cpus, list):
        return None
    want = s.get("workload_cpus")
    used = [c for c in cpus if isinstance(c, dict) and (not want or c.get("cpu") in want)]
    steal = sum(c.get("steal_ns", 0) for c in used if M.is_num(c.get("steal_ns")))
    busy = sum(c.get("busy_ns", 0) for c in used if M.is_num(c.get("busy_ns")))  # includes steal
    avail = win * len(used)
    if not used or steal <= 0 or busy < STEAL_SATURATED * avail or steal >= 0.9 * avail:
        return None
    return avail / (avail - steal)


def _bytes_per_packet(r: dict) -> dict[tuple[str, str], float]:
    out = {}
    ifs = _state(r).get("interfaces")
    if not isinstance(ifs, dict):
        return out
    for name, st in ifs.items():
        if not str(name).startswith(DUT_INTERFACE_PREFIX) or not isinstance(st, dict):
            continue
        for d in ("rx", "tx"):
            bpp, pk = st.get(f"{d}_bytes_per_packet"), st.get(f"{d}_packets")
            if M.is_num(bpp) and bpp > 0 and M.is_num(pk) and pk >= MIN_PACKETS_FOR_BATCHING:
                out[(str(name), d)] = float(bpp)
    return out


class Abnormal:
    """Flags of every ok result of a run: `of(result)` -> list of Flag (empty when normal)."""

    def __init__(self, run):
        self.run = run
        self._flags: dict[int, list[Flag]] = {}
        self.expected_cc: str | None = None
        self.cc_source = ""
        self.probe_median: float | None = None
        self.has_state = False
        self._compute()

    def of(self, r: dict) -> list[Flag]:
        return self._flags.get(id(r), [])

    def flagged(self) -> list[tuple[dict, list[Flag]]]:
        return [(r, self._flags[id(r)]) for r in self.run.results if id(r) in self._flags]

    @property
    def excluded_ids(self) -> set[int]:
        return set(self._flags)

    def _add(self, r: dict, what: str, detail: str) -> None:
        self._flags.setdefault(id(r), []).append(Flag(what, detail))

    def _compute(self) -> None:
        ok = [r for r in self.run.results if r.get("status") == "ok" and _state(r)]
        self.has_state = bool(ok)
        if not ok:
            return
        probes = [v for v in map(probe_value, ok) if v is not None]
        if len(probes) >= MIN_VALUES_FOR_MEDIAN:
            self.probe_median = statistics.median(probes)
        opt_cc = self.run.options.get("tcp_cc")
        if isinstance(opt_cc, str) and opt_cc:
            self.expected_cc, self.cc_source = opt_cc, "the run's option tcp_cc"
        else:
            ccs = Counter(s["tcp_cc"] for s in map(_state, ok) if isinstance(s.get("tcp_cc"), str))
            if len(ccs) > 1:
                top = ccs.most_common()
                if top[0][1] > top[1][1]:
                    self.expected_cc, self.cc_source = top[0][0], "what most repetitions used (no tcp_cc option)"
        # Bytes per packet: medians per configuration and interface direction.
        groups = M.group_results(ok)
        bpp_median: dict[tuple, float] = {}
        for key, rs in groups.items():
            per: dict[tuple, list[float]] = {}
            for r in rs:
                for k, v in _bytes_per_packet(r).items():
                    per.setdefault(k, []).append(v)
            for k, vs in per.items():
                if len(vs) >= MIN_VALUES_FOR_MEDIAN:
                    bpp_median[(key, k)] = statistics.median(vs)
        key_of = {id(r): key for key, rs in groups.items() for r in rs}
        rwnd_median: dict = {}
        for key, rs in groups.items():
            vs = [v for v in map(rwnd_limited_share, rs) if v is not None]
            if len(vs) >= MIN_VALUES_FOR_MEDIAN:
                rwnd_median[key] = statistics.median(vs)

        for r in ok:
            s = _state(r)
            win = _window(r)
            steal = s.get("steal_ns")
            if win and M.is_num(steal) and steal / win > STEAL_MAX_FRACTION:
                self._add(r, "steal", f"{steal / win * 100:.1f}% of the window stolen by the hypervisor "
                                      f"(threshold {STEAL_MAX_FRACTION * 100:g}%)")
            other = s.get("other_cpus_busy_ns")
            if win and M.is_num(other) and other / win > FOREIGN_BUSY_MAX_FRACTION:
                cpus = s.get("workload_cpus")
                where = f" (workload on CPU {', '.join(map(str, cpus))})" if isinstance(cpus, list) and cpus else ""
                self._add(r, "foreign load", f"other CPUs busy {other / win * 100:.0f}% of the window{where} "
                                             f"(threshold {FOREIGN_BUSY_MAX_FRACTION * 100:g}%)")
            pv = probe_value(r)
            if pv is not None and self.probe_median and pv > self.probe_median * (1 + SPEED_SLOWER_MAX):
                self._add(r, "slow CPU", f"speed probe took {(pv / self.probe_median - 1) * 100:.1f}% longer than the "
                                         f"run's median (threshold {SPEED_SLOWER_MAX * 100:g}%)")
            worst = None
            for k, v in _bytes_per_packet(r).items():
                med = bpp_median.get((key_of.get(id(r)), k))
                if med:
                    dev = v / med - 1
                    if abs(dev) > BYTES_PER_PACKET_MAX_DEVIATION and (worst is None or abs(dev) > abs(worst[1])):
                        worst = (k, dev, v, med)
            if worst:
                (iface, d), dev, v, med = worst
                self._add(r, "packet batching", f"{iface} {d} {v:,.0f} bytes/packet, {dev * 100:+.0f}% from the "
                                                f"configuration's median {med:,.0f} (threshold "
                                                f"±{BYTES_PER_PACKET_MAX_DEVIATION * 100:g}%)")
            share, med = rwnd_limited_share(r), rwnd_median.get(key_of.get(id(r)))
            if share is not None and med is not None and (share > RWND_LIMITED_STATE) != (med > RWND_LIMITED_STATE):
                self._add(r, "receive window", f"the sender was limited by the receiver's window {share * 100:.0f}% of "
                                               f"its busy time, the configuration's median {med * 100:.0f}% (the "
                                               f"states are either side of {RWND_LIMITED_STATE * 100:g}%)")
            cc = s.get("tcp_cc")
            if self.expected_cc and isinstance(cc, str) and cc != self.expected_cc:
                self._add(r, "congestion control", f"tcp_cc {cc}, expected {self.expected_cc} ({self.cc_source})")
