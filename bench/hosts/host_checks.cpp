// SPDX-License-Identifier: Apache-2.0
#include "hosts/host_checks.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "common/error.h"
#include "common/log.h"
#include "common/strings.h"
#include "kernel/process.h"
#include "kernel/sysctl.h"

namespace pb {

std::vector<DataInterface> data_interfaces(const std::string& role, const Wiring& w) {
  const int p = w.prefix_len;
  if (role == "client") return {{w.client_dev, w.client_ip, p}};
  if (role == "dut") return {{w.dut_client_dev, w.dut_client_ip, p}, {w.dut_server_dev, w.dut_server_ip, p}};
  if (role == "server") return {{w.server_dev, w.server_ip, p}};
  return {};
}

std::string far_end(const std::string& role, const Wiring& w) {
  return role == "client" ? w.server_ip : role == "server" ? w.client_ip : std::string();
}

std::vector<std::string> link_names(const nlohmann::json& links) {
  std::vector<std::string> v;
  for (auto& l : links)
    if (l.contains("ifname")) v.push_back(l["ifname"].get<std::string>());
  return v;
}

std::string link_mac(const nlohmann::json& links, const std::string& dev) {
  for (auto& l : links)
    if (l.value("ifname", std::string()) == dev) return l.value("address", std::string());
  return {};
}

std::vector<std::string> addresses_of(const nlohmann::json& addresses, const std::string& dev) {
  std::vector<std::string> v;
  for (auto& l : addresses) {
    if (l.value("ifname", std::string()) != dev) continue;
    for (auto& a : l.value("addr_info", nlohmann::json::array()))
      if (a.value("family", std::string()) == "inet")
        v.push_back(a.value("local", std::string()) + "/" + std::to_string(a.value("prefixlen", 0)));
  }
  return v;
}

bool has_address(const nlohmann::json& addresses, const std::string& dev, const std::string& ip, int prefix_len) {
  for (auto& a : addresses_of(addresses, dev)) {
    const auto slash = a.find('/');
    if (a.substr(0, slash) != ip) continue;
    if (prefix_len < 0 || a.substr(slash + 1) == std::to_string(prefix_len)) return true;
  }
  return false;
}

namespace {

bool exists(const HostFacts& f, const std::string& dev) {
  auto names = link_names(f.links);
  return std::find(names.begin(), names.end(), dev) != names.end();
}

std::string describe_route(const nlohmann::json& r) {
  std::string s = r.value("dst", std::string("?"));
  if (r.contains("gateway")) s += " via " + r["gateway"].get<std::string>();
  if (r.contains("dev")) s += " dev " + r["dev"].get<std::string>();
  return s;
}

}  // namespace

void check_safety(const HostFacts& f, const std::vector<DataInterface>& data) {
  for (auto& d : data) {
    if (!exists(f, d.dev)) continue;  // the wiring phase says so
    if (!f.session_ip.empty() && has_address(f.addresses, d.dev, f.session_ip, -1))
      throw Error(kExitHostsUnsafe, "data interface " + d.dev + " on " + f.hostname + " carries this SSH session's address " +
                                        f.session_ip + ": refusing to touch it");
    for (auto& r : f.default_routes)
      if (r.value("dev", std::string()) == d.dev)
        throw Error(kExitHostsUnsafe, "data interface " + d.dev + " on " + f.hostname + " carries the default route (" +
                                          describe_route(r) + "): refusing to touch it");
  }
}

nlohmann::json check_wiring(const HostFacts& f, const std::string& role, const Wiring& w, const std::string& management) {
  const std::string have_links = join(link_names(f.links), ", ");
  if (!exists(f, management))
    throw Error(kExitHostInterface, "management interface " + management + " not found on " + f.hostname + " (have: " +
                                        have_links + ")");
  nlohmann::json macs = nlohmann::json::object();
  for (auto& d : data_interfaces(role, w)) {
    if (!exists(f, d.dev))
      throw Error(kExitHostInterface, "data interface " + d.dev + " not found on " + f.hostname + " (have: " + have_links + ")");
    if (!has_address(f.addresses, d.dev, d.ip, w.prefix_len)) {
      const std::string has = join(addresses_of(f.addresses, d.dev), ", ");
      throw Error(kExitHostInterface, "data interface " + d.dev + " on " + f.hostname + " does not have " + d.ip + "/" +
                                          std::to_string(w.prefix_len) + " (has: " + (has.empty() ? "none" : has) + ")");
    }
    macs[d.dev] = link_mac(f.links, d.dev);
  }
  // The wiring the paths rely on: forwarding on the DUT, the far end routed through it.
  if (role == "dut" && !f.forwarding)
    throw Error(kExitHostInterface, "net.ipv4.ip_forward is 0 on " + f.hostname +
                                        " (the DUT): enable forwarding there; pathbench changes no host setting");
  const std::string dst = far_end(role, w);
  if (!dst.empty()) {
    const std::string gw = role == "client" ? w.dut_client_ip : w.dut_server_ip;
    const std::string dev = role == "client" ? w.client_dev : w.server_dev;
    auto it = f.route_to.find(dst);
    const nlohmann::json r = it != f.route_to.end() && it->second.is_array() && !it->second.empty() ? it->second[0]
                                                                                                     : nlohmann::json();
    if (r.is_null() || r.value("gateway", std::string()) != gw || r.value("dev", std::string()) != dev)
      throw Error(kExitHostInterface, "on " + f.hostname + " the route to " + dst + " is not via " + gw + " dev " + dev +
                                          " (" + (r.is_null() ? std::string("no route") : describe_route(r)) +
                                          "): route it through the DUT");
  }
  return macs;
}

namespace {

nlohmann::json ip_json(const std::vector<std::string>& argv) {
  CmdResult r = run_cmd(argv, {}, 10);
  if (r.status != 0) throw EnvError(join(argv, " ") + " failed: " + trim(r.err));
  try {
    return nlohmann::json::parse(r.out.empty() ? "[]" : r.out);
  } catch (const std::exception& e) {
    throw EnvError(join(argv, " ") + ": not JSON: " + e.what());
  }
}

}  // namespace

HostFacts gather_host_facts(const std::string& role, const Wiring& w) {
  HostFacts f;
  char h[256] = {};
  gethostname(h, sizeof h - 1);
  f.hostname = h;
  f.links = ip_json({"ip", "-j", "link", "show"});
  f.addresses = ip_json({"ip", "-j", "-4", "addr", "show"});
  f.default_routes = ip_json({"ip", "-j", "-4", "route", "show", "default"});
  if (const std::string dst = far_end(role, w); !dst.empty()) {
    // No route at all is an answer, not a failure of ip: an empty list.
    CmdResult r = run_cmd({"ip", "-j", "-4", "route", "get", dst}, {}, 10);
    try {
      f.route_to[dst] = r.status == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::array();
    } catch (const std::exception&) {
      f.route_to[dst] = nlohmann::json::array();
    }
  }
  f.forwarding = try_read_sysctl("net.ipv4.ip_forward").value_or("0") == "1";
  // SSH_CONNECTION = "client port server port": the server address is this host's end.
  if (const char* sc = getenv("SSH_CONNECTION")) {
    auto parts = split(sc, ' ');
    if (parts.size() >= 3) f.session_ip = parts[2];
  }
  return f;
}

}  // namespace pb
