// SPDX-License-Identifier: Apache-2.0
// Histogram accuracy against exact nearest-rank percentiles of known samples.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "measure/histogram.h"

using pb::Histogram;

static uint64_t exact_percentile(std::vector<uint64_t> v, double q) {
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(q / 100.0 * static_cast<double>(v.size())));
  return v[std::max<size_t>(rank, 1) - 1];
}

TEST(Histogram, BucketsCoverEveryValueWithBoundedWidth) {
  for (uint64_t v : {0ull, 1ull, 255ull, 256ull, 257ull, 511ull, 512ull, 1000ull, 123456ull,
                     999999999ull, 1ull << 39, (1ull << 41) - 1}) {
    size_t i = Histogram::index(v);
    ASSERT_LT(i, Histogram::kBuckets);
    EXPECT_LE(Histogram::lower(i), v) << v;
    EXPECT_GT(Histogram::lower(i) + Histogram::width(i), v) << v;
    if (v >= 256) {
      EXPECT_LE(static_cast<double>(Histogram::width(i)) / Histogram::lower(i), 1.0 / 128) << v;
    }
  }
  for (size_t i = 1; i < Histogram::kBuckets; ++i)
    ASSERT_EQ(Histogram::lower(i - 1) + Histogram::width(i - 1), Histogram::lower(i)) << "gap at " << i;
}

TEST(Histogram, PercentilesWithinHalfPercentOfExact) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(10.0, 0.8);  // ~22 us median, long tail
  std::vector<uint64_t> v;
  Histogram h;
  for (int i = 0; i < 200000; ++i) {
    uint64_t x = static_cast<uint64_t>(dist(rng)) + 1;
    v.push_back(x);
    h.record(x);
  }
  for (double q : {50.0, 90.0, 99.0, 99.9}) {
    double want = static_cast<double>(exact_percentile(v, q));
    double got = static_cast<double>(h.percentile(q));
    EXPECT_LE(std::abs(got - want) / want, 0.005) << "p" << q << " got " << got << " want " << want;
  }
  EXPECT_EQ(h.min(), *std::min_element(v.begin(), v.end()));
  EXPECT_EQ(h.max(), *std::max_element(v.begin(), v.end()));
  EXPECT_EQ(h.count(), v.size());
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t i = 1; i <= 100; ++i) h.record(i);
  EXPECT_EQ(h.percentile(50), 50u);
  EXPECT_EQ(h.percentile(99), 99u);
  EXPECT_EQ(h.percentile(100), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  Histogram a, b, all;
  for (uint64_t i = 0; i < 5000; ++i) {
    uint64_t x = 1000 + i * 37;
    (i % 2 ? a : b).record(x);
    all.record(x);
  }
  a.merge(b);
  for (double q : {1.0, 50.0, 99.0}) EXPECT_EQ(a.percentile(q), all.percentile(q));
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
}

TEST(Histogram, JsonKeepsEveryCountAndOnlyNonEmptyBuckets) {
  Histogram h;
  for (uint64_t x : {10ull, 10ull, 300ull, 70000ull}) h.record(x);
  nlohmann::json j = h.to_json();
  uint64_t total = 0;
  for (auto& b : j["buckets"]) {
    EXPECT_GT(b[2].get<uint64_t>(), 0u);
    total += b[2].get<uint64_t>();
  }
  EXPECT_EQ(total, 4u);
  EXPECT_EQ(j["buckets"].size(), 3u);
  auto s = h.summary_json();
  for (auto k : {"p50", "p90", "p99", "p999", "max", "mean", "min"}) EXPECT_TRUE(s.contains(k)) << k;
  EXPECT_EQ(Histogram().percentile(50), 0u);  // empty: no fake number
}
