// SPDX-License-Identifier: Apache-2.0
#include "run/adaptive.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

namespace pb {

std::optional<MedianInterval> median_ci95(std::vector<double> v) {
  const size_t n = v.size();
  if (n < 6) return std::nullopt;
  std::sort(v.begin(), v.end());
  // P(Bin(n, 1/2) <= j), exact.
  auto cdf = [n](size_t j) {
    double s = 0, c = 1;  // c = C(n, i)
    for (size_t i = 0; i <= j; ++i) {
      s += c;
      c = c * static_cast<double>(n - i) / static_cast<double>(i + 1);
    }
    return s / std::pow(2.0, static_cast<double>(n));
  };
  size_t k = 1;
  for (size_t cand = 1; cand <= n / 2; ++cand)
    if (1 - 2 * cdf(cand - 1) >= 0.95) k = cand;
    else break;
  MedianInterval m;
  m.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  m.lo = v[k - 1];
  m.hi = v[n - k];
  m.level = 1 - 2 * cdf(k - 1);
  return m;
}

IntervalCheck check_intervals(const nlohmann::json& doc, double target_pct) {
  std::map<std::string, std::string> primary;
  for (auto& w : doc["catalogue"]["workloads"]) primary[w["name"]] = w["primary_metric"];
  std::map<std::string, std::vector<double>> groups;
  std::map<std::string, std::pair<std::string, std::string>> names;
  for (auto& r : doc["results"]) {
    if (r.value("status", "") != "ok" || r.contains("reference") || !r.contains("metrics")) continue;
    const std::string wl = r["workload"];
    auto it = primary.find(wl);
    if (it == primary.end() || !r["metrics"].contains(it->second)) continue;
    nlohmann::json wo = r.value("workload_options", nlohmann::json::object());
    wo.erase("port");
    const std::string key = r["path"].get<std::string>() + "|" + r.value("path_options", nlohmann::json::object()).dump() +
                            "|" + wl + "|" + wo.dump();
    groups[key].push_back(r["metrics"][it->second].get<double>());
    names[key] = {r["path"], wl};
  }
  IntervalCheck c;
  double widest = -1;
  for (auto& [key, vals] : groups) {
    ++c.configurations;
    auto ci = median_ci95(vals);
    if (!ci) {
      ++c.undetermined;
      c.all_within = false;
      continue;
    }
    double hw = ci->half_width_pct();
    if (hw > target_pct) c.all_within = false;
    if (hw > widest) {
      widest = hw;
      c.widest = {{"path", names[key].first}, {"workload", names[key].second}, {"half_width_pct", hw}};
    }
  }
  return c;
}

}  // namespace pb
