// SPDX-License-Identifier: Apache-2.0
// Cost mode end to end: Debian's current 6.1 kernel in a `--accel tcg-icount` guest (one vCPU,
// -icount shift=0,sleep=off), two paths x tcp_rr x 2 repetitions. The unit must be recorded, the
// repetitions must agree within 0.5% (a determinism check: instruction counts repeat; it is not a
// performance claim), and nothing of the guest may be left.
#include <dirent.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>

#include "common/fs.h"
#include "kernel/process.h"
#include "vm_test_support.h"

using namespace pb;

TEST(VmCost, TwoPathsRepeatToHalfAPercent) {
  if (auto why = vmtest::cannot_boot()) GTEST_SKIP() << *why;
  std::string pkg = vmtest::debian_61_package();
  if (pkg.empty()) GTEST_SKIP() << "apt knows no linux-image-amd64 dependency (not Debian, or apt-get update needed)";
  char tmpl[] = "/tmp/pbv-cost-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string out = tmpl;
  auto dirs_before = vmtest::pbv_dirs();
  auto t0 = std::chrono::steady_clock::now();
  CmdResult r = run_cmd({PATHBENCH_BINARY, "vm", "--kernel", pkg, "--accel", "tcg-icount", "--boot-timeout-s", "120",
                         "--timeout-s", "480", "--out-parent", out, "--", "--paths", "baseline,tproxy-nft", "--workloads",
                         "tcp_rr", "--duration-s", "0.2", "--warmup-s", "0.1", "--cooldown-s", "0.05", "--repetitions", "2"},
                        {}, 540);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "cost-mode guest took " << secs << " s\n";
  ASSERT_EQ(r.status, 0) << r.err.substr(r.err.size() > 3000 ? r.err.size() - 3000 : 0);
  std::string dir;
  if (DIR* d = opendir(out.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.' && access((out + "/" + e->d_name + "/run.json").c_str(), F_OK) == 0) dir = out + "/" + e->d_name;
    closedir(d);
  }
  ASSERT_FALSE(dir.empty()) << "no run.json came back";
  auto j = nlohmann::json::parse(*read_file(dir + "/run.json"));
  auto& v = j["environment"]["virtualization"];
  EXPECT_EQ(v["accelerator"], "tcg-icount");
  EXPECT_EQ(v["time_unit"], "instruction") << v.dump();
  EXPECT_EQ(v["icount"]["shift"], 0);
  EXPECT_EQ(v["vcpus"], 1);
  EXPECT_EQ(j["environment"]["nproc"], 1) << "the guest saw one CPU";
  std::map<std::string, std::vector<double>> per_tx;  // path -> instructions per transaction, per repetition
  for (auto& res : j["results"]) {
    std::string what = res.value("path", std::string("?")) + " " + res.value("workload", std::string("?"));
    ASSERT_EQ(res.value("status", std::string()), "ok") << what << ": " << res.value("reason", nlohmann::json()).dump();
    auto& m = res["metrics"];
    ASSERT_GT(m.value("transactions", 0.0), 0) << what;
    per_tx[res["path"]].push_back(m["duration_ns"].get<double>() / m["transactions"].get<double>());
  }
  ASSERT_EQ(per_tx.size(), 2u);
  for (auto& [path, v] : per_tx) {
    ASSERT_EQ(v.size(), 2u) << path;
    double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
    std::cout << path << ": " << lo << " .. " << hi << " instructions per transaction\n";
    EXPECT_LT((hi - lo) / lo, 0.005) << path << ": repetitions differ by more than 0.5% (" << lo << " vs " << hi << ")";
    EXPECT_GT(lo, 10000) << path << ": a transaction takes tens of thousands of instructions through veth";
  }
  EXPECT_EQ(vmtest::pbv_dirs(), dirs_before) << "a pbv-v* temp dir was left";
  EXPECT_TRUE(vmtest::qemu_pids_for("/pbv-v").empty()) << "a qemu was left";
  run_cmd({"rm", "-rf", out});
}
