// SPDX-License-Identifier: Apache-2.0
// measure/environment.h: what machine, kernel and software produced a run (run.json
// "environment"), flent-style, so runs from different kernels and machines compare.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace pb {
class Roles;
// roles may be null (doctor, list): then no per-role sysctls, offloads or topology.
nlohmann::json collect_environment(const Roles* roles);
// The offloads of one interface that change results (ethtool -k).
nlohmann::json offloads(const std::string& ns, const std::string& dev);
// Is this a VM, and is it one `pathbench vm` started (environment.virtualization)?
nlohmann::json virtualization();
// Kernel features that change how paths attach (environment.features).
nlohmann::json kernel_features();
std::string pcap_version();
}  // namespace pb
