// SPDX-License-Identifier: Apache-2.0
// `pathbench vm` under faults, on Debian's current 6.1 kernel (the cache filled by the guest
// test, or fetched here): SIGINT/SIGTERM during the boot leave no qemu, temp dir or state record;
// after SIGKILL qemu dies with pathbench and `pathbench cleanup` removes the rest; a hung run is
// killed at its bound and reported with the console's tail; two runs at once into one results
// directory do not collide; each bad input gets its own exit code, one line, nothing left.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "common/fs.h"
#include "common/strings.h"
#include "kernel/host.h"
#include "kernel/process.h"
#include "vm_test_support.h"
#include "host_snapshot.h"

using namespace pb;
using namespace std::chrono_literals;

namespace {

// A `pathbench vm` started in the background; its stdout+stderr go to a file.
struct Bg {
  pid_t pid = -1;
  std::string log;
  int wait_for(int timeout_s) {  // exit status, 128+signal, or -1 when still running
    for (int i = 0; i < timeout_s * 10; ++i) {
      int st = 0;
      pid_t r = waitpid(pid, &st, WNOHANG);
      if (r == pid) {
        pid = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(100ms);
    }
    return -1;
  }
  ~Bg() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

Bg spawn_vm(const std::vector<std::string>& args, const std::string& log) {
  Bg b;
  b.log = log;
  b.pid = fork();
  if (b.pid == 0) {
    FILE* f = fopen(log.c_str(), "w");
    if (f) {
      dup2(fileno(f), 1);
      dup2(fileno(f), 2);
    }
    std::vector<char*> argv;
    std::vector<std::string> full = {PATHBENCH_BINARY, "vm"};
    full.insert(full.end(), args.begin(), args.end());
    for (auto& a : full) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return b;
}

// The pbv-v* temp dir a new run made (waits for its console log to show the initramfs).
std::string wait_for_guest(const std::set<std::string>& before, int timeout_s) {
  for (int i = 0; i < timeout_s * 10; ++i) {
    for (auto& d : vmtest::pbv_dirs())
      if (!before.count(d)) {
        auto log = read_file(d + "/console.log");
        if (log && log->find("pathbench-vm: initramfs") != std::string::npos) return d;
      }
    std::this_thread::sleep_for(100ms);
  }
  return {};
}

std::string id_of(const std::string& tmpdir) { return tmpdir.substr(tmpdir.rfind("/pbv-") + 5); }

bool state_record_exists(const std::string& id) {
  struct stat st {};
  const char* e = std::getenv("PATHBENCH_STATE_DIR");
  return stat((std::string(e ? e : "/run/pathbench") + "/vm/" + id + ".json").c_str(), &st) == 0;
}

struct VmFaults : ::testing::Test {
  std::string pkg, out;
  void SetUp() override {
    if (auto why = vmtest::cannot_boot()) GTEST_SKIP() << *why;
    pkg = vmtest::debian_61_package();
    if (pkg.empty()) GTEST_SKIP() << "apt knows no linux-image-amd64 dependency (not Debian, or apt-get update needed)";
    char tmpl[] = "/tmp/pbvt-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    out = tmpl;
    host_before = pbtest::host_snapshot();
  }
  void TearDown() override {
    if (!out.empty()) run_cmd({"rm", "-rf", out});
    // Whatever the guest did, the host's network and BPF state is as it was (scripts/host-snapshot).
    if (!host_before.empty()) {
      EXPECT_EQ(pbtest::diff_lines(host_before, pbtest::host_snapshot()), "");
    }
  }
  std::string host_before;
  std::vector<std::string> base(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> a = {"--kernel", pkg, "--accel", "tcg", "--out-parent", out};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  std::vector<std::string> short_run() {
    return {"--", "--paths", "baseline", "--workloads", "tcp_rr", "--duration-s", "0.2", "--warmup-s", "0.1",
            "--cooldown-s", "0.05", "--repetitions", "1"};
  }
};

}  // namespace

TEST_F(VmFaults, SigintAndSigtermDuringTheBootLeaveNothing) {
  for (int sig : {SIGINT, SIGTERM}) {
    auto before = vmtest::pbv_dirs();
    auto args = base(short_run());
    Bg b = spawn_vm(args, out + "/vm.log");
    std::string dir = wait_for_guest(before, 120);
    ASSERT_FALSE(dir.empty()) << "no guest came up: " << read_file(b.log).value_or("");
    std::string id = id_of(dir);
    EXPECT_FALSE(vmtest::qemu_pids_for(dir).empty()) << "qemu not found for " << dir;
    kill(b.pid, sig);
    int rc = b.wait_for(60);
    EXPECT_EQ(rc, sig == SIGINT ? 130 : 143) << read_file(b.log).value_or("");
    EXPECT_TRUE(vmtest::qemu_pids_for(dir).empty()) << "qemu left after signal " << sig;
    EXPECT_EQ(access(dir.c_str(), F_OK), -1) << dir << " left after signal " << sig;
    EXPECT_FALSE(state_record_exists(id)) << "state record of " << id << " left";
  }
}

TEST_F(VmFaults, SigkillLeavesOnlyWhatCleanupRemoves) {
  auto before = vmtest::pbv_dirs();
  Bg b = spawn_vm(base(short_run()), out + "/vm.log");
  std::string dir = wait_for_guest(before, 120);
  ASSERT_FALSE(dir.empty()) << read_file(b.log).value_or("");
  std::string id = id_of(dir);
  kill(b.pid, SIGKILL);
  EXPECT_EQ(b.wait_for(10), 128 + SIGKILL);
  // qemu runs under setpriv --pdeathsig KILL: it dies with pathbench.
  for (int i = 0; i < 50 && !vmtest::qemu_pids_for(dir).empty(); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(vmtest::qemu_pids_for(dir).empty()) << "qemu outlived a SIGKILLed pathbench";
  EXPECT_EQ(access(dir.c_str(), F_OK), 0) << "expected the temp dir to be left by SIGKILL";
  EXPECT_TRUE(state_record_exists(id)) << "the owner record must name what SIGKILL left";
  CmdResult c = run_cmd({PATHBENCH_BINARY, "cleanup"}, {}, 120);
  EXPECT_EQ(c.status, 0) << c.out << c.err;
  EXPECT_EQ(access(dir.c_str(), F_OK), -1) << "cleanup left " << dir;
  EXPECT_FALSE(state_record_exists(id));
  EXPECT_TRUE(vmtest::cache_is_complete(pkg)) << "cleanup must keep the kernel cache";
}

TEST_F(VmFaults, AHungRunIsKilledAtItsBoundWithTheConsoleTail) {
  auto before = vmtest::pbv_dirs();
  auto t0 = std::chrono::steady_clock::now();
  CmdResult r = run_cmd({PATHBENCH_BINARY, "vm", "--kernel", pkg, "--accel", "tcg", "--timeout-s", "25", "--out-parent", out,
                         "--", "--paths", "baseline", "--workloads", "tcp_rr", "--duration-s", "300", "--repetitions", "1"},
                        {}, 120);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status, 11) << r.err;
  EXPECT_LT(secs, 60) << "the bound is 25 s";
  EXPECT_NE(r.err.find("killed after 25 s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("pathbench-vm: pathbench start"), std::string::npos) << "console tail missing: " << r.err;
  EXPECT_EQ(vmtest::pbv_dirs(), before) << "temp dir left";
  // The console log is kept next to where results go.
  bool console = false;
  if (DIR* d = opendir(out.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 12 && n.substr(n.size() - 12) == "-console.log") console = true;
      if (access((out + "/" + n + "/console.log").c_str(), F_OK) == 0) console = true;
    }
    closedir(d);
  }
  EXPECT_TRUE(console) << "no console log kept in " << out;
}

TEST_F(VmFaults, TwoRunsAtOnceDoNotCollide) {
  auto args = base(short_run());
  Bg a = spawn_vm(args, out + "/a.log");
  Bg b = spawn_vm(args, out + "/b.log");
  int ra = a.wait_for(400), rb = b.wait_for(400);
  EXPECT_EQ(ra, 0) << read_file(a.log).value_or("");
  EXPECT_EQ(rb, 0) << read_file(b.log).value_or("");
  std::set<std::string> runs;
  if (DIR* d = opendir(out.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.' && access((out + "/" + e->d_name + "/run.json").c_str(), F_OK) == 0) {
        runs.insert(e->d_name);
        EXPECT_EQ(access((out + "/" + e->d_name + "/console.log").c_str(), F_OK), 0) << e->d_name;
        auto j = nlohmann::json::parse(*read_file(out + "/" + e->d_name + "/run.json"));
        EXPECT_EQ(j["environment"]["virtualization"]["pathbench_guest"], true);
      }
    closedir(d);
  }
  EXPECT_EQ(runs.size(), 2u) << "two runs, two results directories";
}

// Bad input: distinct exit codes, one line, nothing left behind (the cache aside).
TEST_F(VmFaults, BadInputHasItsOwnExitCodeAndLeavesNothing) {
  ASSERT_TRUE(vmtest::ensure_cached(pkg)) << "could not fill the kernel cache";
  const std::string kdir = vmtest::cache_dir(pkg) + "/root/boot";
  std::string release;
  if (DIR* d = opendir(kdir.c_str())) {
    while (dirent* e = readdir(d))
      if (std::string(e->d_name).rfind("vmlinuz-", 0) == 0) release = e->d_name + 8;
    closedir(d);
  }
  ASSERT_FALSE(release.empty());
  // A config like the -cloud-amd64 flavour's: no 9p.
  std::string cfg = *read_file(kdir + "/config-" + release), nine;
  for (auto& l : split(cfg, '\n'))
    nine += (l.rfind("CONFIG_9P_FS=", 0) == 0 || l.rfind("CONFIG_NET_9P=", 0) == 0) ? "# " + l.substr(0, l.find('=')) + " is not set\n"
                                                                                         : l + "\n";
  { std::ofstream(out + "/no9p.config") << nine; }
  { std::ofstream(out + "/not-a-kernel") << std::string(4096, 'x'); }
  struct Case {
    std::string what;
    std::vector<std::string> args;
    int code;
    std::string says;
    std::string path_env;
  };
  const std::string none = "this-package-does-not-exist-pathbench";
  std::vector<Case> cases = {
      {"unknown package", {"--kernel", none}, 5, "unknown package", ""},
      {"package that is not a kernel", {"--kernel", "linux-image-amd64"}, 6, "not a kernel package", ""},
      {"file that is not a kernel", {"--kernel-image", out + "/not-a-kernel"}, 6, "not an x86 kernel image", ""},
      {"kernel without 9p",
       {"--kernel-image", kdir + "/vmlinuz-" + release, "--kernel-config", out + "/no9p.config"},
       7, "CONFIG_NET_9P", ""},
      {"qemu missing", {"--kernel", pkg}, 8, "apt-get install qemu-system-x86", "/nonexistent"},
      {"too little memory (asked)", {"--kernel", pkg, "--memory-mib", "256"}, 9, "too little", ""},
      {"too little memory (host)", {"--kernel", pkg, "--memory-mib", "1000000"}, 9, "too little memory", ""},
      {"guest fails to boot", {"--kernel", pkg, "--accel", "tcg", "--boot-timeout-s", "1"}, 10, "did not boot", ""},
      {"cost mode with two vCPUs", {"--kernel", pkg, "--accel", "tcg-icount", "--vcpus", "2"}, 13, "runs one vCPU", ""},
      {"cost mode, unknown package", {"--kernel", none, "--accel", "tcg-icount"}, 5, "unknown package", ""},
      // PACKAGE/SUITE: a suite Debian's archive does not serve (private lists, removed again), and
      // a package that suite does not have.
      {"unknown suite", {"--kernel", none + "/no-such-suite-pathbench", "--accel", "tcg-icount"}, 15, "unknown suite", ""},
      {"package not in the suite", {"--kernel", none + "/bookworm-backports", "--accel", "tcg-icount"}, 5,
       "suite bookworm-backports has no such package", ""},
      {"malformed suite", {"--kernel", pkg + "/Trixie"}, 2, "not a Debian suite name", ""},
  };
  // The running kernel without its image here (a Firecracker-style host, CI's machine): exit 14,
  // naming the alternative. Where /boot has the image, the case does not apply.
  const std::string running_release = pb::kernel_release();
  if (access(("/boot/vmlinuz-" + running_release).c_str(), F_OK) != 0)
    cases.push_back({"no /boot image for the running kernel", {"--kernel", "running", "--accel", "tcg-icount"}, 14,
                     "--kernel linux-image-", ""});
  else
    std::cout << "note: /boot/vmlinuz-" << running_release << " exists: the missing-image case does not apply here\n";
  for (auto& c : cases) {
    auto before = vmtest::pbv_dirs();
    std::vector<std::string> argv;
    if (!c.path_env.empty()) argv = {"env", "PATH=" + c.path_env};
    argv.push_back(PATHBENCH_BINARY);
    argv.push_back("vm");
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    argv.insert(argv.end(), {"--out-parent", out + "/res", "--", "--paths", "baseline", "--workloads", "tcp_rr"});
    CmdResult r = run_cmd(argv, {}, 300);
    EXPECT_EQ(r.status, c.code) << c.what << ": " << r.err;
    // One error line naming the problem (a boot failure adds the console's tail, "  | ...", below it).
    std::vector<std::string> errors;
    for (auto& l : split(r.err, '\n'))
      if (l.rfind("pathbench: error: ", 0) == 0) errors.push_back(l);
    ASSERT_EQ(errors.size(), 1u) << c.what << ": " << r.err;
    EXPECT_NE(errors[0].find(c.says), std::string::npos) << c.what << ": " << r.err;
    if (c.code != 10) {
      for (auto& l : split(r.err, '\n')) {
        EXPECT_NE(l.rfind("  |", 0), 0u) << c.what << ": more than one line: " << r.err;
      }
    }
    EXPECT_EQ(vmtest::pbv_dirs(), before) << c.what << ": temp dir left";
    EXPECT_FALSE(vmtest::cache_has(none)) << c.what << ": cache entry for an unknown package";
    EXPECT_FALSE(vmtest::cache_has("apt/no-such-suite-pathbench")) << c.what << ": private lists of an unknown suite";
    EXPECT_FALSE(vmtest::cache_has("linux-image-amd64")) << c.what << ": cache entry for a non-kernel";
  }
}
