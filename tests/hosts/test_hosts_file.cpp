// SPDX-License-Identifier: Apache-2.0
// The hosts file's own validation (hosts/hosts_file.h): each bad file is refused with its exit
// code and a message naming the problem; a good one gives the wiring. The ssh classification of
// ssh's messages into exit codes too.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "common/error.h"
#include "hosts/hosts_file.h"
#include "hosts/ssh.h"

using namespace pb;

namespace {

std::string good() {
  return R"({"hosts": [
    {"role": "client", "ssh": "root@198.18.200.11", "management": "mgmt0",
     "data": [{"dev": "cli0", "address": "198.18.1.1/24"}]},
    {"role": "dut", "ssh": "root@198.18.200.12", "port": 2222, "management": "mgmt0",
     "data": [{"dev": "dut0", "address": "198.18.1.254/24"}, {"dev": "dut1", "address": "198.18.2.254/24"}]},
    {"role": "server", "ssh": "root@198.18.200.13", "management": "mgmt0",
     "data": [{"dev": "srv0", "address": "198.18.2.2/24"}]}]})";
}

std::string write_tmp(const std::string& text) {
  char t[] = "/tmp/pb-hosts-test-XXXXXX";
  int fd = mkstemp(t);
  EXPECT_GE(fd, 0);
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) ADD_FAILURE() << "write";
  close(fd);
  return t;
}

// Loads `text` with `from` replaced by `to`; returns {exit code, message} (0 when accepted).
std::pair<int, std::string> load(const std::string& from = "", const std::string& to = "") {
  std::string text = good();
  if (!from.empty()) {
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  }
  std::string f = write_tmp(text);
  std::pair<int, std::string> r{0, ""};
  try {
    load_hosts_file(f);
  } catch (const Error& e) {
    r = {e.code(), e.what()};
  }
  unlink(f.c_str());
  return r;
}

}  // namespace

TEST(HostsFile, GoodFileGivesTheWiring) {
  std::string f = write_tmp(good());
  HostsConfig h = load_hosts_file(f);
  unlink(f.c_str());
  Wiring w = h.wiring();
  EXPECT_EQ(w.client_ip, "198.18.1.1");
  EXPECT_EQ(w.dut_client_dev, "dut0");
  EXPECT_EQ(w.dut_server_ip, "198.18.2.254");
  EXPECT_EQ(w.server_dev, "srv0");
  EXPECT_EQ(h.dut.port, 2222);
  EXPECT_EQ(h.client.port, 22);
  EXPECT_EQ(h.server.pathbench, "pathbench");
}

TEST(HostsFile, RoleMissingOrDoubled) {
  // The server's entry removed.
  nlohmann::json doc = nlohmann::json::parse(good());
  doc["hosts"].erase(2);
  std::string g = good(), missing = doc.dump();
  auto [c1, m1] = load(g, missing);
  EXPECT_EQ(c1, kExitHostsFile);
  EXPECT_NE(m1.find("role server is missing"), std::string::npos) << m1;
  auto [c2, m2] = load(R"("role": "server")", R"("role": "client")");
  EXPECT_EQ(c2, kExitHostsFile);
  EXPECT_NE(m2.find("role client is given twice"), std::string::npos) << m2;
}

TEST(HostsFile, DataInterfaceIsManagement) {
  auto [c, m] = load(R"("dev": "srv0")", R"("dev": "mgmt0")");
  EXPECT_EQ(c, kExitHostsUnsafe);
  EXPECT_NE(m.find("is the management interface"), std::string::npos) << m;
}

TEST(HostsFile, OtherMistakesAreNamed) {
  EXPECT_EQ(load("198.18.2.2/24", "10.0.0.2/24").first, kExitHostsFile);  // outside 198.18.0.0/15
  EXPECT_EQ(load("198.18.2.2/24", "198.18.2.2/33").first, kExitHostsFile);
  EXPECT_EQ(load(R"("port": 2222)", R"("port": 0)").first, kExitHostsFile);
  EXPECT_EQ(load(R"("management": "mgmt0",
     "data": [{"dev": "cli0")", R"("managment": "mgmt0",
     "data": [{"dev": "cli0")").first, kExitHostsFile);  // unknown key (a typo)
  EXPECT_EQ(load(R"({"dev": "dut1", "address": "198.18.2.254/24"})", R"({"dev": "dut0", "address": "198.18.2.254/24"})").first,
            kExitHostsFile);  // the DUT's two sides the same interface
  EXPECT_EQ(load(R"({"hosts")", R"({"hostz")").first, kExitHostsFile);
  EXPECT_EQ(load("root@198.18.200.11", "-oProxyCommand=x").first, kExitHostsFile);  // never an ssh option
}

TEST(SshFailure, MessagesMapToExitCodes) {
  EXPECT_EQ(classify_ssh_failure("Host key verification failed.\n").first, kExitHostKey);
  EXPECT_EQ(classify_ssh_failure("@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@").first, kExitHostKey);
  EXPECT_EQ(classify_ssh_failure("root@198.18.200.11: Permission denied (publickey).").first, kExitHostAuth);
  EXPECT_EQ(classify_ssh_failure("ssh: connect to host 198.18.200.99 port 22: No route to host").first,
            kExitHostUnreachable);
}

// What crosses the agent protocol comes back as it went (hosts/protocol.h, proof/capture.h).
#include "hosts/protocol.h"
#include "proof/capture.h"

TEST(Protocol, RoundTrips) {
  WorkloadOptions o;
  o.name = "tcp_rr";
  o.payload_bytes = 64;
  o.response_bytes = 128;
  o.flows = 2;
  o.duration_s = 0.3;
  o.port = 5202;
  o.client_cpu = 1;
  o.tcp_cc = "cubic";
  WorkloadOptions back = options_from_json("tcp_rr", o.to_json());
  EXPECT_EQ(back.to_json(), o.to_json());

  PathSettings s;
  s.services = 100;
  s.match_position = MatchPosition::kMiddle;
  s.proxy_cpus = {1};
  s.service_port = 6000;
  EXPECT_EQ(settings_to_json(settings_from_json(settings_to_json(s))), settings_to_json(s));

  Wiring w{"198.18.1.1", "198.18.1.254", "198.18.2.254", "198.18.2.2", "cli0", "dut0", "dut1", "srv0",
           "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03", "02:00:00:00:00:04", 24};
  EXPECT_EQ(to_json(wiring_from_json(to_json(w))), to_json(w));

  WorkloadResult r;
  r.ok = true;
  r.metrics = {{"transactions_per_s", 1234.5}};
  r.totals.transactions = 7;
  r.totals.connections = 2;
  EXPECT_EQ(result_to_json(result_from_json(result_to_json(r))), result_to_json(r));

  CaptureSummary c;
  c.packets = 25;
  c.syn = 5;
  c.flows["198.18.1.1>198.18.2.2/17/5501"] = 20;
  c.ttls[63] = 25;
  c.first.push_back({"198.18.1.1", "198.18.2.2", 17, 40000, 5501, 63, 44, 0});
  CaptureSummary c2 = CaptureSummary::from_json(c.to_json());
  EXPECT_EQ(c2.to_json(), c.to_json());
  EXPECT_EQ(c2.count_flow("198.18.1.1", "198.18.2.2"), 20u);
}

TEST(HostRoles, OnlyItsOwnRoleIsLocal) {
  HostRoles dut("dut", Wiring{}, {{"dut", "root@lab-dut"}});
  EXPECT_TRUE(dut.dut().local);
  EXPECT_FALSE(dut.client().local);
  EXPECT_FALSE(dut.server().local);
  EXPECT_EQ(dut.dut().netns, "");
  EXPECT_EQ(dut.dut().where, "root@lab-dut");
  HostRoles none("", Wiring{}, nlohmann::json::object());
  EXPECT_FALSE(none.client().local || none.dut().local || none.server().local);
}
