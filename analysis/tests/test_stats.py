# SPDX-License-Identifier: Apache-2.0
"""Statistics: 95% or nothing, paired ratios, the Hodges-Lehmann shift interval (exact U tables and
simulated coverage), split-half rerun movement, wording, and histogram handling against the sample."""

import math
import random
import unittest

from analysis import stats
from analysis.load import load_run
from analysis.stats import Estimate, Ratio, median_ci, paired_ratio, ratio, shift, shift_k
from analysis.summary import verdict
from analysis.tests.common import SAMPLE


class MedianCI(unittest.TestCase):
    def test_no_interval_below_six(self):
        for n in range(0, 6):
            e = median_ci([10.0 * i for i in range(n)])
            self.assertFalse(e.has_ci, n)
            self.assertIsNone(e.level)
            if n:
                self.assertEqual(e.reason, f"CI unavailable at 95% with n={n}")

    def test_95_from_six(self):
        self.assertEqual(stats.min_n_for_median_ci(), 6)
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
    def test_paired_cancels_drift(self):
        """Both paths drift by the same factor each repetition: the paired ratio is exact, the
        unpaired one is lost in the drift."""
        drift = [1.0, 1.3, 0.8, 1.1, 0.9, 1.2, 1.05]
        base = {i: 100 * d for i, d in enumerate(drift)}
        path = {i: 90 * d for i, d in enumerate(drift)}
        r = paired_ratio(path, base)
        self.assertEqual(r.method, "paired")
        self.assertAlmostEqual(r.value, 0.9)
        self.assertAlmostEqual(r.lo, 0.9)
        self.assertAlmostEqual(r.hi, 0.9)
        self.assertFalse(r.crosses_one)
        u = stats.unpaired_ratio(list(path.values()), list(base.values()))
        self.assertTrue(u.crosses_one)

    def test_pairs_only_common_repetitions(self):
        r = paired_ratio({0: 2, 1: 4, 5: 100}, {0: 1, 1: 2, 2: 3})
        self.assertEqual(r.n, 2)
        self.assertEqual(r.ratios, (2.0, 2.0))

    def test_unpaired_fallback(self):
        r = paired_ratio({10 + i: 2.0 + i / 100 for i in range(7)}, {i: 1.0 + i / 100 for i in range(7)})
        self.assertEqual(r.method, "unpaired")
        self.assertTrue(r.has_ci)   # 7 per side: each median at sqrt(0.95) exists
        r6 = paired_ratio({10 + i: 2.0 for i in range(6)}, {i: 1.0 for i in range(6)})
        self.assertFalse(r6.has_ci)
        self.assertIn("unpaired", r6.reason)

    def test_crosses_one_iff_overlap(self):
        a = Estimate(6, 10, 9, 11, 0.97)
        b = Estimate(6, 10.5, 10.2, 12, 0.97)
        self.assertTrue(ratio(a, b).crosses_one)
        c = Estimate(6, 20, 19, 21, 0.97)
        self.assertFalse(ratio(c, b).crosses_one)

    def test_wording(self):
        self.assertEqual(verdict(Ratio(1.3, 0.9, 1.5, 0.97)), "no significant difference")
        self.assertIn("CI unavailable at 95% with n=3", verdict(Ratio(1.3, n=3, method="paired")))
        self.assertIn("higher", verdict(Ratio(1.3, 1.1, 1.5, 0.97)))
        self.assertIn("better", verdict(Ratio(1.3, 1.1, 1.5, 0.97), higher_is_better=True))
        self.assertIn("worse", verdict(Ratio(1.3, 1.1, 1.5, 0.97), higher_is_better=False))
        for text in (verdict(Ratio(1.3, 0.9, 1.5, 0.97)), verdict(Ratio(0.5, 0.2, 1.1, 0.97))):
            for word in ("faster", "slower", "higher", "lower", "better", "worse"):
                self.assertNotIn(word, text)


class Shift(unittest.TestCase):
    def test_exact_u_table(self):
        """Critical values of the two-sided exact Mann-Whitney test at 0.05: k = U_crit + 1."""
        self.assertEqual(shift_k(3, 3), 0)          # no 95% interval exists
        self.assertEqual(shift_k(4, 4), 1)          # U_crit 0
        self.assertEqual(shift_k(5, 5), 3)          # U_crit 2
        self.assertEqual(shift_k(6, 6), 6)          # U_crit 5
        self.assertEqual(shift_k(8, 8), 14)         # U_crit 13
        self.assertEqual(shift_k(3, 5), 1)
        self.assertEqual(stats.min_reps_for_shift(), 4)

    def test_estimate_and_interval(self):
        a = [100, 102, 98, 101, 99, 100]
        b = [x * 0.8 for x in a]
        s = shift(a, b)
        self.assertAlmostEqual(s.change, -0.2, places=6)
        self.assertTrue(s.lo < -0.2 < s.hi or math.isclose(s.lo, -0.2))
        self.assertLess(s.hi, 0)
        self.assertGreaterEqual(s.level, 0.95)
        same = shift(a, a)
        self.assertLessEqual(same.lo, 0)
        self.assertGreaterEqual(same.hi, 0)
        self.assertFalse(shift([1, 2, 3], [1, 2, 3]).has_ci)
        self.assertIn("n=3 vs 3", shift([1, 2, 3], [1, 2, 3]).reason)

    def test_coverage_by_simulation(self):
        """The interval covers the true shift at least 95% of the time (6 vs 6, skewed noise)."""
        rng = random.Random(7)
        hits, trials = 0, 600
        for _ in range(trials):
            a = [math.exp(rng.gauss(0, 0.05)) * (1 + rng.expovariate(30)) for _ in range(6)]
            b = [0.9 * math.exp(rng.gauss(0, 0.05)) * (1 + rng.expovariate(30)) for _ in range(6)]
            s = shift(a, b)
            hits += s.lo <= -0.1 <= s.hi
        self.assertGreaterEqual(hits / trials, 0.93)   # 0.95 nominal, binomial slack for 600 trials

    def test_split_half(self):
        self.assertIsNone(stats.split_half_movement([1, 2, 3]))
        typ, p90 = stats.split_half_movement([1.0] * 6)
        self.assertEqual((typ, p90), (0.0, 0.0))
        typ, p90 = stats.split_half_movement([1.0, 1.02, 0.98, 1.01, 0.99, 1.0, 1.03, 0.97])
        self.assertGreater(typ, 0)
        self.assertGreaterEqual(p90, typ)
        self.assertLess(p90, 0.05)
        many = stats.split_half_movement([1 + i / 1000 for i in range(30)])   # sampled splits, deterministic
        self.assertEqual(many, stats.split_half_movement([1 + i / 1000 for i in range(30)]))


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
        c = {"metrics": {"connect_histogram": {"buckets": [[3, 1, 2]]}}}
        self.assertEqual(stats.merge_histograms([a, c], "connect_histogram"), [(3, 1, 2)])


class FamilyTests(unittest.TestCase):
    """The exact Mann-Whitney p-value behind compare's verdicts, Benjamini-Hochberg over a compare's
    rows, and the detectable change simulated from a run pair's own noise."""

    def test_p_value_is_exact(self):
        # complete separation of 8 vs 8: 2 orderings of C(16, 8) = 12870
        self.assertAlmostEqual(stats.shift_p_value(range(8), range(100, 108)), 2 / 12870)
        self.assertAlmostEqual(stats.shift_p_value(range(100, 108), range(8)), 2 / 12870)   # two-sided
        self.assertEqual(stats.shift_p_value([1, 2, 3, 4], [1, 2, 3, 4]), 1.0)
        # one inversion out of 64 pairs: U = 1, P(U <= 1) = 2 / 12870 per side
        self.assertAlmostEqual(stats.shift_p_value([1, 2, 3, 4, 5, 6, 7, 9], [8, 10, 11, 12, 13, 14, 15, 16]),
                               4 / 12870)
        self.assertIsNone(stats.shift_p_value([], [1]))
        # and it agrees with the interval: the 95% interval excludes 0 exactly when p < 0.05
        rng = random.Random(3)
        for _ in range(200):
            a = [rng.gauss(0, 1) for _ in range(8)]
            b = [rng.gauss(0.8, 1) for _ in range(8)]
            s = shift([math.exp(x) for x in a], [math.exp(x) for x in b])
            p = stats.shift_p_value(a, b)
            self.assertEqual(s.lo > 0 or s.hi < 0, p < 0.05, (a, b, p, s))

    def test_split_half_values(self):
        vs = stats.split_half_values([1.0, 1.1, 0.9, 1.05, 0.95, 1.0, 1.2, 0.8])
        self.assertEqual(len(vs), math.comb(7, 3))      # every balanced split once
        self.assertEqual(vs, sorted(vs))
        self.assertEqual(stats.split_half_movement([1.0, 1.1, 0.9, 1.05, 0.95, 1.0, 1.2, 0.8]),
                         (vs[len(vs) // 2] if len(vs) % 2 else (vs[len(vs) // 2 - 1] + vs[len(vs) // 2]) / 2,
                          vs[int(0.9 * (len(vs) - 1))]))
        self.assertEqual(stats.split_half_values([1, 2, 3]), [])
        self.assertIsNone(stats.split_half_movement([1, 2, 3]))

    def test_bh_adjust(self):
        q = stats.bh_adjust([0.01, 0.04, 0.03, 0.5])
        # sorted 0.01, 0.03, 0.04, 0.5 -> 0.04, 0.04*4/3 capped by the next, 0.04*4/3, 0.5
        self.assertEqual([round(x, 6) for x in q], [0.04, round(0.04 * 4 / 3, 6), round(0.04 * 4 / 3, 6), 0.5])
        self.assertEqual(stats.bh_adjust([]), [])
        self.assertEqual(stats.bh_adjust([0.9, 1.0]), [1.0, 1.0])
        # all nulls: rejecting at q < 0.05 happens in about 5% of families, not 1 - 0.95^m
        rng = random.Random(7)
        any_rejection = sum(min(stats.bh_adjust([rng.random() for _ in range(50)])) < 0.05 for _ in range(2000))
        self.assertLess(any_rejection / 2000, 0.07)
        self.assertGreater(any_rejection / 2000, 0.03)

    def test_detectable_change_follows_the_noise_and_the_family(self):
        rng = random.Random(1)
        noisy = [rng.gauss(0, 0.14) for _ in range(300)]
        quiet = [x / 4 for x in noisy]
        d_noisy = stats.detectable_change(noisy, 8, 8, 0.05 / 86, 0.08)
        d_quiet = stats.detectable_change(quiet, 8, 8, 0.05 / 86, 0.08)
        d_alone = stats.detectable_change(noisy, 8, 8, 0.05 / 2, 0.08)
        self.assertLess(d_quiet, d_alone)
        self.assertLess(d_alone, d_noisy)
        # never below the threshold, and reproducible (fixed seed)
        self.assertGreater(d_quiet, 0.08)
        self.assertEqual(d_noisy, stats.detectable_change(noisy, 8, 8, 0.05 / 86, 0.08))
        # 6 vs 6 cannot reach p < 0.05 / 86 at all (complete separation: p = 0.0022)
        self.assertIsNone(stats.detectable_change(quiet, 6, 6, 0.05 / 86, 0.08))
        # a simulated check of the claim: at d_alone, shifted draws are flagged about 80% of the time
        hits = 0
        for i in range(400):
            r = random.Random(100 + i)
            a = [r.choice(noisy) for _ in range(8)]
            b = [r.choice(noisy) + math.log1p(d_alone) for _ in range(8)]
            hits += stats.shift_p_value(a, b) < 0.05 / 2 and abs(math.expm1(sorted(
                y - x for x in a for y in b)[31])) > 0.08
        self.assertGreater(hits / 400, 0.7)


if __name__ == "__main__":
    unittest.main()
