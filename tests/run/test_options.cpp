// SPDX-License-Identifier: Apache-2.0
// `pathbench run` option parsing and validation: every bad input is a UsageError (exit 2) with a
// message naming the problem, before anything is created.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "run/cli.h"
#include "common/error.h"

using pb::parse_run_options;
using pb::RunConfig;
using pb::UsageError;

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
