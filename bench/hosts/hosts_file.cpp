// SPDX-License-Identifier: Apache-2.0
#include "hosts/hosts_file.h"

#include <arpa/inet.h>
#include <fmt/core.h>

#include <set>

#include "common/error.h"
#include "common/fs.h"

namespace pb {

namespace {

[[noreturn]] void bad(const std::string& file, const std::string& what) {
  throw Error(kExitHostsFile, "hosts file " + file + ": " + what);
}

// 198.18.0.0/15 (RFC 2544, benchmarking): the data path is addressed only there, as in the
// namespace mode, so a typo cannot send test traffic into a production network.
bool in_benchmark_range(const std::string& ip) {
  in_addr a{};
  if (inet_pton(AF_INET, ip.c_str(), &a) != 1) return false;
  return (ntohl(a.s_addr) & 0xfffe0000u) == 0xc6120000u;
}

std::string str_field(const std::string& file, const nlohmann::json& h, const std::string& where, const char* key,
                      bool required) {
  if (!h.contains(key)) {
    if (required) bad(file, where + ": \"" + key + "\" is missing");
    return {};
  }
  if (!h[key].is_string() || h[key].get<std::string>().empty()) bad(file, where + ": \"" + key + "\" must be a non-empty string");
  return h[key].get<std::string>();
}

}  // namespace

const HostSpec& HostsConfig::of(const std::string& role) const {
  return role == "client" ? client : role == "dut" ? dut : server;
}

Wiring HostsConfig::wiring() const {
  Wiring w;
  w.client_ip = client.data[0].ip;
  w.client_dev = client.data[0].dev;
  w.dut_client_ip = dut.data[0].ip;
  w.dut_client_dev = dut.data[0].dev;
  w.dut_server_ip = dut.data[1].ip;
  w.dut_server_dev = dut.data[1].dev;
  w.server_ip = server.data[0].ip;
  w.server_dev = server.data[0].dev;
  w.prefix_len = client.data[0].prefix_len;
  return w;
}

HostsConfig load_hosts_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) throw Error(kExitHostsFile, "hosts file " + path + ": cannot be read");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(*text);
  } catch (const std::exception& e) {
    bad(path, std::string("not JSON: ") + e.what());
  }
  if (!doc.is_object() || !doc.contains("hosts") || !doc["hosts"].is_array())
    bad(path, "want an object with a \"hosts\" array (one entry per role: client, dut, server)");
  for (auto& [k, v] : doc.items())
    if (k != "hosts") bad(path, "unknown key \"" + k + "\" (only \"hosts\")");
  HostsConfig cfg;
  cfg.file = path;
  std::set<std::string> seen;
  const std::set<std::string> known = {"role", "ssh", "port", "identity", "known_hosts", "ssh_config",
                                       "pathbench", "management", "data"};
  for (size_t i = 0; i < doc["hosts"].size(); ++i) {
    const nlohmann::json& h = doc["hosts"][i];
    std::string where = fmt::format("hosts[{}]", i);
    if (!h.is_object()) bad(path, where + ": want an object");
    for (auto& [k, v] : h.items())
      if (!known.count(k)) bad(path, where + ": unknown key \"" + k + "\"");
    HostSpec s;
    s.role = str_field(path, h, where, "role", true);
    if (s.role != "client" && s.role != "dut" && s.role != "server")
      bad(path, where + ": role \"" + s.role + "\": want client, dut or server");
    where += " (" + s.role + ")";
    if (!seen.insert(s.role).second) bad(path, "role " + s.role + " is given twice");
    s.ssh = str_field(path, h, where, "ssh", true);
    if (s.ssh[0] == '-') bad(path, where + ": ssh destination \"" + s.ssh + "\" starts with '-'");
    if (h.contains("port")) {
      if (!h["port"].is_number_integer() || h["port"].get<int>() < 1 || h["port"].get<int>() > 65535)
        bad(path, where + ": \"port\" must be a whole number in [1, 65535]");
      s.port = h["port"].get<int>();
    }
    s.identity = str_field(path, h, where, "identity", false);
    s.known_hosts = str_field(path, h, where, "known_hosts", false);
    s.ssh_config = str_field(path, h, where, "ssh_config", false);
    if (h.contains("pathbench")) s.pathbench = str_field(path, h, where, "pathbench", true);
    s.management = str_field(path, h, where, "management", true);
    if (!h.contains("data") || !h["data"].is_array()) bad(path, where + ": \"data\" (array of interfaces) is missing");
    const size_t want = s.role == "dut" ? 2 : 1;
    if (h["data"].size() != want)
      bad(path, fmt::format("{}: want {} data interface{} ({}), got {}", where, want, want == 1 ? "" : "s",
                            s.role == "dut" ? "the client side, then the server side" : "towards the DUT",
                            h["data"].size()));
    for (size_t j = 0; j < h["data"].size(); ++j) {
      const nlohmann::json& d = h["data"][j];
      std::string dw = fmt::format("{}.data[{}]", where, j);
      if (!d.is_object()) bad(path, dw + ": want an object {\"dev\", \"address\"}");
      for (auto& [k, v] : d.items())
        if (k != "dev" && k != "address") bad(path, dw + ": unknown key \"" + k + "\"");
      DataInterface di;
      di.dev = str_field(path, d, dw, "dev", true);
      std::string addr = str_field(path, d, dw, "address", true);
      auto slash = addr.find('/');
      di.ip = addr.substr(0, slash);
      if (slash != std::string::npos) {
        try {
          size_t used = 0;
          di.prefix_len = std::stoi(addr.substr(slash + 1), &used);
          if (used != addr.size() - slash - 1 || di.prefix_len < 8 || di.prefix_len > 30) throw std::exception();
        } catch (const std::exception&) {
          bad(path, dw + ": address \"" + addr + "\": want a.b.c.d/len with len in [8, 30]");
        }
      }
      if (!in_benchmark_range(di.ip))
        bad(path, dw + ": address " + di.ip + " is outside 198.18.0.0/15 (the benchmarking range; pathbench "
                       "addresses nothing else)");
      if (di.dev == s.management)
        throw Error(kExitHostsUnsafe, "hosts file " + path + ": " + dw + ": data interface " + di.dev +
                                          " is the management interface (it is never touched)");
      s.data.push_back(di);
    }
    if (s.role == "dut" && s.data[0].dev == s.data[1].dev)
      bad(path, where + ": the two data interfaces are the same (" + s.data[0].dev + ")");
    (s.role == "client" ? cfg.client : s.role == "dut" ? cfg.dut : cfg.server) = s;
  }
  for (const char* r : {"client", "dut", "server"})
    if (!seen.count(r)) bad(path, std::string("role ") + r + " is missing (want client, dut and server)");
  return cfg;
}

}  // namespace pb
