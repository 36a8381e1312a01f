// SPDX-License-Identifier: Apache-2.0
#include "vm/options.h"

#include <boost/program_options.hpp>
#include <sstream>

#include "common/error.h"
#include "common/strings.h"

namespace po = boost::program_options;

namespace pb::vm {
namespace {

po::options_description description() {
  po::options_description kernel("Which kernel (one of)", 110);
  kernel.add_options()
      ("kernel", po::value<std::string>(),
       "a Debian kernel package (linux-image-6.1.0-57-amd64-unsigned), fetched with apt-get download and unpacked "
       "(not installed) into /var/cache/pathbench/kernels; PACKAGE/SUITE takes it from another Debian suite "
       "(linux-image-6.12.95+deb12-amd64-unsigned/bookworm-backports, .../trixie) through private apt lists kept "
       "in that cache (never /etc/apt); `running`: this machine's own kernel "
       "(/boot/vmlinuz-$(uname -r) and /lib/modules/$(uname -r)); `auto`: the running kernel where its image "
       "exists, else Debian's current one (the linux-image-amd64 metapackage's). Default: running")
      ("kernel-image", po::value<std::string>(), "a kernel you built (arch/x86/boot/bzImage)")
      ("modules", po::value<std::string>(), "with --kernel-image: its modules (INSTALL_MOD_PATH/lib/modules/<release>)")
      ("kernel-config", po::value<std::string>(), "with --kernel-image: its .config, checked up front");
  po::options_description guest("The guest", 110);
  guest.add_options()
      ("accel", po::value<std::string>()->default_value("auto"),
       "auto: KVM when a bounded probe boot works, else TCG | kvm | tcg (functional truth, not performance "
       "truth) | tcg-icount: cost mode, single-threaded TCG with -icount shift=0,sleep=off on one vCPU, so one "
       "guest nanosecond is one guest instruction: every figure of the run is counted in instructions "
       "(docs/cost.md)")
      ("vcpus", po::value<int>(), "guest CPUs (default 2; cost mode: 1, and only 1)")
      ("memory-mib", po::value<int>()->default_value(2048), "guest memory (at least 1024)")
      ("boot-timeout-s", po::value<int>()->default_value(120), "kill a guest that has not started pathbench by then")
      ("timeout-s", po::value<int>()->default_value(3600), "kill a guest whose run lasts longer (host wall time)");
  po::options_description out("Output", 110);
  out.add_options()
      ("out-parent", po::value<std::string>()->default_value("results"), "where the results directory comes back to")
      ("latest-link", po::value<std::string>(), "also point this symlink at it")
      ("help,h", po::bool_switch(), "this text");
  po::options_description all("pathbench vm options", 110);
  all.add(kernel).add(guest).add(out);
  return all;
}

int in_range(const po::variables_map& vm, const std::string& opt, int lo, int hi) {
  int v = vm[opt].as<int>();
  if (v < lo || v > hi)
    throw UsageError("vm: --" + opt + " " + std::to_string(v) + ": expected an integer in [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
  return v;
}

}  // namespace

std::string vm_help() {
  std::ostringstream o;
  o << "usage: pathbench vm [--kernel PACKAGE|running|auto | --kernel-image BZIMAGE [--modules DIR]] [options] [-- RUN OPTIONS]\n\n"
       "Boots a kernel in a qemu guest on the host's own root filesystem (virtio-9p, read-only, tmpfs overlay),\n"
       "runs `pathbench run RUN OPTIONS` inside it and brings the results directory back into --out-parent,\n"
       "with the guest's console log as console.log in it.\n\n"
    << description()
    << "\nExit codes: 5 unknown package, 6 not a kernel, 7 kernel lacks 9p/virtio/overlay/veth/BPF, 8 qemu or\n"
       "busybox-static missing, 9 too little memory, 10 guest did not boot, 11 guest hung or died during the run,\n"
       "12 guest booted but pathbench did not start in it, 13 a setting that breaks cost mode (more than one vCPU),\n"
       "14 the running kernel has no bootable image here, 15 --kernel PACKAGE/SUITE names a suite the archive does\n"
       "not serve; otherwise the guest's `pathbench run` exit code (its\n"
       "results and console.log come back either way).\n";
  return o.str();
}

VmOptions parse_vm_options(const std::vector<std::string>& args) {
  VmOptions o;
  std::vector<std::string> mine;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      o.run_args.assign(args.begin() + i + 1, args.end());
      break;
    }
    mine.push_back(args[i]);
  }
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(mine).options(description()).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(std::string("vm: ") + e.what() + " (see `pathbench vm --help`)");
  }
  o.help = vm["help"].as<bool>();
  if (o.help) return o;
  auto str = [&](const char* k) { return vm.count(k) ? vm[k].as<std::string>() : std::string(); };
  o.kernel = str("kernel");
  o.kernel_image = str("kernel-image");
  o.modules = str("modules");
  o.kernel_config = str("kernel-config");
  o.accel = str("accel");
  o.out_parent = str("out-parent");
  o.latest_link = str("latest-link");
  if (!o.kernel.empty() && !o.kernel_image.empty())
    throw UsageError("vm: give either --kernel or --kernel-image, not both");
  if (o.kernel_image.empty() && (!o.modules.empty() || !o.kernel_config.empty()))
    throw UsageError("vm: --modules and --kernel-config go with --kernel-image");
  if (o.kernel.empty() && o.kernel_image.empty()) o.kernel = "running";
  if (o.accel != "auto" && o.accel != "kvm" && o.accel != "tcg" && o.accel != "tcg-icount")
    throw UsageError("vm: --accel '" + o.accel + "': want auto, kvm, tcg or tcg-icount");
  o.memory_mib = in_range(vm, "memory-mib", 1, 1 << 20);
  o.boot_timeout_s = in_range(vm, "boot-timeout-s", 1, 3600);
  o.timeout_s = in_range(vm, "timeout-s", 1, 86400);
  if (vm.count("vcpus")) {
    o.vcpus = in_range(vm, "vcpus", 1, 64);
    o.vcpus_given = true;
  } else {
    o.vcpus = o.cost_mode() ? 1 : 2;
  }
  if (o.cost_mode() && o.vcpus != 1)
    throw Error(kExitVmCostSetting,
                "vm: cost mode (--accel tcg-icount) runs one vCPU: with --vcpus " + std::to_string(o.vcpus) +
                    " qemu's icount would need multi-threaded TCG or interleave vCPUs, and guest time would no longer "
                    "be the instructions of the work measured (docs/cost.md)");
  if (!o.run_args.empty() && o.run_args[0] == "run") o.run_args.erase(o.run_args.begin());
  for (auto& a : o.run_args)
    if (a == "--out" || a == "--out-parent" || a == "--latest-link" || a.rfind("--out=", 0) == 0 ||
        a.rfind("--out-parent=", 0) == 0 || a.rfind("--latest-link=", 0) == 0)
      throw UsageError("vm: " + a.substr(0, a.find('=')) + " belongs before `--` (the guest writes into its results share)");
  if (o.cost_mode())
    for (size_t i = 0; i < o.run_args.size(); ++i) {
      const std::string& a = o.run_args[i];
      if (a == "--hosts" || a.rfind("--hosts=", 0) == 0)
        throw Error(kExitVmCostSetting, "vm: cost mode measures a guest's own instructions: --hosts (real hosts) "
                                        "cannot run in it");
    }
  return o;
}

}  // namespace pb::vm
