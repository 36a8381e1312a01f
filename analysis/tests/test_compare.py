# SPDX-License-Identifier: Apache-2.0
"""compare: A/A is not flagged (and the default threshold is where the real A/A pair says), a
synthetic 20% regression of the real data is, direction matters, the threshold and the 95% interval
both gate, 3 vs 3 repetitions are untestable rather than passed, sweeps match point by point, the
kernel of each side is named, the environment guard refuses cross-accelerator verdicts, and the
detection-power function reports what an injected cost makes compare flag."""

import copy
import json
import math
import os
import unittest

from analysis.compare import DEFAULT_THRESHOLD_PCT, NOT_COMPARED, NOT_SIG_FAMILY, REGRESSION, compare_runs
from analysis.power import detection_power
from analysis.load import check_document
from analysis.stats import shift
from analysis.tests.common import RATE_KEYS, TempDirTest, cli, load_sample, scaled, write_run
from analysis.tests.fixtures import aa_pair, read, services_sweep, to_v2, v2_sample

WORKLOADS = ("tcp_stream", "tcp_rr")


def _six(workloads=WORKLOADS) -> dict:
    d = v2_sample()
    d["results"] = [r for r in d["results"] if r["workload"] in workloads]
    return d


def _rows(js):
    with open(js, encoding="utf-8") as f:
        return json.load(f)


class Compare(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.doc = _six()

    def setUp(self):
        super().setUp()
        self.a = os.path.dirname(write_run(os.path.join(self.tmp, "a"), self.doc))

    def _cmp(self, bdoc, *extra):
        b = write_run(os.path.join(self.tmp, "b"), bdoc)
        js = os.path.join(self.tmp, "cmp.json")
        p = cli("compare", self.a, b, "--json", js, *extra)
        return p, (_rows(js) if os.path.exists(js) else None)

    def test_same_run_not_flagged(self):
        p, doc = self._cmp(self.doc)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("RESULT: no significant regression", p.stdout)
        self.assertNotIn("too few repetitions", p.stdout)
        self.assertEqual(doc["exit_code"], 0)
        self.assertFalse([r for r in doc["rows"] if r["status"] == REGRESSION])

    def test_synthetic_regression_detected(self):
        md = os.path.join(self.tmp, "cmp.md")
        p, doc = self._cmp(scaled(self.doc, 0.8, 1.25, "slower"), "--markdown", md)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("regression(s) in B", p.stdout)
        regs = [r for r in doc["rows"] if r["status"].startswith("REGRESSION")]
        self.assertTrue(regs)
        for r in regs:   # direction: rates fell, costs and latencies rose
            if r["higher_is_better"]:
                self.assertLess(r["ci_hi_pct"], 0)
            else:
                self.assertGreater(r["ci_lo_pct"], 0)
        self.assertFalse([r for r in doc["rows"] if r["status"] == "improvement"])
        # Exact expectation: where A's repetitions span less than 1.25x, every B value (A x 0.8) lies
        # below every A value, the whole interval is below 0 and -20% is beyond the threshold.
        run = check_document("a.json", self.doc)
        from analysis.summary import summarize
        S = summarize(run)
        expected = 0
        for r in doc["rows"]:
            if r["metric"] not in RATE_KEYS or r["median_a"] is None:
                continue
            g = next(g for k, g in S.items() if (k.workload, k.path) == (r["workload"], r["path"]) and not k.reference)
            vals = g.values[r["metric"]]
            if max(vals) / min(vals) < 1.25:
                expected += 1
                self.assertEqual(r["status"], REGRESSION, r)
                self.assertAlmostEqual(r["change_pct"], -20.0, places=6)
        self.assertGreater(expected, 0)
        with open(md, encoding="utf-8") as f:
            self.assertIn("| workload |", f.read())

    def test_improvement_is_not_a_regression(self):
        p, doc = self._cmp(scaled(self.doc, 1.25, 0.8, "faster"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertTrue([r for r in doc["rows"] if r["status"] == "improvement"])

    def test_threshold_gates(self):
        """A real 5% slowdown: significant where the repetitions are tight, but within the default
        threshold, so exit 0; with --threshold-pct 3 it is a regression."""
        slower = scaled(self.doc, 0.95, 1 / 0.95, "5pct")
        p, doc = self._cmp(slower)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertTrue([r for r in doc["rows"] if r["status"] == "significant but within threshold"])
        p, doc = self._cmp(slower, "--threshold-pct", "3")
        self.assertEqual(p.returncode, 1, p.stdout)

    def test_kernel_of_each_side(self):
        b = scaled(self.doc, 1.0, 1.0, "newk", kernel="6.99.0-test")
        p, _ = self._cmp(b)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn(f"kernel: A Linux {self.doc['environment']['kernel_release']} -> B Linux 6.99.0-test", p.stdout)

    def test_now_failing_is_a_regression(self):
        d = copy.deepcopy(self.doc)
        victim = next(r for r in d["results"] if r["status"] == "ok")
        for r in d["results"]:
            if r["path"] == victim["path"] and r["workload"] == victim["workload"]:
                r["status"] = "failed"
                r["reason"] = "test: path broke on the new kernel"
                r.pop("metrics", None)
        p, _ = self._cmp(d)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("now failing", p.stdout)

    def test_bad_input_exit_2(self):
        bad = os.path.join(self.tmp, "bad.json")
        with open(bad, "w") as f:
            f.write('{"schema_version": 2, "results": [')
        p = cli("compare", self.a, bad)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)
        self.assertIn("truncated", p.stderr)

    def test_bad_usage_exit_2(self):
        self.assertEqual(cli("compare", self.a).returncode, 2)
        self.assertEqual(cli("compare", self.a, self.a, "--threshold-pct", "-1").returncode, 2)
        for bad in ("0", "1", "-0.1", "1.5", "x"):   # a rate strictly between 0 and 1
            p = cli("compare", self.a, self.a, "--fdr", bad)
            self.assertEqual(p.returncode, 2, (bad, p.stdout, p.stderr))
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            p = cli("power", self.a, self.a, self.a, "--fdr", bad)
            self.assertEqual(p.returncode, 2, (bad, p.stdout, p.stderr))


class Guard(TempDirTest):
    """Different accelerators, or a pathbench VM guest against a run outside one: no performance
    verdict (exit 77) unless --allow-cross-environment; functional regressions still count."""

    @classmethod
    def setUpClass(cls):
        cls.doc = _six(("tcp_rr",))

    def _guest(self, accel):
        d = copy.deepcopy(self.doc)
        d["run_id"] = f"guest-{accel}"
        d["environment"]["virtualization"] = {"pathbench_guest": True, "hypervisor": None, "accelerator": accel,
                                              "vcpus": 2, "memory_mib": 2048, "qemu_version": "7.2.19",
                                              "guest_kernel": "6.1.0-test", "host_kernel": "6.18.44"}
        return d

    def test_tcg_against_host(self):
        a = write_run(os.path.join(self.tmp, "a"), self.doc)
        b = write_run(os.path.join(self.tmp, "b"), self._guest("tcg"))
        js = os.path.join(self.tmp, "c.json")
        p = cli("compare", a, b, "--json", js)
        self.assertEqual(p.returncode, 77, p.stdout + p.stderr)
        self.assertIn("1.35", p.stdout)
        self.assertIn("functional truth", p.stdout)
        doc = _rows(js)
        perf = [r for r in doc["rows"] if r["median_a"] is not None]
        self.assertTrue(perf)
        self.assertTrue(all(r["status"] == NOT_COMPARED for r in perf))
        p = cli("compare", a, b, "--allow-cross-environment")
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("functional truth", p.stdout)

    def test_kvm_guest_against_host_and_guest_against_guest(self):
        a = check_document("a.json", self.doc)
        kvm = check_document("k.json", self._guest("kvm"))
        self.assertIsNotNone(compare_runs(a, kvm).guard)
        self.assertEqual(compare_runs(a, kvm).exit_code, 77)
        self.assertIsNone(compare_runs(kvm, check_document("k2.json", self._guest("kvm"))).guard)
        self.assertIsNotNone(compare_runs(kvm, check_document("t.json", self._guest("tcg"))).guard)

    def test_now_failing_counts_across_the_guard(self):
        d = self._guest("tcg")
        for r in d["results"]:
            if r["path"] == d["results"][0]["path"]:
                r["status"], r["reason"] = "failed", "test: broke"
                r.pop("metrics", None)
        c = compare_runs(check_document("a.json", self.doc), check_document("b.json", d))
        self.assertEqual(c.exit_code, 1)


class Repetitions(TempDirTest):
    def test_three_vs_three_is_untestable(self):
        """The stored 3-repetition sample: a 20% regression is reported as untestable (with the
        possible regression named), never flagged and never silently passed."""
        doc = load_sample()
        doc["results"] = [r for r in doc["results"] if r["workload"] in WORKLOADS]
        a = write_run(os.path.join(self.tmp, "a"), doc)
        b = write_run(os.path.join(self.tmp, "b"), scaled(doc, 0.8, 1.25, "slower"))
        p = cli("compare", a, b)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("too few repetitions for a 95% interval", p.stdout)
        self.assertIn("possible regression of -20.0%", p.stdout)
        self.assertIn("untestable at 95%", p.stdout)

    def test_real_aa_pair_at_eight_repetitions(self):
        a = read("state-tcp-stream-bbr.json.gz")
        b = read("state-tcp-stream-bbr-2.json.gz")
        c = compare_runs(check_document("a.json", a), check_document("b.json", b))
        self.assertEqual(c.exit_code, 0)
        self.assertFalse([r for r in c.rows if r.status not in ("no significant change", "significant but within threshold")])


class ThresholdFromAA(unittest.TestCase):
    """The default threshold is where the real A/A pair (two back-to-back default suites) puts it:
    above every A/A shift of a rate or CPU metric, and high enough that even the widest interval
    3 vs 3 repetitions allow (90%) flags no A/A row; a threshold of 5% would have flagged some."""

    def test_default_threshold_covers_the_aa_pair(self):
        a, b = aa_pair()
        ra, rb = check_document("a.json", a), check_document("b.json", b)
        from analysis.summary import summarize
        sa, sb = summarize(ra), summarize(rb)
        changes, flagged_at = [], {5.0: 0, 7.0: 0, DEFAULT_THRESHOLD_PCT: 0}
        for k, g in sa.items():
            h = sb.get(k)
            if h is None or not g.ok or not h.ok:
                continue
            for mk in (g.primary, g.cpu):
                if mk not in g.values or mk not in h.values:
                    continue
                s = shift(g.values[mk], h.values[mk], level=0.90)
                changes.append(abs(s.change) * 100)
                if s.lo > 0 or s.hi < 0:
                    for t in flagged_at:
                        flagged_at[t] += abs(s.change) * 100 > t
        self.assertGreater(len(changes), 80)
        self.assertLess(max(changes), DEFAULT_THRESHOLD_PCT, "the A/A pair moved more than the default threshold")
        self.assertEqual(flagged_at[DEFAULT_THRESHOLD_PCT], 0)
        self.assertEqual(flagged_at[7.0], 0)
        self.assertGreater(flagged_at[5.0], 0, "a 5% threshold would have been enough: reconsider the default")


class Sweeps(TempDirTest):
    def test_services_sweep_matched_point_by_point(self):
        base = services_sweep(v2_sample(), services=(1, 100, 1000))
        slow = copy.deepcopy(base)
        target = next(p["name"] for p in slow["catalogue"]["paths"] if p["technology"] == "tproxy")
        for r in slow["results"]:
            if r["path"] == target and r.get("path_options", {}).get("services") == 1000 and r["status"] == "ok":
                r["metrics"]["transactions_per_s"] *= 0.7
        # Matching is what is tested here, so each row is judged on its own (--per-row): the fixture has
        # 6 repetitions, and among its 32 gated rows even complete separation (p = 0.0022) is not
        # significant at a 5% false discovery rate (the test below, and the compare's warning).
        c = compare_runs(check_document("a.json", base), check_document("b.json", slow), fdr=None)
        regs = [r for r in c.rows if r.status == REGRESSION]
        self.assertTrue(regs)
        self.assertEqual({(r.path, r.variant, r.metric) for r in regs},
                         {(target, "services=1000", "transactions_per_s")})
        fam = compare_runs(check_document("a.json", base), check_document("b.json", slow))
        row = next(r for r in fam.rows if (r.path, r.variant, r.metric) == (target, "services=1000", "transactions_per_s"))
        self.assertEqual(row.status, NOT_SIG_FAMILY)
        self.assertAlmostEqual(row.p_value, 2 / math.comb(12, 6))
        self.assertAlmostEqual(row.q_value, row.p_value * fam.family)
        self.assertTrue(any("even complete separation" in w and "7 repetitions per run would do" in w
                            for w in fam.warnings), fam.warnings)
        same = [r for r in c.rows if r.path == target and r.metric == "transactions_per_s"]
        self.assertEqual(len(same), 3)          # one row per N, each against the same N
        self.assertTrue(all(math.isclose(r.change_pct, 0.0, abs_tol=1e-9) for r in same if r.variant != "services=1000"))

    def test_payload_sweep_against_plain_run(self):
        doc = load_sample()
        doc["results"] = [r for r in doc["results"] if r["workload"] == "tcp_rr"]
        extra = []
        for r in doc["results"]:
            if r["status"] == "ok":
                c = copy.deepcopy(r)
                c["workload_options"]["payload_bytes"] = 1 + 10 * int(c["workload_options"].get("payload_bytes", 64))
                c["order"] = c.get("order", 0) + 10000
                extra.append(c)
        sweep = copy.deepcopy(doc)
        sweep["results"] += extra
        c = compare_runs(check_document("a.json", doc), check_document("b.json", sweep))
        compared = [r for r in c.rows if r.median_a is not None]
        self.assertTrue(compared)
        self.assertTrue(all(r.change_pct == 0 for r in compared), "matched the wrong payload size")
        self.assertTrue([r for r in c.rows if r.status == "only in B"])


class DetectionPower(TempDirTest):
    def test_injected_cost_is_detected_and_aa_is_clean(self):
        a = check_document("a.json", to_v2(read("state-tcp-stream-bbr.json.gz")))
        a2 = check_document("a2.json", to_v2(read("state-tcp-stream-bbr-2.json.gz")))
        b_doc = to_v2(scaled(read("state-tcp-stream-bbr-2.json.gz"), 0.85, 1 / 0.85, "injected"),
                      inject_cost_ns_per_packet=400)
        b = check_document("b.json", b_doc)
        res = detection_power(a, a2, b)
        s = res["summary"]
        self.assertEqual(res["injected_cost_ns_per_packet"], 400)
        self.assertEqual(s["false_positive_primary"], 0)
        self.assertEqual(s["detected_primary"], s["configurations"])
        self.assertGreater(s["configurations"], 0)
        self.assertFalse(res["warnings"] and any("no options.inject" in w for w in res["warnings"]))
        # and through the CLI
        pa = write_run(os.path.join(self.tmp, "a"), a.doc)
        pa2 = write_run(os.path.join(self.tmp, "a2"), a2.doc)
        pb = write_run(os.path.join(self.tmp, "b"), b_doc)
        js = os.path.join(self.tmp, "power.json")
        p = cli("power", pa, pa2, pb, "--json", js)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(f"primary metric flagged in {s['detected_primary']} of {s['configurations']}", p.stdout)
        self.assertEqual(_rows(js)["summary"], s)

    def test_warns_without_injected_cost(self):
        a = check_document("a.json", read("state-tcp-stream-bbr.json.gz"))
        res = detection_power(a, a, a)
        self.assertTrue(any("inject_cost" in w for w in res["warnings"]))


if __name__ == "__main__":
    unittest.main()


class GateOnRealDefaultSuites(TempDirTest):
    """Real default suites of today's harness (tests/data/aa8-*: 9 paths x 6 workloads x 8 x 0.3 s,
    back to back; drift-*: two 6-repetition suites whose CPU speed probe differed by +4.9%)."""

    def _write(self, name, doc):
        return os.path.dirname(write_run(os.path.join(self.tmp, name), doc))

    def _compare(self, a, b, *extra):
        js = os.path.join(self.tmp, f"cmp-{len(os.listdir(self.tmp))}.json")
        p = cli("compare", a, b, "--json", js, *extra)
        return p, (_rows(js) if os.path.exists(js) else None)

    def test_aa_pair_of_default_suites_flags_nothing(self):
        a, b = self._write("a", read("aa8-1.json.gz")), self._write("b", read("aa8-2.json.gz"))
        p, js = self._compare(a, b)
        self.assertEqual(p.returncode, 0, p.stdout[-2000:])
        self.assertFalse([r for r in js["rows"] if r["status"] == REGRESSION])

    def test_noisy_aa_pair_flags_nothing_among_all_rows_but_each_row_alone_would(self):
        """tests/data/aa-noisy-*: two back-to-back default suites of a noisy host day (per-repetition
        noise about 14%). Judged row by row, two of 110 gated rows come out "regressions" by chance;
        with the false discovery rate controlled over the rows, none, and the compare says how large
        an isolated regression must be to be seen at this noise."""
        a, b = self._write("a", read("aa-noisy-1.json.gz")), self._write("b", read("aa-noisy-2.json.gz"))
        p, per_row = self._compare(a, b, "--per-row")
        self.assertEqual(p.returncode, 1, p.stdout[-1500:])
        self.assertEqual(len([r for r in per_row["rows"] if r["status"] == REGRESSION]), 2)
        self.assertIsNone(per_row["fdr"])
        p, js = self._compare(a, b)
        self.assertEqual(p.returncode, 0, p.stdout[-2000:])
        self.assertFalse([r for r in js["rows"] if r["status"] in (REGRESSION, "improvement")])
        self.assertEqual(js["fdr"], 0.05)
        self.assertEqual(js["family"], 110)          # 98 configuration rows + 12 pooled ones
        for r in js["rows"]:
            if r["status"] == NOT_SIG_FAMILY:
                self.assertGreaterEqual(r["q_value"], 0.05)
                self.assertLess(r["p_value"], 0.05)
        det = js["detectable_pct"]
        self.assertEqual(set(det), {"tcp_stream", "tcp_rr", "tcp_crr", "udp_rr", "udp_pps", "xdp_pps"})
        for wl, d in det.items():   # a noisy day: one row alone needs a large change, all paths far less
            self.assertTrue(d["one_row"] is None or 30 < d["one_row"] <= 100, det)
            self.assertLess(d["all_paths"], d["one_row"] or 100, det)
        self.assertEqual(det["tcp_rr"]["configurations"], 9)
        self.assertIn("detectable at these runs' noise", p.stdout)
        pooled = [r for r in js["rows"] if r["path"] == "all paths"]
        self.assertEqual(len(pooled), 12)            # 6 workloads x (rate, CPU per unit)
        # one index per repetition: the repetition is the unit, not the 9 x 8 results
        self.assertTrue(all(r["n_a"] == 8 and r["n_b"] == 8 for r in pooled), [r["n_a"] for r in pooled])
        q, quiet = self._compare(self._write("qa", read("aa8-1.json.gz")), self._write("qb", read("aa8-2.json.gz")))
        for wl, d in quiet["detectable_pct"].items():
            self.assertLess(d["one_row"], det[wl]["one_row"] or 101, (wl, d, det[wl]))

    def test_noisy_day_still_flags_a_change_across_a_workload(self):
        """The same noisy pair, B's tcp_rr 25% slower on every path (a kernel that slows them all):
        many small p-values together survive the false discovery rate."""
        doc = read("aa-noisy-2.json.gz")
        for r in doc["results"]:
            if r["workload"] == "tcp_rr" and r["status"] == "ok":
                r["metrics"]["transactions_per_s"] *= 0.75
        a, b = self._write("a", read("aa-noisy-1.json.gz")), self._write("b", doc)
        p, js = self._compare(a, b)
        self.assertEqual(p.returncode, 1, p.stdout[-2000:])
        regs = [r for r in js["rows"] if r["status"] == REGRESSION]
        self.assertTrue(regs)
        self.assertEqual({(r["workload"], r["metric"]) for r in regs}, {("tcp_rr", "transactions_per_s")})
        self.assertIn("all paths", {r["path"] for r in regs})

    def test_pooled_row_takes_the_repetition_as_its_unit(self):
        """B 12% slower than A in every repetition, where A's repetitions themselves spread by +-15%
        as a whole (every path of a repetition x the same factor): 72 results per side would make that
        look certain, but it is 8 repetitions against 8 whose states overlap, and the pooled row says
        so (its p is that of 8 vs 8, not significant among all rows)."""
        doc_a, doc_b = read("aa8-1.json.gz"), read("aa8-1.json.gz")
        fac = [1.15, 0.85, 1.05, 0.95, 1.1, 0.9, 1.0, 1.12]
        for doc, scale in ((doc_a, 1.0), (doc_b, 0.88)):
            for r in doc["results"]:
                if r["workload"] == "tcp_rr" and r["status"] == "ok":
                    r["metrics"]["transactions_per_s"] *= fac[int(r["repetition"])] * scale
        from analysis.compare import pooled_index
        c = compare_runs(check_document("a.json", doc_a), check_document("b.json", doc_b))
        row = next(r for r in c.rows if r.path == "all paths" and r.workload == "tcp_rr"
                   and r.metric == "transactions_per_s")
        self.assertEqual((row.n_a, row.n_b), (8, 8))
        self.assertNotEqual(row.status, REGRESSION, row)
        self.assertGreater(row.p_value, 1e-3, row)
        self.assertAlmostEqual(row.change_pct, -12.0, delta=4)
        # the index itself: a factor shared by every configuration of a repetition is exactly that
        # repetition's index ratio
        st = [({0: 10.0, 1: 20.0}, {0: 10.0, 1: 20.0}), ({0: 100.0, 1: 200.0}, {0: 100.0, 1: 200.0})]
        xa, xb = pooled_index(st)
        self.assertAlmostEqual(xa[1] / xa[0], 2.0)
        self.assertEqual(xa, xb)

    def test_noisy_day_pooled_row_sees_what_no_single_path_can(self):
        """udp_pps 15% slower on every path: the pooled row is flagged with its change close to the
        truth (no single path's row can flag less than about 50% on this pair); at 3% the pooled row
        is not flagged."""
        a = self._write("a", read("aa-noisy-1.json.gz"))
        for f, flagged in ((0.85, True), (0.97, False)):
            doc = read("aa-noisy-2.json.gz")
            for r in doc["results"]:
                if r["workload"] == "udp_pps" and r["status"] == "ok":
                    r["metrics"]["packets_per_s"] *= f
            p, js = self._compare(a, self._write(f"b{f}", doc))
            row = next(r for r in js["rows"] if r["path"] == "all paths" and r["workload"] == "udp_pps"
                       and r["metric"] == "packets_per_s")
            self.assertEqual(row["status"] == REGRESSION, flagged, row)
            self.assertAlmostEqual(row["change_pct"], (f - 1) * 100, delta=5, msg=row)
            self.assertLess(row["ci_lo_pct"], row["change_pct"])
            self.assertGreater(row["ci_hi_pct"], row["change_pct"])
            self.assertEqual(p.returncode, 1 if flagged else 0, p.stdout[-1500:])

    def test_speed_adjustment_uses_the_probe_and_keeps_a_real_cost(self):
        a_doc = read("drift-1.json.gz")
        a = self._write("a", a_doc)
        # B: the same run on a machine 12% slower per cycle: every rate 12% lower, CPU per unit and
        # the probe 12% higher. Per cycle nothing changed; raw, everything did.
        b_doc = copy.deepcopy(a_doc)
        for r in b_doc["results"]:
            m = r.get("metrics") or {}
            for k in list(m):
                if k in ("throughput_bps", "transactions_per_s", "packets_per_s") and isinstance(m[k], (int, float)):
                    m[k] *= 1 / 1.12
                if k.startswith("cpu_ns_per_") and isinstance(m[k], (int, float)):
                    m[k] *= 1.12
            probe = (m.get("system_state") or {}).get("cpu_speed_ns_per_mop")
            if isinstance(probe, dict):
                probe["before"] *= 1.12
                probe["after"] *= 1.12
        b = self._write("b", b_doc)
        p, js = self._compare(a, b)
        self.assertEqual(p.returncode, 0, p.stdout[-2000:])
        self.assertIn("machine speed: B's CPU speed probe was +12.0%", p.stdout)
        p_raw, js_raw = self._compare(a, b, "--no-speed-adjust")
        self.assertEqual(p_raw.returncode, 1, "raw numbers 12% lower must be flagged")
        # A real cost on top (rates 10% lower with the probe unchanged) survives the adjustment.
        for r in b_doc["results"]:
            m = r.get("metrics") or {}
            if r.get("workload") == "tcp_rr" and isinstance(m.get("transactions_per_s"), (int, float)):
                m["transactions_per_s"] *= 0.88
        b2 = self._write("b2", b_doc)
        p2, js2 = self._compare(a, b2)
        self.assertEqual(p2.returncode, 1)
        flagged = {(r["workload"], r["metric"]) for r in js2["rows"] if r["status"] == REGRESSION}
        self.assertIn(("tcp_rr", "transactions_per_s"), flagged)
        self.assertFalse([w for w, _ in flagged if w != "tcp_rr"], flagged)

    def test_tail_latency_is_shown_not_gated_unless_asked(self):
        a_doc = read("aa8-1.json.gz")
        a = self._write("a", a_doc)
        b_doc = copy.deepcopy(a_doc)
        for r in b_doc["results"]:
            lat = (r.get("metrics") or {}).get("latency_ns")
            if isinstance(lat, dict) and isinstance(lat.get("p99"), (int, float)):
                lat["p99"] *= 1.6
        b = self._write("b", b_doc)
        p, js = self._compare(a, b)
        self.assertEqual(p.returncode, 0, p.stdout[-2000:])
        self.assertTrue([r for r in js["rows"] if r["metric"] == "latency_ns.p99" and r["status"] == "changed (not gated)"])
        p2, _ = self._compare(a, b, "--gate", "rate,cpu,latency")
        self.assertEqual(p2.returncode, 1)
        p3, _ = self._compare(a, b, "--gate", "bogus")
        self.assertEqual(p3.returncode, 2)


class OptionsAddedLaterTest(unittest.TestCase):
    """A run stored before --responder existed matches a run at its default, not one that changed it."""

    def test_missing_responder_is_the_thread_default(self):
        from analysis.metrics import config_signature
        old = {"workload_options": {"payload_bytes": 64, "flows": 1, "tcp_cc": "cubic"}}
        new = {"workload_options": {"payload_bytes": 64, "flows": 1, "tcp_cc": "cubic", "responder": "thread"}}
        proc = {"workload_options": {"payload_bytes": 64, "flows": 1, "tcp_cc": "cubic", "responder": "process"}}
        self.assertEqual(config_signature(old), config_signature(new))
        self.assertNotEqual(config_signature(old), config_signature(proc))
        self.assertIn('responder="process"', config_signature(proc))
        svc = {"path_options": {"services": 10}, "workload_options": {"payload_bytes": 64}}
        self.assertEqual(config_signature(svc).split(" | ")[0], "services=10", "path options get no workload default")
