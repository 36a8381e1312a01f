# SPDX-License-Identifier: Apache-2.0
"""Cost mode (analysis/cost.py): a run from a `pathbench vm --accel tcg-icount` guest is read in
instructions, labelled as such everywhere, compared at its own bound, and never mixed with time."""

from __future__ import annotations

import copy
import gzip
import json
import os
import unittest

from analysis import cost as C
from analysis import metrics as M
from analysis.compare import NOT_COMPARED, NOT_SIG, REGRESSION, compare_runs
from analysis.load import check_document
from analysis.summary import summarize
from analysis.tests.common import REPO, TempDirTest, cli, load_sample, write_run

COST_SAMPLE = os.path.join(REPO, "tests", "data", "cost-sample.json.gz")


def cost_doc() -> dict:
    with open(COST_SAMPLE, "rb") as f:
        return json.loads(gzip.decompress(f.read()))


def slower(doc: dict, path: str, workload: str, factor: float, run_id: str) -> dict:
    """A copy in which one configuration needs `factor` times the instructions per transaction."""
    d = copy.deepcopy(doc)
    d["run_id"] = run_id
    for r in d["results"]:
        if r["path"] == path and r["workload"] == workload and r["status"] == "ok":
            r["metrics"]["transactions_per_s"] /= factor
            r["metrics"]["transactions"] = int(r["metrics"]["transactions"] / factor)
            for k in r["metrics"].get("latency_ns", {}):
                r["metrics"]["latency_ns"][k] = int(r["metrics"]["latency_ns"][k] * factor)
    return d


class Conversion(unittest.TestCase):
    def test_a_cost_run_is_read_in_instructions(self):
        raw = cost_doc()
        self.assertTrue(C.is_cost_doc(raw))
        run = check_document("cost.json", copy.deepcopy(raw))
        self.assertTrue(run.cost_mode)
        for before, after in zip(raw["results"], run.results):
            if before["status"] != "ok":
                continue
            m0, m1 = before["metrics"], after["metrics"]
            self.assertNotIn("transactions_per_s", m1)
            self.assertNotIn("latency_ns", m1)
            self.assertNotIn("cpu_ns_per_transaction", m1, "tick-quantized CPU time is dropped in cost mode")
            self.assertAlmostEqual(m1["instructions_per_transaction"], 1e9 / m0["transactions_per_s"], places=3)
            self.assertEqual(m1["latency_instructions"]["p50"], m0["latency_ns"]["p50"])
            # A guest nanosecond is an instruction: a transaction is tens of thousands of them.
            self.assertGreater(m1["instructions_per_transaction"], 10_000)
        wl = {w["name"]: w for w in run.doc["catalogue"]["workloads"]}
        self.assertEqual(wl["tcp_rr"]["primary_metric"], "instructions_per_transaction")
        self.assertEqual(wl["tcp_rr"]["cpu_metric"], "instructions_per_transaction")

    def test_stream_and_packet_rates(self):
        m = {"throughput_bps": 8e9, "packets_per_s": 2e6, "cpu_ns_per_byte": 3.0}
        C.convert_metrics(m)
        self.assertAlmostEqual(m["instructions_per_byte"], 1.0)
        self.assertAlmostEqual(m["instructions_per_packet"], 500.0)
        self.assertEqual(set(m), {"instructions_per_byte", "instructions_per_packet"})

    def test_a_time_run_is_not_touched(self):
        doc = load_sample()
        run = check_document("t.json", doc)
        self.assertFalse(run.cost_mode)
        self.assertTrue(any("transactions_per_s" in r.get("metrics", {}) for r in run.results))

    def test_units(self):
        u, t = M.Units(cost=True), M.Units()
        self.assertEqual(u.latency("p99"), "latency_instructions.p99")
        self.assertEqual(t.latency("p99"), "latency_ns.p99")
        self.assertEqual(u.latency_unit, "instructions")
        self.assertEqual(t.latency_unit, "µs")
        self.assertEqual(u.bpf_unit, "instructions per run")
        self.assertIn("M instructions", u.duration(5e6))
        for k in M.COST_KEYS + M.COST_LATENCY_KEYS:
            self.assertIn("instruction", M.METRICS[k].unit)
            self.assertFalse(M.METRICS[k].higher_is_better)
        self.assertEqual(M.kind("instructions_per_packet"), "cost")


class Bounds(unittest.TestCase):
    def test_floor_and_spread(self):
        self.assertAlmostEqual(C.bound([100.0, 100.01], [50.0, 50.0]), C.COST_FLOOR_PCT / 100)
        # two of three apart: the spread counts (the one farthest from the median, 104, is left out)
        self.assertAlmostEqual(C.bound([100.0, 104.0, 101.0]), C.COST_SPREAD_FACTOR * 1 / 100.5)
        # with two repetitions both count
        self.assertAlmostEqual(C.bound([100.0, 102.0]), C.COST_SPREAD_FACTOR * 2 / 101)

    def test_latency_percentiles_are_bounded_by_two_histogram_steps(self):
        same = [75520.0, 75520.0, 75520.0]
        self.assertAlmostEqual(C.bound(same, same), C.COST_FLOOR_PCT / 100)
        self.assertAlmostEqual(C.bound(same, same, latency=True), 2 / 128)
        # one histogram step (0.68%, an A/A pair's tcp_rr p99 across boots) is not a verdict
        self.assertFalse(C.change(same, [76032.0] * 3, latency=True).beyond)
        self.assertTrue(C.change(same, [76032.0] * 3).beyond)
        self.assertEqual(C.ratio({0: 2.0}, {0: 1.0}, latency=True).hi, 2.0 * (1 + 2 / 128))

    def test_one_repetition_off_does_not_widen_the_bound(self):
        # a window hit by a ~3.6M-instruction background event: +1.2% on one repetition of three
        self.assertAlmostEqual(C.bound([43701.8, 43696.1, 44226.0]), C.COST_FLOOR_PCT / 100)
        self.assertAlmostEqual(C.core_range([43701.8, 43696.1, 44226.0]), 5.7 / 43698.95, places=9)

    def test_the_workloads_typical_spread_widens_the_bound(self):
        lists = [[100.0, 101.3, 100.0], [50.0, 50.0, 50.6], [80.0, 81.0, 80.0], [20.0, 20.0, 20.0]]
        typical = C.typical_spread(lists)
        self.assertAlmostEqual(typical, (0.012 + 1 / 80) / 2, places=4)   # median of 1.3%, 1.2%, 1.25%, 0
        self.assertAlmostEqual(C.bound([20.0, 20.0, 20.0], typical=typical), C.COST_SPREAD_FACTOR * typical)
        self.assertEqual(C.typical_spread(lists[:2]), 0.0, "two lists are one configuration's, not a workload's")

    def test_ratio_carries_the_bound_not_a_level(self):
        r = C.ratio({0: 200.0, 1: 200.02}, {0: 100.0, 1: 100.0})
        self.assertAlmostEqual(r.value, 2.0001, places=4)
        self.assertIsNone(r.level)
        self.assertTrue(r.has_ci)
        self.assertAlmostEqual(r.hi / r.value - 1, C.COST_FLOOR_PCT / 100)

    def test_summary_ratio_uses_the_bound(self):
        S = summarize(check_document("c.json", cost_doc()))
        self.assertTrue(S.cost)
        g = next(g for g in S.own("tcp_rr") if g.key.path == "tproxy-nft")
        r = S.ratio_to_reference(g.key, g.primary)
        self.assertGreater(r.value, 1.3, "tproxy-nft needs more instructions per transaction than baseline")
        self.assertTrue(r.has_ci and r.level is None)


class Compare(unittest.TestCase):
    def test_aa_flags_nothing(self):
        a = check_document("a.json", cost_doc())
        b = check_document("b.json", cost_doc())
        c = compare_runs(a, b)
        self.assertTrue(c.cost)
        self.assertEqual(c.regressions, [])
        self.assertEqual(c.exit_code, 0)

    def test_one_percent_is_flagged_a_tenth_is_not(self):
        a = check_document("a.json", cost_doc())
        b = check_document("b.json", slower(cost_doc(), "sk-lookup", "tcp_rr", 1.01, "b1"))
        rows = [r for r in compare_runs(a, b).rows if r.path == "sk-lookup" and r.workload == "tcp_rr"
                and r.metric == "instructions_per_transaction"]
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0].status, REGRESSION, rows[0])
        self.assertAlmostEqual(rows[0].change_pct, 1.0, delta=0.05)
        b2 = check_document("b2.json", slower(cost_doc(), "sk-lookup", "tcp_rr", 1.001, "b2"))
        rows = [r for r in compare_runs(a, b2).rows if r.path == "sk-lookup" and r.workload == "tcp_rr"
                and r.metric == "instructions_per_transaction"]
        self.assertEqual(rows[0].status, NOT_SIG)

    def test_a_wide_spread_widens_the_bound(self):
        doc = cost_doc()
        reps = [r for r in doc["results"] if r["path"] == "baseline" and r["workload"] == "udp_rr"]
        reps[0]["metrics"]["transactions_per_s"] *= 1.03     # two repetitions of three 3% apart
        reps[1]["metrics"]["transactions_per_s"] *= 0.97
        a = check_document("a.json", doc)
        b = check_document("b.json", slower(cost_doc(), "baseline", "udp_rr", 1.02, "b"))
        row = next(r for r in compare_runs(a, b).rows if r.path == "baseline" and r.workload == "udp_rr"
                   and r.metric == "instructions_per_transaction")
        self.assertGreater(row.threshold_pct, 5.0)
        self.assertEqual(row.status, NOT_SIG, "a 2% change inside a 3% spread is not a verdict")

    def test_one_repetition_off_does_not_blind_the_row(self):
        doc = cost_doc()
        reps = [r for r in doc["results"] if r["path"] == "baseline" and r["workload"] == "tcp_rr"]
        reps[0]["metrics"]["transactions_per_s"] /= 1.012    # one window 1.2% costlier (docs/cost.md)
        a = check_document("a.json", doc)
        b = check_document("b.json", slower(cost_doc(), "baseline", "tcp_rr", 1.01, "b"))
        row = next(r for r in compare_runs(a, b).rows if r.path == "baseline" and r.workload == "tcp_rr"
                   and r.metric == "instructions_per_transaction")
        self.assertLess(row.threshold_pct, 1.0)
        self.assertEqual(row.status, REGRESSION, row)

    def test_cost_and_time_are_never_mixed(self):
        a = check_document("a.json", cost_doc())
        t = check_document("t.json", load_sample())
        for x, y in ((a, t), (t, a)):
            c = compare_runs(x, y)
            self.assertEqual(c.exit_code, 77)
            self.assertIn("cost-mode run", c.guard)
            self.assertTrue(all(r.status in (NOT_COMPARED,) or r.change_pct is None for r in c.rows
                                if r.status != "only in A" and r.status != "only in B"))


class Cli(TempDirTest):
    def test_report_speaks_instructions_only(self):
        d = os.path.join(self.tmp, "cost")
        write_run(d, cost_doc())
        p = cli("report", d)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(d, "report.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("Cost mode", md)
        self.assertIn("instructions/transaction", md)
        for unit in ("Gbit/s", "µs", "transactions/s"):
            self.assertNotIn(unit, md, f"a time unit in a cost-mode report: {unit}")

    def test_report_native_beside(self):
        d, n = os.path.join(self.tmp, "cost"), os.path.join(self.tmp, "native")
        write_run(d, cost_doc())
        write_run(n, load_sample())
        p = cli("report", d, "--native", n)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(d, "report.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("Instructions beside time", md)
        self.assertIn("native CPU ÷ ref", md)
        p = cli("report", n, "--native", d)
        self.assertEqual(p.returncode, 2, "--native goes with a cost-mode run")
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)

    def test_compare_cli_refuses_mixing(self):
        d, n = os.path.join(self.tmp, "cost"), os.path.join(self.tmp, "native")
        write_run(d, cost_doc())
        write_run(n, load_sample())
        p = cli("compare", n, d)
        self.assertEqual(p.returncode, 77, p.stdout)
        self.assertIn("cost-mode run", p.stdout)
        p = cli("compare", d, d)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("cost mode (instructions)", p.stdout)

    def test_compare_cli_gates_instructions_by_default(self):
        # The command line's default --gate once left "cost" out: a cost-mode regression printed
        # "changed (not gated)" and compare exited 0, so a CI gate on cost mode could never fail.
        a, b = os.path.join(self.tmp, "a"), os.path.join(self.tmp, "b")
        write_run(a, cost_doc())
        write_run(b, slower(cost_doc(), "sk-lookup", "tcp_rr", 1.02, "b2pct"))
        p = cli("compare", a, b)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertRegex(p.stdout, r"sk-lookup\s+instructions per transaction.*REGRESSION")
        p = cli("compare", a, b, "--gate", "rate,cpu")
        self.assertEqual(p.returncode, 0, "--gate without cost leaves instructions ungated")


if __name__ == "__main__":
    unittest.main()
