// SPDX-License-Identifier: Apache-2.0
#include "run/summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fmt/core.h>
#include <map>
#include <string>
#include <vector>

namespace pb {

void print_summary(const nlohmann::json& run) {
  struct Agg {
    std::vector<double> primary, p50, p99;
    int ok = 0, failed = 0, skipped = 0, behind = 0;
    std::string unit, reason;
  };
  // The primary metric of each workload, and how to print it, from the catalogue.
  std::map<std::string, std::string> primary;
  for (auto& w : run["catalogue"]["workloads"]) primary[w["name"]] = w["primary_metric"];
  struct Unit {
    double scale;
    const char* name;
  };
  const std::map<std::string, Unit> units = {{"throughput_bps", {1e-9, "Gbit/s"}},
                                             {"packets_per_s", {1e-6, "Mpps"}},
                                             {"transactions_per_s", {1e-3, "k trans/s"}}};
  std::map<std::pair<std::string, std::string>, Agg> agg;
  std::vector<std::pair<std::string, std::string>> keys;
  for (auto& r : run["results"]) {
    std::string path = r["path"].get<std::string>();
    if (r.contains("path_options") && r["path_options"].is_object()) {
      for (auto& [k, v] : r["path_options"].items()) {
        if (k == "services") path += " n=" + v.dump();
        else if (k == "gateway") path += " gw=" + v.get<std::string>();
      }
    }
    if (r.contains("reference")) path += " [" + r["reference"].value("tool", std::string("ref")) + "]";
    std::string wl = r["workload"].get<std::string>();
    std::string shown = wl;
    const auto& opts = run["options"];
    if (r.contains("workload_options")) {
      if (opts["payload_bytes"].is_array() && opts["payload_bytes"].size() > 1)
        shown += " p=" + r["workload_options"]["payload_bytes"].dump();
      if (opts["flows"].is_array() && opts["flows"].size() > 1) shown += " f=" + r["workload_options"]["flows"].dump();
    }
    auto k = std::make_pair(path, shown);
    if (!agg.count(k)) keys.push_back(k);
    Agg& a = agg[k];
    std::string st = r["status"];
    if (st != "ok") {
      (st == "failed" ? a.failed : a.skipped)++;
      if (r["reason"].is_string()) a.reason = r["reason"];
      continue;
    }
    a.ok++;
    auto& m = r["metrics"];
    // Open loop: a rate the path did not keep up with is not the rate asked for; say so.
    if (m.contains("open_loop") && m["open_loop"].is_object() && !m["open_loop"].value("kept_up", true)) {
      ++a.behind;
      a.reason = fmt::format("open loop: {} of the repetitions did not keep up with {} requests/s", a.behind,
                             m["open_loop"].value("intended_rate_rps", 0.0));
    }
    const std::string key = primary.count(wl) ? primary[wl] : "";
    if (!key.empty() && m.contains(key) && units.count(key)) {
      a.primary.push_back(m[key].get<double>() * units.at(key).scale);
      a.unit = units.at(key).name;
    }
    if (m.contains("latency_ns") && m["latency_ns"].is_object()) {
      // A tool that reports no percentiles (h2load: min, max, mean) adds none.
      const auto& l = m["latency_ns"];
      if (l.contains("p50") && l["p50"].is_number()) a.p50.push_back(l["p50"].get<double>() / 1e3);
      if (l.contains("p99") && l["p99"].is_number()) a.p99.push_back(l["p99"].get<double>() / 1e3);
    }
  }
  auto median = [](std::vector<double> v) {
    if (v.empty()) return std::nan("");
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  };
  auto spread = [](std::vector<double> v) {
    if (v.size() < 2) return std::string("");
    auto [mn, mx] = std::minmax_element(v.begin(), v.end());
    return fmt::format(" [{:.3g}..{:.3g}]", *mn, *mx);
  };
  std::fprintf(stderr, "\n%-24s %-11s %4s  %-32s %-10s %-10s\n", "path", "workload", "ok", "median (min..max)",
               "p50 us", "p99 us");
  for (auto& k : keys) {
    Agg& a = agg[k];
    std::string prim = a.primary.empty() ? "-" : fmt::format("{:.3g} {}{}", median(a.primary), a.unit, spread(a.primary));
    std::string p50 = a.p50.empty() ? "-" : fmt::format("{:.1f}", median(a.p50));
    std::string p99 = a.p99.empty() ? "-" : fmt::format("{:.1f}", median(a.p99));
    std::string st = fmt::format("{}/{}", a.ok, a.ok + a.failed + a.skipped);
    std::fprintf(stderr, "%-24s %-11s %4s  %-32s %-10s %-10s%s\n", k.first.c_str(), k.second.c_str(), st.c_str(),
                 prim.c_str(), p50.c_str(), p99.c_str(),
                 a.reason.empty() ? "" : ("  " + a.reason.substr(0, 80)).c_str());
  }
  std::fprintf(stderr, "run status: %s\n", run.value("status", std::string("?")).c_str());
}

}  // namespace pb
