// SPDX-License-Identifier: Apache-2.0
// `pathbench run` option parsing and validation: every bad input is a UsageError (exit 2) with a
// message naming the problem, before anything is created.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kernel/process.h"
#include "paths/observer.h"
#include "run/cli.h"
#include "common/error.h"

using pb::parse_run_options;
using pb::RunConfig;
using pb::UsageError;
using pb::route_matches;
using pb::request_key;
using pb::route_key;

static std::string usage_error(std::vector<std::string> args) {
  try {
    parse_run_options(args);
  } catch (const UsageError& e) {
    EXPECT_EQ(e.code(), pb::kExitUsage);
    return e.what();
  }
  return "";
}

TEST(Options, DefaultsResolveToEveryPathAndWorkload) {
  RunConfig c = parse_run_options({});
  EXPECT_EQ(c.paths.front(), "baseline");
  EXPECT_GE(c.workloads.size(), 5u);
  EXPECT_EQ(c.repetitions, 3u);
  EXPECT_DOUBLE_EQ(c.duration_s, 2.0);
  EXPECT_EQ(c.run_id.size(), 6u);
}

TEST(Options, ExplicitListsAreCanonicalisedAndDeduplicated) {
  RunConfig c = parse_run_options({"--paths", "baseline,baseline", "--workloads", "udp_rr,tcp_rr",
                                   "--duration-s", "0.5", "--repetitions", "5"});
  EXPECT_EQ(c.paths, std::vector<std::string>{"baseline"});
  EXPECT_EQ(c.workloads, (std::vector<std::string>{"tcp_rr", "udp_rr"}));
  EXPECT_EQ(c.repetitions, 5u);
  EXPECT_EQ(c.to_json()["duration_s"], 0.5);
}

TEST(Options, KernelProfileIsRecordedAndBounded) {
  EXPECT_EQ(parse_run_options({}).to_json()["kernel_profile_ns"], "off");
  EXPECT_EQ(parse_run_options({"--kernel-profile-ns", "50000"}).to_json()["kernel_profile_ns"], 50000);
  EXPECT_NE(usage_error({"--kernel-profile-ns", "500"}).find("below 1000"), std::string::npos);
  EXPECT_NE(usage_error({"--kernel-profile-ns", "-1"}).find("kernel-profile-ns"), std::string::npos);
}

TEST(Options, UnknownNamesAreRejectedByName) {
  EXPECT_NE(usage_error({"--paths", "baseline,warp-drive"}).find("unknown path 'warp-drive'"), std::string::npos);
  EXPECT_NE(usage_error({"--workloads", "tcp_rrr"}).find("unknown workload 'tcp_rrr'"), std::string::npos);
  EXPECT_NE(usage_error({"--bogus"}).find("bogus"), std::string::npos);
}

TEST(Options, DurationsMustBePositiveAndBounded) {
  EXPECT_NE(usage_error({"--duration-s", "0"}).find("--duration-s"), std::string::npos);
  EXPECT_NE(usage_error({"--duration-s", "-1"}).find("--duration-s"), std::string::npos);
  EXPECT_NE(usage_error({"--duration-s", "nan"}).find("--duration-s"), std::string::npos);
  EXPECT_NE(usage_error({"--duration-s", "99999"}).find("out of range"), std::string::npos);
  EXPECT_NE(usage_error({"--warmup-s", "-0.1"}).find("--warmup-s"), std::string::npos);
  EXPECT_NE(usage_error({"--repetitions", "0"}).find("--repetitions"), std::string::npos);
  EXPECT_NE(usage_error({"--flows", "0"}).find("--flows"), std::string::npos);
  EXPECT_FALSE(usage_error({"--duration-s", "abc"}).empty());
}

TEST(Options, PayloadMustFitTheWorkload) {
  EXPECT_NE(usage_error({"--workloads", "udp_rr", "--payload-bytes", "70000"}).find("udp_rr"), std::string::npos);
  EXPECT_NE(usage_error({"--workloads", "udp_pps", "--payload-bytes", "9000"}).find("udp_pps"), std::string::npos);
  EXPECT_NE(usage_error({"--workloads", "udp_rr", "--payload-bytes", "4"}).find(">= 8"), std::string::npos);
  EXPECT_NE(usage_error({"--workloads", "tcp_rr", "--payload-bytes", "0"}).find("payload"), std::string::npos);
  EXPECT_NO_THROW(parse_run_options({"--workloads", "tcp_stream", "--payload-bytes", "1048576"}));
}

TEST(Options, RunIdAndPinningAreChecked) {
  EXPECT_NE(usage_error({"--run-id", "Bad_Id"}).find("--run-id"), std::string::npos);
  EXPECT_NE(usage_error({"--run-id", "toolongid9"}).find("--run-id"), std::string::npos);
  EXPECT_NE(usage_error({"--pinning", "sideways"}).find("--pinning"), std::string::npos);
  EXPECT_EQ(parse_run_options({"--run-id", "ab12"}).run_id, "ab12");
}

TEST(Options, HelpIsNotAnError) {
  EXPECT_THROW(parse_run_options({"--help"}), pb::HelpRequested);
}

TEST(OutputDir, RefusesToOverwriteAnEarlierRun) {
  char tmpl[] = "/tmp/pb-out-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  { std::ofstream(dir + "/run.json") << "{\"schema_version\":1}\n"; }
  RunConfig c = parse_run_options({"--out", dir});
  try {
    pb::prepare_output_dir(c);
    FAIL() << "an existing run.json was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("already holds a run"), std::string::npos);
  }
  std::ifstream in(dir + "/run.json");
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "{\"schema_version\":1}\n");  // untouched
  std::filesystem::remove_all(dir);
}

TEST(OutputDir, DefaultDirectoryIsNamedByTimeKernelAndSha) {
  char tmpl[] = "/tmp/pb-parent-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  RunConfig a = parse_run_options({"--out-parent", tmpl});
  RunConfig b = parse_run_options({"--out-parent", tmpl});
  pb::prepare_output_dir(a);
  pb::prepare_output_dir(b);  // same second: must not collide
  EXPECT_NE(a.out_dir, b.out_dir);
  EXPECT_NE(a.out_dir.find(tmpl), std::string::npos);
  struct stat st{};
  EXPECT_EQ(stat(a.out_dir.c_str(), &st), 0);
  std::filesystem::remove_all(tmpl);
}

TEST(OutputDir, UnwritableDirectoryIsRejected) {
  RunConfig c = parse_run_options({"--out", "/proc/pathbench-results"});
  EXPECT_THROW(pb::prepare_output_dir(c), UsageError);
}

// Every numeric option rejects negative, non-numeric and out-of-range values with one line naming
// the option (Boost used to read "--rate-pps -1" as 18446744073709551615 and record it).
TEST(Options, EveryNumericOptionRejectsNegativeJunkAndOutOfRange) {
  const std::vector<std::string> numeric = {
      "--repetitions", "--duration-s",   "--warmup-s",      "--cooldown-s",      "--stall-timeout-s",
      "--payload-bytes", "--response-bytes", "--flows",     "--rate-pps",        "--services",
      "--update-samples", "--proxy-workers", "--proxy-pipe-bytes", "--seed",     "--until-ci-pct",
      "--inject-cost-ns-per-packet", "--proxy-cpus", "--tcp-buffer-bytes"};
  for (const auto& opt : numeric)
    for (const std::string bad : {"-1", "abc", "1e99999", "12x", "", "99999999999999999999999"}) {
      std::vector<std::string> args = {opt, bad};
      if (opt == "--services") args = {"--paths", "sk-lookup", opt, bad};
      std::string e = usage_error(args);
      EXPECT_NE(e.find(opt), std::string::npos) << opt << " " << bad << " gave: '" << e << "'";
      EXPECT_EQ(e.find('\n'), std::string::npos) << "not one line: " << e;
    }
  EXPECT_NE(usage_error({"--rate-pps", "-1"}).find("--rate-pps"), std::string::npos);
  EXPECT_EQ(parse_run_options({"--rate-pps", "1000"}).rate_pps, 1000u);
}

TEST(Options, SweepListsRejectDuplicatesAndJunk) {
  EXPECT_NE(usage_error({"--payload-bytes", "64,64"}).find("listed twice"), std::string::npos);
  EXPECT_NE(usage_error({"--flows", "1,,2"}).find("empty element"), std::string::npos);
  EXPECT_NE(usage_error({"--flows", "1,two"}).find("--flows"), std::string::npos);
  RunConfig c = parse_run_options({"--workloads", "tcp_rr", "--payload-bytes", "64,1024,16384", "--flows", "1,2,4"});
  EXPECT_EQ(c.payload_bytes, (std::vector<uint32_t>{64, 1024, 16384}));
  EXPECT_EQ(c.flows, (std::vector<uint32_t>{1, 2, 4}));
}

TEST(Options, ServicesOnlyOnInterceptingPathsAndWithinTheirLimit) {
  EXPECT_NE(usage_error({"--paths", "baseline", "--services", "10"}).find("does not intercept"), std::string::npos);
  EXPECT_NE(usage_error({"--paths", "tc-redirect,sk-lookup", "--services", "10"}).find("'tc-redirect'"), std::string::npos);
  EXPECT_NE(usage_error({"--paths", "tproxy-ipt", "--services", "100001"}).find("at most 100000"), std::string::npos);
  EXPECT_NE(usage_error({"--paths", "sk-lookup", "--services", "1,100,1"}).find("listed twice"), std::string::npos);
  RunConfig c = parse_run_options({"--paths", "tproxy-nft,sk-lookup", "--services", "1,100", "--match-position", "first"});
  EXPECT_EQ(c.services, (std::vector<uint64_t>{1, 100}));
  EXPECT_EQ(c.match_position, "first");
  EXPECT_NE(usage_error({"--match-position", "somewhere"}).find("--match-position"), std::string::npos);
}

TEST(Options, GatewayIsCheckedAndRecorded) {
  EXPECT_TRUE(parse_run_options({}).gateways.empty());
  EXPECT_EQ(parse_run_options({}).to_json()["gateway"], "none");
  {
    // HAProxy missing (hidden from PATH, which is where pathbench looks): an environment error,
    // its own exit code, with the package to install.
    const std::string path = getenv("PATH") ? getenv("PATH") : "";
    setenv("PATH", "/nonexistent", 1);
    try {
      parse_run_options({"--paths", "tproxy-nft", "--gateway", "haproxy"});
      ADD_FAILURE() << "no error without haproxy";
    } catch (const pb::EnvError& e) {
      EXPECT_EQ(e.code(), pb::kExitEnv);
      EXPECT_NE(std::string(e.what()).find("apt-get install haproxy"), std::string::npos) << e.what();
    }
    setenv("PATH", path.c_str(), 1);
  }
  if (!pb::find_program("haproxy")) GTEST_SKIP() << "haproxy not installed (scripts/install-deps.sh installs it)";
  RunConfig c = parse_run_options({"--paths", "tproxy-nft,baseline", "--gateway", "none,haproxy"});
  EXPECT_EQ(c.gateways, (std::vector<std::string>{"none", "haproxy"}));
  EXPECT_EQ(c.to_json()["gateway"], nlohmann::json({"none", "haproxy"}));
  EXPECT_NE(usage_error({"--gateway", "envoy"}).find("--gateway"), std::string::npos);
  EXPECT_NE(usage_error({"--paths", "tproxy-nft", "--gateway", "haproxy,haproxy"}).find("listed twice"), std::string::npos);
  EXPECT_NE(usage_error({"--paths", "baseline,tc-redirect", "--gateway", "haproxy"}).find("--paths has none"),
            std::string::npos);
}

TEST(Observe, RouteKeysTakeADigitsSegmentPerPlaceholder) {
  const std::string r = "GET /api/v1/orders/{id}";
  EXPECT_TRUE(route_matches(r, "GET /api/v1/orders/42 HTTP/1.1"));
  EXPECT_TRUE(route_matches(r, "GET /api/v1/orders/42?x=1 HTTP/1.1"));
  EXPECT_TRUE(route_matches(r, "GET /api/v1/orders/42 "));  // the gateway log's "METHOD PATH "
  EXPECT_FALSE(route_matches(r, "GET /api/v1/orders/abc HTTP/1.1")) << "a placeholder is a digits-only segment";
  EXPECT_FALSE(route_matches(r, "GET /api/v1/orders/ HTTP/1.1"));
  EXPECT_FALSE(route_matches(r, "GET /api/v1/orders/4/2 HTTP/1.1"));
  EXPECT_FALSE(route_matches(r, "POST /api/v1/orders/42 HTTP/1.1"));
  EXPECT_FALSE(route_matches(r, "GET /api/v1/orders/42")) << "no end of path seen";
  EXPECT_FALSE(route_matches("GET /api/v1/orders", "GET /api/v1/orders/42 HTTP/1.1"));
  EXPECT_TRUE(route_matches("GET /a/{x}/b", "GET /a/12/b HTTP/1.1"));
  EXPECT_FALSE(route_matches("GET /a/{x}/b", "GET /a/12/c HTTP/1.1"));
  EXPECT_NE(route_key("GET /a/{x}"), route_key("GET /a/{x}/"));
  EXPECT_EQ(route_key("GET /a/{x}"), route_key("GET /a/{y}")) << "placeholders are anonymous";
  EXPECT_THROW(route_key("GET /a/x{id}"), pb::UsageError);
  EXPECT_THROW(route_key("GET /a/7"), pb::UsageError);
  EXPECT_FALSE(request_key("GET /" + std::string(200, 'a') + " HTTP/1.1")) << "beyond the 128 bytes parsed";
}

TEST(Options, ObserveIsCheckedAndRecorded) {
  EXPECT_TRUE(parse_run_options({}).observes.empty());
  EXPECT_EQ(parse_run_options({}).to_json()["observe"], "none");
  RunConfig c = parse_run_options({"--paths", "baseline", "--workloads", "http_rr", "--observe", "none,ebpf-empty,ebpf-http"});
  EXPECT_EQ(c.observes, (std::vector<std::string>{"none", "ebpf-empty", "ebpf-http"}));
  EXPECT_EQ(c.to_json()["observe"], nlohmann::json({"none", "ebpf-empty", "ebpf-http"}));
  EXPECT_NE(usage_error({"--workloads", "http_rr", "--observe", "pixie"}).find("--observe"), std::string::npos);
  EXPECT_NE(usage_error({"--workloads", "http_rr", "--observe", "ebpf-http,ebpf-http"}).find("listed twice"),
            std::string::npos);
  EXPECT_NE(usage_error({"--workloads", "tcp_rr", "--observe", "ebpf-http"}).find("http_rr or http_crr"),
            std::string::npos);
  EXPECT_NE(usage_error({"--paths", "tc-redirect", "--workloads", "http_rr", "--observe", "ebpf-http"}).find("--paths has none"),
            std::string::npos);
  EXPECT_NE(usage_error({"--paths", "proxy-plain", "--workloads", "http_rr", "--observe", "gateway-log"})
                .find("needs --gateway haproxy"),
            std::string::npos);
  EXPECT_NE(usage_error({"--workloads", "http_rr", "--observe", "ebpf-http", "--http-routes",
                         "GET /a,GET /b,GET /c,GET /d,GET /e,GET /f,GET /g,GET /h,GET /i"})
                .find("at most 8 routes"),
            std::string::npos);
  EXPECT_NE(usage_error({"--workloads", "http_rr", "--observe", "ebpf-http", "--http-routes", "GET /a/{id},GET /a/{n}"})
                .find("match the same requests"),
            std::string::npos);
  EXPECT_NE(usage_error({"--workloads", "http_rr", "--observe", "ebpf-http", "--http-routes", "GET /a/7"})
                .find("digits only"),
            std::string::npos);
}

TEST(Options, TcpCongestionControlIsCheckedAndDefaultsToCubic) {
  EXPECT_EQ(parse_run_options({}).tcp_cc, "cubic");
  EXPECT_EQ(parse_run_options({"--tcp-cc", "default"}).tcp_cc, "");
  EXPECT_NE(usage_error({"--tcp-cc", "warp"}).find("--tcp-cc 'warp'"), std::string::npos);
  EXPECT_NE(usage_error({"--tcp-cc", "../x"}).find("not a congestion control"), std::string::npos);
}

TEST(Options, TcpBuffersAreFixedUnlessAutotuningIsAskedFor) {
  EXPECT_EQ(parse_run_options({}).tcp_buffer_bytes, 1 << 20) << "default: fixed 1 MiB (docs/noise.md)";
  EXPECT_EQ(parse_run_options({"--tcp-buffer-bytes", "autotuning"}).tcp_buffer_bytes, 0);
  EXPECT_EQ(parse_run_options({"--tcp-buffer-bytes", "4194304"}).tcp_buffer_bytes, 4194304);
  EXPECT_NE(usage_error({"--tcp-buffer-bytes", "100"}).find("--tcp-buffer-bytes"), std::string::npos) << "below a page";
  EXPECT_NE(usage_error({"--tcp-buffer-bytes", "4294967296"}).find("--tcp-buffer-bytes"), std::string::npos);
}

TEST(Options, ResponderIsAThreadUnlessAProcessIsAskedFor) {
  EXPECT_EQ(parse_run_options({}).responder, "thread");
  EXPECT_EQ(parse_run_options({"--responder", "process"}).responder, "process");
  EXPECT_EQ(parse_run_options({"--responder", "process"}).to_json()["responder"], "process");
  EXPECT_NE(usage_error({"--responder", "fork"}).find("--responder"), std::string::npos);
  EXPECT_EQ(parse_run_options({}).proxy_model, "thread");
  EXPECT_EQ(parse_run_options({"--proxy-model", "process"}).to_json()["proxy_model"], "process");
  EXPECT_NE(usage_error({"--proxy-model", "fork"}).find("--proxy-model"), std::string::npos);
}

TEST(Options, AdaptiveNeedsAConsistentMinimum) {
  EXPECT_NE(usage_error({"--until-ci-pct", "2", "--repetitions", "10", "--max-repetitions", "5"}).find("--max-repetitions"),
            std::string::npos);
  RunConfig c = parse_run_options({"--until-ci-pct", "2", "--repetitions", "6", "--time-budget-s", "120"});
  EXPECT_DOUBLE_EQ(c.adaptive.target_ci_pct, 2);
  EXPECT_DOUBLE_EQ(c.adaptive.budget_s, 120);
  EXPECT_TRUE(c.to_json()["adaptive"].is_object());
  EXPECT_TRUE(parse_run_options({}).to_json()["adaptive"].is_null());
}

// Open loop: a rate that is refused is better than one recorded and not applied.
TEST(Options, RateRpsIsBoundedAndOnlyWhereItApplies) {
  EXPECT_DOUBLE_EQ(parse_run_options({}).rate_rps, 0) << "closed loop by default";
  EXPECT_EQ(parse_run_options({}).to_json()["rate_rps"], "closed loop");
  RunConfig c = parse_run_options({"--workloads", "tcp_rr,http_rr,http_crr,tcp_crr", "--rate-rps", "2500.5"});
  EXPECT_DOUBLE_EQ(c.rate_rps, 2500.5);
  EXPECT_EQ(c.to_json()["rate_rps"], 2500.5);
  for (const char* bad : {"0", "-5", "abc", "1e3", "10000001", ""})
    EXPECT_NE(usage_error({"--workloads", "http_rr", "--rate-rps", bad}).find("--rate-rps"), std::string::npos) << bad;
  EXPECT_NE(usage_error({"--workloads", "http_rr,udp_rr", "--rate-rps", "1000"}).find("'udp_rr' does not take it"),
            std::string::npos);
  EXPECT_NE(usage_error({"--rate-rps", "1000"}).find("does not take it"), std::string::npos)
      << "the default suite has workloads it does not apply to";
  EXPECT_NE(usage_error({"--workloads", "http_rr", "--rate-rps", "1000", "--peers", "--duration-s", "1", "--warmup-s",
                         "1"}).find("closed loop only"),
            std::string::npos)
      << "the reference tools' rows would record a rate they did not run at";
}

TEST(Options, HttpRoutesAndSizes) {
  RunConfig d = parse_run_options({"--workloads", "http_rr"});
  EXPECT_EQ(d.http_routes.size(), 3u) << "the default routes";
  EXPECT_EQ(d.to_json()["http_routes"].size(), 3u);
  EXPECT_TRUE(parse_run_options({"--workloads", "tcp_rr"}).to_json()["http_routes"].is_null());
  RunConfig c = parse_run_options({"--workloads", "http_crr", "--http-routes", "GET /a, POST /b/{id}"});
  EXPECT_EQ(c.http_routes, (std::vector<std::string>{"GET /a", "POST /b/{id}"}));
  EXPECT_NE(usage_error({"--workloads", "http_rr", "--http-routes", ""}).find("--http-routes is empty"),
            std::string::npos);
  EXPECT_NE(usage_error({"--workloads", "http_rr", "--http-routes", "GET /a,,GET /b"}).find("empty element"),
            std::string::npos);
  EXPECT_NE(usage_error({"--workloads", "http_rr", "--http-routes", "fetch /a"}).find("METHOD /path"), std::string::npos);
  EXPECT_NE(usage_error({"--workloads", "http_rr", "--http-routes", "GET /a,GET /a"}).find("listed twice"),
            std::string::npos);
  EXPECT_NE(usage_error({"--workloads", "tcp_rr", "--http-routes", "GET /a"}).find("neither"), std::string::npos);
  // Bodies: 0 (no body) up to 1 MiB, both ways; 0 stays refused where it means nothing.
  EXPECT_NO_THROW(parse_run_options({"--workloads", "http_rr", "--payload-bytes", "0", "--response-bytes", "0"}));
  EXPECT_NO_THROW(parse_run_options({"--workloads", "http_rr", "--payload-bytes", "1048576"}));
  EXPECT_NE(usage_error({"--workloads", "http_rr", "--payload-bytes", "1048577"}).find("want [0, 1048576]"),
            std::string::npos);
  EXPECT_NE(usage_error({"--workloads", "http_crr", "--response-bytes", "2000000"}).find("--response-bytes"),
            std::string::npos);
  EXPECT_NE(usage_error({"--workloads", "tcp_rr", "--response-bytes", "0"}).find("want [1,"), std::string::npos);
}
