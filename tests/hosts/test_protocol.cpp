// SPDX-License-Identifier: Apache-2.0
// What crosses the agent protocol or lands in run.json comes back as it went, every field of it;
// and the agent's safety and wiring checks (hosts/host_checks.h) over `ip -j` output captured
// from namespaces wired like the ssh test's hosts (tests/hosts/data/, README there).
#include <gtest/gtest.h>

#include <algorithm>

#include "common/error.h"
#include "common/fs.h"
#include "hosts/host_checks.h"
#include "hosts/protocol.h"
#include "proof/capture.h"
#include "proof/probe.h"
#include "run/document.h"

using namespace pb;

namespace {

// How many fields an aggregate has: how many initializers it takes (each converts to anything).
struct AnyField {
  template <class T>
  operator T() const;
};
template <class T, class... A>
constexpr size_t field_count() {
  if constexpr (requires { T{A{}..., AnyField{}}; })
    return field_count<T, A..., AnyField>();
  else
    return sizeof...(A);
}

// The round trip of a value whose every field the test set away from its default: every field
// has a key (a field the serializer forgets fails here, whatever the test sets), every key differs
// from a default value's (a field the test forgot to set fails here), and the value comes back
// equal (operator== compares every field), through text as over the wire.
template <class T>
void expect_round_trip(const T& x) {
  SCOPED_TRACE(typeid(T).name());
  const nlohmann::json j = x, d = T{};
  EXPECT_EQ(j.size(), field_count<T>()) << "a field is not serialized: " << j.dump();
  for (auto& [k, v] : j.items()) EXPECT_NE(v, d[k]) << k << " is left at its default: the test cannot see it lost";
  EXPECT_TRUE(j.get<T>() == x) << j.dump();
  EXPECT_TRUE(nlohmann::json::parse(j.dump()).get<T>() == x) << j.dump();
}

WorkloadTotals totals() {
  WorkloadTotals t;
  t.transactions = 7;
  t.connections = 2;
  t.bytes_sent = 4096;
  t.packets_sent = 11;
  t.packets_received = 10;
  t.idle_connections = 2;
  t.http_route_requests = {4, 3};
  return t;
}

CaptureSummary capture() {
  CaptureSummary c;
  c.netns = "pb-abc123-srv";
  c.dev = "srv0";
  c.filter = "ip dst host 198.18.2.2";
  c.packets = 25;
  c.pcap_received = 26;
  c.pcap_dropped = 1;
  c.flows["198.18.1.1>198.18.2.2/udp:5501"] = 20;
  c.ttl["63"] = 25;
  c.tcp_syn = 5;
  c.first_packets.push_back({"198.18.1.1", "198.18.2.2", 6, 40000, 5502, 63, 60, 0x02});
  return c;
}

}  // namespace

TEST(Protocol, EveryFieldRoundTrips) {
  expect_round_trip(Endpoint{"198.18.2.2", 5201});
  expect_round_trip(Wiring{"198.18.1.1", "198.18.1.254", "198.18.2.254", "198.18.2.2", "cli0", "dut0", "dut1", "srv0",
                           "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03", "02:00:00:00:00:04", 16});

  PathSettings s;
  s.proxy_workers = 2;
  s.proxy_cpus = {1};
  s.proxy_pipe_bytes = 65536;
  s.proxy_model = "process";
  s.tcp_cc = "reno";
  s.tcp_buffer_bytes = 4 << 20;
  s.services = 100;
  s.match_position = MatchPosition::kMiddle;
  s.service_port = 6000;
  s.update_samples = 5;
  s.gateway = "haproxy";
  s.observe = "gateway-log";
  expect_round_trip(s);

  WorkloadOptions o;
  o.payload_bytes = 64;
  o.response_bytes = 128;
  o.flows = 2;
  o.duration_s = 0.3;
  o.warmup_s = 0.1;
  o.cooldown_s = 0.05;
  o.rate_pps = 1000;
  o.port = 5202;
  o.stall_timeout_s = 1.5;
  o.client_cpu = 1;
  o.server_cpu = 0;
  o.tcp_cc = "reno";
  o.tcp_buffer_bytes = 4 << 20;  // the field the hand-written mirror lost (issue 24)
  o.responder = "process";
  o.rate_rps = 2500.5;
  o.http_routes = {"GET /api/v1/users", "POST /api/v1/orders"};
  expect_round_trip(o);

  expect_round_trip(totals());
  WorkloadResult r;
  r.ok = true;
  r.reason = "(ok rows have none; set to prove it travels)";
  r.metrics = {{"transactions_per_s", 1234.5}};
  r.totals = totals();
  expect_round_trip(r);

  expect_round_trip(PacketInfo{"198.18.1.1", "198.18.2.2", 6, 40000, 5502, 63, 60, 0x12});
  expect_round_trip(capture());
  expect_round_trip(ProbeClientResult{20, 5, "connect: refused", capture()});

  StopRecord st;
  st.reason = "target interval reached";
  st.repetitions = 7;
  st.elapsed_s = 12.5;
  st.detail = {{"configurations", 3}};
  expect_round_trip(st);
}

// run.json keeps its names for what was renamed into the structs (analysis and readers rely on
// them): probes' captures, the enums.
TEST(Protocol, RunJsonNamesAreKept) {
  const nlohmann::json c = capture();
  for (auto k : {"netns", "dev", "filter", "packets", "pcap_received", "pcap_dropped", "flows", "ttl", "tcp_syn",
                 "first_packets"})
    EXPECT_TRUE(c.contains(k)) << k;
  EXPECT_EQ(c["ttl"], nlohmann::json({{"63", 25}}));
  EXPECT_EQ(c["first_packets"][0]["ip_len"], 60);
  EXPECT_EQ(capture().with_ttl(63), 25u);
  EXPECT_EQ(capture().with_ttl(64), 0u);
  EXPECT_EQ(nlohmann::json(MatchPosition::kFirst), "first");
  EXPECT_EQ(nlohmann::json(Protocol::kUdp), "udp");
  EXPECT_EQ(nlohmann::json(RunStatus::kInterrupted), "interrupted");
}

// --- the agent's checks over captured `ip -j` output -------------------------------------------

namespace {

nlohmann::json data(const std::string& name) {
  const std::string f = std::string(PATHBENCH_SOURCE_DIR) + "/tests/hosts/data/" + name;
  auto text = read_file(f);
  EXPECT_TRUE(text.has_value()) << f;
  return nlohmann::json::parse(text.value_or("[]"));
}

// The ssh test's data wiring (and netns/topology.sh's), MACs left to the checks.
Wiring wiring() {
  return {"198.18.1.1", "198.18.1.254", "198.18.2.254", "198.18.2.2", "cli0", "dut0", "dut1", "srv0", "", "", "", "", 24};
}

// A host's facts from its captured files <role>-link.json, <role>-addr.json, <role>-route-default.json.
HostFacts captured(const std::string& role, const std::string& hostname) {
  HostFacts f;
  f.hostname = hostname;
  f.links = data(role + "-link.json");
  f.addresses = data(role + "-addr.json");
  f.default_routes = data(role + "-route-default.json");
  return f;
}

// The client host as the ssh test makes it: mgmt0 198.18.200.11/24 with the default route,
// cli0 198.18.1.1/24, 198.18.2.0/24 via the DUT.
HostFacts client() {
  HostFacts f = captured("client", "lab-cli");
  f.route_to["198.18.2.2"] = data("client-route-get-server.json");
  return f;
}

// The DUT: dut0 198.18.1.254/24, dut1 198.18.2.254/24, mgmt0 198.18.200.12/24 with the default route.
HostFacts dut() {
  HostFacts f = captured("dut", "lab-dut");
  f.forwarding = true;
  return f;
}

// {exit code, message} of a check; {0, ""} when it passes.
template <class F>
std::pair<int, std::string> outcome(F&& check) {
  try {
    check();
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  return {0, ""};
}

}  // namespace

TEST(HostChecks, ReadLinksAndAddressesFromIpJson) {
  const HostFacts c = client();
  EXPECT_EQ(link_names(c.links), (std::vector<std::string>{"lo", "mgmt0", "cli0"}));
  EXPECT_EQ(link_mac(c.links, "cli0"), "02:00:c6:12:01:01");
  EXPECT_EQ(link_mac(c.links, "nosuch0"), "");
  EXPECT_EQ(addresses_of(c.addresses, "cli0"), std::vector<std::string>{"198.18.1.1/24"});
  EXPECT_TRUE(has_address(c.addresses, "cli0", "198.18.1.1", 24));
  EXPECT_FALSE(has_address(c.addresses, "cli0", "198.18.1.1", 16)) << "the prefix length counts";
  EXPECT_TRUE(has_address(c.addresses, "cli0", "198.18.1.1", -1));
  EXPECT_FALSE(has_address(c.addresses, "mgmt0", "198.18.1.1", -1)) << "an address of another interface";
  EXPECT_EQ(addresses_of(dut().addresses, "dut1"), std::vector<std::string>{"198.18.2.254/24"});
}

TEST(HostChecks, SafetyRefusesTheDefaultRouteAndTheSessionsInterface) {
  const Wiring w = wiring();
  EXPECT_EQ(outcome([&] { check_safety(client(), data_interfaces("client", w)); }).first, 0);
  EXPECT_EQ(outcome([&] { check_safety(dut(), data_interfaces("dut", w)); }).first, 0);

  auto [code, what] = outcome([&] { check_safety(client(), {{"mgmt0", "198.18.200.11"}}); });
  EXPECT_EQ(code, kExitHostsUnsafe);
  EXPECT_NE(what.find("carries the default route (default via 198.18.200.1 dev mgmt0)"), std::string::npos) << what;

  HostFacts f = client();
  f.default_routes = nlohmann::json::array();  // no default route at all: the session's address still counts
  f.session_ip = "198.18.200.11";
  std::tie(code, what) = outcome([&] { check_safety(f, {{"mgmt0", "198.18.200.11"}}); });
  EXPECT_EQ(code, kExitHostsUnsafe);
  EXPECT_NE(what.find("carries this SSH session's address 198.18.200.11"), std::string::npos) << what;
  EXPECT_EQ(outcome([&] { check_safety(f, data_interfaces("client", wiring())); }).first, 0);
  // A data interface that does not exist is the wiring phase's to report (25), not unsafe.
  EXPECT_EQ(outcome([&] { check_safety(f, {{"nosuch0", "198.18.1.1"}}); }).first, 0);
}

TEST(HostChecks, WiringNamesWhatIsMissing) {
  const Wiring w = wiring();
  nlohmann::json macs;
  EXPECT_EQ(outcome([&] { macs = check_wiring(client(), "client", w, "mgmt0"); }).first, 0);
  EXPECT_EQ(macs, nlohmann::json({{"cli0", "02:00:c6:12:01:01"}}));
  EXPECT_EQ(outcome([&] { macs = check_wiring(dut(), "dut", w, "mgmt0"); }).first, 0);
  EXPECT_EQ(macs, nlohmann::json({{"dut0", "02:00:c6:12:01:fe"}, {"dut1", "02:00:c6:12:02:fe"}}));

  struct Case {
    const char* what;
    std::function<void(HostFacts&, Wiring&, std::string&)> change;
    const char* says;
  } cases[] = {
      {"management missing", [](HostFacts&, Wiring&, std::string& m) { m = "eno1"; }, "management interface eno1 not found"},
      {"data interface missing", [](HostFacts&, Wiring& w, std::string&) { w.client_dev = "enp1s0"; },
       "data interface enp1s0 not found on lab-cli (have: lo, mgmt0, cli0)"},
      {"address missing", [](HostFacts&, Wiring& w, std::string&) { w.client_ip = "198.18.1.9"; },
       "does not have 198.18.1.9/24 (has: 198.18.1.1/24)"},
      {"prefix differs", [](HostFacts&, Wiring& w, std::string&) { w.prefix_len = 16; }, "does not have 198.18.1.1/16"},
      {"far end via the management side",
       [](HostFacts& f, Wiring&, std::string&) { f.route_to["198.18.2.2"] = data("client-route-get-server-via-mgmt.json"); },
       "the route to 198.18.2.2 is not via 198.18.1.254 dev cli0 (198.18.2.2 via 198.18.200.1 dev mgmt0)"},
      {"no route", [](HostFacts& f, Wiring&, std::string&) { f.route_to.clear(); }, "(no route)"},
  };
  for (auto& c : cases) {
    HostFacts f = client();
    Wiring cw = w;
    std::string mgmt = "mgmt0";
    c.change(f, cw, mgmt);
    auto [code, what] = outcome([&] { check_wiring(f, "client", cw, mgmt); });
    EXPECT_EQ(code, kExitHostInterface) << c.what << ": " << what;
    EXPECT_NE(what.find(c.says), std::string::npos) << c.what << ": " << what;
  }
  HostFacts d = dut();
  d.forwarding = false;
  auto [code, what] = outcome([&] { check_wiring(d, "dut", w, "mgmt0"); });
  EXPECT_EQ(code, kExitHostInterface);
  EXPECT_NE(what.find("net.ipv4.ip_forward is 0 on lab-dut"), std::string::npos) << what;
}

// Two options are refused with --hosts, each for one stated reason; the rest mean what they mean without
// it (--until-ci-pct, --inject-cost-ns-per-packet, --tcp-buffer-bytes, --bpf-stats, --tc-attach
// included: tests/hosts/ssh_hosts_test.sh runs them).
#include "hosts/orchestrator.h"
#include "run/cli.h"

TEST(HostsMode, RefusesOnlyPeersAndTheProfilerAndSaysWhy) {
  RunConfig every = parse_run_options({"--hosts", "lab.json", "--until-ci-pct", "5", "--repetitions", "6",
                                       "--inject-cost-ns-per-packet", "100", "--tcp-buffer-bytes", "4194304",
                                       "--bpf-stats", "always", "--tc-attach", "clsact", "--services", "10", "--paths",
                                       "sk-lookup", "--order", "shuffled"});
  EXPECT_FALSE(hosts_mode_refuses(every).has_value()) << *hosts_mode_refuses(every);
  auto why = hosts_mode_refuses(parse_run_options({"--hosts", "lab.json", "--peers", "--duration-s", "1", "--warmup-s", "1"}));
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("--peers is not available with --hosts"), std::string::npos) << *why;
  EXPECT_EQ(why->find('\n'), std::string::npos) << "one line";
  why = hosts_mode_refuses(parse_run_options({"--hosts", "lab.json", "--kernel-profile-ns", "50000"}));
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("--kernel-profile-ns is not available with --hosts"), std::string::npos) << *why;
}
