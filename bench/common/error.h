// SPDX-License-Identifier: Apache-2.0
// common/error.h: exit codes and the exception type every setup failure throws.
// Setup failures carry the context of what failed ("bpf_tc_attach(dev=dut0, ingress): ...") and
// the exit code the CLI should end with; hot paths return status instead of throwing.
#pragma once
#include <stdexcept>
#include <string>

namespace pb {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailedCheck = 1,  // a measurement or proof failed
  kExitUsage = 2,        // bad option or input file
  kExitEnv = 3,          // environment / setup (not root, tool missing, kernel feature absent)
  kExitBpf = 4,          // BPF load or attach
  // pathbench vm (another kernel in a qemu guest); each bad input its own code
  kExitVmUnknownPackage = 5,  // apt knows no such package
  kExitVmNotKernel = 6,       // the package (or file) is not a kernel
  kExitVmKernelConfig = 7,    // the kernel lacks 9p/virtio/overlay/veth/BPF (listed)
  kExitVmNoQemu = 8,          // qemu-system-x86 (or busybox-static) not installed
  kExitVmMemory = 9,          // too little memory for the guest
  kExitVmNoBoot = 10,         // the guest did not reach user space (console tail shown)
  kExitVmHung = 11,           // the guest hung or died during the run (killed at the timeout)
  kExitVmNoStart = 12,        // the guest booted but pathbench did not start in it
  kExitVmCostSetting = 13,    // a setting that breaks cost mode (1 guest ns = 1 instruction), e.g. --vcpus 2
  kExitVmNoRunningImage = 14, // the running kernel has no bootable image (/boot/vmlinuz-$(uname -r)) here
  kExitVmUnknownSuite = 15,   // --kernel PACKAGE/SUITE: Debian's archive does not serve that suite
  kExitSkipped = 77,     // test skipped (automake/ctest convention)
  kExitSigint = 130,
  kExitSigterm = 143,
  // `pathbench run --hosts` (hosts/): one code per kind of bad input, nothing changed on any host.
  kExitHostsFile = 20,      // hosts file unreadable, malformed, a role missing or doubled
  kExitHostsUnsafe = 21,    // a data interface is the management interface, carries the default
                            // route or the SSH session's own address
  kExitHostUnreachable = 22,  // ssh could not connect (no route, refused, timed out, bad name)
  kExitHostKey = 23,        // host key unknown or changed (strict host-key checking)
  kExitHostAuth = 24,       // ssh authentication refused (key not accepted; never a password)
  kExitHostInterface = 25,  // a named data interface or its address is not on that host
  kExitHostVersion = 26,    // pathbench version or BPF objects differ from the orchestrator's
  kExitHostPrivilege = 27,  // the agent is not root on that host
  kExitHostLost = 28,       // an agent's connection dropped during the run
};

class Error : public std::runtime_error {
 public:
  Error(int exit_code, const std::string& what) : std::runtime_error(what), code_(exit_code) {}
  int code() const { return code_; }

 private:
  int code_;
};

class UsageError : public Error {
 public:
  explicit UsageError(const std::string& what) : Error(kExitUsage, what) {}
};
class EnvError : public Error {
 public:
  explicit EnvError(const std::string& what) : Error(kExitEnv, what) {}
};
class BpfError : public Error {
 public:
  explicit BpfError(const std::string& what) : Error(kExitBpf, what) {}
};

// "what: strerror(errno)"
std::string errno_msg(const std::string& what, int err);
[[noreturn]] void throw_errno(const std::string& what, int err);

}  // namespace pb
