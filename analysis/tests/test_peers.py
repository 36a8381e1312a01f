# SPDX-License-Identifier: Apache-2.0
"""`analysis peers`: pathbench ÷ reference per workload, per run and over runs, against the targets."""

import copy
import json
import os
import unittest

from analysis.catalogue import Catalogue
from analysis.peers import agreement, pairs
from analysis.tests.common import TempDirTest, cli, write_run
from analysis.tests.fixtures import v2_sample


def with_references(doc: dict, p50_factor: float, rate_factor: float, run_id: str) -> dict:
    """The sample plus a reference row beside every baseline rr/stream/crr row: its p50 is
    pathbench's times p50_factor, its rate pathbench's times rate_factor."""
    d = copy.deepcopy(doc)
    d["run_id"] = run_id
    refs = []
    for r in d["results"]:
        if r["path"] != "baseline" or r["workload"] not in ("tcp_rr", "udp_rr", "tcp_stream", "tcp_crr"):
            continue
        x = copy.deepcopy(r)
        tool = {"tcp_stream": "iperf3", "tcp_crr": "wrk"}.get(r["workload"], "sockperf")
        x["reference"] = {"tool": tool, "version": "1", "command": tool + " ..."}
        m = x["metrics"]
        if isinstance(m.get("latency_ns"), dict) and m["latency_ns"].get("p50"):
            m["latency_ns"]["p50"] = m["latency_ns"]["p50"] * p50_factor
        for k in ("throughput_bps", "transactions_per_s"):
            if m.get(k):
                m[k] = m[k] * rate_factor
        refs.append(x)
    d["results"].extend(refs)
    return d


class PeersTest(TempDirTest):
    def test_ratio_per_workload_and_verdict_over_runs(self):
        base = v2_sample()
        cat = Catalogue.of(base)
        a = pairs(with_references(base, 1.02, 0.5, "peersa"), cat)
        b = pairs(with_references(base, 0.90, 0.95, "peersb"), cat)
        rr = a[("baseline", "tcp_rr", "sockperf")]
        self.assertAlmostEqual(rr["ratio"], 1 / 1.02, places=6)  # p50: ours ÷ theirs
        self.assertAlmostEqual(a[("baseline", "tcp_stream", "iperf3")]["ratio"], 2.0, places=6)
        rows = {(w["workload"], w["tool"]): w for w in agreement([a, b])}
        self.assertTrue(rows[("tcp_rr", "sockperf")]["met"] is False, "run b is 11% off: one miss is a miss")
        self.assertAlmostEqual(rows[("tcp_rr", "sockperf")]["worst"], 1 / 0.90, places=6)
        self.assertFalse(rows[("tcp_stream", "iperf3")]["met"])
        only_a = {(w["workload"], w["tool"]): w for w in agreement([a, a])}
        self.assertTrue(only_a[("tcp_rr", "sockperf")]["met"], "2% within the rr target of 5%")
        self.assertTrue(only_a[("udp_rr", "sockperf")]["met"])

    def test_cli_prints_the_table_and_refuses_runs_without_references(self):
        d1 = os.path.join(self.tmp, "r1")
        write_run(d1, with_references(v2_sample(), 1.0, 1.0, "peersc"))
        p = cli("peers", d1, "--json", os.path.join(self.tmp, "a.json"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("baseline       tcp_rr      sockperf", p.stdout)
        self.assertIn("4 of 4 within target in every run", p.stdout)
        with open(os.path.join(self.tmp, "a.json")) as f:
            self.assertEqual(len(json.load(f)["rows"]), 4)
        d2 = os.path.join(self.tmp, "r2")
        write_run(d2, v2_sample())
        q = cli("peers", d2)
        self.assertEqual(q.returncode, 2)
        self.assertIn("without --peers", q.stderr)


if __name__ == "__main__":
    unittest.main()
