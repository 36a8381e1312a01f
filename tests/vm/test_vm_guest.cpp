// SPDX-License-Identifier: Apache-2.0
// Debian's current 6.1 generic kernel (resolved through the linux-image-amd64 metapackage: old
// ABI names leave the archive) booted under TCG, every default path with tcp_rr once; then
// nothing of the guest may be left (qemu, temp dirs, state records).
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>

#include "common/fs.h"
#include "common/strings.h"
#include "kernel/process.h"

using namespace pb;

static std::string debian_61_package() {
  CmdResult d = run_cmd({"apt-cache", "depends", "linux-image-amd64"}, {}, 30);
  for (auto& l : split(d.out, '\n')) {
    std::string t = trim(l);
    if (t.rfind("Depends: linux-image-", 0) != 0) continue;
    std::string signed_pkg = t.substr(9);
    for (auto& p : {signed_pkg + "-unsigned", signed_pkg})
      if (run_cmd({"apt-cache", "show", "--no-all-versions", p}, {}, 30).status == 0) return p;
  }
  return {};
}

static int count_pbv_dirs() {
  int n = 0;
  if (DIR* d = opendir("/tmp")) {
    while (dirent* e = readdir(d))
      if (std::string(e->d_name).rfind("pbv-v", 0) == 0) ++n;
    closedir(d);
  }
  return n;
}

TEST(VmGuest, Debian61UnderTcgRunsEveryDefaultPath) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (9p export of /, namespaces in the guest)";
  if (!find_program("qemu-system-x86_64")) GTEST_SKIP() << "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)";
  if (access("/bin/busybox", X_OK) != 0) GTEST_SKIP() << "busybox-static not installed";
  std::string pkg = debian_61_package();
  if (pkg.empty()) GTEST_SKIP() << "apt knows no linux-image-amd64 dependency (not Debian, or apt-get update needed)";
  char tmpl[] = "/tmp/pbv-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string out = tmpl;
  int before = count_pbv_dirs();
  auto t0 = std::chrono::steady_clock::now();
  CmdResult r = run_cmd({PATHBENCH_BINARY, "vm", "--kernel", pkg, "--accel", "tcg", "--boot-timeout-s", "90", "--timeout-s",
                         "420", "--out-parent", out, "--", "--workloads", "tcp_rr", "--duration-s", "0.2", "--warmup-s",
                         "0.1", "--cooldown-s", "0.05", "--repetitions", "1"},
                        {}, 480);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "pathbench vm took " << secs << " s\n" << r.err.substr(r.err.size() > 3000 ? r.err.size() - 3000 : 0);
  EXPECT_LE(r.status, 1) << r.err;
  std::string dir;
  if (DIR* d = opendir(out.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.' && access((out + "/" + e->d_name + "/run.json").c_str(), F_OK) == 0) dir = out + "/" + e->d_name;
    closedir(d);
  }
  ASSERT_FALSE(dir.empty()) << "no run.json came back";
  EXPECT_EQ(access((dir + "/console.log").c_str(), F_OK), 0);
  auto j = nlohmann::json::parse(*read_file(dir + "/run.json"));
  auto& v = j["environment"]["virtualization"];
  EXPECT_EQ(v["pathbench_guest"], true);
  EXPECT_EQ(v["accelerator"], "tcg");
  EXPECT_EQ(v["guest_kernel"].get<std::string>().rfind("6.1.", 0), 0u) << v.dump();
  ASSERT_TRUE(j["results"].is_array());
  EXPECT_FALSE(j["results"].empty());
  int ok = 0;
  for (auto& res : j["results"]) {
    std::string what = res.value("path", std::string("?")) + " " + res.value("workload", std::string("?"));
    std::string st = res.value("status", std::string());
    if (st == "skipped") {
      EXPECT_TRUE(res.contains("reason") && res["reason"].is_string() && !res["reason"].get<std::string>().empty()) << what;
      continue;
    }
    EXPECT_EQ(st, "ok") << what << ": " << res.value("reason", nlohmann::json()).dump();
    if (res.contains("proof")) EXPECT_EQ(res["proof"].value("ok", false), true) << what << ": " << res["proof"].dump();
    ++ok;
  }
  EXPECT_GT(ok, 0);
  EXPECT_EQ(count_pbv_dirs(), before) << "a pbv-v* temp dir was left";
  CmdResult ps = run_cmd({"pgrep", "-f", "pbv-v.*initrd"}, {}, 10);
  EXPECT_NE(ps.status, 0) << "a qemu was left: " << ps.out;
  run_cmd({"rm", "-rf", out});
}
