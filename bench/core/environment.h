// environment.h: what machine, kernel and software produced a run (run.json "environment").
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace pb {
class Topology;
// topo may be null (doctor, list): then no namespace sysctls or offloads.
nlohmann::json collect_environment(const Topology* topo);
// ethtool -k of a device in a namespace, the offloads that change results.
nlohmann::json offloads(const std::string& ns, const std::string& dev);
}  // namespace pb
