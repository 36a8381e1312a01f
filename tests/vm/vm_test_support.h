// SPDX-License-Identifier: Apache-2.0
// tests/vm/: what the privileged VM tests share: can this machine boot a guest at all, Debian's
// current 6.1 package (resolved through the linux-image-amd64 metapackage: old ABI names leave
// the archive), the kernel cache, the pbv-v* temp dirs and the qemu processes of one run.
#pragma once
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/strings.h"
#include "kernel/process.h"

namespace vmtest {

inline std::optional<std::string> cannot_boot() {
  if (geteuid() != 0) return "needs root (9p export of /, namespaces in the guest)";
  if (!pb::find_program("qemu-system-x86_64")) return "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)";
  if (access("/bin/busybox", X_OK) != 0) return "busybox-static not installed (apt-get install busybox-static)";
  return std::nullopt;
}

inline std::string debian_61_package() {
  pb::CmdResult d = pb::run_cmd({"apt-cache", "depends", "linux-image-amd64"}, {}, 30);
  for (auto& l : pb::split(d.out, '\n')) {
    std::string t = pb::trim(l);
    if (t.rfind("Depends: linux-image-", 0) != 0) continue;
    std::string signed_pkg = t.substr(9);
    for (auto& p : {signed_pkg + "-unsigned", signed_pkg})
      if (pb::run_cmd({"apt-cache", "show", "--no-all-versions", p}, {}, 30).status == 0) return p;
  }
  return {};
}

inline std::string cache_root() {
  const char* e = std::getenv("PATHBENCH_KERNEL_CACHE");
  return e ? e : "/var/cache/pathbench/kernels";
}
inline std::string cache_dir(const std::string& pkg) { return cache_root() + "/" + pkg; }
inline bool path_exists(const std::string& p) {
  struct stat st {};
  return lstat(p.c_str(), &st) == 0;
}
inline bool cache_is_complete(const std::string& pkg) { return path_exists(cache_dir(pkg) + "/.complete"); }
// Anything of pkg in the cache: its directory, its lock, a half-unpacked tree.
inline bool cache_has(const std::string& pkg) {
  if (path_exists(cache_dir(pkg)) || path_exists(cache_dir(pkg) + ".lock")) return true;
  bool any = false;
  if (DIR* d = opendir(cache_root().c_str())) {
    while (dirent* e = readdir(d))
      if (std::string(e->d_name).rfind("." + pkg + ".tmp-", 0) == 0) any = true;
    closedir(d);
  }
  return any;
}

// /tmp/pbv-v* (a `pathbench vm` run's initramfs, share and console log).
inline std::set<std::string> pbv_dirs() {
  std::set<std::string> v;
  const char* t = std::getenv("TMPDIR");
  std::string tmp = t ? t : "/tmp";
  if (DIR* d = opendir(tmp.c_str())) {
    while (dirent* e = readdir(d))
      if (std::string(e->d_name).rfind("pbv-v", 0) == 0) v.insert(tmp + "/" + e->d_name);
    closedir(d);
  }
  return v;
}

// Processes whose command line names `needle` (a run's temp dir: its qemu).
inline std::vector<int> qemu_pids_for(const std::string& needle) {
  std::vector<int> v;
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d)) {
      int pid = std::atoi(e->d_name);
      if (pid <= 0) continue;
      auto cmd = pb::read_file("/proc/" + std::string(e->d_name) + "/cmdline");
      if (cmd && cmd->find("qemu-system") != std::string::npos && cmd->find(needle) != std::string::npos) v.push_back(pid);
    }
    closedir(d);
  }
  return v;
}

// Fills the cache (a boot bounded to 1 s: the kernel is fetched and unpacked first).
inline bool ensure_cached(const std::string& pkg) {
  if (cache_is_complete(pkg)) return true;
  pb::run_cmd({PATHBENCH_BINARY, "vm", "--kernel", pkg, "--accel", "tcg", "--boot-timeout-s", "1", "--out-parent",
               "/tmp/pbvt-cache-fill"},
              {}, 900);
  pb::run_cmd({"rm", "-rf", "/tmp/pbvt-cache-fill"});
  return cache_is_complete(pkg);
}

}  // namespace vmtest
