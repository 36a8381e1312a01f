// SPDX-License-Identifier: Apache-2.0
// vm/options.h: the options of `pathbench vm` (Boost.Program_options, like `run`), parsed and
// checked without touching the machine, so every rule is unit-tested. `--help` is generated from
// the same description.
#pragma once
#include <string>
#include <vector>

namespace pb::vm {

struct VmOptions {
  // Which kernel: exactly one of kernel (a Debian package, `running`, or `auto`) and kernel_image.
  std::string kernel;         // "" when --kernel-image is given
  std::string kernel_image, modules, kernel_config;
  std::string accel = "auto";  // auto | kvm | tcg | tcg-icount (cost mode)
  int vcpus = 2;               // cost mode: 1 (the default there; more is refused)
  bool vcpus_given = false;
  int memory_mib = 2048;
  int boot_timeout_s = 120;
  int timeout_s = 3600;
  std::string out_parent = "results";
  std::string latest_link;
  std::vector<std::string> run_args;  // after `--`, for the guest's `pathbench run`
  bool help = false;

  bool cost_mode() const { return accel == "tcg-icount"; }
};

// Parses `pathbench vm` arguments. UsageError (exit 2) for malformed input; Error with
// kExitVmCostSetting (13) for a setting that would break "1 guest ns = 1 instruction".
VmOptions parse_vm_options(const std::vector<std::string>& args);
std::string vm_help();

}  // namespace pb::vm
