// SPDX-License-Identifier: Apache-2.0
#include "kernel/sysctl.h"

#include <fstream>

#include "common/error.h"
#include "common/fs.h"
#include "common/strings.h"

namespace pb {

std::string sysctl_path(const std::string& key) {
  std::string p = key;
  for (auto& c : p)
    if (c == '.') c = '/';
  return "/proc/sys/" + p;
}

std::optional<std::string> try_read_sysctl(const std::string& key) {
  auto v = read_file(sysctl_path(key));
  if (!v) return std::nullopt;
  return trim(*v);
}

std::string read_sysctl(const std::string& key) {
  auto v = try_read_sysctl(key);
  if (!v) throw EnvError("cannot read sysctl " + key);
  return *v;
}

void write_sysctl(const std::string& key, const std::string& value) {
  std::ofstream f(sysctl_path(key));
  f << value << "\n";
  f.flush();
  if (!f) throw EnvError("cannot write sysctl " + key + "=" + value);
}

nlohmann::json read_sysctls(const std::vector<std::string>& keys) {
  nlohmann::json j = nlohmann::json::object();
  for (auto& k : keys) {
    auto v = try_read_sysctl(k);
    j[k] = v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  }
  return j;
}

}  // namespace pb
