// SPDX-License-Identifier: Apache-2.0
// vm/kernels.h: which kernel a guest boots. A Debian package (fetched with apt-get download,
// unpacked, never installed, cached), the running kernel's own image, or a kernel the user built.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pb {
class OwnedResources;
}

namespace pb::vm {

struct Kernel {
  std::string image, modules_root, release, config;  // modules_root holds <release>/ ("" = none)
  nlohmann::json source;                              // recorded as virtualization.kernel_source
};

std::string cache_root();
std::string debian_mirror();  // $PATHBENCH_DEBIAN_MIRROR or http://deb.debian.org/debian  // $PATHBENCH_KERNEL_CACHE or /var/cache/pathbench/kernels

// Where the running kernel's files are expected, and what is missing there ("" = bootable).
struct RunningFiles {
  std::string image, modules, config;
};
RunningFiles running_files(const std::string& release);
std::string running_problem(const std::string& release, bool has_image, bool has_modules, const std::string& alternative);

// Debian's current generic kernel: the linux-image-amd64 metapackage's dependency, its -unsigned
// build where apt has one. "" when apt knows none.
std::string debian_current_package();

// `--kernel NAME`: a package, `running` (Error kExitVmNoRunningImage when its image is not
// here, naming the alternative) or `auto` (running where bootable, else Debian's current).
Kernel named_kernel(const std::string& name, OwnedResources& owned);
Kernel package_kernel(const std::string& pkg, OwnedResources& owned);
Kernel built_kernel(const std::string& image, const std::string& modules, const std::string& config);

// sh -c SCRIPT with arguments, bounded; EnvError naming `what` on failure.
void sh(const std::string& script, const std::vector<std::string>& args, int timeout_s, const std::string& what);
bool exists(const std::string& path);
std::vector<std::string> list_dir(const std::string& dir);

}  // namespace pb::vm
