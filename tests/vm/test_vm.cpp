// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <algorithm>

#include "common/error.h"
#include "common/strings.h"
#include "kernel/bpf/attach.h"
#include "kernel/host.h"
#include "vm/vm.h"

using namespace pb::vm;

TEST(VmNames, DebianPackageNames) {
  EXPECT_TRUE(valid_package_name("linux-image-6.1.0-50-amd64-unsigned"));
  EXPECT_TRUE(valid_package_name("linux-image-amd64"));
  EXPECT_TRUE(valid_package_name("g++"));
  EXPECT_FALSE(valid_package_name(""));
  EXPECT_FALSE(valid_package_name("a"));
  EXPECT_FALSE(valid_package_name("-linux"));
  EXPECT_FALSE(valid_package_name("Linux-Image"));
  EXPECT_FALSE(valid_package_name("linux image"));
  EXPECT_FALSE(valid_package_name("../etc/passwd"));
  EXPECT_FALSE(valid_package_name("linux;rm"));
}

TEST(VmNames, SuiteQualifiedPackages) {
  auto r = parse_package_ref("linux-image-6.12.95+deb12-amd64-unsigned/bookworm-backports");
  EXPECT_EQ(r.package, "linux-image-6.12.95+deb12-amd64-unsigned");
  EXPECT_EQ(r.suite, "bookworm-backports");
  r = parse_package_ref("linux-image-6.1.0-57-amd64-unsigned");
  EXPECT_EQ(r.package, "linux-image-6.1.0-57-amd64-unsigned");
  EXPECT_EQ(r.suite, "");
  EXPECT_EQ(parse_package_ref("linux-image-6.12.117+deb13-amd64-unsigned/trixie").suite, "trixie");
  for (const char* bad : {"linux-image-amd64/", "linux-image-amd64/Trixie", "linux-image-amd64/trixie/main",
                          "linux-image-amd64/../etc", "linux-image-amd64/-x", "/trixie", "Linux/trixie",
                          "linux-image-amd64/trixie;rm"})
    EXPECT_THROW(parse_package_ref(bad), pb::UsageError) << bad;
  EXPECT_TRUE(valid_suite_name("bookworm-backports"));
  EXPECT_FALSE(valid_suite_name("bookworm-"));
  EXPECT_FALSE(valid_suite_name(""));
}

TEST(VmNames, PrivateAptListsNeverTouchEtcApt) {
  auto o = private_apt_options("/var/cache/pathbench/kernels/apt/trixie");
  const std::vector<std::string> want = {
      "-o", "Dir::Etc::SourceList=/var/cache/pathbench/kernels/apt/trixie/sources.list",
      "-o", "Dir::Etc::SourceParts=/dev/null",
      "-o", "Dir::State::Lists=/var/cache/pathbench/kernels/apt/trixie/lists",
      "-o", "Dir::Cache=/var/cache/pathbench/kernels/apt/trixie/cache",
      "-o", "APT::Get::List-Cleanup=0"};
  EXPECT_EQ(o, want);
  for (auto& a : o) EXPECT_EQ(a.find("/etc/apt"), std::string::npos) << a;
  EXPECT_EQ(private_sources_line("http://deb.debian.org/debian", "bookworm-backports"),
            "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian "
            "bookworm-backports main");
}

static std::string full_config() {
  std::string c = "# comment\n";
  for (auto& n : required_config()) c += n.symbol + "=m\n";
  return c;
}


TEST(VmConfig, CompleteConfigLacksNothing) { EXPECT_TRUE(missing_config(full_config()).empty()); }

TEST(VmConfig, CloudFlavourListsTheMissing9p) {
  // Like Debian's -cloud-amd64: no 9p at all, veth built in.
  std::string c = full_config();
  auto drop = [&](const std::string& sym) {
    auto p = c.find(sym + "=m\n");
    c.replace(p, sym.size() + 3, "# " + sym + " is not set\n");
  };
  drop("CONFIG_NET_9P");
  drop("CONFIG_9P_FS");
  drop("CONFIG_NET_9P_VIRTIO");
  c += "CONFIG_VETH=y\n";
  auto miss = missing_config(c);
  ASSERT_EQ(miss.size(), 3u) << pb::join(miss, ", ");
  EXPECT_NE(miss[0].find("CONFIG_NET_9P ("), std::string::npos);
  EXPECT_NE(miss[1].find("CONFIG_NET_9P_VIRTIO"), std::string::npos);
  EXPECT_NE(miss[2].find("CONFIG_9P_FS"), std::string::npos);
}

TEST(VmConfig, EmptyConfigListsEverything) {
  EXPECT_EQ(missing_config("").size(), required_config().size());
  EXPECT_EQ(missing_config("CONFIG_VETH=n\nCONFIG_BPF_SYSCALL=\n").size(), required_config().size());
}

TEST(VmModules, DependenciesFirstEachOnce) {
  std::string dep =
      "kernel/fs/9p/9p.ko: kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko kernel/net/9p/9pnet.ko\n"
      "kernel/net/9p/9pnet.ko:\n"
      "kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\n"
      "kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko\n"
      "kernel/fs/netfs/netfs.ko:\n"
      "kernel/drivers/virtio/virtio.ko:\n"
      "kernel/drivers/virtio/virtio_ring.ko:\n"
      "kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\n"
      "kernel/drivers/virtio/virtio_pci_modern_dev.ko:\n"
      "kernel/drivers/virtio/virtio_pci_legacy_dev.ko:\n"
      "kernel/fs/overlayfs/overlay.ko.xz:\n";
  auto plan = plan_modules(dep, "", initramfs_modules());
  EXPECT_TRUE(plan.missing.empty());
  std::vector<std::string> names;
  for (auto& f : plan.files) names.push_back(f.substr(f.rfind('/') + 1));
  std::vector<std::string> want = {"virtio.ko", "virtio_ring.ko", "virtio_pci_legacy_dev.ko", "virtio_pci_modern_dev.ko",
                                   "virtio_pci.ko", "9pnet.ko", "9pnet_virtio.ko", "netfs.ko", "fscache.ko", "9p.ko",
                                   "overlay.ko.xz"};
  EXPECT_EQ(names, want) << pb::join(names, " ");
}

TEST(VmModules, BuiltinIsFineAbsentIsReported) {
  auto plan = plan_modules("kernel/fs/9p/9p.ko:\n", "kernel/fs/overlayfs/overlay.ko\nkernel/drivers/virtio/virtio_pci.ko\n",
                           initramfs_modules());
  ASSERT_EQ(plan.missing.size(), 1u);
  EXPECT_EQ(plan.missing[0], "9pnet_virtio");
  ASSERT_EQ(plan.files.size(), 1u);
}

TEST(VmAccel, Decision) {
  EXPECT_EQ(decide_accel("auto", true, true), Accel::kKvm);
  EXPECT_EQ(decide_accel("auto", true, false), Accel::kTcg);  // /dev/kvm but the probe hung
  EXPECT_EQ(decide_accel("auto", false, false), Accel::kTcg);
  EXPECT_EQ(decide_accel("tcg", true, true), Accel::kTcg);
  EXPECT_EQ(decide_accel("kvm", true, false), Accel::kKvm);
  EXPECT_STREQ(accel_name(Accel::kTcg), "tcg");
  EXPECT_STREQ(accel_name(Accel::kKvm), "kvm");
}

static GuestSpec spec() {
  GuestSpec s;
  s.qemu = "/usr/bin/qemu-system-x86_64";
  s.vcpus = 2;
  s.memory_mib = 2048;
  s.kernel_image = "/c/vmlinuz";
  s.initrd = "/t/initrd.gz";
  s.modules_dir = "/c/root/lib/modules";
  s.share_dir = "/t/share";
  s.console_log = "/t/console.log";
  return s;
}

static bool has_pair(const std::vector<std::string>& a, const std::string& k, const std::string& v) {
  for (size_t i = 0; i + 1 < a.size(); ++i)
    if (a[i] == k && a[i + 1] == v) return true;
  return false;
}

TEST(VmQemu, TcgCommandLine) {
  auto a = qemu_argv(spec());
  EXPECT_EQ(a[0], "/usr/bin/qemu-system-x86_64");
  EXPECT_TRUE(has_pair(a, "-accel", "tcg,thread=multi"));
  EXPECT_TRUE(has_pair(a, "-cpu", "max"));
  EXPECT_TRUE(has_pair(a, "-smp", "2"));
  EXPECT_TRUE(has_pair(a, "-m", "2048M"));
  EXPECT_TRUE(has_pair(a, "-nic", "none"));  // the guest needs no network
  EXPECT_TRUE(has_pair(a, "-serial", "file:/t/console.log"));
  EXPECT_TRUE(has_pair(a, "-kernel", "/c/vmlinuz"));
  EXPECT_TRUE(has_pair(a, "-initrd", "/t/initrd.gz"));
  EXPECT_TRUE(std::find(a.begin(), a.end(), "-no-reboot") != a.end());
  EXPECT_TRUE(has_pair(a, "-fsdev", "local,id=pbroot,path=/,security_model=none,readonly=on,multidevs=remap"));
  EXPECT_TRUE(has_pair(a, "-fsdev", "local,id=pbmods,path=/c/root/lib/modules,security_model=none,readonly=on"));
  EXPECT_TRUE(has_pair(a, "-fsdev", "local,id=pbout,path=/t/share,security_model=none"));
  EXPECT_TRUE(has_pair(a, "-device", "virtio-9p-pci,fsdev=pbout,mount_tag=pbout"));
  auto app = std::find(a.begin(), a.end(), "-append");
  ASSERT_NE(app, a.end());
  EXPECT_NE((app + 1)->find("console=ttyS0"), std::string::npos);
  EXPECT_NE((app + 1)->find("panic=-1"), std::string::npos);
  // A lockup's call traces (KERN_DEFAULT) and every CPU's backtrace reach the console.
  EXPECT_NE((app + 1)->find("loglevel=5"), std::string::npos);
  EXPECT_EQ((app + 1)->find("loglevel=4"), std::string::npos);
  EXPECT_NE((app + 1)->find("softlockup_all_cpu_backtrace=1"), std::string::npos);
}

TEST(VmQemu, KvmCommandLine) {
  auto s = spec();
  s.accel = Accel::kKvm;
  s.append_extra = "pathbench.probe";
  auto a = qemu_argv(s);
  EXPECT_TRUE(has_pair(a, "-accel", "kvm"));
  EXPECT_TRUE(has_pair(a, "-cpu", "host"));
  auto app = std::find(a.begin(), a.end(), "-append");
  EXPECT_NE((app + 1)->find("pathbench.probe"), std::string::npos);
}

TEST(VmGuestInfo, KeysTheAnalysisReads) {
  auto j = guest_info(spec(), "QEMU emulator version 7.2.19", "6.18.0", {{"package", "linux-image-x"}});
  EXPECT_EQ(j["accelerator"], "tcg");
  EXPECT_EQ(j["vcpus"], 2);
  EXPECT_EQ(j["memory_mib"], 2048);
  EXPECT_EQ(j["qemu_version"], "QEMU emulator version 7.2.19");
  EXPECT_EQ(j["host_kernel"], "6.18.0");
  EXPECT_EQ(j["kernel_source"]["package"], "linux-image-x");
  EXPECT_EQ(j["performance_truth"], false);
  EXPECT_EQ(j["kernel_cmdline"], kDiagnosticCmdline) << "what the guest booted with is recorded";
}

TEST(VmScripts, QuotingAndPowerOff) {
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  auto g = guest_script("/b/pathbench", {"--paths", "baseline", "--note", "x'y"});
  EXPECT_NE(g.find("'/b/pathbench' run '--paths' 'baseline' '--note' 'x'\\''y' --out-parent /pbvm/results"), std::string::npos);
  EXPECT_NE(g.find("echo o > /proc/sysrq-trigger"), std::string::npos);
  EXPECT_NE(g.find("PATHBENCH_GUEST_INFO=/pbvm/guest-info.json"), std::string::npos);
  auto i = init_script();
  EXPECT_NE(i.find("exec switch_root"), std::string::npos);  // not chroot: module autoload
  EXPECT_NE(i.find("lowerdir=/mnt/lower"), std::string::npos);
}

// How far the guest got, from its console and its exit-status file.
static const char* kBooted =
    "[    0.0] Linux version 6.1.0\npathbench-vm: initramfs 3.10\npathbench-vm: user space 5.20\n"
    "pathbench-vm: pathbench start 6.60\n";

TEST(VmOutcome, MarkersAreRead) {
  auto m = read_marks(std::string(kBooted) + "... results ...\npathbench-vm: pathbench exit 1 140.25\n");
  EXPECT_DOUBLE_EQ(m.initramfs_s, 3.1);
  EXPECT_DOUBLE_EQ(m.userspace_s, 5.2);
  EXPECT_DOUBLE_EQ(m.start_s, 6.6);
  ASSERT_TRUE(m.exit_rc.has_value());
  EXPECT_EQ(*m.exit_rc, 1);
  EXPECT_DOUBLE_EQ(m.exit_s, 140.25);
  EXPECT_TRUE(m.failed.empty());
  auto f = read_marks("pathbench-vm: initramfs 1.0\npathbench-vm: FAILED insmod 3.ko\n");
  EXPECT_EQ(f.failed, "insmod 3.ko");
  EXPECT_LT(f.userspace_s, 0);
}

// A hung guest: where the run was and the kernel's first report with its trace, not only the
// repeated headlines of the console's tail.
TEST(VmOutcome, AHungGuestSaysItsLastStepAndTheKernelsFirstReport) {
  std::string log = std::string(kBooted) + "pathbench: [1/8] rep 1/1 baseline tcp_rr (5s left)\n" +
                    "pathbench: [7/8] rep 1/1 xdp-redirect tcp_rr (0s left)\n" +
                    "[  112.1] watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [pathbench:1005]\n" +
                    "[  112.1] CPU: 0 PID: 1005 Comm: pathbench\n[  112.1] Call Trace:\n[  112.1]  veth_xdp_rcv+0x1a/0x300\n";
  for (int i = 0; i < 60; ++i) log += "[  140.0] filler " + std::to_string(i) + "\n";
  log += "[  400.5] watchdog: BUG: soft lockup - CPU#0 stuck for 300s! [pathbench:1005]\n";
  auto m = read_marks(log);
  EXPECT_EQ(m.last_step, "pathbench: [7/8] rep 1/1 xdp-redirect tcp_rr (0s left)");
  EXPECT_EQ(m.kernel_trouble.rfind("[  112.1] watchdog: BUG: soft lockup - CPU#0 stuck for 26s!", 0), 0u) << m.kernel_trouble;
  EXPECT_NE(m.kernel_trouble.find("veth_xdp_rcv"), std::string::npos);
  EXPECT_EQ(m.kernel_trouble.find("300s"), std::string::npos) << "bounded to 40 lines from the first report";
  EXPECT_EQ(std::count(m.kernel_trouble.begin(), m.kernel_trouble.end(), '\n'), 40);
  auto quiet = read_marks(std::string(kBooted) + "pathbench-vm: pathbench exit 0 9.0\n");
  EXPECT_TRUE(quiet.kernel_trouble.empty());
  EXPECT_TRUE(quiet.last_step.empty());
}

TEST(VmOutcome, AFailedResultIsARunNotABootFailure) {
  // The regression: a guest whose pathbench returned 1 was reported as "did not boot".
  auto m = read_marks(std::string(kBooted) + "pathbench-vm: pathbench exit 1 140.0\n");
  for (WatchEnd e : {WatchEnd::kPoweredOff, WatchEnd::kFailedMarker, WatchEnd::kRunTimeout}) {
    Classified c = classify(m, e, 1);
    EXPECT_EQ(c.verdict, GuestVerdict::kRan);
    EXPECT_EQ(c.rc, 1);
  }
  // The exit-status file wins over the console; the console serves when the file is missing.
  EXPECT_EQ(classify(m, WatchEnd::kPoweredOff, 3).rc, 3);
  EXPECT_EQ(classify(m, WatchEnd::kPoweredOff, std::nullopt).rc, 1);
  // A panic after pathbench's exit (init ended) does not undo the run.
  auto p = read_marks(std::string(kBooted) + "pathbench-vm: pathbench exit 0 9.0\nKernel panic - not syncing: Attempted to kill init!\n");
  EXPECT_EQ(classify(p, WatchEnd::kFailedMarker, std::nullopt).verdict, GuestVerdict::kRan);
}

TEST(VmOutcome, HowFarTheGuestGot) {
  auto none = read_marks("SeaBIOS\n");
  EXPECT_EQ(classify(none, WatchEnd::kBootTimeout, std::nullopt).verdict, GuestVerdict::kNoBoot);
  auto panic = read_marks("pathbench-vm: initramfs 1.0\nKernel panic - not syncing: VFS: Unable to mount root fs\n");
  Classified c = classify(panic, WatchEnd::kFailedMarker, std::nullopt);
  EXPECT_EQ(c.verdict, GuestVerdict::kNoBoot);
  EXPECT_NE(c.what.find("Unable to mount root fs"), std::string::npos) << c.what;
  auto us = read_marks("pathbench-vm: initramfs 1.0\npathbench-vm: user space 2.0\n");
  EXPECT_EQ(classify(us, WatchEnd::kPoweredOff, std::nullopt).verdict, GuestVerdict::kNoStart);
  auto started = read_marks(kBooted);
  EXPECT_EQ(classify(started, WatchEnd::kRunTimeout, std::nullopt).verdict, GuestVerdict::kHung);
  EXPECT_EQ(classify(started, WatchEnd::kPoweredOff, std::nullopt).verdict, GuestVerdict::kDied);
  EXPECT_EQ(classify(started, WatchEnd::kInterrupted, std::nullopt).verdict, GuestVerdict::kInterrupted);
  // The shell could not execute the binary: it did not start.
  EXPECT_EQ(classify(started, WatchEnd::kPoweredOff, 127).verdict, GuestVerdict::kNoStart);
}

// tc-sk-assign's kernel check (docs/gotchas.md "bpf_sk_assign and SO_REUSEPORT before 6.5").
TEST(KernelRelease, AtLeast) {
  EXPECT_TRUE(pb::release_at_least("6.18.44-fc-v1045", 6, 5));
  EXPECT_TRUE(pb::release_at_least("6.5.0", 6, 5));
  EXPECT_TRUE(pb::release_at_least("7.0-rc1", 6, 5));
  EXPECT_FALSE(pb::release_at_least("6.1.0-57-amd64", 6, 5));
  EXPECT_FALSE(pb::release_at_least("5.19.17", 6, 5));
  EXPECT_FALSE(pb::release_at_least("garbage", 6, 5));
  auto why = pb::bpf::sk_assign_reuseport_missing("6.1.0-57-amd64");
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("6.5"), std::string::npos);
  EXPECT_NE(why->find("6.1.0-57-amd64"), std::string::npos);
  EXPECT_FALSE(pb::bpf::sk_assign_reuseport_missing("6.6.9").has_value());
}

// ---- cost mode and the options of `pathbench vm` ---------------------------------------------

#include "common/error.h"
#include "vm/kernels.h"
#include "vm/options.h"

static int error_code(const std::vector<std::string>& args) {
  try {
    parse_vm_options(args);
  } catch (const pb::Error& e) {
    return e.code();
  }
  return 0;
}

TEST(VmOptions, Defaults) {
  auto o = parse_vm_options({});
  EXPECT_EQ(o.kernel, "running") << "no kernel named: the running kernel's own image";
  EXPECT_EQ(o.accel, "auto");
  EXPECT_EQ(o.vcpus, 2);
  EXPECT_EQ(o.memory_mib, 2048);
  EXPECT_EQ(o.out_parent, "results");
  EXPECT_TRUE(o.run_args.empty());
}

TEST(VmOptions, CostModeIsOneVcpu) {
  auto o = parse_vm_options({"--accel", "tcg-icount", "--kernel", "linux-image-6.1.0-57-amd64-unsigned"});
  EXPECT_TRUE(o.cost_mode());
  EXPECT_EQ(o.vcpus, 1);
  EXPECT_EQ(parse_vm_options({"--accel", "tcg-icount", "--vcpus", "1"}).vcpus, 1);
  EXPECT_EQ(error_code({"--accel", "tcg-icount", "--vcpus", "2"}), pb::kExitVmCostSetting);
  EXPECT_EQ(error_code({"--accel", "tcg-icount", "--", "--hosts", "lab.json"}), pb::kExitVmCostSetting);
  EXPECT_EQ(parse_vm_options({"--accel", "tcg", "--vcpus", "4"}).vcpus, 4) << "only cost mode is limited";
}

TEST(VmOptions, BadInputIsUsage) {
  EXPECT_EQ(error_code({"--accel", "tcg-multi"}), pb::kExitUsage);
  EXPECT_EQ(error_code({"--kernel", "x", "--kernel-image", "y"}), pb::kExitUsage);
  EXPECT_EQ(error_code({"--modules", "/m"}), pb::kExitUsage);
  EXPECT_EQ(error_code({"--vcpus", "0"}), pb::kExitUsage);
  EXPECT_EQ(error_code({"--vcpus", "two"}), pb::kExitUsage);
  EXPECT_EQ(error_code({"--memory-mib"}), pb::kExitUsage);
  EXPECT_EQ(error_code({"--no-such-option", "1"}), pb::kExitUsage);
  EXPECT_EQ(error_code({"--kernel", "k", "--", "--out", "/x"}), pb::kExitUsage) << "the guest writes into its share";
  EXPECT_EQ(error_code({"--kernel", "k", "--", "--latest-link=/x"}), pb::kExitUsage);
}

TEST(VmOptions, RunArgumentsAfterTheSeparator) {
  auto o = parse_vm_options({"--kernel", "k", "--timeout-s", "60", "--", "run", "--paths", "baseline"});
  EXPECT_EQ(o.timeout_s, 60);
  EXPECT_EQ(o.run_args, (std::vector<std::string>{"--paths", "baseline"})) << "a leading `run` is dropped";
  EXPECT_NE(vm_help().find("tcg-icount"), std::string::npos);
  EXPECT_NE(vm_help().find("13 a setting that breaks cost mode"), std::string::npos);
}

TEST(VmQemu, CostModeCommandLine) {
  auto s = spec();
  s.accel = Accel::kTcgIcount;
  s.vcpus = 1;
  EXPECT_STREQ(accel_name(s.accel), "tcg-icount");
  EXPECT_EQ(decide_accel("tcg-icount", true, true), Accel::kTcgIcount) << "never KVM, even where it works";
  auto a = qemu_argv(s);
  EXPECT_TRUE(has_pair(a, "-accel", "tcg,thread=single"));
  EXPECT_TRUE(has_pair(a, "-icount", "shift=0,sleep=off"));
  EXPECT_TRUE(has_pair(a, "-smp", "1"));
  auto app = std::find(a.begin(), a.end(), "-append");
  ASSERT_NE(app, a.end());
  EXPECT_NE((app + 1)->find("nohz=off"), std::string::npos) << "idle waits bounded by the tick";
  EXPECT_EQ(cost_mode_problem(s), "");
  s.vcpus = 2;
  EXPECT_NE(cost_mode_problem(s).find("one vCPU"), std::string::npos);
  auto t = spec();
  EXPECT_EQ(cost_mode_problem(t), "") << "not cost mode: nothing to refuse";
  auto ta = qemu_argv(t);
  app = std::find(ta.begin(), ta.end(), "-append");
  EXPECT_EQ((app + 1)->find("nohz=off"), std::string::npos) << "only cost mode changes the guest's tick";
  // Cost mode's console stays quiet: a warning printed inside a window would be counted.
  app = std::find(a.begin(), a.end(), "-append");
  EXPECT_EQ((app + 1)->find("softlockup_all_cpu_backtrace"), std::string::npos);
  EXPECT_NE((app + 1)->find("loglevel=4"), std::string::npos);
}

TEST(VmGuestInfo, CostModeRecordsItsUnit) {
  auto s = spec();
  s.accel = Accel::kTcgIcount;
  s.vcpus = 1;
  auto j = guest_info(s, "QEMU emulator version 7.2.22", "6.18.0", {{"package", "linux-image-x"}});
  EXPECT_EQ(j["accelerator"], "tcg-icount");
  EXPECT_EQ(j["cost_mode"], true);
  EXPECT_EQ(j["time_unit"], "instruction");
  EXPECT_EQ(j["icount"]["shift"], 0);
  EXPECT_EQ(j["icount"]["sleep"], false);
  EXPECT_EQ(j["icount"]["tcg_thread"], "single");
  EXPECT_NE(j["unit_note"].get<std::string>().find("1 guest ns = 1 guest instruction"), std::string::npos);
  EXPECT_EQ(j["vcpus"], 1);
  EXPECT_FALSE(guest_info(spec(), "q", "k", {}).contains("time_unit")) << "plain TCG is not cost mode";
}

TEST(VmKernels, RunningKernelProblemNamesTheAlternative) {
  auto f = running_files("6.18.44-fc");
  EXPECT_EQ(f.image, "/boot/vmlinuz-6.18.44-fc");
  EXPECT_EQ(f.modules, "/lib/modules/6.18.44-fc");
  EXPECT_EQ(running_problem("6.18.44-fc", true, true, "x"), "");
  auto p = running_problem("6.18.44-fc", false, false, "linux-image-6.1.0-57-amd64-unsigned");
  EXPECT_NE(p.find("no /boot/vmlinuz-6.18.44-fc"), std::string::npos) << p;
  EXPECT_NE(p.find("--kernel linux-image-6.1.0-57-amd64-unsigned"), std::string::npos) << p;
  EXPECT_NE(p.find("--kernel-image"), std::string::npos) << p;
  EXPECT_NE(running_problem("r", true, false, "").find("no /lib/modules/r"), std::string::npos);
}
