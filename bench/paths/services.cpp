// SPDX-License-Identifier: Apache-2.0
#include "paths/services.h"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>

#include "common/clock.h"

namespace pb {

size_t real_service_index(uint64_t n, MatchPosition p) {
  if (n == 0) return 0;
  switch (p) {
    case MatchPosition::kFirst: return 0;
    case MatchPosition::kMiddle: return static_cast<size_t>(n / 2);
    case MatchPosition::kLast: return static_cast<size_t>(n - 1);
  }
  return static_cast<size_t>(n - 1);
}

static Service decoy(uint64_t i) {
  // 198.19.<i/256 % 256>.<i % 256>, ports from 10000: distinct pairs for up to 16.7M services.
  return {"198.19." + std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255),
          static_cast<uint16_t>(10000 + (i >> 16)), false};
}

std::vector<Service> make_services(const PathSettings& s, const Wiring& w) {
  std::vector<Service> v;
  v.reserve(s.services);
  const size_t real = real_service_index(s.services, s.match_position);
  uint64_t d = 0;
  for (uint64_t i = 0; i < s.services; ++i)
    v.push_back(i == real ? Service{w.server_ip, s.service_port, true} : decoy(d++));
  return v;
}

Service extra_service(uint64_t n, unsigned i) { return decoy(n + 1000000 + i); }

uint64_t time_ns(const std::function<void()>& fn) {
  uint64_t t0 = mono_ns();
  fn();
  return mono_ns() - t0;
}

static nlohmann::json percentiles(std::vector<uint64_t> v) {
  if (v.empty()) return {{"n", 0}};
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5))]; };
  return {{"p50", at(0.5)}, {"p90", at(0.9)}, {"min", v.front()}, {"max", v.back()}, {"n", v.size()}};
}

nlohmann::json time_updates(unsigned samples, const std::function<void(unsigned)>& add,
                            const std::function<void(unsigned)>& remove) {
  // Bounded in time: one `nft add rule` into a 10000-rule chain took 3.7 s here (nft reads the
  // whole ruleset first), so 30 samples would take minutes. After kUpdateBudgetNs, stop once
  // kMinUpdateSamples pairs are in; the record says how many were taken and why it stopped.
  constexpr uint64_t kUpdateBudgetNs = 15'000'000'000ull;
  constexpr unsigned kMinUpdateSamples = 5;
  std::vector<uint64_t> a, r;
  const auto t0 = std::chrono::steady_clock::now();
  bool budget = false;
  for (unsigned i = 0; i < samples; ++i) {
    a.push_back(time_ns([&] { add(i); }));
    r.push_back(time_ns([&] { remove(i); }));
    const auto spent = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    if (i + 1 >= kMinUpdateSamples && i + 1 < samples && spent > kUpdateBudgetNs) {
      budget = true;
      break;
    }
  }
  return {{"add_ns", percentiles(a)}, {"remove_ns", percentiles(r)}, {"samples_requested", samples},
          {"stopped", budget ? fmt::format("time budget ({} s) after the minimum of {} samples",
                                           kUpdateBudgetNs / 1'000'000'000ull, kMinUpdateSamples)
                             : "all samples taken"}};
}

nlohmann::json scale_record(const PathSettings& s, uint64_t install_ns, bool ordered) {
  return {{"services", s.services},
          {"match_position", ordered ? nlohmann::json(to_string(s.match_position)) : nlohmann::json("n/a (hashed)")},
          {"install_ns", install_ns},
          {"update", nullptr},
          {"memory_bytes", nullptr},
          {"memory_source", "not reported by the kernel"}};
}

}  // namespace pb
