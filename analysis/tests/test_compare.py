"""compare: a copy of the same run is not flagged; a synthetic 20% regression made from the real
sample (rates x0.8, latency and CPU cost x1.25) is; direction matters; too few repetitions warn."""

import json
import os
import unittest

from analysis.tests.common import TempDirTest, cli, load_sample, scaled, write_run


def _reps(doc):
    from collections import Counter
    c = Counter((r["path"], r["workload"]) for r in doc["results"] if r["status"] == "ok")
    return min(c.values()) if c else 0


class Compare(TempDirTest):
    def setUp(self):
        super().setUp()
        self.doc = load_sample()
        self.a = os.path.dirname(write_run(os.path.join(self.tmp, "a"), self.doc))

    def test_same_run_not_flagged(self):
        b = write_run(os.path.join(self.tmp, "b"), self.doc)
        for extra in ([], ["--alpha", "0.1"], ["--threshold-pct", "0"]):
            p = cli("compare", self.a, b, *extra)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("no significant regression", p.stdout)
            self.assertNotIn("REGRESSION", p.stdout)

    def test_synthetic_regression_detected(self):
        b = write_run(os.path.join(self.tmp, "b"), scaled(self.doc, 0.8, 1.25, "slower"))
        js = os.path.join(self.tmp, "cmp.json")
        md = os.path.join(self.tmp, "cmp.md")
        # With 3 repetitions per side the smallest two-sided exact U-test p is 0.1, so the test
        # asks for alpha 0.1; with >= 4 repetitions the default alpha 0.05 works the same way.
        alpha = "0.1" if _reps(self.doc) < 4 else "0.05"
        p = cli("compare", self.a, b, "--alpha", alpha, "--json", js, "--markdown", md)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("RESULT:", p.stdout)
        self.assertIn("regression(s) in B", p.stdout)
        with open(js, encoding="utf-8") as f:
            doc = json.load(f)
        self.assertEqual(doc["exit_code"], 1)
        regs = [r for r in doc["rows"] if r["status"].startswith("REGRESSION")]
        self.assertTrue(regs)
        for r in regs:
            # Direction: rates fell, costs and latencies rose.
            if r["higher_is_better"]:
                self.assertLess(r["change_pct"], -5)
            else:
                self.assertGreater(r["change_pct"], 5)
        self.assertFalse([r for r in doc["rows"] if r["status"] == "improvement"])
        # Exact expectation for rate metrics: where A's repetitions span less than 1.25x, every B
        # value (A x 0.8) lies below every A value, so p is the smallest possible; with the spread
        # also under the 20% change, the row must be flagged.
        from analysis.load import load_run
        from analysis.summary import summarize
        sa = summarize(load_run(self.a))
        expected = 0
        for r in doc["rows"]:
            if r["metric"] not in ("throughput_bps", "transactions_per_s", "packets_per_s") or r["median_a"] is None:
                continue
            key = next(k for k in sa if (k.workload, k.path, k.variant, k.reference) ==
                       (r["workload"], r["path"], r["variant"], r["reference"]))
            vals = sa[key].values[r["metric"]]
            if len(vals) >= 3 and max(vals) / min(vals) < 1.25 and r["noise_pct"] < 19.0:
                expected += 1
                self.assertEqual(r["status"], "REGRESSION", r)
        self.assertGreater(expected, 0, "sample too noisy for this test: regenerate tests/data (see README)")
        with open(md, encoding="utf-8") as f:
            self.assertIn("| workload |", f.read())

    def test_improvement_is_not_a_regression(self):
        b = write_run(os.path.join(self.tmp, "b"), scaled(self.doc, 1.25, 0.8, "faster"))
        js = os.path.join(self.tmp, "cmp.json")
        p = cli("compare", self.a, b, "--alpha", "0.1", "--json", js)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(js, encoding="utf-8") as f:
            rows = json.load(f)["rows"]
        self.assertTrue([r for r in rows if r["status"] == "improvement"])

    def test_few_repetitions_warn_and_do_not_flag(self):
        b = write_run(os.path.join(self.tmp, "b"), scaled(self.doc, 0.8, 1.25, "slower"))
        if _reps(self.doc) >= 4:
            self.skipTest("sample has enough repetitions for alpha 0.05")
        p = cli("compare", self.a, b)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("warning: too few repetitions", p.stdout)
        self.assertIn("possible regression (untestable)", p.stdout)

    def test_below_threshold_not_flagged(self):
        b = write_run(os.path.join(self.tmp, "b"), scaled(self.doc, 0.97, 1.03, "tiny"))
        p = cli("compare", self.a, b, "--alpha", "0.1")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_now_failing_is_a_regression(self):
        d = json.loads(json.dumps(self.doc))
        victim = next(r for r in d["results"] if r["status"] == "ok")
        for r in d["results"]:
            if r["path"] == victim["path"] and r["workload"] == victim["workload"]:
                r["status"] = "failed"
                r["reason"] = "test: path broke on the new kernel"
                r.pop("metrics", None)
        b = write_run(os.path.join(self.tmp, "b"), d)
        p = cli("compare", self.a, b)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("now failing", p.stdout)

    def test_bad_input_exit_2(self):
        bad = os.path.join(self.tmp, "bad.json")
        with open(bad, "w") as f:
            f.write('{"schema_version": 1, "results": [')
        p = cli("compare", self.a, bad)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)
        self.assertIn("truncated", p.stderr)

    def test_bad_usage_exit_2(self):
        self.assertEqual(cli("compare", self.a).returncode, 2)
        self.assertEqual(cli("compare", self.a, self.a, "--alpha", "2").returncode, 2)


if __name__ == "__main__":
    unittest.main()


class Sweeps(TempDirTest):
    """A run holding two payload sizes of one workload (a sweep) keeps them apart, labels them by
    the option that varies, and compare pairs each with the same configuration of the other run."""

    def _sweep(self) -> dict:
        import copy
        doc = load_sample()
        doc["results"] = [r for r in doc["results"] if r["workload"] == "tcp_rr"]
        extra = []
        for r in doc["results"]:
            if r["status"] == "ok":
                c = copy.deepcopy(r)
                c["workload_options"]["payload_bytes"] = 1 + 10 * int(c["workload_options"].get("payload_bytes", 64))
                c["order"] = c.get("order", 0) + 10000
                extra.append(c)
        doc["results"] += extra
        return doc

    def test_variants_in_report_and_compare(self):
        sweep = write_run(os.path.join(self.tmp, "sweep"), self._sweep())
        plain_doc = load_sample()
        plain_doc["results"] = [r for r in plain_doc["results"] if r["workload"] == "tcp_rr"]
        plain = write_run(os.path.join(self.tmp, "plain"), plain_doc)
        p = cli("report", sweep)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.tmp, "sweep", "report.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertRegex(md, r"baseline \(payload_bytes=\d+\)")
        self.assertIn("plots/sweep-tcp_rr.png", md)  # the sweep curve is drawn
        self.assertTrue(os.path.getsize(os.path.join(self.tmp, "sweep", "plots", "sweep-tcp_rr.png")) > 5000)
        self.assertNotIn("flows=", md.split("## Medians", 1)[1].split("## Plots", 1)[0])
        js = os.path.join(self.tmp, "c.json")
        p = cli("compare", plain, sweep, "--json", js)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(js, encoding="utf-8") as f:
            rows = json.load(f)["rows"]
        compared = [r for r in rows if r["median_a"] is not None]
        self.assertTrue(compared)
        self.assertTrue(all(r["change_pct"] == 0 for r in compared), "matched the wrong payload size")
        self.assertTrue([r for r in rows if r["status"] == "only in B"])
