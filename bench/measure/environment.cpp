// SPDX-License-Identifier: Apache-2.0
// measure/environment.cpp: flent-style metadata: kernel, config hash, CPU, library and tool
// versions, sysctls (host, read only, and each role's own), per-interface offloads, CPU idle
// handling, virtualization, kernel features.
#include "measure/environment.h"

#include <bpf/libbpf.h>
#include <unistd.h>

#include <boost/version.hpp>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "common/fs.h"
#include "common/strings.h"
#include "kernel/bpf/attach.h"
#include "kernel/ethtool.h"
#include "kernel/host.h"
#include "kernel/netns.h"
#include "kernel/process.h"
#include "kernel/sysctl.h"
#include "roles/roles.h"

namespace pb {

nlohmann::json offloads(const std::string& ns, const std::string& dev) {
  return ethtool_features_json(ns, dev,
                               {"rx-checksumming", "tx-checksumming", "scatter-gather", "tcp-segmentation-offload",
                                "generic-segmentation-offload", "generic-receive-offload", "large-receive-offload",
                                "rx-gro-hw", "rx-gro-list", "rx-udp-gro-forwarding"});
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

nlohmann::json virtualization() {
  // Inside `pathbench vm` the host side writes what it started (accelerator, vCPUs, memory,
  // qemu version) into a file whose path the guest gets in PATHBENCH_GUEST_INFO.
  if (const char* f = std::getenv("PATHBENCH_GUEST_INFO"))
    if (auto text = read_file(f)) {
      auto j = nlohmann::json::parse(*text, nullptr, false);
      if (j.is_object()) {
        j["pathbench_guest"] = true;
        j["guest_kernel"] = kernel_release();
        return j;
      }
    }
  nlohmann::json v = {{"pathbench_guest", false}, {"accelerator", nullptr}};
  std::string hv;
  if (auto cpuinfo = read_file("/proc/cpuinfo"); cpuinfo && cpuinfo->find(" hypervisor") != std::string::npos)
    hv = "unknown";
  if (auto vendor = read_file("/sys/class/dmi/id/sys_vendor"); vendor && !trim(*vendor).empty() && !hv.empty())
    hv = trim(*vendor);
  if (auto t = read_file("/sys/hypervisor/type"); t && !trim(*t).empty()) hv = trim(*t);
  v["hypervisor"] = hv.empty() ? nlohmann::json(nullptr) : nlohmann::json(hv);
  return v;
}

nlohmann::json kernel_features() {
  nlohmann::json f;
  bool tcx = bpf::tcx_available();
  f["tcx"] = {{"available", tcx}};
  if (!tcx) f["tcx"]["reason"] = "no TCX link on tc ingress (Linux 6.6+): TC programs attach through clsact";
  auto why = bpf::sk_assign_reuseport_missing(kernel_release());
  f["sk_assign_reuseport"] = {{"available", !why}};
  if (why) f["sk_assign_reuseport"]["reason"] = *why + " (tc-sk-assign's proxy listens without SO_REUSEPORT, one worker)";
  return f;
}

nlohmann::json collect_environment(const Roles* roles) {
  nlohmann::json e;
  e["kernel_release"] = kernel_release();
  e["kernel_version"] = trim(read_file("/proc/sys/kernel/version").value_or(""));
  e["kernel_config_sha256"] = nullptr;
  for (const std::string& cfg : {std::string("/proc/config.gz"), "/boot/config-" + kernel_release()})
    if (access(cfg.c_str(), R_OK) == 0) {
      CmdResult r = run_cmd({"sha256sum", cfg}, {}, 10);
      if (r.status == 0) e["kernel_config_sha256"] = r.out.substr(0, 64);
      break;
    }
  std::string model, flags;
  if (auto c = read_file("/proc/cpuinfo")) {
    std::istringstream in(*c);
    std::string line;
    while (std::getline(in, line)) {
      if (model.empty() && line.rfind("model name", 0) == 0) model = trim(line.substr(line.find(':') + 1));
      if (flags.empty() && line.rfind("flags", 0) == 0) flags = " " + trim(line.substr(line.find(':') + 1)) + " ";
    }
  }
  e["cpu_model"] = model;
  // What a context switch between address spaces and a syscall cost depends on: page-table
  // isolation, and whether the CPU tags TLB entries (PCID) so a switch need not flush them. With
  // PTI and no PCID a round trip between two processes cost 5.8 us more than between two threads
  // here (docs/peers.md): runs from hosts that differ here differ in rr for that reason alone.
  nlohmann::json mit;
  mit["pcid"] = flags.find(" pcid ") != std::string::npos;
  mit["pti"] = flags.find(" pti ") != std::string::npos;
  for (const char* v : {"meltdown", "spectre_v2", "retbleed", "spec_rstack_overflow"})
    if (auto t = read_file(std::string("/sys/devices/system/cpu/vulnerabilities/") + v)) mit[v] = trim(*t);
  e["cpu_mitigations"] = mit;
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
  e["sysctls"] = read_sysctls({"net.core.bpf_jit_enable", "net.core.bpf_jit_harden", "kernel.bpf_stats_enabled",
                               "net.core.rmem_max", "net.core.wmem_max", "net.core.default_qdisc",
                               "net.ipv4.tcp_congestion_control", "net.ipv4.tcp_allowed_congestion_control",
                               "net.ipv4.tcp_available_congestion_control", "kernel.unprivileged_bpf_disabled"});
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
  e["virtualization"] = virtualization();
  e["features"] = kernel_features();
  if (roles) {
    const std::vector<std::string> ns_keys = {"net.ipv4.ip_forward", "net.ipv4.tcp_tw_reuse",
                                              "net.ipv4.ip_local_port_range", "net.ipv4.tcp_congestion_control",
                                              "net.ipv4.conf.all.rp_filter"};
    const Wiring& w = roles->wiring();
    nlohmann::json nss;
    for (auto [key, role] : {std::pair<const char*, const Role*>{"cli", &roles->client()},
                             {"dut", &roles->dut()}, {"srv", &roles->server()}}) {
      if (!role->local) continue;  // hosts mode: that host's agent reports it
      nlohmann::json j;
      run_in_netns(role->netns, [&] { j = read_sysctls(ns_keys); });
      nss[key] = j;
    }
    e["netns_sysctls"] = nss;
    e["offloads"] = nlohmann::json::object();
    e["interfaces"] = nlohmann::json::object();
    for (auto [role, dev] : {std::pair<const Role*, const std::string*>{&roles->client(), &w.client_dev},
                             {&roles->dut(), &w.dut_client_dev}, {&roles->dut(), &w.dut_server_dev},
                             {&roles->server(), &w.server_dev}}) {
      if (!role->local) continue;
      e["offloads"][*dev] = offloads(role->netns, *dev);
      e["interfaces"][*dev] = ethtool_driver_json(role->netns, *dev);
    }
    e["topology"] = roles->describe();
  }
  return e;
}

}  // namespace pb
