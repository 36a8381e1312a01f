"""Statistics over repetitions: medians with distribution-free intervals, ratios, spreads, histograms.

Decisions (also printed in the report's "How to read this" section):
* The unit of replication is the repetition (one measured window), not the individual sample.
* Median CI: order-statistic (binomial) interval [x_(k), x_(n+1-k)], the narrowest whose exact
  coverage is >= 95%.  It needs n >= 6; with 3 <= n <= 5 the widest possible interval, min..max,
  has exact coverage 1 - 2 * 0.5^n (75%, 87.5%, 93.75%) and is reported *with that level*, not
  dressed up as 95% (a bootstrap would claim 95% for the same min..max).  With n < 3 there is no
  interval ("CI unavailable").
* Ratio of two medians: the conservative interval [lo_a/hi_b, hi_a/lo_b]; it excludes 1 exactly
  when the two medians' intervals do not overlap, so "differs" in tables and plots means one thing.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

TARGET_LEVEL = 0.95
MIN_REPS_FOR_CI = 3


@dataclass(frozen=True)
class Estimate:
    n: int
    median: float | None
    lo: float | None = None
    hi: float | None = None
    level: float | None = None     # exact coverage of [lo, hi]; None when unavailable

    @property
    def has_ci(self) -> bool:
        return self.lo is not None and self.hi is not None

    def level_text(self) -> str:
        return "" if self.level is None else f"{self.level * 100:.4g}%"


def _binom_cdf_half(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), exact."""
    if k < 0:
        return 0.0
    return sum(math.comb(n, i) for i in range(0, min(k, n) + 1)) / 2 ** n


def median_ci(values: list[float], level: float = TARGET_LEVEL) -> Estimate:
    xs = sorted(float(v) for v in values)
    n = len(xs)
    if n == 0:
        return Estimate(0, None)
    med = statistics.median(xs)
    if n < MIN_REPS_FOR_CI:
        return Estimate(n, med)
    # Largest k (1-based) with coverage(k) = 1 - 2 P(X <= k-1) >= level; fall back to k = 1.
    best_k = 1
    for k in range(1, n // 2 + 1):
        if 1 - 2 * _binom_cdf_half(k - 1, n) >= level:
            best_k = k
        else:
            break
    coverage = 1 - 2 * _binom_cdf_half(best_k - 1, n)
    return Estimate(n, med, xs[best_k - 1], xs[n - best_k], coverage)


@dataclass(frozen=True)
class Ratio:
    value: float | None
    lo: float | None = None
    hi: float | None = None
    level: float | None = None   # the lower of the two intervals' levels (conservative)

    @property
    def has_ci(self) -> bool:
        return self.lo is not None and self.hi is not None

    @property
    def crosses_one(self) -> bool | None:
        """None when unknown (no CI), else whether the interval includes 1."""
        if not self.has_ci:
            return None
        return self.lo <= 1.0 <= self.hi


def ratio(a: Estimate, b: Estimate) -> Ratio:
    """a / b with a conservative interval built from both medians' intervals."""
    if a.median is None or b.median is None or b.median == 0:
        return Ratio(None)
    val = a.median / b.median
    if not (a.has_ci and b.has_ci) or b.lo <= 0:
        return Ratio(val)
    return Ratio(val, a.lo / b.hi, a.hi / b.lo, min(a.level, b.level))


def relative_spread(values: list[float]) -> float | None:
    """Run-to-run noise of one configuration: interquartile range / median (inclusive quartiles;
    with 3 repetitions that is half the range).  None with fewer than 2 values or a zero median."""
    xs = sorted(float(v) for v in values)
    if len(xs) < 2:
        return None
    med = statistics.median(xs)
    if med == 0:
        return None
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return (q[2] - q[0]) / abs(med)


def min_two_sided_mwu_p(n1: int, n2: int) -> float:
    """Smallest p-value an exact two-sided Mann-Whitney U test can give for these sample sizes
    (complete separation): 2 / C(n1+n2, n1).  If this exceeds alpha, the test can never flag."""
    if n1 == 0 or n2 == 0:
        return 1.0
    return min(1.0, 2.0 / math.comb(n1 + n2, n1))


def mann_whitney(a: list[float], b: list[float]) -> float | None:
    """Two-sided Mann-Whitney U p-value (exact where scipy can, which it does for small samples
    without ties).  None when either side is empty."""
    if not a or not b:
        return None
    from scipy.stats import mannwhitneyu  # imported here: validate must work without scipy
    if len(set(a) | set(b)) == 1:
        return 1.0  # identical samples: scipy would warn; there is no evidence of a change
    res = mannwhitneyu(a, b, alternative="two-sided", method="auto")
    p = float(res.pvalue)
    return p if math.isfinite(p) else None


# ---- latency histograms ---------------------------------------------------------------------

def merge_histograms(results: list[dict]) -> list[tuple[int, int, int]]:
    """Sum the `metrics.histogram.buckets` of several repetitions (same scheme -> same buckets)."""
    acc: dict[tuple[int, int], int] = {}
    for r in results:
        h = (r.get("metrics") or {}).get("histogram")
        if not isinstance(h, dict):
            continue
        for b in h.get("buckets", []):
            acc[(b[0], b[1])] = acc.get((b[0], b[1]), 0) + b[2]
    return [(lo, w, c) for (lo, w), c in sorted(acc.items()) if c > 0]


def histogram_cdf(buckets: list[tuple[int, int, int]]) -> tuple[list[float], list[float]]:
    """(upper edge of each bucket in ns, fraction of samples <= that edge)."""
    total = sum(c for _, _, c in buckets)
    xs, ps, cum = [], [], 0
    for lo, w, c in buckets:
        cum += c
        xs.append(float(lo + w))
        ps.append(cum / total if total else 0.0)
    return xs, ps


def histogram_percentile(buckets: list[tuple[int, int, int]], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1) reported as the bucket midpoint, as the harness does."""
    total = sum(c for _, _, c in buckets)
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    cum = 0
    for lo, w, c in buckets:
        cum += c
        if cum >= rank:
            return lo + (w - 1) / 2 if w > 1 else float(lo)
    return float(buckets[-1][0])
