// SPDX-License-Identifier: Apache-2.0
// vm/vm.h: another kernel in a qemu guest (`pathbench vm`). The guest runs the host's own root
// filesystem over virtio-9p (read-only, a tmpfs overlay on top), the kernel's modules as a second
// share, results in a third; a busybox initramfs loads the kernel's virtio/9p/overlay modules and
// switch_roots into the overlay (docs/gotchas.md "Module autoload needs switch_root").
// Pure pieces (names, config checks, the qemu command line, the accelerator decision, the guest
// information) are separate from the ones that touch the machine, so they are unit-tested.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace pb::vm {

// Debian package names: lowercase letters, digits, + - . ; at least two characters, starting
// with a letter or digit. Anything else is refused before apt sees it.
bool valid_package_name(const std::string& name);

// `--kernel PACKAGE/SUITE` (apt's own convention, as in `apt-get install pkg/bookworm-backports`):
// a kernel from another Debian suite (bookworm-backports and trixie serve 6.12), reached through
// private apt lists in pathbench's kernel cache, never through /etc/apt. suite "" = the host's
// own apt configuration. UsageError when either part is malformed.
struct PackageRef {
  std::string package, suite;
};
PackageRef parse_package_ref(const std::string& name);
// Suite names: lowercase letters, digits and '-' (bookworm, bookworm-backports, trixie, sid).
bool valid_suite_name(const std::string& suite);
// The one sources.list line of a suite's private lists: Debian's archive (mirror), main only,
// signed by Debian's archive keyring.
std::string private_sources_line(const std::string& mirror, const std::string& suite);
// The apt-get / apt-cache options that make apt read and write only under dir:
// dir/sources.list, no sources.list.d, dir/lists, dir/cache (status stays the host's, read only).
std::vector<std::string> private_apt_options(const std::string& dir);

// Kernel config symbols the guest needs, and what each is for. A symbol is present when the
// config says =y or =m.
struct ConfigNeed {
  std::string symbol;
  std::string why;
};
const std::vector<ConfigNeed>& required_config();
// The required symbols the config text lacks (empty: fine).
std::vector<std::string> missing_config(const std::string& config_text);

// modules.dep ("kernel/fs/9p/9p.ko: net/9p/9pnet.ko ...") -> the files to insmod, dependencies
// first, each once, for the wanted module names (modules built in, per modules.builtin, are
// skipped; a wanted module that is neither is reported in `missing`).
struct ModulePlan {
  std::vector<std::string> files;    // relative to lib/modules/<release>/
  std::vector<std::string> missing;  // wanted names found nowhere
};
ModulePlan plan_modules(const std::string& modules_dep, const std::string& modules_builtin,
                        const std::vector<std::string>& wanted);
const std::vector<std::string>& initramfs_modules();  // virtio_pci, 9p, 9pnet_virtio, overlay

// Cost mode (`--accel tcg-icount`): single-threaded TCG, one vCPU, qemu's instruction counter
// as the guest's clock: one guest nanosecond is one guest instruction (docs/cost.md).
inline constexpr const char* kIcountSpec = "shift=0,sleep=off";
inline constexpr const char* kCostModeCmdline = "nohz=off";
inline constexpr const char* kDiagnosticCmdline = "loglevel=5 softlockup_all_cpu_backtrace=1";

// Accelerator: "auto" takes KVM when /dev/kvm exists and a bounded probe boot reached user
// space; otherwise TCG. "kvm" or "tcg" forces it (kvm without /dev/kvm is an error upstream).
enum class Accel { kKvm, kTcg, kTcgIcount };
const char* accel_name(Accel a);
Accel decide_accel(const std::string& requested, bool dev_kvm, bool probe_reached_userspace);

struct GuestSpec {
  std::string qemu = "qemu-system-x86_64";
  Accel accel = Accel::kTcg;
  int vcpus = 2;
  int memory_mib = 2048;
  std::string kernel_image;   // bzImage / vmlinuz
  std::string initrd;
  std::string modules_dir;    // lib/modules (holds <release>/)
  std::string share_dir;      // writable: guest script, guest info, results
  std::string console_log;
  std::string append_extra;   // extra kernel command line
};
std::vector<std::string> qemu_argv(const GuestSpec& s);
// Why this spec would break "1 guest ns = 1 instruction" ("" = it does not).
std::string cost_mode_problem(const GuestSpec& s);

// The JSON the guest reads through PATHBENCH_GUEST_INFO (environment.virtualization).
nlohmann::json guest_info(const GuestSpec& s, const std::string& qemu_version,
                          const std::string& host_kernel, const nlohmann::json& kernel_source);

// The guest's second stage (runs after switch_root): mounts, then pathbench with run_args,
// its exit status into the share, then power off.
std::string guest_script(const std::string& pathbench_binary, const std::vector<std::string>& run_args);
std::string init_script();  // the initramfs /init
std::string shell_quote(const std::string& s);

// What the guest's console says about how far it got (the markers the two scripts print).
struct ConsoleMarks {
  double initramfs_s = -1, userspace_s = -1, start_s = -1, exit_s = -1;  // guest uptime; -1 = not seen
  std::optional<int> exit_rc;  // "pathbench-vm: pathbench exit N"
  std::string failed;          // "pathbench-vm: FAILED <what>" (initramfs) or the kernel panic line
  std::string last_step;       // the last "pathbench: [i/n] ..." progress line: where a run hung
  std::string kernel_trouble;  // the first soft lockup / RCU stall / BUG / WARNING and what follows it
};
ConsoleMarks read_marks(const std::string& console);

// How the watch over qemu ended, and what that makes of the guest. Decided from the markers and
// the exit status the guest wrote into its share (preferred over the console marker), so a guest
// whose pathbench returned 1 is "ran, rc 1", never "did not boot".
enum class WatchEnd { kPoweredOff, kBootTimeout, kRunTimeout, kFailedMarker, kInterrupted };
enum class GuestVerdict {
  kRan,          // pathbench ran and returned rc (its results come back, the report is made)
  kNoBoot,       // never reached the guest's user space (exit 10)
  kNoStart,      // user space, but pathbench did not start (exit 12)
  kHung,         // pathbench started and the run outlived --timeout-s (exit 11)
  kDied,         // pathbench started and the guest stopped without its exit status (exit 11)
  kInterrupted,  // SIGINT/SIGTERM on the host
};
struct Classified {
  GuestVerdict verdict;
  int rc = 0;          // kRan: pathbench's exit status
  std::string what;    // one phrase for the error line
};
Classified classify(const ConsoleMarks& m, WatchEnd end, std::optional<int> status_file_rc);

// Exit codes of `pathbench vm` (common/error.h holds the numbers).
}  // namespace pb::vm
