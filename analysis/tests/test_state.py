# SPDX-License-Identifier: Apache-2.0
"""Abnormal repetitions, on real runs: a CPU spinner on the other vCPU is foreign load, a cubic
repetition in a bbr run is flagged, the two GSO/GRO batching states of tcp_stream are told apart,
slow speed probes are flagged; and flagged repetitions can be left out of the numbers."""

import copy
import statistics
import unittest

from analysis import state as ST
from analysis.load import check_document
from analysis.summary import summarize
from analysis.tests.fixtures import aa_pair, read, to_v2


def _run(doc, name="x.json"):
    return check_document(name, doc)


def _flags(run):
    return {(r["path"], r["workload"], r.get("repetition", 0)): [f.what for f in fl] for r, fl in
            ST.Abnormal(run).flagged()}


class RealData(unittest.TestCase):
    def test_foreign_load(self):
        run = _run(read("state-foreign-load.json.gz"))
        fl = _flags(run)
        ok = [r for r in run.results if r["status"] == "ok"]
        self.assertEqual(len([k for k, v in fl.items() if "foreign load" in v]), len(ok))

    def test_no_foreign_load_in_normal_runs(self):
        for doc in aa_pair():
            fl = _flags(_run(doc))
            self.assertFalse([k for k, v in fl.items() if "foreign load" in v or "steal" in v], fl)

    def test_congestion_control(self):
        """bbr run + cubic run merged into a run whose option says bbr: every cubic repetition is
        flagged, no bbr one; v1 (no option) merged: the minority is flagged."""
        bbr, cubic = read("state-tcp-stream-bbr.json.gz"), read("state-tcp-stream-cubic.json.gz")
        merged = copy.deepcopy(bbr)
        extra = [r for r in cubic["results"] if r["path"] == "baseline"][:2]
        for i, r in enumerate(extra):
            r["repetition"] = 100 + i
        merged["results"] += extra
        fl = _flags(_run(to_v2(merged, tcp_cc="bbr")))
        cc = sorted(k for k, v in fl.items() if "congestion control" in v)
        self.assertEqual(cc, [("baseline", "tcp_stream", 100), ("baseline", "tcp_stream", 101)])
        fl1 = _flags(_run(merged))          # schema 1: no tcp_cc option, majority is bbr
        self.assertEqual(sorted(k for k, v in fl1.items() if "congestion control" in v), cc)
        only_cubic = _flags(_run(to_v2(cubic, tcp_cc="bbr")))
        self.assertTrue(all("congestion control" in v for v in only_cubic.values()) and only_cubic)

    def test_packet_batching(self):
        """30 x baseline tcp_stream: repetitions in the ~60.5 kB/packet state are flagged, those in
        the ~65 kB state are not."""
        run = _run(read("state-baseline-30reps.json.gz"))
        ab = ST.Abnormal(run)
        self.assertGreaterEqual(sum(1 for r in run.results if any(f.what == "packet batching" for f in ab.of(r))), 3)
        for r in run.results:
            bpp = r["metrics"]["system_state"]["interfaces"]["dut0"]["rx_bytes_per_packet"]
            batching = any(f.what == "packet batching" for f in ab.of(r))
            if bpp < 62000:
                self.assertTrue(batching, bpp)
            elif bpp > 64000:
                self.assertFalse(batching, bpp)

    def test_slow_cpu(self):
        run = _run(aa_pair()[0])
        ab = ST.Abnormal(run)
        self.assertIsNotNone(ab.probe_median)
        for r in run.results:
            p = ST.probe_value(r)
            if p is None:
                continue
            slow = any(f.what == "slow CPU" for f in ab.of(r))
            self.assertEqual(slow, p > ab.probe_median * 1.05, (r["path"], r["workload"], p))
        self.assertTrue(any(ab.of(r) for r in run.results), "expected a slow probe in the A/A run")


class Synthetic(unittest.TestCase):
    def test_steal_threshold(self):
        doc = to_v2(aa_pair()[0])
        r = next(r for r in doc["results"] if r["status"] == "ok" and r["workload"] == "tcp_rr")
        dur = r["metrics"]["duration_ns"]
        r["metrics"]["system_state"]["steal_ns"] = 0.0067 * dur   # one 10 ms tick in 1.5 s: normal
        run = _run(doc)
        self.assertNotIn("steal", [f.what for f in ST.Abnormal(run).of(run.results[doc["results"].index(r)])])
        r["metrics"]["system_state"]["steal_ns"] = 0.02 * dur
        run = _run(doc)
        flags = ST.Abnormal(run).of(run.results[doc["results"].index(r)])
        self.assertIn("steal", [f.what for f in flags])
        self.assertIn("2.0%", str(flags[0]))

    def test_exclude_flagged_changes_the_numbers(self):
        doc = to_v2(aa_pair()[0])
        victim = [r for r in doc["results"] if r["path"] == "baseline" and r["workload"] == "tcp_rr"
                  and r["status"] == "ok"][0]
        victim["metrics"]["system_state"]["other_cpus_busy_ns"] = victim["metrics"]["duration_ns"]
        victim["metrics"]["transactions_per_s"] *= 0.5
        run = _run(doc)
        kept, dropped = summarize(run), summarize(run, exclude_flagged=True)
        key = next(k for k in kept if k.path == "baseline" and k.workload == "tcp_rr")
        self.assertEqual(len(kept[key].ok), 3)
        self.assertEqual(len(dropped[key].ok), 2)
        self.assertIn(victim, kept[key].flagged)
        self.assertNotEqual(kept[key].estimate("transactions_per_s").median,
                            dropped[key].estimate("transactions_per_s").median)

    def test_no_state_no_flags(self):
        from analysis.load import load_run
        from analysis.tests.common import SAMPLE
        ab = ST.Abnormal(load_run(SAMPLE))
        self.assertFalse(ab.has_state)
        self.assertEqual(ab.flagged(), [])


if __name__ == "__main__":
    unittest.main()


class StealAndReceiveWindow(unittest.TestCase):
    def _r(self, steal_ms, busy_ms, win_ms=300, cpus=(0,)):
        per = [{"cpu": c, "busy_ns": busy_ms * 1e6 if c in cpus else 0, "steal_ns": steal_ms * 1e6 if c in cpus else 0}
               for c in (0, 1)]
        return {"metrics": {"duration_ns": win_ms * 1e6, "system_state": {"per_cpu": per, "workload_cpus": list(cpus)}}}

    def test_steal_factor_only_for_saturated_cpus(self):
        self.assertAlmostEqual(ST.steal_factor(self._r(60, 300)), 300 / 240)
        self.assertIsNone(ST.steal_factor(self._r(0, 300)), "nothing stolen")
        self.assertIsNone(ST.steal_factor(self._r(60, 150)), "not saturated: the rate is not set by CPU time")
        self.assertIsNone(ST.steal_factor({"metrics": {"duration_ns": 1}}), "no state")

    def test_steal_adjusted_rates_in_the_summary(self):
        run = _run(read("state-proxy-rwnd.json.gz"))
        raw, adj = summarize(run), summarize(run, steal_adjust=True)
        self.assertEqual(raw.steal_adjusted, 0)
        self.assertGreater(adj.steal_adjusted, 10)  # a day with steal in most repetitions (2026-12-02)
        for key, g in adj.items():
            for rep, v in g.by_rep["throughput_bps"].items():
                self.assertGreaterEqual(v, raw[key].by_rep["throughput_bps"][rep])
            self.assertEqual(g.by_rep.get("cpu_ns_per_byte"), raw[key].by_rep.get("cpu_ns_per_byte"), "rates only")

    def test_receive_window_states_through_the_proxy(self):
        """Real tcp_stream repetitions (2026-12-02): through the proxy the sender is either limited by
        the proxy's window ~85% of the time at ~20 Gbit/s, or not at all at ~30; the minority state
        of each configuration is flagged, and every flagged one is the other state."""
        run = _run(read("state-proxy-rwnd.json.gz"))
        flagged = [(r, ST.rwnd_limited_share(r)) for r, fl in ST.Abnormal(run).flagged()
                   if any(f.what == "receive window" for f in fl)]
        by_path = {}
        for r, share in flagged:
            by_path.setdefault(r["path"], []).append(share)
        self.assertIn("proxy-plain", by_path)   # 2 of 8 window-limited
        self.assertIn("sk-lookup", by_path)     # 3 of 8 not
        for r, share in flagged:
            same = [ST.rwnd_limited_share(x) for x in run.results if x["path"] == r["path"]]
            self.assertNotEqual(share > 0.5, statistics.median(same) > 0.5, (r["path"], share))
