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

#include "hosts/protocol.h"

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
