// SPDX-License-Identifier: Apache-2.0
// The schedule as data: every (repetition, path + parameters, workload + parameters, generator)
// is a trial, built before anything runs; repetitions visit every (path, parameters) once.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "kernel/process.h"
#include "run/adaptive.h"
#include "run/cli.h"
#include "run/schedule.h"

using namespace pb;

TEST(Schedule, EveryCombinationIsATrialAndRepetitionsInterleave) {
  RunConfig c = parse_run_options({"--paths", "baseline,tproxy-nft", "--workloads", "tcp_rr,udp_rr", "--payload-bytes",
                                   "64,1024", "--flows", "1,2", "--repetitions", "3"});
  auto plans = full_schedule(c);
  ASSERT_EQ(plans.size(), 3u * 2u);  // repetitions x paths: one instance each
  for (size_t i = 0; i < plans.size(); ++i) {
    EXPECT_EQ(plans[i].repetition, i / 2) << "repetition-major: A B A B A B";
    EXPECT_EQ(plans[i].path, i % 2 ? "tproxy-nft" : "baseline");
    EXPECT_EQ(plans[i].trials.size(), 2u * 2u * 2u);  // workloads x payloads x flows
  }
  std::set<std::tuple<std::string, uint32_t, uint32_t>> seen;
  for (auto& t : plans[0].trials) seen.insert({t.workload->name, t.options.payload_bytes, t.options.flows});
  EXPECT_EQ(seen.size(), 8u);
  EXPECT_EQ(plans[0].trials[0].options.tcp_cc, "cubic");
}

TEST(Schedule, ShuffledOrderIsRecordedBySeedAndVisitsEveryPathOnce) {
  RunConfig c = parse_run_options({"--paths", "baseline,proxy-plain,tproxy-nft,sk-lookup,tc-redirect", "--workloads",
                                   "tcp_rr", "--repetitions", "4", "--order", "shuffled", "--seed", "7"});
  auto a = full_schedule(c), b = full_schedule(c);
  ASSERT_EQ(a.size(), 20u);
  bool differs = false;
  for (unsigned rep = 0; rep < 4; ++rep) {
    std::set<std::string> paths;
    for (unsigned i = 0; i < 5; ++i) {
      paths.insert(a[rep * 5 + i].path);
      EXPECT_EQ(a[rep * 5 + i].path, b[rep * 5 + i].path) << "same seed, same order";
      if (a[rep * 5 + i].path != c.paths[i]) differs = true;
    }
    EXPECT_EQ(paths.size(), 5u) << "every path once per repetition";
  }
  EXPECT_TRUE(differs) << "a shuffled order that never differs from the catalogue order";
}

TEST(Schedule, ServicesMakeOneInstancePerCountOnTheServicePort) {
  RunConfig c = parse_run_options({"--paths", "tproxy-ipt,sk-lookup", "--workloads", "tcp_crr,udp_rr", "--services",
                                   "1,100,1000", "--repetitions", "2"});
  auto plans = full_schedule(c);
  ASSERT_EQ(plans.size(), 2u * 2u * 3u);
  for (auto& p : plans) {
    EXPECT_GT(p.settings.services, 0u);
    EXPECT_EQ(p.settings.options_json()["services"], p.settings.services);
    for (auto& t : p.trials) EXPECT_EQ(t.options.port, p.settings.service_port) << "one service port";
  }
}

TEST(Schedule, GatewayIsAnAxisOfTheProxyPathsOnly) {
  RunConfig c = parse_run_options({"--paths", "baseline,proxy-plain,tproxy-nft,tproxy-nft-transparent,sk-lookup",
                                   "--workloads", "http_rr", "--gateway", "none,haproxy", "--repetitions", "1"});
  auto plans = full_schedule(c);
  std::vector<std::string> seen;
  for (auto& p : plans) {
    seen.push_back(p.path + "/" + p.settings.gateway);
    if (p.settings.gateway == "haproxy") {
      EXPECT_EQ(p.settings.options_json()["gateway"], "haproxy");
    } else {
      EXPECT_FALSE(p.settings.options_json().contains("gateway")) << "runs without a gateway keep their meaning";
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"baseline/none", "proxy-plain/none", "proxy-plain/haproxy", "tproxy-nft/none",
                                            "tproxy-nft/haproxy", "tproxy-nft-transparent/none", "sk-lookup/none",
                                            "sk-lookup/haproxy"}))
      << "baseline has no proxy; the fully transparent path keeps the client's address, which the gateway does not";
}

TEST(Schedule, ObserveIsAnAxisOfTheGatewayPathsAndBaseline) {
  if (!pb::find_program("haproxy")) GTEST_SKIP() << "haproxy not installed (scripts/install-deps.sh installs it)";
  RunConfig c = parse_run_options({"--paths", "baseline,tc-redirect,proxy-plain", "--workloads", "http_rr", "--gateway",
                                   "none,haproxy", "--observe", "none,ebpf-http,gateway-log", "--repetitions", "1"});
  std::vector<std::string> seen;
  for (auto& p : full_schedule(c)) {
    seen.push_back(p.path + "/" + p.settings.gateway + "/" + p.settings.observe);
    if (p.settings.observe == "none") {
      EXPECT_FALSE(p.settings.options_json().contains("observe")) << "runs without an observer keep their meaning";
    } else {
      EXPECT_EQ(p.settings.options_json()["observe"], p.settings.observe);
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"baseline/none/none", "baseline/none/ebpf-http", "proxy-plain/none/none",
                                            "proxy-plain/none/ebpf-http", "proxy-plain/haproxy/none",
                                            "proxy-plain/haproxy/ebpf-http", "proxy-plain/haproxy/gateway-log",
                                            "tc-redirect/none/none"}))
      << "the gateway's log only where a gateway stands; no observer on a BPF-forwarded path";
}

TEST(Schedule, PeersFollowTheirWorkloadAndHaproxyFollowsItsPath) {
  RunConfig c = parse_run_options({"--paths", "baseline,tproxy-nft", "--workloads", "tcp_stream,tcp_rr,udp_rr",
                                   "--repetitions", "1", "--peers", "--duration-s", "1", "--warmup-s", "1"});
  auto plans = full_schedule(c);
  ASSERT_EQ(plans.size(), 3u);  // baseline, tproxy-nft, tproxy-nft with HAProxy
  EXPECT_TRUE(plans[2].haproxy);
  std::vector<std::string> seq;
  for (auto& t : plans[0].trials) seq.push_back(t.workload->name + "/" + t.reference);
  EXPECT_EQ(seq, (std::vector<std::string>{"tcp_stream/", "tcp_stream/iperf3", "tcp_rr/", "tcp_rr/sockperf", "udp_rr/",
                                           "udp_rr/sockperf"}));
  for (auto& t : plans[2].trials) EXPECT_EQ(t.reference, "haproxy");
  EXPECT_EQ(plans[2].trials.size(), 2u) << "HAProxy carries the TCP workloads only";
}

TEST(Adaptive, MedianIntervalIsDistributionFreeAt95Percent) {
  EXPECT_FALSE(median_ci95({1, 2, 3, 4, 5}).has_value()) << "no 95% interval below 6 values";
  auto six = median_ci95({6, 1, 5, 2, 4, 3});
  ASSERT_TRUE(six.has_value());
  EXPECT_DOUBLE_EQ(six->lo, 1);
  EXPECT_DOUBLE_EQ(six->hi, 6);
  EXPECT_NEAR(six->level, 1 - 2.0 / 64, 1e-12);
  std::vector<double> v;
  for (int i = 1; i <= 20; ++i) v.push_back(i);
  auto twenty = median_ci95(v);
  ASSERT_TRUE(twenty.has_value());
  EXPECT_DOUBLE_EQ(twenty->lo, 6);   // k = 6: coverage 1 - 2 P(Bin(20,.5) <= 5) = 0.9882
  EXPECT_DOUBLE_EQ(twenty->hi, 15);
  EXPECT_GE(twenty->level, 0.95);
}

TEST(Adaptive, StopsOnlyWhenEveryConfigurationIsNarrowEnough) {
  nlohmann::json doc = {{"catalogue", {{"workloads", {{{"name", "tcp_rr"}, {"primary_metric", "transactions_per_s"}}}}}},
                        {"results", nlohmann::json::array()}};
  for (int rep = 0; rep < 6; ++rep) {
    doc["results"].push_back({{"path", "a"}, {"workload", "tcp_rr"}, {"status", "ok"},
                              {"metrics", {{"transactions_per_s", 1000 + rep}}}});
    doc["results"].push_back({{"path", "b"}, {"workload", "tcp_rr"}, {"status", "ok"},
                              {"metrics", {{"transactions_per_s", rep % 2 ? 500 : 1500}}}});
  }
  auto c = check_intervals(doc, 5);
  EXPECT_EQ(c.configurations, 2u);
  EXPECT_FALSE(c.all_within) << "b's interval is +-50%";
  EXPECT_EQ(c.widest["path"], "b");
  nlohmann::json only_a = doc;
  only_a["results"] = nlohmann::json::array();
  for (auto& r : doc["results"])
    if (r["path"] == "a") only_a["results"].push_back(r);
  EXPECT_TRUE(check_intervals(only_a, 5).all_within);
}

// What applies to a workload is set on its trials only, so workload_options never records an
// option its load did not use; http responses default to the workload's size, not the request's.
TEST(Schedule, OpenLoopRateAndHttpRoutesReachOnlyTheirWorkloads) {
  RunConfig c = parse_run_options({"--paths", "baseline", "--workloads", "tcp_rr,http_rr", "--rate-rps", "2000",
                                   "--http-routes", "GET /a,POST /b", "--repetitions", "1"});
  auto plans = full_schedule(c);
  ASSERT_EQ(plans.size(), 1u);
  std::map<std::string, WorkloadOptions> by;
  for (auto& t : plans[0].trials) by[t.workload->name] = t.options;
  EXPECT_DOUBLE_EQ(by["tcp_rr"].rate_rps, 2000);
  EXPECT_DOUBLE_EQ(by["http_rr"].rate_rps, 2000);
  EXPECT_TRUE(by["tcp_rr"].http_routes.empty());
  EXPECT_EQ(by["http_rr"].http_routes, (std::vector<std::string>{"GET /a", "POST /b"}));
  EXPECT_EQ(by["tcp_rr"].response_bytes, 64u) << "= payload";
  EXPECT_EQ(by["http_rr"].payload_bytes, 128u);
  EXPECT_EQ(by["http_rr"].response_bytes, 256u) << "the http workloads' default response";
  RunConfig r = parse_run_options({"--paths", "baseline", "--workloads", "http_rr", "--response-bytes", "10",
                                   "--repetitions", "1"});
  EXPECT_EQ(full_schedule(r)[0].trials[0].options.response_bytes, 10u);
  EXPECT_DOUBLE_EQ(full_schedule(r)[0].trials[0].options.rate_rps, 0);
  // wrk and h2load send the first route's request only: their rows record that one route, ours all of them.
  RunConfig p = parse_run_options({"--paths", "baseline", "--workloads", "http_rr", "--http-routes", "GET /a,POST /b",
                                   "--peers", "--duration-s", "1", "--warmup-s", "1", "--repetitions", "1"});
  auto trials = full_schedule(p)[0].trials;
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[0].options.http_routes, (std::vector<std::string>{"GET /a", "POST /b"}));
  EXPECT_EQ(trials[1].reference, "wrk");
  EXPECT_EQ(trials[1].options.http_routes, (std::vector<std::string>{"GET /a"}));
  EXPECT_EQ(trials[2].reference, "h2load");
  EXPECT_EQ(trials[2].options.http_routes, (std::vector<std::string>{"GET /a"}));
}
