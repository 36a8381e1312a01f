// SPDX-License-Identifier: Apache-2.0
// test_kprofile_privileged.cpp: the sampler on this kernel. A window spent in system calls is
// attributed to kernel functions (in proportion to time: about window / period samples); a
// window in which this test sleeps counts only what the rest of the machine did.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/error.h"
#include "measure/kprofile.h"

namespace pb {
namespace {

TEST(KernelProfiler, AttributesASyscallLoopToTheKernel) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (CAP_BPF, CAP_PERFMON, /proc/kallsyms addresses)";
  std::unique_ptr<KernelProfiler> p;
  try {
    p = std::make_unique<KernelProfiler>(100000);  // every 100 µs of CPU time
  } catch (const Error& e) {
    GTEST_SKIP() << "the kernel refuses a perf_event BPF program on cpu-clock: " << e.what();
  }
  p->start();
  // 0.3 s of getppid() and close(-1): kernel entry and exit, a little work in between.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  uint64_t calls = 0;
  while (std::chrono::steady_clock::now() < until) {
    syscall(SYS_getppid);
    close(-1);
    ++calls;
  }
  auto j = p->stop();
  ASSERT_GT(calls, 1000u);
  const uint64_t total = j["samples"];
  // 0.3 s on one CPU at 100 µs: about 3000 samples from this thread (more with other CPUs busy).
  EXPECT_GT(total, 1000u) << j.dump();
  EXPECT_GT(j["kernel_samples"].get<uint64_t>(), total / 10) << "a syscall loop spends much of its time in the kernel";
  EXPECT_LT(j["unsymbolized_samples"].get<uint64_t>(), j["kernel_samples"].get<uint64_t>() / 10) << j.dump();
  ASSERT_FALSE(j["functions"].empty());
  bool syscall_path = false;
  for (auto& f : j["functions"]) {
    const std::string n = f["function"];
    if (n.find("syscall") != std::string::npos || n.find("entry_SYSCALL") != std::string::npos ||
        n.find("getppid") != std::string::npos || n.find("close") != std::string::npos)
      syscall_path = true;
  }
  EXPECT_TRUE(syscall_path) << "no syscall entry or handler among the top functions: " << j["functions"].dump();

  // Stopped: samples are no longer counted, and a new window starts from zero.
  p->start();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto idle = p->stop();
  EXPECT_LT(idle["samples"].get<uint64_t>(), total / 2) << "a sleeping window counts only the rest of the machine";
}

}  // namespace
}  // namespace pb
