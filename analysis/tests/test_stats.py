"""Statistics: interval levels, ratio intervals, wording, and histogram handling against the sample."""

import unittest

from analysis import stats
from analysis.load import load_run
from analysis.stats import Estimate, Ratio, median_ci, ratio
from analysis.summary import verdict
from analysis.tests.common import SAMPLE


class MedianCI(unittest.TestCase):
    def test_too_few(self):
        for n in (0, 1, 2):
            e = median_ci(list(range(n)))
            self.assertFalse(e.has_ci)
            self.assertIsNone(e.level)

    def test_small_n_is_range_with_exact_level(self):
        for n, level in ((3, 0.75), (4, 0.875), (5, 0.9375)):
            e = median_ci([10.0 * i for i in range(n)])
            self.assertEqual((e.lo, e.hi), (0.0, 10.0 * (n - 1)))
            self.assertAlmostEqual(e.level, level)

    def test_95_from_six(self):
        for n in range(6, 40):
            e = median_ci(list(range(n)))
            self.assertGreaterEqual(e.level, 0.95)
            self.assertLessEqual(e.lo, e.median)
            self.assertGreaterEqual(e.hi, e.median)
        e = median_ci(list(range(20)))
        self.assertEqual((e.lo, e.hi), (5, 14))  # textbook order statistics for n = 20

    def test_order_independent(self):
        self.assertEqual(median_ci([3, 1, 2, 5, 4, 6]), median_ci([1, 2, 3, 4, 5, 6]))


class Ratios(unittest.TestCase):
    def test_crosses_one_iff_overlap(self):
        a = Estimate(3, 10, 9, 11, 0.75)
        b = Estimate(3, 10.5, 10.2, 12, 0.75)
        self.assertTrue(ratio(a, b).crosses_one)
        c = Estimate(3, 20, 19, 21, 0.75)
        self.assertFalse(ratio(c, b).crosses_one)

    def test_no_ci(self):
        r = ratio(Estimate(2, 10), Estimate(2, 5))
        self.assertEqual(r.value, 2)
        self.assertIsNone(r.crosses_one)

    def test_wording(self):
        self.assertEqual(verdict(Ratio(1.3, 0.9, 1.5, 0.75)), "no significant difference")
        self.assertIn("unavailable", verdict(Ratio(1.3)))
        self.assertIn("higher", verdict(Ratio(1.3, 1.1, 1.5, 0.75)))
        self.assertIn("better", verdict(Ratio(1.3, 1.1, 1.5, 0.75), higher_is_better=True))
        self.assertIn("worse", verdict(Ratio(1.3, 1.1, 1.5, 0.75), higher_is_better=False))
        for text in (verdict(Ratio(1.3, 0.9, 1.5, 0.75)), verdict(Ratio(0.5, 0.2, 1.1, 0.75))):
            for word in ("faster", "slower", "higher", "lower", "better", "worse"):
                self.assertNotIn(word, text)


class Histograms(unittest.TestCase):
    def test_percentiles_match_harness(self):
        """Our nearest-rank percentile over one repetition's histogram must agree with the summary
        the harness wrote (same bucket, so within one bucket width)."""
        run = load_run(SAMPLE)
        checked = 0
        for r in run.results:
            m = r.get("metrics") or {}
            if r["status"] != "ok" or "histogram" not in m or "latency_ns" not in m:
                continue
            buckets = stats.merge_histograms([r])
            if not buckets:
                continue
            for q, key in ((0.5, "p50"), (0.99, "p99")):
                if key not in m["latency_ns"]:
                    continue
                ours = stats.histogram_percentile(buckets, q)
                theirs = m["latency_ns"][key]
                width = next((w for lo, w, _ in buckets if lo <= theirs < lo + w), max(1, theirs // 64))
                self.assertLessEqual(abs(ours - theirs), width, f"{r['path']}/{r['workload']} {key}")
                checked += 1
        if checked == 0:
            self.skipTest("sample has no latency histograms")

    def test_merge_sums_counts(self):
        a = {"metrics": {"histogram": {"buckets": [[1, 1, 2], [5, 1, 1]]}}}
        b = {"metrics": {"histogram": {"buckets": [[1, 1, 3], [9, 1, 4]]}}}
        self.assertEqual(stats.merge_histograms([a, b]), [(1, 1, 5), (5, 1, 1), (9, 1, 4)])
        xs, ps = stats.histogram_cdf(stats.merge_histograms([a, b]))
        self.assertEqual(ps[-1], 1.0)

    def test_mwu_floor(self):
        self.assertAlmostEqual(stats.min_two_sided_mwu_p(3, 3), 0.1)
        self.assertLess(stats.min_two_sided_mwu_p(4, 4), 0.05)


if __name__ == "__main__":
    unittest.main()
