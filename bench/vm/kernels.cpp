// SPDX-License-Identifier: Apache-2.0
#include "vm/kernels.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/strings.h"
#include "kernel/host.h"
#include "kernel/process.h"
#include "run/runstate.h"
#include "vm/vm.h"

namespace pb::vm {

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

void sh(const std::string& script, const std::vector<std::string>& args, int timeout_s, const std::string& what) {
  std::vector<std::string> argv = {"sh", "-c", script, "sh"};
  argv.insert(argv.end(), args.begin(), args.end());
  CmdResult r = run_cmd(argv, {}, timeout_s);
  if (r.status != 0) throw EnvError(what + " failed (exit " + std::to_string(r.status) + "): " + trim(r.err));
}

static std::string find_modules_root(const std::string& root, const std::string& release) {
  for (auto& c : {root + "/lib/modules", root + "/usr/lib/modules"})
    if (exists(c + "/" + release)) return c;
  return {};
}

std::string debian_mirror() {
  if (const char* e = std::getenv("PATHBENCH_DEBIAN_MIRROR")) return e;
  return "http://deb.debian.org/debian";
}

// The apt options for a suite's private lists (<cache>/apt/<suite>/), updated when absent or a
// day old (old kernels leave the archive, new ones arrive). A suite the archive does not serve:
// kExitVmUnknownSuite, and nothing left behind.
static std::vector<std::string> suite_apt_options(const std::string& suite) {
  const std::string dir = cache_root() + "/apt/" + suite, stamp = dir + "/.updated";
  auto opts = private_apt_options(dir);
  struct stat st {};
  if (stat(stamp.c_str(), &st) == 0 && time(nullptr) - st.st_mtime < 86400) return opts;
  const bool existed = exists(dir);
  make_dirs(dir + "/lists/partial", "private apt lists");
  make_dirs(dir + "/cache/archives/partial", "private apt cache");
  std::ofstream(dir + "/sources.list") << private_sources_line(debian_mirror(), suite) << "\n";
  std::vector<std::string> argv = {"apt-get", "-q"};
  argv.insert(argv.end(), opts.begin(), opts.end());
  argv.push_back("update");
  log::info("vm: apt lists of suite {} (private, in {}; /etc/apt untouched)", suite, dir);
  CmdResult r = run_cmd(argv, {}, 300);
  // apt-get update exits 0 even for a missing Release file on some versions: read its output too.
  const std::string all = r.out + "\n" + r.err;
  if (r.status != 0 || all.find("does not have a Release file") != std::string::npos ||
      all.find("404  Not Found") != std::string::npos) {
    if (!existed) remove_tree(dir);
    std::string first;
    for (auto& l : split(all, '\n'))
      if (first.empty() && (l.rfind("E: ", 0) == 0 || l.rfind("Err:", 0) == 0)) first = trim(l);
    if (all.find("Release file") != std::string::npos || all.find("404") != std::string::npos)
      throw Error(kExitVmUnknownSuite, "unknown suite '" + suite + "': " + debian_mirror() +
                                           " does not serve it (e.g. bookworm-backports, trixie): " + first);
    throw EnvError("apt-get update of suite " + suite + " (private lists) failed (exit " + std::to_string(r.status) +
                   "): " + (first.empty() ? trim(r.err) : first));
  }
  std::ofstream(stamp) << "\n";
  return opts;
}

// The kernel of a Debian package (PACKAGE or PACKAGE/SUITE), unpacked into the cache once (flock
// while filling).
Kernel package_kernel(const std::string& name, OwnedResources& owned) {
  const PackageRef ref = parse_package_ref(name);
  const std::string& pkg = ref.package;
  std::string cache = cache_root();
  make_dirs(cache, "kernel cache");
  std::string dir = cache + "/" + pkg, lock = cache + "/" + pkg + ".lock";
  std::vector<std::string> apt_opts;
  if (!exists(dir + "/.complete")) {  // before the lock file: an unknown name leaves nothing
    if (!ref.suite.empty()) apt_opts = suite_apt_options(ref.suite);
    std::vector<std::string> argv = {"apt-cache"};
    argv.insert(argv.end(), apt_opts.begin(), apt_opts.end());
    argv.insert(argv.end(), {"show", "--no-all-versions", pkg});
    CmdResult show = run_cmd(argv, {}, 60);
    if (show.status != 0 || trim(show.out).empty())
      throw Error(kExitVmUnknownPackage,
                  "unknown package '" + pkg + "': " +
                      (ref.suite.empty() ? "apt has no such package (see `apt-cache search linux-image`; run apt-get "
                                           "update if the lists are old, or name a suite: PACKAGE/SUITE)"
                                         : "suite " + ref.suite + " has no such package (its lists: " + cache_root() +
                                               "/apt/" + ref.suite + ")"));
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
    std::vector<std::string> dl = {tmp + "/deb"};
    dl.insert(dl.end(), apt_opts.begin(), apt_opts.end());
    dl.push_back(pkg);
    sh("cd \"$1\" && shift && apt-get download -q \"$@\"", dl, 600, "apt-get download " + name);
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
  if (!ref.suite.empty()) k.source["suite"] = ref.suite;
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


RunningFiles running_files(const std::string& release) {
  return {"/boot/vmlinuz-" + release, "/lib/modules/" + release, "/boot/config-" + release};
}

std::string running_problem(const std::string& release, bool has_image, bool has_modules, const std::string& alternative) {
  if (has_image && has_modules) return {};
  std::string what = !has_image ? "no /boot/vmlinuz-" + release : "no /lib/modules/" + release;
  if (!has_image && !has_modules) what += " and no /lib/modules/" + release;
  return "the running kernel " + release + " cannot be booted in a guest: " + what +
         " (a kernel booted from outside this filesystem, as in a Firecracker or container host); name one: --kernel " +
         (alternative.empty() ? "linux-image-<version>-amd64-unsigned" : alternative) +
         " (a Debian package), --kernel auto, or --kernel-image BZIMAGE --modules DIR";
}

std::string debian_current_package() {
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

Kernel named_kernel(const std::string& name, OwnedResources& owned) {
  if (name != "running" && name != "auto") return package_kernel(name, owned);
  const std::string release = kernel_release();
  RunningFiles f = running_files(release);
  bool img = exists(f.image), mods = exists(f.modules);
  std::string problem = running_problem(release, img, mods, debian_current_package());
  if (!problem.empty()) {
    if (name == "running") throw Error(kExitVmNoRunningImage, problem);
    std::string pkg = debian_current_package();
    if (pkg.empty())
      throw Error(kExitVmNoRunningImage, problem + "; and apt knows no linux-image-amd64 to fall back to (apt-get update?)");
    log::info("vm: --kernel auto: {}; using Debian's current kernel {}", problem.substr(0, problem.find(" (")), pkg);
    Kernel k = package_kernel(pkg, owned);
    k.source["chosen_by"] = "auto: the running kernel " + release + " has no bootable image here";
    return k;
  }
  Kernel k = built_kernel(f.image, f.modules, exists(f.config) ? f.config : "");
  k.source = {{"running", true}, {"image", f.image}, {"modules", f.modules}, {"release", release}};
  if (name == "auto") k.source["chosen_by"] = "auto: the running kernel";
  return k;
}

}  // namespace pb::vm
