// SPDX-License-Identifier: Apache-2.0
// measure/histogram.h: latency histogram with bounded relative error, HdrHistogram's log-linear layout.
// Values below 2^kSubBits ns are exact; above, each power of two is split into 2^(kSubBits-1)
// equal buckets, so a bucket is at most 1/128 of its lower bound wide and the reported midpoint
// is within 0.4 % of every value in it. Fixed size (~36 KB), O(1) record, no allocation on the hot
// path; one per thread, merged at the end. Hand-written because Debian 12 packages no
// HdrHistogram_c; the layout is the same idea in 60 lines.
#pragma once
#include <array>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>

namespace pb {

class Histogram {
 public:
  static constexpr int kSubBits = 8;
  static constexpr uint64_t kExactLimit = 1ull << kSubBits;       // 256
  static constexpr int kMaxMsb = 40;                               // ~1100 s
  static constexpr int kHalf = 1 << (kSubBits - 1);                // 128 buckets per octave
  static constexpr size_t kBuckets = kExactLimit + (kMaxMsb - kSubBits + 1) * kHalf;

  void record(uint64_t v) {
    ++counts_[index(v)];
    ++count_;
    sum_ += v;
    if (v < min_) min_ = v;
    if (v > max_) max_ = v;
  }
  void merge(const Histogram& o);
  void reset();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0; }
  // Nearest-rank percentile (q in [0,100]), bucket midpoint clamped to [min, max].
  uint64_t percentile(double q) const;

  static size_t index(uint64_t v) {
    if (v < kExactLimit) return static_cast<size_t>(v);
    int msb = 63 - __builtin_clzll(v);
    if (msb > kMaxMsb) return kBuckets - 1;
    int shift = msb - (kSubBits - 1);
    uint64_t mant = v >> shift;  // in [128, 256)
    return kExactLimit + static_cast<size_t>(shift - 1) * kHalf + static_cast<size_t>(mant - kHalf);
  }
  static uint64_t lower(size_t idx);
  static uint64_t width(size_t idx);

  // {"scheme","sub_bucket_bits","unit","buckets":[[lower,width,count],...]} (non-empty only)
  nlohmann::json to_json() const;
  // {"p50","p90","p99","p999","max","mean","min"}
  nlohmann::json summary_json() const;

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace pb
