// SPDX-License-Identifier: Apache-2.0
// run/adaptive.h: when has a run repeated enough? The distribution-free 95% interval of a median
// over n repetitions is [x_(k), x_(n+1-k)] for the largest k with 1 - 2 P(Bin(n, 1/2) <= k-1) >=
// 0.95; it exists from n = 6 on. A run in adaptive mode stops when every configuration's primary
// metric has such an interval narrower than +-target% of its median.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

namespace pb {

struct MedianInterval {
  double median = 0, lo = 0, hi = 0, level = 0;
  double half_width_pct() const { return median != 0 ? (hi - lo) / 2 / median * 100 : 0; }
};
// nullopt with fewer than 6 values (no 95% interval exists).
std::optional<MedianInterval> median_ci95(std::vector<double> v);

struct IntervalCheck {
  bool all_within = true;
  nlohmann::json widest;   // {"path","workload","half_width_pct"} of the widest configuration
  size_t configurations = 0, undetermined = 0;
};
// Over the run's own ok rows (reference rows excluded), grouped by path, path options,
// workload and workload options, on each workload's primary metric (from the catalogue).
IntervalCheck check_intervals(const nlohmann::json& doc, double target_pct);

}  // namespace pb
