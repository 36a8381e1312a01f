// SPDX-License-Identifier: Apache-2.0
// Unit tests (no privileges): the proxy's pure logic.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <memory>
#include <string>

#include "tproxy/addr_range.h"
#include "tproxy/flow_table.h"
#include "tproxy/proxy.h"

using namespace pb::tproxy;

TEST(Ipv4Range, BenchmarkRangeContainsTopologyAndNothingElse) {
  Ipv4Range r = Ipv4Range::parse("198.18.0.0/15");
  EXPECT_TRUE(r.contains(parse_ipv4("198.18.0.0")));
  EXPECT_TRUE(r.contains(parse_ipv4("198.18.2.2")));
  EXPECT_TRUE(r.contains(parse_ipv4("198.19.255.255")));
  EXPECT_FALSE(r.contains(parse_ipv4("198.17.255.255")));  // just below
  EXPECT_FALSE(r.contains(parse_ipv4("198.20.0.0")));      // just above
  EXPECT_FALSE(r.contains(parse_ipv4("10.0.0.1")));
  EXPECT_EQ(r.str(), "198.18.0.0/15");
}

TEST(Ipv4Range, EdgesOfPrefixLength) {
  Ipv4Range all = Ipv4Range::parse("0.0.0.0/0");
  EXPECT_TRUE(all.contains(parse_ipv4("255.255.255.255")));
  EXPECT_TRUE(all.contains(0));
  Ipv4Range host = Ipv4Range::parse("198.18.2.2");
  EXPECT_EQ(host.prefix_len, 32u);
  EXPECT_TRUE(host.contains(parse_ipv4("198.18.2.2")));
  EXPECT_FALSE(host.contains(parse_ipv4("198.18.2.3")));
}

TEST(Ipv4Range, RejectsMalformedText) {
  for (const char* bad : {"198.18.0.0/33", "198.18.0.0/", "198.18.0/15", "198.18.1.1/15", "x/8",
                          "198.18.0.0/1a", "", "256.0.0.0/8"})
    EXPECT_THROW(Ipv4Range::parse(bad), std::invalid_argument) << "accepted '" << bad << "'";
}

TEST(Ipv4Range, ListParsingAndEmptyListAllowsNothing) {
  auto v = parse_ranges("198.18.0.0/15,10.0.0.0/8");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_TRUE(in_any(v, parse_ipv4("10.9.8.7")));
  EXPECT_TRUE(in_any(v, parse_ipv4("198.19.0.1")));
  EXPECT_FALSE(in_any(v, parse_ipv4("192.168.0.1")));
  EXPECT_FALSE(in_any({}, parse_ipv4("198.18.2.2")));  // a proxy with no range is not a relay
  EXPECT_THROW(parse_ranges("198.18.0.0/15,"), std::invalid_argument);
  EXPECT_THROW(parse_ranges(""), std::invalid_argument);
}

TEST(Ipv4Range, DefaultConfigAllowsOnlyTheBenchmarkRange) {
  Config c;
  EXPECT_TRUE(in_any(c.allowed, parse_ipv4("198.18.2.2")));
  EXPECT_FALSE(in_any(c.allowed, parse_ipv4("8.8.8.8")));
  EXPECT_FALSE(in_any(c.allowed, parse_ipv4("127.0.0.1")));
}

using Table = LruFlowTable<int, std::unique_ptr<int>>;

TEST(FlowTable, EvictsLeastRecentlyUsedWhenFull) {
  Table t(3);
  std::vector<int> evicted;
  auto ev = [&](const int& k, std::unique_ptr<int>& v) {
    EXPECT_EQ(*v, k * 10);
    evicted.push_back(k);
  };
  for (int k = 1; k <= 3; ++k) t.insert(k, std::make_unique<int>(k * 10), 100 + k, ev);
  ASSERT_NE(t.find(1, 200), nullptr);  // 1 becomes the most recent; 2 is now the oldest
  t.insert(4, std::make_unique<int>(40), 201, ev);
  ASSERT_EQ(evicted, std::vector<int>{2});
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.peek(2), nullptr);
  EXPECT_NE(t.peek(1), nullptr);
  EXPECT_EQ(t.oldest(), 3);
  t.insert(5, std::make_unique<int>(50), 202, ev);
  t.insert(6, std::make_unique<int>(60), 203, ev);
  EXPECT_EQ(evicted, (std::vector<int>{2, 3, 1}));
  EXPECT_EQ(t.size(), 3u);
}

TEST(FlowTable, FloodOfNewFlowsStaysBoundedAndKeepsTheBusyFlow) {
  Table t(64);
  size_t evicted = 0;
  auto ev = [&](const int&, std::unique_ptr<int>&) { ++evicted; };
  t.insert(-1, std::make_unique<int>(-10), 0, ev);  // the busy flow
  for (int k = 0; k < 10000; ++k) {
    t.insert(k, std::make_unique<int>(k * 10), static_cast<uint64_t>(k) + 1, ev);
    if (k % 16 == 0) {
      ASSERT_NE(t.find(-1, static_cast<uint64_t>(k) + 1), nullptr) << "busy flow evicted at " << k;
    }
    ASSERT_LE(t.size(), 64u);
  }
  EXPECT_EQ(t.size(), 64u);
  EXPECT_EQ(evicted, 10001u - 64u);
  EXPECT_NE(t.peek(-1), nullptr);
}

TEST(FlowTable, ExpiresIdleFlowsOldestFirstAndStopsAtFreshOnes) {
  Table t(10);
  auto none = [](const int&, std::unique_ptr<int>&) { FAIL() << "nothing should be evicted"; };
  for (int k = 0; k < 5; ++k) t.insert(k, std::make_unique<int>(k * 10), 1000 * k, none);
  t.find(0, 4500);  // refreshed
  std::vector<int> expired;
  size_t n = t.expire(5000, 2500, [&](const int& k, std::unique_ptr<int>&) { expired.push_back(k); });
  // idle >= 2500 at t=5000: stamped 1000 (k=1), 2000 (k=2); k=3 (3000) and k=0 (4500) are fresh
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(expired, (std::vector<int>{1, 2}));
  EXPECT_EQ(t.size(), 3u);
  EXPECT_TRUE(t.erase(3));
  EXPECT_FALSE(t.erase(3));
  size_t cleared = 0;
  t.clear([&](const int&, std::unique_ptr<int>&) { ++cleared; });
  EXPECT_EQ(cleared, 2u);
  EXPECT_EQ(t.size(), 0u);
}

TEST(Counters, DifferenceKeepsGaugesAndSubtractsTotals) {
  CounterSnapshot a, b;
  a.tcp_accepted = 10;
  a.tcp_active = 4;
  a.udp_flows_active = 7;
  a.bytes_client_to_upstream = 1000;
  b.tcp_accepted = 25;
  b.tcp_active = 2;
  b.udp_flows_active = 9;
  b.bytes_client_to_upstream = 1500;
  CounterSnapshot d = b - a;
  EXPECT_EQ(d.tcp_accepted, 15u);
  EXPECT_EQ(d.bytes_client_to_upstream, 500u);
  EXPECT_EQ(d.tcp_active, 2u);        // gauge: the later value
  EXPECT_EQ(d.udp_flows_active, 9u);
  bool found = false;
  for (auto& [k, v] : d.items())
    if (k == "tcp_accepted") found = (v == 15);
  EXPECT_TRUE(found);
}

// Both models: in its own process the child's error comes back as the same message, and no
// process is left (pid -1).
TEST(Proxy, StartFailsWithContextAndLeavesNothingOpen) {
  for (bool own : {false, true}) {
    Config c;
    c.listen_ip = "not-an-address";
    c.transparent = false;
    c.own_process = own;
    Proxy p(c);
    try {
      p.start();
      ADD_FAILURE() << "start() accepted a bad listen address (own_process " << own << ")";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("not-an-address"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(p.running());
    EXPECT_TRUE(p.tcp_listener_fds().empty());
    if (own) {
      EXPECT_EQ(p.pid(), -1);
    }
  }
}

// bpf_sk_assign before Linux 6.5 refuses a SO_REUSEPORT group's socket: reuseport off gives plain
// listeners, and more than one worker (which would need the group) is refused, saying why.
TEST(Proxy, ReuseportOffMeansPlainListenersAndOneWorker) {
  Config c;
  c.listen_ip = "127.0.0.1";
  c.port = 0;
  c.transparent = false;
  c.reuseport = false;
  c.workers = 2;
  {
    Proxy p(c);
    try {
      p.start();
      FAIL() << "two workers started without SO_REUSEPORT";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("one worker only"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(p.running());
  }
  for (bool reuseport : {false, true}) {
    c.workers = 1;
    c.reuseport = reuseport;
    Proxy p(c);
    p.start();
    auto fds = p.tcp_listener_fds();
    auto udp = p.udp_socket_fds();
    ASSERT_EQ(fds.size(), 1u);
    ASSERT_EQ(udp.size(), 1u);
    for (int fd : {fds[0], udp[0]}) {
      int v = -1;
      socklen_t l = sizeof v;
      ASSERT_EQ(getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &v, &l), 0);
      EXPECT_EQ(v != 0, reuseport) << "reuseport " << reuseport;
    }
  }
}

namespace {

// No interception, no IP_TRANSPARENT: the relay itself, on 127.0.0.1 in this namespace, with the
// workers as threads of this process or in a process of their own.
void relay_on_loopback(bool own_process) {
  Config c;
  c.own_process = own_process;
  c.listen_ip = "127.0.0.1";
  c.port = 0;
  c.transparent = false;
  c.udp = false;
  c.allowed = {Ipv4Range::parse("127.0.0.0/8")};
  c.fixed_upstream_ip = parse_ipv4("127.0.0.1");
  // Upstream: a listener of our own on another port.
  int up = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(up, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(up, 16), 0);
  socklen_t al = sizeof a;
  getsockname(up, reinterpret_cast<sockaddr*>(&a), &al);
  c.fixed_upstream_port = ntohs(a.sin_port);
  Proxy p(c);
  p.start();
  int cl = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in pa{};
  pa.sin_family = AF_INET;
  pa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  pa.sin_port = htons(p.bound_port());
  ASSERT_EQ(::connect(cl, reinterpret_cast<sockaddr*>(&pa), sizeof pa), 0);
  int srv = ::accept(up, nullptr, nullptr);
  ASSERT_GE(srv, 0);
  ASSERT_EQ(::send(cl, "ping", 4, 0), 4);
  char buf[8] = {};
  ASSERT_EQ(::recv(srv, buf, 4, MSG_WAITALL), 4);
  EXPECT_EQ(std::string(buf, 4), "ping");
  ASSERT_EQ(::send(srv, "pong!", 5, 0), 5);
  ASSERT_EQ(::recv(cl, buf, 5, MSG_WAITALL), 5);
  EXPECT_EQ(std::string(buf, 5), "pong!");
  ::close(cl);
  EXPECT_EQ(::recv(srv, buf, 1, 0), 0);  // the client's FIN reached the upstream
  ::close(srv);
  ::close(up);
  for (int i = 0; i < 100 && p.counters().tcp_active; ++i) usleep(10000);
  auto s = p.counters();
  EXPECT_EQ(s.tcp_accepted, 1u);
  EXPECT_EQ(s.tcp_active, 0u);
  EXPECT_EQ(s.bytes_client_to_upstream, 4u);
  EXPECT_EQ(s.bytes_upstream_to_client, 5u);
  if (own_process) {
    EXPECT_GT(p.pid(), 0);
    EXPECT_NE(p.pid(), getpid());
  } else {
    EXPECT_EQ(p.pid(), getpid());
  }
  const int pid = p.pid();
  p.stop();
  EXPECT_FALSE(p.running());
  if (own_process) {
    EXPECT_NE(kill(pid, 0), 0) << "the proxy's process " << pid << " outlived stop()";
  }
}

// The child's state: 'Z' (a zombie), 'S'..., or '\0' when it is gone.
char process_state(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return '\0';
  auto r = line.rfind(')');
  return r == std::string::npos || r + 2 >= line.size() ? '\0' : line[r + 2];
}

}  // namespace

TEST(Proxy, PlainProxyRelaysOnLoopbackWithoutPrivileges) { relay_on_loopback(false); }

TEST(Proxy, OwnProcessRelaysCountsAndStops) { relay_on_loopback(true); }

// Own process: the listeners' fds come across (dups of the child's sockets, for sockmaps),
// and listen_on reaches the child (a failed start: StartFailsWithContextAndLeavesNothingOpen).
TEST(Proxy, OwnProcessPassesListenersAndOpensPorts) {
  Config c;
  c.own_process = true;
  c.listen_ip = "127.0.0.1";
  c.port = 0;
  c.transparent = false;
  c.workers = 2;
  Proxy p(c);
  p.start();
  auto fds = p.tcp_listener_fds();
  auto udp = p.udp_socket_fds();
  ASSERT_EQ(fds.size(), 2u);
  ASSERT_EQ(udp.size(), 2u);
  for (int fd : fds) {
    sockaddr_in a{};
    socklen_t l = sizeof a;
    ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l), 0);
    EXPECT_EQ(ntohs(a.sin_port), p.bound_port());
    int v = 0;
    l = sizeof v;
    ASSERT_EQ(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l), 0);
    EXPECT_EQ(v, 1) << "not a listener";
  }
  // A second port: the child opens it; connecting there works.
  int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
  socklen_t al = sizeof any;
  getsockname(probe, reinterpret_cast<sockaddr*>(&any), &al);
  ::close(probe);  // a port that was free a moment ago
  p.listen_on(ntohs(any.sin_port));
  EXPECT_EQ(p.ports().size(), 2u);
  EXPECT_EQ(p.tcp_listener_fds().size(), 4u);
  p.stop();
}

// The child never outlives its parent, whichever thread forked it: the parent here exits without
// stopping the proxy, and the proxy's process ends (it reads end-of-file on its control socket).
TEST(Proxy, OwnProcessEndsWithItsParent) {
  int pfd[2];
  ASSERT_EQ(pipe(pfd), 0);
  pid_t parent = fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {
    close(pfd[0]);
    Config c;
    c.own_process = true;
    c.listen_ip = "127.0.0.1";
    c.port = 0;
    c.transparent = false;
    auto* p = new Proxy(c);  // never stopped: the process ends under it
    p->start();
    int pid = p->pid();
    (void)!write(pfd[1], &pid, sizeof pid);
    _exit(0);
  }
  close(pfd[1]);
  int child = -1;
  ASSERT_EQ(read(pfd[0], &child, sizeof child), static_cast<ssize_t>(sizeof child));
  close(pfd[0]);
  waitpid(parent, nullptr, 0);
  ASSERT_GT(child, 0);
  char st = process_state(child);
  for (int i = 0; i < 300 && st != '\0' && st != 'Z'; ++i) {
    usleep(10000);
    st = process_state(child);
  }
  EXPECT_TRUE(st == '\0' || st == 'Z') << "the proxy's process " << child << " is still in state " << st;
}
