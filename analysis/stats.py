# SPDX-License-Identifier: Apache-2.0
"""Statistics over repetitions: medians, paired ratios and two-run shifts with distribution-free 95%
intervals, spreads, histograms.

Decisions (also printed in the report's "How to read this" section):
* The unit of replication is the repetition (one measured window), not the individual sample.
* Every interval is a 95% interval, or there is none.  A distribution-free (order-statistic,
  binomial) interval of a median with exact coverage >= 95% needs n >= 6; with fewer repetitions
  the estimate carries "CI unavailable at 95% with n=..." and no interval.  A lower level is never
  shown in place of 95% (with 3 repetitions the min..max range covers the median only 75% of the time).
* Ratio of a path to another path of the same run: **paired** by repetition index.  Repetitions are
  interleaved (rep 0 of every path, then rep 1 ...), so repetition i of two paths ran minutes apart
  at most; path_i / baseline_i cancels slow machine drift between repetitions.  The estimate is the
  median of the per-repetition ratios with its order-statistic 95% interval.  Unpaired (no common
  repetition indices), the conservative ratio of medians [lo_a / hi_b, hi_a / lo_b] is used, each
  median's interval at sqrt(0.95) so that both hold together with >= 95% (n >= 7 per side).
* Shift between two runs (compare): Hodges-Lehmann estimate of the change of log(value), i.e. the
  median of all log(b_j / a_i), with the distribution-free interval from the exact Mann-Whitney null
  distribution: [D_(k), D_(mn+1-k)] of the sorted pairwise differences.  95% needs
  C(m+n, m) >= 40, i.e. at least 4 vs 4 (or 3 vs 5) repetitions.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from functools import lru_cache

TARGET_LEVEL = 0.95
LEVEL_TEXT = "95%"
_EPS = 1e-12   # exact binomial / U probabilities such as 0.05 compared with 1 - 0.95


@dataclass(frozen=True)
class Estimate:
    n: int
    median: float | None
    lo: float | None = None
    hi: float | None = None
    level: float | None = None     # exact coverage of [lo, hi] (>= 0.95); None when unavailable

    @property
    def has_ci(self) -> bool:
        return self.lo is not None and self.hi is not None

    @property
    def reason(self) -> str:
        """Why there is no interval ("" when there is one)."""
        if self.has_ci:
            return ""
        return "no data" if self.n == 0 else f"CI unavailable at {LEVEL_TEXT} with n={self.n}"


def _binom_cdf_half(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), exact."""
    if k < 0:
        return 0.0
    return sum(math.comb(n, i) for i in range(0, min(k, n) + 1)) / 2 ** n


def median_ci(values, level: float = TARGET_LEVEL) -> Estimate:
    """Median with the narrowest order-statistic interval [x_(k), x_(n+1-k)] whose exact coverage
    1 - 2 P(Bin(n, 1/2) <= k-1) is >= level; no interval when even min..max does not reach it."""
    xs = sorted(float(v) for v in values)
    n = len(xs)
    if n == 0:
        return Estimate(0, None)
    med = statistics.median(xs)
    best_k = 0
    for k in range(1, n // 2 + 1):
        if 1 - 2 * _binom_cdf_half(k - 1, n) >= level - _EPS:
            best_k = k
        else:
            break
    if best_k == 0:
        return Estimate(n, med)
    coverage = 1 - 2 * _binom_cdf_half(best_k - 1, n)
    return Estimate(n, med, xs[best_k - 1], xs[n - best_k], coverage)


def min_n_for_median_ci(level: float = TARGET_LEVEL) -> int:
    n = 1
    while not median_ci(range(n), level).has_ci:
        n += 1
    return n


@dataclass(frozen=True)
class Ratio:
    """A ratio of two configurations of one run with its 95% interval.
    method: "paired" (median of per-repetition ratios) or "unpaired" (ratio of medians)."""
    value: float | None
    lo: float | None = None
    hi: float | None = None
    level: float | None = None
    n: int = 0
    method: str = ""
    ratios: tuple = field(default=())   # the per-repetition ratios (paired), for dots in plots

    @property
    def has_ci(self) -> bool:
        return self.lo is not None and self.hi is not None

    @property
    def crosses_one(self) -> bool | None:
        """None when unknown (no CI), else whether the interval includes 1."""
        if not self.has_ci:
            return None
        return self.lo <= 1.0 <= self.hi

    @property
    def reason(self) -> str:
        if self.has_ci or self.value is None:
            return ""
        return f"CI unavailable at {LEVEL_TEXT} with n={self.n}" + (" (unpaired)" if self.method == "unpaired" else "")

    @property
    def half_width(self) -> float | None:
        """Largest distance of the interval from the estimate, relative to it (0.03 = ±3%)."""
        if not self.has_ci or not self.value:
            return None
        return max(self.value - self.lo, self.hi - self.value) / abs(self.value)


def ratio(a: Estimate, b: Estimate) -> Ratio:
    """a / b from two medians (no pairing), with the conservative interval [lo_a/hi_b, hi_a/lo_b]
    when both medians have intervals.  Callers wanting 95% for the ratio pass medians estimated at
    sqrt(0.95) each (see unpaired_ratio)."""
    if a.median is None or b.median is None or b.median == 0:
        return Ratio(None, n=min(a.n, b.n), method="unpaired")
    val = a.median / b.median
    if not (a.has_ci and b.has_ci) or b.lo <= 0:
        return Ratio(val, n=min(a.n, b.n), method="unpaired")
    return Ratio(val, a.lo / b.hi, a.hi / b.lo, a.level * b.level, min(a.n, b.n), "unpaired")


def unpaired_ratio(a_values, b_values, level: float = TARGET_LEVEL) -> Ratio:
    """Ratio of medians; both medians at sqrt(level) so the conservative interval holds at >= level."""
    each = math.sqrt(level)
    return ratio(median_ci(a_values, each), median_ci(b_values, each))


def paired_ratio(num: dict, den: dict, level: float = TARGET_LEVEL) -> Ratio:
    """num / den paired by key (repetition index): median of the per-key ratios with its
    order-statistic interval.  Without any common key, the conservative ratio of medians."""
    common = sorted(k for k in num if k in den and den[k] not in (None, 0) and num[k] is not None)
    if not common:
        r = unpaired_ratio([v for v in num.values() if v is not None], [v for v in den.values() if v is not None], level)
        return r
    rs = [num[k] / den[k] for k in common]
    e = median_ci(rs, level)
    return Ratio(e.median, e.lo, e.hi, e.level, e.n, "paired", tuple(rs))


# ---- two runs: Hodges-Lehmann shift with the exact Mann-Whitney interval -------------------------

@lru_cache(maxsize=None)
def _u_counts(m: int, n: int) -> tuple:
    """counts[u] = number of the C(m+n, m) orderings with Mann-Whitney U = u (no ties)."""
    if m == 0 or n == 0:
        return (1,)
    a, b = _u_counts(m - 1, n), _u_counts(m, n - 1)
    out = [0] * (m * n + 1)
    for u, c in enumerate(a):   # the largest value is from the first sample: it beats all n others
        out[u + n] += c
    for u, c in enumerate(b):
        out[u] += c
    return tuple(out)


def shift_k(m: int, n: int, level: float = TARGET_LEVEL) -> int:
    """k of the interval [D_(k), D_(mn+1-k)]: the largest k with P(U <= k-1) <= (1-level)/2; 0 when
    no interval reaches `level` with these sample sizes."""
    if m == 0 or n == 0:
        return 0
    counts = _u_counts(m, n)
    total = math.comb(m + n, m)
    cum, k = 0, 0
    for u, c in enumerate(counts):
        cum += c
        if cum / total <= (1 - level) / 2 + _EPS:
            k = u + 1
        else:
            break
    return min(k, (m * n + 1) // 2)


def shift_level(m: int, n: int, k: int) -> float | None:
    if k <= 0:
        return None
    counts = _u_counts(m, n)
    return 1 - 2 * sum(counts[:k]) / math.comb(m + n, m)


@dataclass(frozen=True)
class Shift:
    """Relative change B vs A: change = exp(HL of log values) - 1, interval likewise."""
    change: float | None
    lo: float | None = None
    hi: float | None = None
    level: float | None = None
    n_a: int = 0
    n_b: int = 0

    @property
    def has_ci(self) -> bool:
        return self.lo is not None and self.hi is not None

    @property
    def reason(self) -> str:
        if self.has_ci or self.change is None:
            return ""
        return f"CI unavailable at {LEVEL_TEXT} with n={self.n_a} vs {self.n_b}"


def shift(a, b, level: float = TARGET_LEVEL) -> Shift:
    """Hodges-Lehmann shift of B against A on the log scale, as a relative change, with its exact
    distribution-free interval.  With zero or negative values, differences relative to A's median."""
    xs = [float(v) for v in a]
    ys = [float(v) for v in b]
    m, n = len(xs), len(ys)
    if m == 0 or n == 0:
        return Shift(None, n_a=m, n_b=n)
    if all(v > 0 for v in xs + ys):
        ds = sorted(math.log(y) - math.log(x) for x in xs for y in ys)
        conv = math.expm1
    else:
        base = abs(statistics.median(xs))
        if base == 0:
            return Shift(None, n_a=m, n_b=n)
        ds = sorted((y - x) / base for x in xs for y in ys)
        conv = float
    est = conv(statistics.median(ds))
    k = shift_k(m, n, level)
    if k == 0:
        return Shift(est, n_a=m, n_b=n)
    return Shift(est, conv(ds[k - 1]), conv(ds[m * n - k]), shift_level(m, n, k), m, n)


def shift_p_value(a, b) -> float | None:
    """Exact two-sided Mann-Whitney p-value of B against A (the test behind `shift`'s interval):
    U = pairs with b > a (ties half), p = 2 P(U <= min(U, mn - U)) under the exact null
    distribution, capped at 1.  Conservative with ties (the smaller count is rounded down).  None
    when a side is empty."""
    xs = [float(v) for v in a]
    ys = [float(v) for v in b]
    m, n = len(xs), len(ys)
    if m == 0 or n == 0:
        return None
    u2 = sum(2 if y > x else 1 if y == x else 0 for x in xs for y in ys)   # 2U, integer
    lo = min(u2, 2 * m * n - u2) // 2
    counts = _u_counts(m, n)
    return min(1.0, 2 * sum(counts[:lo + 1]) / math.comb(m + n, m))


def bh_adjust(pvalues: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input's order: reject H_i at false
    discovery rate q where adjusted_i < q.  When every hypothesis is null (an A/A pair) this is also
    the probability of any rejection at all, so q = 0.05 makes an A/A pair flag anything in at most
    5% of pairs; unlike Holm it keeps its power when many rows move together (a kernel that slows
    every path), which is the common case of a real regression."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    out = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, pvalues[i] * m / rank)
        out[i] = min(1.0, running)
    return out


def detectable_change(residuals, n_a: int, n_b: int, alpha: float, threshold: float, power: float = 0.8,
                      sims: int = 300, seed: int = 0) -> float | None:
    """The smallest relative change of a metric that a compare would flag with probability `power`,
    at the noise of `residuals` (log deviations of repetitions from their configuration's median,
    pooled over the configurations and both runs): n_a and n_b repetitions drawn from them with
    replacement, B shifted by log(1 + d); flagged when the exact test's p < alpha and |change| >
    threshold (fractions).  Bisection over d in (0, 1]; None when even +100% is not flagged that
    often.  Fixed seed: deterministic.  It models repetition-to-repetition noise only, not a shift
    of a whole run (that is what the threshold is for)."""
    import random
    res = [float(r) for r in residuals]
    if len(res) < 4 or n_a < 1 or n_b < 1:
        return None
    counts = _u_counts(n_a, n_b)
    total = math.comb(n_a + n_b, n_a)
    cum = []
    c = 0
    for x in counts:
        c += x
        cum.append(c)

    def rate(d: float) -> float:
        rng = random.Random(seed)
        delta = math.log1p(d)
        hits = 0
        for _ in range(sims):
            xs = [rng.choice(res) for _ in range(n_a)]
            ys = [rng.choice(res) + delta for _ in range(n_b)]
            ds = sorted(y - x for x in xs for y in ys)
            u2 = sum(2 if dd > 0 else 1 if dd == 0 else 0 for dd in ds)
            lo = min(u2, 2 * n_a * n_b - u2) // 2
            p = min(1.0, 2 * cum[lo] / total)
            if p < alpha and abs(math.expm1(statistics.median(ds))) > threshold:
                hits += 1
        return hits / sims

    if rate(1.0) < power:
        return None
    lo, hi = 0.0, 1.0
    for _ in range(14):
        mid = (lo + hi) / 2
        if rate(mid) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def min_reps_for_shift(level: float = TARGET_LEVEL) -> int:
    """Smallest equal number of repetitions per side with a `level` shift interval (4 at 95%)."""
    n = 1
    while shift_k(n, n, level) == 0:
        n += 1
    return n


MAX_SPLITS = 2000


def split_half_movement(values) -> tuple[float, float] | None:
    """How far the median of these per-repetition values would move on a rerun, estimated from the
    run itself: for every balanced split of the repetitions into two halves, |median(half 1) ÷
    median(half 2) - 1| / sqrt(2) (two half-runs disagree sqrt(2) times more than two full runs).
    Returns (median over splits, 90th percentile over splits), or None with fewer than 4 values.
    More than MAX_SPLITS splits are sampled with a fixed seed (deterministic output)."""
    ds = split_half_values(values)
    if not ds:
        return None
    return statistics.median(ds), ds[int(0.9 * (len(ds) - 1))]


def split_half_values(values) -> list[float]:
    """split_half_movement's movement for every split, ascending ([] with fewer than 4 values)."""
    import itertools
    import random
    xs = [float(v) for v in values]
    n = len(xs)
    if n < 4:
        return []
    h = n // 2
    others = range(1, n)
    total = math.comb(n - 1, h - 1)   # splits containing index 0: each unordered split once
    if total <= MAX_SPLITS:
        combos = [(0,) + c for c in itertools.combinations(others, h - 1)]
    else:
        rng = random.Random(0)
        combos = [tuple(sorted((0,) + tuple(rng.sample(list(others), h - 1)))) for _ in range(MAX_SPLITS)]
    ds = []
    for c in combos:
        cs = set(c)
        a = statistics.median(xs[i] for i in c)
        b = statistics.median(xs[i] for i in range(n) if i not in cs)
        if b == 0:
            continue
        ds.append(abs(a / b - 1) / math.sqrt(2))
    ds.sort()
    return ds


def relative_spread(values) -> float | None:
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


# ---- latency histograms ---------------------------------------------------------------------

def merge_histograms(results: list[dict], key: str = "histogram") -> list[tuple[int, int, int]]:
    """Sum the `metrics.<key>.buckets` of several repetitions (same scheme -> same buckets); key is
    "histogram" (latency) or "connect_histogram" (connect latency)."""
    acc: dict[tuple[int, int], int] = {}
    for r in results:
        h = (r.get("metrics") or {}).get(key)
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
