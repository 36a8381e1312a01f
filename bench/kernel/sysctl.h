// SPDX-License-Identifier: Apache-2.0
// kernel/sysctl.h: reading and writing sysctls of the calling thread's network namespace
// (net.* under /proc/sys follows the reader's namespace; everything else is global).
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace pb {

// "net.ipv4.ip_forward" -> "/proc/sys/net/ipv4/ip_forward". Only the key's dots become slashes,
// so "net.ipv4.conf.dut0.rp_filter" works (an interface name with a dot would not: we use none).
std::string sysctl_path(const std::string& key);
std::optional<std::string> try_read_sysctl(const std::string& key);
std::string read_sysctl(const std::string& key);  // throws EnvError
void write_sysctl(const std::string& key, const std::string& value);  // throws EnvError
// {key: value | null} for the record.
nlohmann::json read_sysctls(const std::vector<std::string>& keys);

}  // namespace pb
