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
#include "vm/vm.h"

namespace pb::vm {
namespace {

const char* kHelp = R"(usage: pathbench vm (--kernel PACKAGE | --kernel-image BZIMAGE [--modules DIR] [--kernel-config FILE])
                    [--accel auto|kvm|tcg] [--vcpus N] [--memory-mib M] [--boot-timeout-s S] [--timeout-s S]
                    [--out-parent DIR] [--latest-link LINK] [-- RUN OPTIONS]

Boots another kernel in a qemu guest on the host's own root filesystem (virtio-9p, read-only,
tmpfs overlay), runs `pathbench run RUN OPTIONS` inside it and brings the results directory back
into --out-parent (default results), with the guest's console log as console.log in it.
  --kernel PACKAGE      a Debian kernel package (linux-image-6.1.0-50-amd64-unsigned); fetched with
                        apt-get download, unpacked (not installed) into /var/cache/pathbench/kernels
  --kernel-image FILE   a kernel you built (arch/x86/boot/bzImage); --modules its modules directory
                        (INSTALL_MOD_PATH/lib/modules/<release>), --kernel-config its .config
  --accel               auto (default): KVM when a bounded probe boot works, else TCG.
                        Under TCG results are functional truth, not performance truth.
Exit codes: 5 unknown package, 6 not a kernel, 7 kernel lacks 9p/virtio/overlay/veth/BPF,
8 qemu or busybox-static missing, 9 too little memory, 10 guest did not boot, 11 guest hung or
died during the run, 12 guest booted but pathbench did not start in it; otherwise the guest's
`pathbench run` exit code (its results and console.log come back either way).
)";

std::string cache_root() {
  if (const char* e = std::getenv("PATHBENCH_KERNEL_CACHE")) return e;
  return "/var/cache/pathbench/kernels";
}

bool exists(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0;
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> v;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") v.push_back(e->d_name);
    closedir(d);
  }
  return v;
}

struct Kernel {
  std::string image, modules_root, release, config;  // modules_root holds <release>/
  nlohmann::json source;
};

void sh(const std::string& script, const std::vector<std::string>& args, int timeout_s, const std::string& what) {
  std::vector<std::string> argv = {"sh", "-c", script, "sh"};
  argv.insert(argv.end(), args.begin(), args.end());
  CmdResult r = run_cmd(argv, {}, timeout_s);
  if (r.status != 0) throw EnvError(what + " failed (exit " + std::to_string(r.status) + "): " + trim(r.err));
}

std::string find_modules_root(const std::string& root, const std::string& release) {
  for (auto& c : {root + "/lib/modules", root + "/usr/lib/modules"})
    if (exists(c + "/" + release)) return c;
  return {};
}

// The kernel of a Debian package, unpacked into the cache once (flock while filling).
Kernel package_kernel(const std::string& pkg, OwnedResources& owned) {
  if (!valid_package_name(pkg))
    throw UsageError("--kernel '" + pkg + "' is not a Debian package name (e.g. linux-image-6.1.0-50-amd64-unsigned)");
  std::string cache = cache_root();
  make_dirs(cache, "kernel cache");
  std::string dir = cache + "/" + pkg, lock = cache + "/" + pkg + ".lock";
  if (!exists(dir + "/.complete")) {  // before the lock file: an unknown name leaves nothing
    CmdResult show = run_cmd({"apt-cache", "show", "--no-all-versions", pkg}, {}, 60);
    if (show.status != 0 || trim(show.out).empty())
      throw Error(kExitVmUnknownPackage, "unknown package '" + pkg +
                                             "': apt has no such package (see `apt-cache search linux-image`; "
                                             "run apt-get update if the lists are old)");
  }
  int fd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno("open " + lock, errno);
  if (flock(fd, LOCK_EX) != 0) throw_errno("flock " + lock, errno);  // released on close / exit
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  if (!exists(dir + "/.complete")) {
    std::string tmp = cache + "/." + pkg + ".tmp-" + std::to_string(getpid());
    owned.add_dir(tmp);
    remove_tree(tmp);
    make_dirs(tmp + "/deb");
    log::info("vm: fetching {} (apt-get download, unpacked into {}, not installed)", pkg, dir);
    sh("cd \"$1\" && apt-get download -q \"$2\"", {tmp + "/deb", pkg}, 600, "apt-get download " + pkg);
    auto debs = list_dir(tmp + "/deb");
    if (debs.empty()) throw EnvError("apt-get download " + pkg + " produced no .deb");
    run_cmd_checked({"dpkg-deb", "-x", tmp + "/deb/" + debs[0], tmp + "/root"}, {}, 300);
    remove_tree(tmp + "/deb");
    std::string release;
    for (auto& f : list_dir(tmp + "/root/boot"))
      if (f.rfind("vmlinuz-", 0) == 0) release = f.substr(8);
    if (release.empty()) {
      remove_tree(tmp);
      owned.drop_dir(tmp);
      unlink(lock.c_str());
      CmdResult dep = run_cmd({"apt-cache", "depends", pkg}, {}, 30);
      std::string hint;
      for (auto& l : split(dep.out, '\n'))
        if (trim(l).rfind("Depends: linux-image-", 0) == 0) hint = " (it depends on " + trim(l).substr(9) + ": use that)";
      throw Error(kExitVmNotKernel, "'" + pkg + "' is not a kernel package: it holds no /boot/vmlinuz-*" + hint +
                                        "; choose a linux-image-<version>-<flavour> package");
    }
    std::string mroot = find_modules_root(tmp + "/root", release);
    if (!mroot.empty()) {
      std::string base = mroot.substr(0, mroot.size() - std::string("/lib/modules").size());
      run_cmd_checked({"depmod", "-b", base, release}, {}, 300);  // the package ships no modules.dep
    }
    if (rename(tmp.c_str(), dir.c_str()) != 0) {
      remove_tree(dir);
      if (rename(tmp.c_str(), dir.c_str()) != 0) throw_errno("rename " + tmp, errno);
    }
    owned.drop_dir(tmp);
    std::ofstream(dir + "/.complete") << release << "\n";
  }
  Kernel k;
  k.release = trim(read_file(dir + "/.complete").value_or(""));
  k.image = dir + "/root/boot/vmlinuz-" + k.release;
  k.modules_root = find_modules_root(dir + "/root", k.release);
  k.config = dir + "/root/boot/config-" + k.release;
  k.source = {{"package", pkg}, {"release", k.release}};
  return k;
}

Kernel built_kernel(const std::string& image, const std::string& modules, const std::string& config) {
  Kernel k;
  k.image = image;
  auto head = read_file(image);
  // A bzImage has "HdrS" at 0x202 (the x86 boot protocol header).
  if (!head || head->size() < 0x206 || head->substr(0x202, 4) != "HdrS")
    throw Error(kExitVmNotKernel, "--kernel-image " + image + " is not an x86 kernel image (no boot header; use arch/x86/boot/bzImage)");
  if (!modules.empty()) {
    std::string m = modules;
    while (m.size() > 1 && m.back() == '/') m.pop_back();
    auto slash = m.rfind('/');
    k.release = m.substr(slash + 1);
    k.modules_root = slash == std::string::npos ? "." : m.substr(0, slash);
    if (!exists(m + "/modules.dep"))
      throw Error(kExitVmNotKernel, "--modules " + modules + " has no modules.dep (run `depmod -b BASE " + k.release +
                                        "` or `make modules_install INSTALL_MOD_PATH=...`)");
  }
  k.config = config;
  if (k.config.empty() && !modules.empty() && exists(modules + "/build/.config")) k.config = modules + "/build/.config";
  k.source = {{"image", image}, {"modules", modules}, {"release", k.release}};
  return k;
}

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
  std::string pkg, image, modules, config, accel_req = "auto", out_parent = "results", latest;
  int vcpus = 2, memory = 2048, boot_timeout = 120, timeout = 3600;
  std::vector<std::string> run_args;
  auto num = [](const std::string& opt, const std::string& v, int lo, int hi) {
    try {
      size_t pos = 0;
      long x = std::stol(v, &pos);
      if (pos == v.size() && x >= lo && x <= hi) return static_cast<int>(x);
    } catch (...) {
    }
    throw UsageError(opt + " '" + v + "': expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") { std::cout << kHelp; return kExitOk; }
    if (a == "--") { run_args.assign(args.begin() + i + 1, args.end()); break; }
    if (i + 1 >= args.size()) throw UsageError("vm: " + a + " needs a value (see `pathbench vm --help`)");
    const std::string& v = args[++i];
    if (a == "--kernel") pkg = v;
    else if (a == "--kernel-image") image = v;
    else if (a == "--modules") modules = v;
    else if (a == "--kernel-config") config = v;
    else if (a == "--accel") accel_req = v;
    else if (a == "--vcpus") vcpus = num(a, v, 1, 64);
    else if (a == "--memory-mib") memory = num(a, v, 1, 1 << 20);
    else if (a == "--boot-timeout-s") boot_timeout = num(a, v, 1, 3600);
    else if (a == "--timeout-s") timeout = num(a, v, 1, 86400);
    else if (a == "--out-parent") out_parent = v;
    else if (a == "--latest-link") latest = v;
    else throw UsageError("vm: unknown option '" + a + "' (see `pathbench vm --help`)");
  }
  if (pkg.empty() == image.empty()) throw UsageError("vm: give either --kernel PACKAGE or --kernel-image BZIMAGE");
  if (accel_req != "auto" && accel_req != "kvm" && accel_req != "tcg") throw UsageError("vm: --accel auto|kvm|tcg");
  if (!run_args.empty() && run_args[0] == "run") run_args.erase(run_args.begin());
  for (auto& a : run_args)
    if (a == "--out" || a == "--out-parent" || a == "--latest-link")
      throw UsageError("vm: " + a + " belongs before `--` (the guest writes into its results share)");
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

  Kernel k = pkg.empty() ? built_kernel(image, modules, config) : package_kernel(pkg, owned);
  if (!k.config.empty()) {
    auto text = read_file(k.config);
    if (!text) throw Error(kExitVmKernelConfig, "kernel config " + k.config + " unreadable");
    auto miss = missing_config(*text);
    if (!miss.empty())
      throw Error(kExitVmKernelConfig, "kernel " + k.release + " lacks what the guest needs: " + join(miss, ", ") +
                                           (pkg.find("cloud") != std::string::npos ? " (the -cloud-amd64 flavour has no 9p: use the generic -amd64 one)" : ""));
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
    if (!latest.empty()) {
      unlink(latest.c_str());
      auto slash = latest.rfind('/');
      std::string link_parent = slash == std::string::npos ? "." : latest.substr(0, slash);
      std::string target = dst.rfind(link_parent + "/", 0) == 0 ? dst.substr(link_parent.size() + 1) : dst;
      if (symlink(target.c_str(), latest.c_str()) != 0) log::warn("{}", errno_msg("symlink " + latest, errno));
    }
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
  const std::string console = "; console " + console_dst + " ends:\n" + tail;
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
