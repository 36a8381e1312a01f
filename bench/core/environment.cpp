// environment.cpp: flent-style metadata so runs from different kernels and machines compare:
// kernel, config hash, CPU, library and tool versions, sysctls (host, read only, and each
// namespace's own), per-interface offloads.
#include "core/environment.h"

#include <bpf/libbpf.h>

#include <unistd.h>

#include <boost/version.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/capture.h"
#include "core/topology.h"
#include "core/util.h"

namespace pb {

static std::string sysctl_path(const std::string& key) {
  std::string p = "/proc/sys/" + key;
  for (size_t i = 10; i < p.size(); ++i)
    if (p[i] == '.') p[i] = '/';
  return p;
}

static nlohmann::json read_sysctls(const std::vector<std::string>& keys) {
  nlohmann::json j = nlohmann::json::object();
  for (auto& k : keys) {
    auto v = read_file(sysctl_path(k));
    j[k] = v ? nlohmann::json(trim(*v)) : nlohmann::json(nullptr);
  }
  return j;
}

nlohmann::json offloads(const std::string& ns, const std::string& dev) {
  nlohmann::json j = nlohmann::json::object();
  CmdResult r = run_cmd(in_netns(ns, {"ethtool", "-k", dev}), {}, 10);
  if (r.status != 0) return j;
  std::istringstream in(r.out);
  std::string line;
  static const char* keep[] = {"rx-checksumming", "tx-checksumming", "scatter-gather",
                               "tcp-segmentation-offload", "generic-segmentation-offload",
                               "generic-receive-offload", "large-receive-offload",
                               "rx-gro-hw", "rx-gro-list", "rx-udp-gro-forwarding"};
  while (std::getline(in, line)) {
    auto c = line.find(':');
    if (c == std::string::npos) continue;
    std::string k = trim(line.substr(0, c)), v = trim(line.substr(c + 1));
    for (auto* want : keep)
      if (k == want) j[k] = v.substr(0, v.find(' '));
  }
  return j;
}

static std::string first_line(const std::vector<std::string>& argv) {
  if (!find_program(argv[0])) return {};
  try {
    CmdResult r = run_cmd(argv, {}, 10);
    std::string s = trim(r.out.empty() ? r.err : r.out);
    return s.substr(0, s.find('\n'));
  } catch (...) {
    return {};
  }
}

nlohmann::json collect_environment(const Topology* topo) {
  nlohmann::json e;
  {
    e["kernel_release"] = kernel_release();
    auto v = read_file("/proc/sys/kernel/version");
    e["kernel_version"] = v ? trim(*v) : "";
  }
  e["kernel_config_sha256"] = nullptr;
  if (access("/proc/config.gz", R_OK) == 0) {
    CmdResult r = run_cmd({"sha256sum", "/proc/config.gz"}, {}, 10);
    if (r.status == 0) e["kernel_config_sha256"] = r.out.substr(0, 64);
  } else if (auto r = read_file("/boot/config-" + kernel_release())) {
    CmdResult s = run_cmd({"sha256sum", "/boot/config-" + kernel_release()}, {}, 10);
    if (s.status == 0) e["kernel_config_sha256"] = s.out.substr(0, 64);
  }
  std::string model;
  if (auto c = read_file("/proc/cpuinfo")) {
    std::istringstream in(*c);
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("model name", 0) == 0) {
        model = trim(line.substr(line.find(':') + 1));
        break;
      }
  }
  e["cpu_model"] = model;
  e["nproc"] = std::thread::hardware_concurrency();
  e["libbpf_version"] = std::to_string(libbpf_major_version()) + "." + std::to_string(libbpf_minor_version());
  e["libpcap_version"] = pcap_version();
  e["boost_version"] = BOOST_LIB_VERSION;
  e["nlohmann_json_version"] = std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                               std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                               std::to_string(NLOHMANN_JSON_VERSION_PATCH);
  e["compiler"] = std::string("GCC ") + __VERSION__;
  e["tools"] = {{"clang", first_line({"clang", "--version"})},
                {"bpftool", first_line({"bpftool", "version"})},
                {"nft", first_line({"nft", "--version"})},
                {"iptables", first_line({"iptables", "--version"})},
                {"ip", first_line({"ip", "-V"})},
                {"ethtool", first_line({"ethtool", "--version"})}};
  e["sysctls"] = read_sysctls({"net.core.bpf_jit_enable", "net.core.bpf_jit_harden",
                               "kernel.bpf_stats_enabled", "net.core.rmem_max", "net.core.wmem_max",
                               "net.core.default_qdisc", "net.ipv4.tcp_congestion_control",
                               "kernel.unprivileged_bpf_disabled"});
  // Idle handling decides what a cross-CPU wake-up costs in a VM: with haltpoll's guest polling
  // off (guest_halt_poll_ns=0, as on this project's Firecracker VMs) every wake-up of an idle
  // vCPU is a VM exit and an IPI, tens of microseconds; record it so runs can be compared.
  auto sys = [](const std::string& f) -> nlohmann::json {
    auto v = read_file(f);
    return v ? nlohmann::json(trim(*v)) : nlohmann::json(nullptr);
  };
  e["cpuidle"] = {{"driver", sys("/sys/devices/system/cpu/cpuidle/current_driver")},
                  {"governor", sys("/sys/devices/system/cpu/cpuidle/current_governor_ro")},
                  {"haltpoll_guest_halt_poll_ns", sys("/sys/module/haltpoll/parameters/guest_halt_poll_ns")}};
  if (topo) {
    std::vector<std::string> ns_keys = {"net.ipv4.ip_forward", "net.ipv4.tcp_tw_reuse",
                                        "net.ipv4.ip_local_port_range",
                                        "net.ipv4.tcp_congestion_control",
                                        "net.ipv4.conf.all.rp_filter"};
    nlohmann::json nss;
    for (auto& [role, ns] : {std::pair<std::string, std::string>{"cli", topo->cli()},
                             {"dut", topo->dut()}, {"srv", topo->srv()}}) {
      nlohmann::json j;
      run_in_netns(ns, [&] { j = read_sysctls(ns_keys); });
      nss[role] = j;
    }
    e["netns_sysctls"] = nss;
    e["offloads"] = {{"cli0", offloads(topo->cli(), "cli0")},
                     {"dut0", offloads(topo->dut(), "dut0")},
                     {"dut1", offloads(topo->dut(), "dut1")},
                     {"srv0", offloads(topo->srv(), "srv0")}};
    e["topology"] = {{"client", Addr::kClient},
                     {"dut_client_side", Addr::kDutClientSide},
                     {"dut_server_side", Addr::kDutServerSide},
                     {"server", Addr::kServer},
                     {"namespaces", {topo->cli(), topo->dut(), topo->srv()}},
                     {"links", "veth cli0<->dut0, veth dut1<->srv0"}};
  }
  return e;
}

}  // namespace pb
