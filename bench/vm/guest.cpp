// SPDX-License-Identifier: Apache-2.0
#include "vm/guest.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include "common/error.h"
#include "common/fs.h"
#include "common/json_io.h"
#include "common/log.h"
#include "common/strings.h"
#include "kernel/host.h"
#include "kernel/process.h"
#include "run/runner.h"
#include "run/runstate.h"
#include "vm/kernels.h"
#include "vm/options.h"
#include "vm/vm.h"

namespace pb::vm {
namespace {

std::string tail_of(const std::string& file, int lines) {
  auto t = read_file(file).value_or("");
  auto v = split(t, '\n');
  int from = std::max(0, static_cast<int>(v.size()) - lines);
  std::string o;
  for (size_t i = from; i < v.size(); ++i) o += "  | " + v[i] + "\n";
  return o;
}

void build_initramfs(const Kernel& k, const std::string& dir, const std::string& out) {
  make_dirs(dir + "/bin");
  make_dirs(dir + "/modules");
  run_cmd_checked({"cp", "/bin/busybox", dir + "/bin/busybox"});
  { std::ofstream(dir + "/init") << init_script(); }
  chmod((dir + "/init").c_str(), 0755);
  std::string list;
  if (!k.modules_root.empty()) {
    std::string mdir = k.modules_root + "/" + k.release;
    auto dep = read_file(mdir + "/modules.dep");
    if (!dep) throw Error(kExitVmNotKernel, mdir + "/modules.dep missing (run depmod -b)");
    ModulePlan plan = plan_modules(*dep, read_file(mdir + "/modules.builtin").value_or(""), initramfs_modules());
    if (!plan.missing.empty())
      throw Error(kExitVmKernelConfig, "kernel " + k.release + " lacks modules the guest needs: " + join(plan.missing, ", ") +
                                           " (Debian's -cloud-amd64 flavour has no 9p: use the generic -amd64 one)");
    int n = 0;
    for (auto& f : plan.files) {
      std::string base = std::to_string(n++) + ".ko", src = mdir + "/" + f, dst = dir + "/modules/" + base;
      if (f.size() > 3 && f.substr(f.size() - 3) == ".xz") sh("xz -dc \"$1\" > \"$2\"", {src, dst}, 60, "xz " + f);
      else if (f.size() > 4 && f.substr(f.size() - 4) == ".zst") sh("zstd -qdc \"$1\" > \"$2\"", {src, dst}, 60, "zstd " + f);
      else if (f.size() > 3 && f.substr(f.size() - 3) == ".gz") sh("gzip -dc \"$1\" > \"$2\"", {src, dst}, 60, "gzip " + f);
      else run_cmd_checked({"cp", src, dst});
      list += base + "\n";
    }
  }
  { std::ofstream(dir + "/modules.list") << list; }
  sh("cd \"$1\" && find . | cpio -o -H newc --quiet | gzip -1 > \"$2\"", {dir, out}, 120, "cpio");
}

struct Watch {
  WatchEnd end = WatchEnd::kPoweredOff;
  ConsoleMarks marks;
  double wall_s = 0;
};

// Runs qemu until the guest powers off, a marker says it failed, or a bound passes: the boot
// bound until pathbench starts, the run bound after (a hung guest is killed, never waited for).
Watch boot(const GuestSpec& spec, OwnedResources& owned, int boot_timeout_s, int timeout_s, bool probe) {
  std::vector<std::string> argv = {"setpriv", "--pdeathsig", "KILL", "--"};  // qemu dies with pathbench
  for (auto& a : qemu_argv(spec)) argv.push_back(a);
  auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  ChildProcess qemu(argv);
  const int pid = qemu.pid();
  owned.add_pid(pid);
  Watch w;
  double exit_seen = -1;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::string log = read_file(spec.console_log).value_or("");
    w.marks = read_marks(log);
    bool running = qemu.running();
    if (probe && log.find("pathbench-vm: probe ok") != std::string::npos) break;
    if (!running) { w.end = WatchEnd::kPoweredOff; break; }
    if (w.marks.exit_rc) {  // pathbench is done: the guest syncs and powers off; bounded
      if (exit_seen < 0) exit_seen = elapsed();
      if (elapsed() - exit_seen > 20) { w.end = WatchEnd::kPoweredOff; break; }
      continue;
    }
    if (!w.marks.failed.empty()) {
      // A panic prints a screenful more; give the console a moment to catch up.
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      w.marks = read_marks(read_file(spec.console_log).value_or(""));
      w.end = WatchEnd::kFailedMarker;
      break;
    }
    if (g_interrupted.load()) { w.end = WatchEnd::kInterrupted; break; }
    if (w.marks.start_s < 0 && elapsed() > boot_timeout_s) { w.end = WatchEnd::kBootTimeout; break; }
    if (elapsed() > timeout_s) { w.end = WatchEnd::kRunTimeout; break; }
  }
  w.wall_s = elapsed();
  qemu.stop();
  owned.drop_pid(pid);
  return w;
}

}  // namespace

int command(const std::vector<std::string>& args) {
  VmOptions opt = parse_vm_options(args);
  if (opt.help) {
    std::cout << vm_help();
    return kExitOk;
  }
  const std::string& accel_req = opt.accel;
  const int vcpus = opt.vcpus, memory = opt.memory_mib, boot_timeout = opt.boot_timeout_s, timeout = opt.timeout_s;
  const std::string &out_parent = opt.out_parent, &latest = opt.latest_link;
  const std::vector<std::string>& run_args = opt.run_args;
  if (!is_root()) throw EnvError("pathbench vm needs root (9p export of /, the guest runs pathbench as root)");
  auto qemu_bin = find_program("qemu-system-x86_64");
  if (!qemu_bin) throw Error(kExitVmNoQemu, "qemu-system-x86_64 not found: apt-get install qemu-system-x86");
  if (!exists("/bin/busybox")) throw Error(kExitVmNoQemu, "/bin/busybox not found (the guest's initramfs): apt-get install busybox-static");
  if (memory < 1024)
    throw Error(kExitVmMemory, "--memory-mib " + std::to_string(memory) + " is too little: the guest needs at least 1024 MiB "
                               "(its overlay writes and the suite live in guest RAM)");
  long avail_mib = 0;
  for (auto& l : split(read_file("/proc/meminfo").value_or(""), '\n'))
    if (l.rfind("MemAvailable:", 0) == 0) avail_mib = std::atol(l.substr(13).c_str()) / 1024;
  if (avail_mib > 0 && memory + 256 > avail_mib)
    throw Error(kExitVmMemory, "too little memory: the guest wants " + std::to_string(memory) + " MiB, the host has " +
                                   std::to_string(avail_mib) + " MiB available; lower --memory-mib or free memory");

  std::string id = "v" + new_run_id();
  OwnedResources owned(id);
  std::string tmp = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/pbv-" + id;
  owned.add_dir(tmp);
  struct TmpGuard {
    std::string p;
    OwnedResources& o;
    ~TmpGuard() {
      remove_tree(p);
      o.drop_dir(p);
    }
  } guard{tmp, owned};
  make_dirs(tmp + "/share/results");

  Kernel k = opt.kernel.empty() ? built_kernel(opt.kernel_image, opt.modules, opt.kernel_config)
                                : named_kernel(opt.kernel, owned);
  if (!k.config.empty()) {
    auto text = read_file(k.config);
    if (!text) throw Error(kExitVmKernelConfig, "kernel config " + k.config + " unreadable");
    auto miss = missing_config(*text);
    if (!miss.empty())
      throw Error(kExitVmKernelConfig, "kernel " + k.release + " lacks what the guest needs: " + join(miss, ", ") +
                                           (opt.kernel.find("cloud") != std::string::npos ? " (the -cloud-amd64 flavour has no 9p: use the generic -amd64 one)" : ""));
  } else {
    log::warn("vm: no kernel config to check (--kernel-config FILE checks 9p/virtio/overlay/veth/BPF up front)");
  }
  build_initramfs(k, tmp + "/initramfs", tmp + "/initrd.gz");

  GuestSpec spec;
  spec.qemu = *qemu_bin;
  spec.vcpus = vcpus;
  spec.memory_mib = memory;
  spec.kernel_image = k.image;
  spec.initrd = tmp + "/initrd.gz";
  spec.modules_dir = k.modules_root;
  spec.share_dir = tmp + "/share";
  if (!k.modules_root.empty()) spec.append_extra = "pathbench.mods";

  bool dev_kvm = exists("/dev/kvm");
  bool probe_ok = false;
  if (accel_req == "auto" && dev_kvm) {
    GuestSpec p = spec;
    p.accel = Accel::kKvm;
    p.console_log = tmp + "/kvm-probe.log";
    p.append_extra += " pathbench.probe";
    Watch w = boot(p, owned, 8, 8, true);
    probe_ok = read_file(p.console_log).value_or("").find("pathbench-vm: probe ok") != std::string::npos;
    log::info("vm: KVM probe {} ({:.1f} s)", probe_ok ? "reached user space: using KVM" : "did not reach user space: using TCG", w.wall_s);
    if (w.end == WatchEnd::kInterrupted) return g_interrupted.load() == 2 ? kExitSigint : kExitSigterm;
  }
  if (accel_req == "kvm" && !dev_kvm) throw EnvError("--accel kvm: /dev/kvm does not exist (use --accel tcg)");
  spec.accel = decide_accel(accel_req, dev_kvm, probe_ok);
  spec.console_log = tmp + "/console.log";
  if (auto why = cost_mode_problem(spec); !why.empty()) throw Error(kExitVmCostSetting, "vm: " + why);

  std::string qver = split(run_cmd({*qemu_bin, "--version"}, {}, 10).out, '\n')[0];
  write_json_atomic(tmp + "/share/guest-info.json", guest_info(spec, qver, kernel_release(), k.source));
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) throw_errno("readlink /proc/self/exe", errno);
  self[n] = 0;
  { std::ofstream(tmp + "/share/guest.sh") << guest_script(self, run_args); }

  log::info("vm: booting {} under {} ({} vCPUs, {} MiB); console: {}", k.release, accel_name(spec.accel), vcpus, memory,
            spec.console_log);
  Watch w = boot(spec, owned, boot_timeout, timeout, false);

  // The console log lives next to the results: in the results directory, or beside it on failure.
  make_dirs(out_parent, "results directory");
  std::string result_dir;
  for (auto& d : list_dir(tmp + "/share/results")) result_dir = d;
  std::string dst;  // where the results directory lands: its own name, or with the VM run's id
                    // appended when another run (two VM runs at once) took that name the same second
  if (!result_dir.empty()) {
    dst = out_parent + "/" + result_dir;
    if (mkdir(dst.c_str(), 0755) != 0) {  // mkdir reserves the name: never overwrites, never races
      if (errno != EEXIST) throw_errno("mkdir " + dst, errno);
      dst += "-" + id;
      if (mkdir(dst.c_str(), 0755) != 0) throw_errno("mkdir " + dst, errno);
    }
    sh("cp -a -- \"$1/.\" \"$2/\"", {tmp + "/share/results/" + result_dir, dst}, 120, "copying results");
    if (!latest.empty()) point_link(latest, dst);
  }
  std::string console_dst = dst.empty() ? out_parent + "/" + id + "-console.log" : dst + "/console.log";
  sh("cp -- \"$1\" \"$2\"", {spec.console_log, console_dst}, 60, "copying the console log");
  std::string tail = tail_of(spec.console_log, 15);
  std::optional<int> status_rc;
  if (auto t = read_file(tmp + "/share/exit-status")) {
    try {
      status_rc = std::stoi(trim(*t));
    } catch (...) {
    }
  }
  Classified c = classify(w.marks, w.end, status_rc);
  // A guest stopped from outside (SIGINT/SIGTERM here, the timeout, a crash) could not finish its
  // run.json: it still says "running". Say what happened, so the report does not read it as whole.
  if (!dst.empty() && c.verdict != GuestVerdict::kRan) {
    try {
      auto text = read_file(dst + "/run.json");
      if (text) {
        auto doc = nlohmann::json::parse(*text);
        if (doc.value("status", std::string()) == "running") {
          doc["status"] = c.verdict == GuestVerdict::kInterrupted ? "interrupted" : "failed";
          doc["vm_outcome"] = c.what;
          write_json_atomic(dst + "/run.json", doc);
        }
      }
    } catch (const std::exception& e) {
      log::warn("vm: {}/run.json: {}", dst, e.what());
    }
  }
  const std::string where = "guest kernel " + k.release + " under " + accel_name(spec.accel);
  // A hung or dead run says where it was and what the kernel reported first, before the tail.
  std::string trouble;
  if (c.verdict == GuestVerdict::kHung || c.verdict == GuestVerdict::kDied) {
    const ConsoleMarks full = read_marks(read_file(spec.console_log).value_or(""));
    if (!full.last_step.empty()) trouble += "; its last step: " + full.last_step;
    if (!full.kernel_trouble.empty()) {
      trouble += "; the kernel's first report:\n";
      for (auto& l : split(full.kernel_trouble, '\n'))
        if (!l.empty()) trouble += "  | " + l + "\n";
    }
  }
  const std::string console = trouble + "; console " + console_dst + " ends:\n" + tail;
  switch (c.verdict) {
    case GuestVerdict::kInterrupted:
      return g_interrupted.load() == 2 ? kExitSigint : kExitSigterm;
    case GuestVerdict::kNoBoot:
      throw Error(kExitVmNoBoot, where + " did not boot: it " + c.what +
                                     (w.end == WatchEnd::kBootTimeout ? ", killed after " + std::to_string(boot_timeout) +
                                                                            " s (--boot-timeout-s)" : "") + console);
    case GuestVerdict::kNoStart:
      throw Error(kExitVmNoStart, where + " booted, but " + c.what + console);
    case GuestVerdict::kHung:
      throw Error(kExitVmHung, where + ": " + c.what + ", killed after " + std::to_string(timeout) +
                                   " s (--timeout-s)" + (dst.empty() ? "" : "; partial results in " + dst) + console);
    case GuestVerdict::kDied:
      throw Error(kExitVmHung, where + ": " + c.what + (dst.empty() ? "" : "; partial results in " + dst) + console);
    case GuestVerdict::kRan:
      break;
  }
  auto t = [](double v) { return v < 0 ? std::string("-") : fmt::format("{:.1f} s", v); };
  log::info("vm: {}: initramfs at {}, user space at {}, pathbench started at {} (guest uptime), {:.1f} s in all; "
            "pathbench returned {}; results {}", where, t(w.marks.initramfs_s), t(w.marks.userspace_s), t(w.marks.start_s),
            w.wall_s, c.rc, dst.empty() ? std::string("none came back") : dst);
  if (dst.empty() && c.rc <= 1)
    throw Error(kExitVmHung, where + ": pathbench returned " + std::to_string(c.rc) + " but left no results directory" + console);
  return c.rc;
}

}  // namespace pb::vm
