// SPDX-License-Identifier: Apache-2.0
#include "measure/histogram.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace pb {

void Histogram::merge(const Histogram& o) {
  for (size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
  count_ += o.count_;
  sum_ += o.sum_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

void Histogram::reset() { *this = Histogram(); }

uint64_t Histogram::lower(size_t idx) {
  if (idx < kExactLimit) return idx;
  size_t rel = idx - kExactLimit;
  int shift = static_cast<int>(rel / kHalf) + 1;
  uint64_t mant = kHalf + rel % kHalf;
  return mant << shift;
}

uint64_t Histogram::width(size_t idx) {
  if (idx < kExactLimit) return 1;
  return 1ull << (static_cast<int>((idx - kExactLimit) / kHalf) + 1);
}

uint64_t Histogram::percentile(double q) const {
  if (count_ == 0) return 0;
  if (q <= 0) return min();
  if (q >= 100) return max_;
  uint64_t rank = static_cast<uint64_t>(std::ceil(q / 100.0 * static_cast<double>(count_)));
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      uint64_t mid = lower(i) + width(i) / 2;
      if (width(i) == 1) mid = lower(i);
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

nlohmann::json Histogram::to_json() const {
  nlohmann::json b = nlohmann::json::array();
  for (size_t i = 0; i < kBuckets; ++i)
    if (counts_[i]) b.push_back({lower(i), width(i), counts_[i]});
  return {{"scheme", "log-linear"}, {"sub_bucket_bits", kSubBits}, {"unit", "ns"}, {"buckets", b}};
}

nlohmann::json Histogram::summary_json() const {
  return {{"p50", percentile(50)},  {"p90", percentile(90)}, {"p99", percentile(99)},
          {"p999", percentile(99.9)}, {"max", max()},        {"mean", mean()},
          {"min", min()}};
}

}  // namespace pb
