// SPDX-License-Identifier: Apache-2.0
#include "vm/vm.h"

#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/strings.h"

namespace pb::vm {

bool valid_package_name(const std::string& n) {
  if (n.size() < 2) return false;
  auto ok_first = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!ok_first(n[0])) return false;
  for (char c : n)
    if (!ok_first(c) && c != '+' && c != '-' && c != '.') return false;
  return true;
}

bool valid_suite_name(const std::string& s) {
  if (s.empty() || s.size() > 64 || s.front() == '-' || s.back() == '-') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

PackageRef parse_package_ref(const std::string& name) {
  auto slash = name.find('/');
  PackageRef r{name.substr(0, slash), slash == std::string::npos ? "" : name.substr(slash + 1)};
  if (!valid_package_name(r.package))
    throw UsageError("--kernel '" + name + "': '" + r.package +
                     "' is not a Debian package name (e.g. linux-image-6.1.0-57-amd64-unsigned)");
  if (slash != std::string::npos && !valid_suite_name(r.suite))
    throw UsageError("--kernel '" + name + "': '" + r.suite +
                     "' is not a Debian suite name (PACKAGE/SUITE, e.g. .../bookworm-backports or .../trixie)");
  return r;
}

std::string private_sources_line(const std::string& mirror, const std::string& suite) {
  return "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] " + mirror + " " + suite + " main";
}

std::vector<std::string> private_apt_options(const std::string& dir) {
  return {"-o", "Dir::Etc::SourceList=" + dir + "/sources.list",
          "-o", "Dir::Etc::SourceParts=/dev/null",
          "-o", "Dir::State::Lists=" + dir + "/lists",
          "-o", "Dir::Cache=" + dir + "/cache",
          "-o", "APT::Get::List-Cleanup=0"};
}

const std::vector<ConfigNeed>& required_config() {
  static const std::vector<ConfigNeed> v = {
      {"CONFIG_VIRTIO_PCI", "virtio devices (the 9p shares)"},
      {"CONFIG_NET_9P", "9p, the host's root filesystem"},
      {"CONFIG_NET_9P_VIRTIO", "9p over virtio"},
      {"CONFIG_9P_FS", "the 9p filesystem"},
      {"CONFIG_OVERLAY_FS", "the writable overlay on the read-only root"},
      {"CONFIG_DEVTMPFS", "/dev in the guest"},
      {"CONFIG_VETH", "the client - DUT - server links"},
      {"CONFIG_NET_NS", "the namespaces of the topology"},
      {"CONFIG_BPF_SYSCALL", "the BPF paths"},
      {"CONFIG_NET_SCH_INGRESS", "tc ingress/clsact (tc paths)"},
      {"CONFIG_NET_CLS_BPF", "tc BPF classifiers"},
      {"CONFIG_SERIAL_8250_CONSOLE", "the console log"},
  };
  return v;
}

std::vector<std::string> missing_config(const std::string& text) {
  std::map<std::string, std::string> val;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    line = trim(line);
    if (line.rfind("CONFIG_", 0) != 0) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    val[line.substr(0, eq)] = line.substr(eq + 1);
  }
  std::vector<std::string> miss;
  for (auto& need : required_config()) {
    auto it = val.find(need.symbol);
    if (it == val.end() || (it->second != "y" && it->second != "m"))
      miss.push_back(need.symbol + " (" + need.why + ")");
  }
  return miss;
}

static std::string module_name_of(std::string path) {
  auto slash = path.rfind('/');
  if (slash != std::string::npos) path = path.substr(slash + 1);
  auto dot = path.find(".ko");
  if (dot != std::string::npos) path = path.substr(0, dot);
  for (auto& c : path)
    if (c == '-') c = '_';
  return path;
}

ModulePlan plan_modules(const std::string& dep, const std::string& builtin,
                        const std::vector<std::string>& wanted) {
  std::map<std::string, std::string> file;                // name -> path
  std::map<std::string, std::vector<std::string>> deps;   // path -> dep paths
  std::istringstream in(dep);
  for (std::string line; std::getline(in, line);) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string p = trim(line.substr(0, colon));
    file[module_name_of(p)] = p;
    for (auto& d : split(trim(line.substr(colon + 1)), ' '))
      if (!trim(d).empty()) deps[p].push_back(trim(d));
  }
  std::set<std::string> built;
  std::istringstream bin(builtin);
  for (std::string line; std::getline(bin, line);)
    if (!trim(line).empty()) built.insert(module_name_of(trim(line)));
  ModulePlan plan;
  std::set<std::string> done;
  // modules.dep lists every (transitive) dependency, the one to load last first: load them in
  // reverse, each after its own dependencies.
  std::function<void(const std::string&)> add = [&](const std::string& p) {
    if (done.count(p)) return;
    done.insert(p);
    auto& ds = deps[p];
    for (auto it = ds.rbegin(); it != ds.rend(); ++it) add(*it);
    plan.files.push_back(p);
  };
  for (auto& w : wanted) {
    std::string n = module_name_of(w);
    if (auto it = file.find(n); it != file.end()) add(it->second);
    else if (!built.count(n)) plan.missing.push_back(w);
  }
  return plan;
}

const std::vector<std::string>& initramfs_modules() {
  static const std::vector<std::string> v = {"virtio_pci", "9pnet_virtio", "9p", "overlay"};
  return v;
}

const char* accel_name(Accel a) {
  switch (a) {
    case Accel::kKvm: return "kvm";
    case Accel::kTcg: return "tcg";
    case Accel::kTcgIcount: return "tcg-icount";
  }
  return "?";
}

Accel decide_accel(const std::string& requested, bool dev_kvm, bool probe_ok) {
  if (requested == "kvm") return Accel::kKvm;
  if (requested == "tcg") return Accel::kTcg;
  if (requested == "tcg-icount") return Accel::kTcgIcount;
  return dev_kvm && probe_ok ? Accel::kKvm : Accel::kTcg;
}

std::vector<std::string> qemu_argv(const GuestSpec& s) {
  std::vector<std::string> a = {s.qemu, "-nodefaults", "-no-user-config", "-machine", "pc"};
  if (s.accel == Accel::kKvm) {
    a.insert(a.end(), {"-accel", "kvm", "-cpu", "host"});
  } else if (s.accel == Accel::kTcgIcount) {
    // Cost mode (docs/cost.md): one instruction per guest nanosecond (shift=0), the virtual clock
    // jumping over idle time instead of waiting for it (sleep=off), one TCG thread.
    a.insert(a.end(), {"-accel", "tcg,thread=single", "-icount", std::string(kIcountSpec), "-cpu", "max"});
  } else {
    a.insert(a.end(), {"-accel", "tcg,thread=multi", "-cpu", "max"});
  }
  a.insert(a.end(), {"-smp", std::to_string(s.vcpus), "-m", std::to_string(s.memory_mib) + "M",
                     "-display", "none", "-monitor", "none", "-serial", "file:" + s.console_log,
                     "-nic", "none", "-no-reboot", "-kernel", s.kernel_image, "-initrd", s.initrd});
  std::string append = "console=ttyS0 rdinit=/init panic=-1";
  // Cost mode: with sleep=off an idle vCPU's clock jumps to the next timer deadline. Without a
  // periodic tick that deadline can be seconds away, so every wait for a 9p read of the host's
  // root cost seconds of guest time: pathbench started 125 s (guest) after user space and its
  // 60 s command timeouts fired. With the tick on (nohz=off) a wait costs at most one tick
  // (docs/gotchas.md "icount: idle jumps to the next timer").
  if (s.accel == Accel::kTcgIcount) append += " loglevel=4 " + std::string(kCostModeCmdline);
  // Outside cost mode: a soft lockup or an RCU stall prints its call traces at KERN_DEFAULT, which
  // loglevel=4 keeps off the console (only its headline came back from a hung CI guest), and on
  // several vCPUs every CPU's backtrace says what the stuck one waits for. Cost mode keeps its
  // console as it was: a printed warning inside a window would be counted as instructions.
  else append += " " + std::string(kDiagnosticCmdline);
  if (!s.append_extra.empty()) append += " " + s.append_extra;
  a.insert(a.end(), {"-append", append});
  auto share = [&](const std::string& tag, const std::string& path, bool ro, bool remap) {
    std::string fs = "local,id=" + tag + ",path=" + path + ",security_model=none";
    if (ro) fs += ",readonly=on";
    if (remap) fs += ",multidevs=remap";
    a.insert(a.end(), {"-fsdev", fs, "-device", "virtio-9p-pci,fsdev=" + tag + ",mount_tag=" + tag});
  };
  share("pbroot", "/", true, true);
  if (!s.modules_dir.empty()) share("pbmods", s.modules_dir, true, false);
  share("pbout", s.share_dir, false, false);
  return a;
}

nlohmann::json guest_info(const GuestSpec& s, const std::string& qemu_version,
                          const std::string& host_kernel, const nlohmann::json& kernel_source) {
  nlohmann::json j = {{"accelerator", accel_name(s.accel)},
          {"vcpus", s.vcpus},
          {"memory_mib", s.memory_mib},
          {"qemu_version", qemu_version},
          {"host_kernel", host_kernel},
          {"kernel_source", kernel_source},
          {"performance_truth", s.accel == Accel::kKvm},
          {"note", s.accel == Accel::kTcg
                       ? "TCG (emulated CPU): results are functional truth; ratios between paths are distorted"
                   : s.accel == Accel::kTcgIcount
                       ? "cost mode: guest time is instructions; figures are CPU work, not the time a user waits"
                       : "KVM guest: compare only with other KVM guests"}};
  if (s.accel == Accel::kTcgIcount) {
    j["cost_mode"] = true;
    j["icount"] = {{"spec", kIcountSpec}, {"shift", 0}, {"sleep", false}, {"tcg_thread", "single"},
                   {"kernel_cmdline", kCostModeCmdline}};
    j["time_unit"] = "instruction";
    j["unit_note"] = "1 guest ns = 1 guest instruction (qemu -icount shift=0): every duration, rate, latency and "
                     "CPU time in this run counts instructions executed by the guest's one vCPU";
  } else {
    j["kernel_cmdline"] = kDiagnosticCmdline;  // call traces of a lockup or stall reach the console
  }
  return j;
}

std::string cost_mode_problem(const GuestSpec& s) {
  if (s.accel != Accel::kTcgIcount) return {};
  if (s.vcpus != 1)
    return "cost mode runs one vCPU (" + std::to_string(s.vcpus) + " asked): icount on several vCPUs interleaves them "
           "on one thread, so a window's guest time would be the work of all of them";
  return {};
}

std::string shell_quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) {
    if (c == '\'') o += "'\\''";
    else o += c;
  }
  return o + "'";
}

std::string init_script() {
  return R"SH(#!/bin/busybox sh
# pathbench vm: initramfs /init. Loads the kernel's virtio/9p/overlay modules, mounts the host's
# root (9p, read-only) under a tmpfs overlay and switch_roots into it (docs/gotchas.md "Module
# autoload needs switch_root").
/bin/busybox mkdir -p /proc /sys /dev /mnt/lower /mnt/rw /mnt/root /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "pathbench-vm: FAILED $*"; echo o > /proc/sysrq-trigger; sleep 30; }
echo "pathbench-vm: initramfs $(cut -d' ' -f1 /proc/uptime)"
if grep -q pathbench.probe /proc/cmdline; then echo "pathbench-vm: probe ok"; echo o > /proc/sysrq-trigger; sleep 30; fi
while read m; do insmod "/modules/$m" || fail "insmod $m"; done < /modules.list
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 pbroot /mnt/lower || fail "mount 9p root"
mount -t tmpfs -o mode=0755 tmpfs /mnt/rw || fail "mount tmpfs"
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work /mnt/root || fail "mount overlay"
if grep -q pathbench.mods /proc/cmdline; then
  mkdir -p /mnt/root/usr/lib/modules
  mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 pbmods /mnt/root/usr/lib/modules || fail "mount 9p modules"
fi
mkdir -p /mnt/root/pbvm
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 pbout /mnt/root/pbvm || fail "mount 9p results share"
mount --move /proc /mnt/root/proc && mount --move /sys /mnt/root/sys && mount --move /dev /mnt/root/dev || fail "move mounts"
exec switch_root /mnt/root /bin/sh /pbvm/guest.sh
fail "switch_root"
)SH";
}

std::string guest_script(const std::string& bin, const std::vector<std::string>& run_args) {
  std::string cmd = shell_quote(bin) + " run";
  for (auto& a : run_args) cmd += " " + shell_quote(a);
  return R"SH(#!/bin/sh
# pathbench vm: the guest's second stage, after switch_root into the overlay on the host's root.
up() { cut -d' ' -f1 /proc/uptime; }
echo "pathbench-vm: user space $(up)"
mount -t tmpfs -o mode=0755 tmpfs /run
# No tmpfs over /tmp: the overlay's upper layer is a tmpfs already, and a fresh one would hide a
# pathbench built under /tmp (a CI clone in /tmp: the guest's shell got exit 127 and init died).
mkdir -p /dev/shm /dev/pts && mount -t tmpfs tmpfs /dev/shm && mount -t devpts devpts /dev/pts
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ip link set lo up
hostname pathbench-vm
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
export PATHBENCH_GUEST_INFO=/pbvm/guest-info.json
cd /pbvm
echo "pathbench-vm: pathbench start $(up)"
)SH" + cmd + R"SH( --out-parent /pbvm/results
rc=$?
echo $rc > /pbvm/exit-status
echo "pathbench-vm: pathbench exit $rc $(up)"
sync
echo o > /proc/sysrq-trigger
sleep 30
)SH";
}

static double uptime_after(const std::string& log, const std::string& marker) {
  auto p = log.find(marker);
  if (p == std::string::npos) return -1;
  try {
    return std::stod(log.substr(p + marker.size()));
  } catch (...) {
    return 0;  // seen, time unreadable
  }
}

ConsoleMarks read_marks(const std::string& log) {
  ConsoleMarks m;
  m.initramfs_s = uptime_after(log, "pathbench-vm: initramfs ");
  m.userspace_s = uptime_after(log, "pathbench-vm: user space ");
  m.start_s = uptime_after(log, "pathbench-vm: pathbench start ");
  const std::string ex = "pathbench-vm: pathbench exit ";
  if (auto p = log.find(ex); p != std::string::npos) {
    std::istringstream in(log.substr(p + ex.size()));
    int rc = 0;
    double t = 0;
    if (in >> rc) {
      m.exit_rc = rc;
      m.exit_s = (in >> t) ? t : 0;
    }
  }
  auto line_at = [&](size_t p) {
    auto e = log.find('\n', p);
    return trim(log.substr(p, e == std::string::npos ? std::string::npos : e - p));
  };
  if (auto p = log.find("pathbench-vm: FAILED "); p != std::string::npos) m.failed = line_at(p + 21);
  else if (auto k = log.find("Kernel panic"); k != std::string::npos) m.failed = line_at(k);
  if (auto p = log.rfind("pathbench: ["); p != std::string::npos) m.last_step = line_at(p);
  // The first sign of kernel trouble and up to 40 lines after it (its call trace, with
  // softlockup_all_cpu_backtrace the other CPUs' too): a hung guest's console tail holds only the
  // repeated headlines.
  size_t first = std::string::npos;
  for (const char* sig : {"BUG: soft lockup", "rcu: INFO: rcu_", "BUG: ", "WARNING: CPU", "INFO: task "}) {
    auto k = log.find(sig);
    if (k != std::string::npos && (first == std::string::npos || k < first)) first = k;
  }
  if (first != std::string::npos) {
    size_t begin = log.rfind('\n', first);
    begin = begin == std::string::npos ? 0 : begin + 1;
    size_t end = begin;
    for (int i = 0; i < 40 && end != std::string::npos && end < log.size(); ++i) {
      end = log.find('\n', end);
      if (end != std::string::npos) ++end;
    }
    m.kernel_trouble = log.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  }
  return m;
}

Classified classify(const ConsoleMarks& m, WatchEnd end, std::optional<int> status_rc) {
  if (end == WatchEnd::kInterrupted) return {GuestVerdict::kInterrupted, 0, "interrupted"};
  std::optional<int> rc = status_rc ? status_rc : m.exit_rc;
  if (rc) {
    // The shell's "command not found" / "cannot execute": pathbench never ran.
    if (*rc == 126 || *rc == 127)
      return {GuestVerdict::kNoStart, *rc, "the guest's shell could not execute pathbench (exit " + std::to_string(*rc) + ")"};
    return {GuestVerdict::kRan, *rc, "pathbench ran and returned " + std::to_string(*rc)};
  }
  const std::string failed = m.failed.empty() ? "" : " (" + m.failed + ")";
  if (m.userspace_s < 0) {
    if (end == WatchEnd::kBootTimeout || end == WatchEnd::kRunTimeout)
      return {GuestVerdict::kNoBoot, 0, "did not reach user space before the boot timeout" + failed};
    return {GuestVerdict::kNoBoot, 0, "stopped before reaching user space" + failed};
  }
  if (m.start_s < 0)
    return {GuestVerdict::kNoStart, 0, "reached user space but pathbench did not start" + failed};
  if (end == WatchEnd::kRunTimeout)
    return {GuestVerdict::kHung, 0, "pathbench started but the run outlived the timeout" + failed};
  return {GuestVerdict::kDied, 0, "pathbench started but the guest stopped without its exit status" + failed};
}

}  // namespace pb::vm
