// SPDX-License-Identifier: Apache-2.0
// Cost mode end to end: Debian's current 6.1 kernel in a `--accel tcg-icount` guest (one vCPU,
// -icount shift=0,sleep=off), two paths x tcp_rr x 3 repetitions. The unit must be recorded, and
// the repetitions must repeat: the two closest within 0.2%, every one within 2% of the median (a
// determinism check, not a performance claim). Why not all within 0.2%: now and then every guest
// task blocks inside a window, qemu (sleep=off) jumps the clock to the next tick, and that tick of
// idle counts as instructions: CI saw one repetition of two 0.8% above the other (docs/cost.md,
// "How exact"). The median is what analysis reads. Nothing of the guest may be left.
#include <dirent.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <map>

#include "common/fs.h"
#include "kernel/process.h"
#include "vm_test_support.h"

using namespace pb;

TEST(VmCost, TwoPathsRepeatToAFifthOfAPercent) {
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
                         "tcp_rr", "--duration-s", "0.2", "--warmup-s", "0.1", "--cooldown-s", "0.05", "--repetitions", "3"},
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
    ASSERT_EQ(v.size(), 3u) << path;
    std::cout << path << ", instructions per transaction in run order:";
    for (double x : v) std::cout << " " << x;
    std::cout << "\n";
    std::vector<double> s = v;
    std::sort(s.begin(), s.end());
    double closest = std::min(s[1] - s[0], s[2] - s[1]) / s[0], median = s[1];
    EXPECT_LT(closest, 0.002) << path << ": no two repetitions agree within 0.2% (" << s[0] << ", " << s[1] << ", "
                              << s[2] << ")";
    for (double x : v)
      EXPECT_LT(std::abs(x - median) / median, 0.02) << path << ": a repetition is over 2% from the median (" << x
                                                      << " vs " << median << ")";
    EXPECT_GT(s[0], 10000) << path << ": a transaction takes tens of thousands of instructions through veth";
  }
  EXPECT_EQ(vmtest::pbv_dirs(), dirs_before) << "a pbv-v* temp dir was left";
  EXPECT_TRUE(vmtest::qemu_pids_for("/pbv-v").empty()) << "a qemu was left";
  run_cmd({"rm", "-rf", out});
}
