// SPDX-License-Identifier: Apache-2.0
#include "hosts/protocol.h"

namespace pb {

nlohmann::json to_json(const Wiring& w) {
  return {{"client_ip", w.client_ip},         {"dut_client_ip", w.dut_client_ip}, {"dut_server_ip", w.dut_server_ip},
          {"server_ip", w.server_ip},         {"client_dev", w.client_dev},       {"dut_client_dev", w.dut_client_dev},
          {"dut_server_dev", w.dut_server_dev}, {"server_dev", w.server_dev},     {"client_mac", w.client_mac},
          {"dut_client_mac", w.dut_client_mac}, {"dut_server_mac", w.dut_server_mac}, {"server_mac", w.server_mac},
          {"prefix_len", w.prefix_len}};
}

Wiring wiring_from_json(const nlohmann::json& j) {
  Wiring w;
  auto s = [&](const char* k) { return j.value(k, std::string()); };
  w.client_ip = s("client_ip");
  w.dut_client_ip = s("dut_client_ip");
  w.dut_server_ip = s("dut_server_ip");
  w.server_ip = s("server_ip");
  w.client_dev = s("client_dev");
  w.dut_client_dev = s("dut_client_dev");
  w.dut_server_dev = s("dut_server_dev");
  w.server_dev = s("server_dev");
  w.client_mac = s("client_mac");
  w.dut_client_mac = s("dut_client_mac");
  w.dut_server_mac = s("dut_server_mac");
  w.server_mac = s("server_mac");
  w.prefix_len = j.value("prefix_len", 24);
  return w;
}

nlohmann::json to_json(const Endpoint& e) { return {{"ip", e.ip}, {"port", e.port}}; }
Endpoint endpoint_from_json(const nlohmann::json& j) { return {j.value("ip", std::string()), j.value("port", uint16_t{0})}; }

nlohmann::json settings_to_json(const PathSettings& s) {
  return {{"proxy_workers", s.proxy_workers}, {"proxy_cpus", s.proxy_cpus},
          {"proxy_pipe_bytes", s.proxy_pipe_bytes}, {"tcp_cc", s.tcp_cc},
          {"services", s.services},           {"match_position", to_string(s.match_position)},
          {"service_port", s.service_port},   {"update_samples", s.update_samples}};
}

PathSettings settings_from_json(const nlohmann::json& j) {
  PathSettings s;
  s.proxy_workers = j.value("proxy_workers", 1u);
  s.proxy_cpus = j.value("proxy_cpus", std::vector<int>{});
  s.proxy_pipe_bytes = j.value("proxy_pipe_bytes", 0u);
  s.tcp_cc = j.value("tcp_cc", std::string());
  s.services = j.value("services", uint64_t{0});
  const std::string mp = j.value("match_position", std::string("last"));
  s.match_position = mp == "first" ? MatchPosition::kFirst : mp == "middle" ? MatchPosition::kMiddle : MatchPosition::kLast;
  s.service_port = j.value("service_port", uint16_t{0});
  s.update_samples = j.value("update_samples", 0u);
  return s;
}

WorkloadOptions options_from_json(const std::string& name, const nlohmann::json& j) {
  WorkloadOptions o;
  o.name = name;
  o.payload_bytes = j.value("payload_bytes", 0u);
  o.response_bytes = j.value("response_bytes", 0u);
  o.flows = j.value("flows", 1u);
  o.duration_s = j.value("duration_s", 2.0);
  o.warmup_s = j.value("warmup_s", 0.5);
  o.cooldown_s = j.value("cooldown_s", 0.2);
  o.rate_pps = j.value("rate_pps", uint64_t{0});
  o.port = j.value("port", uint16_t{0});
  o.stall_timeout_s = j.value("stall_timeout_s", 2.0);
  o.client_cpu = j.value("client_cpu", -1);
  o.server_cpu = j.value("server_cpu", -1);
  o.tcp_cc = j.value("tcp_cc", std::string());
  return o;
}

WorkloadTotals totals_from_json(const nlohmann::json& j) {
  WorkloadTotals t;
  t.transactions = j.value("transactions", uint64_t{0});
  t.connections = j.value("connections", uint64_t{0});
  t.bytes_sent = j.value("bytes_sent", uint64_t{0});
  t.packets_sent = j.value("packets_sent", uint64_t{0});
  t.packets_received = j.value("packets_received", uint64_t{0});
  return t;
}

nlohmann::json result_to_json(const WorkloadResult& r) {
  return {{"ok", r.ok}, {"reason", r.reason}, {"metrics", r.metrics}, {"totals", r.totals.to_json()}};
}

WorkloadResult result_from_json(const nlohmann::json& j) {
  WorkloadResult r;
  r.ok = j.value("ok", false);
  r.reason = j.value("reason", std::string());
  r.metrics = j.contains("metrics") ? j["metrics"] : nlohmann::json(nullptr);
  if (j.contains("totals")) r.totals = totals_from_json(j["totals"]);
  return r;
}

HostRoles::HostRoles(const std::string& here, Wiring w, nlohmann::json hosts)
    : wiring_(std::move(w)), hosts_(std::move(hosts)) {
  auto mk = [&](const char* name) {
    Role r{name, "", hosts_.value(name, std::string(name))};
    r.local = here == name;
    return r;
  };
  client_ = mk("client");
  dut_ = mk("dut");
  server_ = mk("server");
}

nlohmann::json HostRoles::describe() const {
  return {{"kind", "hosts over ssh"},
          {"client", wiring_.client_ip},
          {"dut_client_side", wiring_.dut_client_ip},
          {"dut_server_side", wiring_.dut_server_ip},
          {"server", wiring_.server_ip},
          {"hosts", hosts_},
          {"links", wiring_.client_dev + "<->" + wiring_.dut_client_dev + ", " + wiring_.dut_server_dev + "<->" +
                        wiring_.server_dev}};
}

}  // namespace pb
