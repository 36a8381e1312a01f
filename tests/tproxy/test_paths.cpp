// SPDX-License-Identifier: Apache-2.0
// Privileged tests: every proxy path, built by its own PathInstance (the code the runner uses)
// on a real topology: a TCP and a UDP exchange through it, the server sees the connection come
// from where the path says (the proxy, or the client in full-transparency mode) to the original
// destination, the path's proof (proxy counters, rule / BPF program counters) says ok, and after
// the instance is destroyed the DUT's nft ruleset, policy rules, routes, TC/TCX attachments and
// BPF programs are exactly as before.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>

#include "paths/path.h"
#include "roles/topology.h"
#include "kernel/process.h"
#include "kernel/netns.h"
#include "kernel/host.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/strings.h"
#include "host_snapshot.h"

namespace {

using pb::Addr;

struct Case {
  const char* path;
  const char* run_id;
};

sockaddr_in sa(const std::string& ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

std::string ip_of(const sockaddr_in& a) {
  char b[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a.sin_addr, b, sizeof b);
  return b;
}

void timeouts(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Everything a path may add to the DUT, as text: comparing before and after shows leftovers.
std::string dut_state(const std::string& ns) {
  std::string s;
  auto add = [&](const std::string& title, std::vector<std::string> argv) {
    pb::CmdResult r = pb::run_cmd(pb::in_netns(ns, std::move(argv)));
    s += "### " + title + "\n" + r.out;
  };
  add("nft", {"nft", "list", "ruleset"});
  add("rules", {"ip", "rule", "show"});
  add("routes", {"ip", "route", "show", "table", "all"});
  add("bpf-net", {"bpftool", "net", "show"});
  add("qdisc", {"tc", "qdisc", "show"});
  return s;
}

size_t progs_named(const std::string& name) {
  pb::CmdResult r = pb::run_cmd({"bpftool", "prog", "show", "name", name});
  size_t n = 0;
  for (auto& l : pb::split(r.out, '\n'))
    if (l.find(": ") != std::string::npos && l.find("name " + name) != std::string::npos) ++n;
  return n;
}

class ProxyPaths : public ::testing::TestWithParam<Case> {};

// The exchange, its proofs and the DUT's state, on a topology of its own (gone on return).
void intercept_and_prove(const Case& c, const pb::PathInfo* info) {
  pb::Topology topo(c.run_id);
  const std::string before = dut_state(topo.dut_ns());
  const size_t progs_before = progs_named("pb_sk_lookup") + progs_named("pb_tc_sk_assign");

  // Server side: TCP echo on 7101, UDP echo on 7102.
  int tl = -1, us = -1;
  {
    pb::ScopedNetns in(topo.srv_ns());
    tl = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(tl, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a = sa("0.0.0.0", 7101);
    ASSERT_EQ(bind(tl, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(listen(tl, 16), 0);
    us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in b = sa("0.0.0.0", 7102);
    ASSERT_EQ(bind(us, reinterpret_cast<sockaddr*>(&b), sizeof b), 0);
    timeouts(us, 2000);
  }
  {
    std::unique_ptr<pb::PathInstance> inst = info->make(pb::PathContext{*info, topo, {}});
    ASSERT_NE(inst, nullptr);
    EXPECT_FALSE(inst->routes()) << "a proxy path re-originates, it does not route";
    const std::string want_src = inst->expected_server_src();
    if (std::string(c.path) != "proxy-plain") {  // plain adds nothing to the DUT
      EXPECT_NE(dut_state(topo.dut_ns()), before) << c.path << " added nothing to the DUT while set up";
    }

    pb::WorkloadInfo xdp;
    xdp.name = "xdp_pps";
    xdp.transport = pb::Transport::kFrames;
    EXPECT_TRUE(inst->unsupported_workload(xdp).has_value()) << "xdp_pps cannot go through a proxy";

    // ---- TCP
    const pb::WorkloadInfo& tcp_rr = *pb::find_workload("tcp_rr");
    pb::WorkloadOptions tw;
    tw.port = 7101;
    pb::Endpoint tt = inst->client_target(pb::Protocol::kTcp, {Addr::kServer, 7101});
    inst->begin(tcp_rr, tw);
    int cfd = -1;
    {
      pb::ScopedNetns in(topo.cli_ns());
      cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      timeouts(cfd, 2000);
      sockaddr_in a = sa(tt.ip, tt.port);
      ASSERT_EQ(connect(cfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0)
          << "connect " << tt.ip << ":" << tt.port << ": " << strerror(errno);
    }
    pollfd p{tl, POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 2000), 1) << "no connection reached the server";
    sockaddr_in peer{};
    socklen_t pl = sizeof peer;
    int sfd = accept4(tl, reinterpret_cast<sockaddr*>(&peer), &pl, SOCK_CLOEXEC);
    ASSERT_GE(sfd, 0);
    sockaddr_in local{};
    socklen_t ll = sizeof local;
    getsockname(sfd, reinterpret_cast<sockaddr*>(&local), &ll);
    EXPECT_EQ(ip_of(peer), want_src) << "the server saw the connection come from the wrong address";
    EXPECT_EQ(ip_of(local), Addr::kServer);
    EXPECT_EQ(ntohs(local.sin_port), 7101) << "not the original destination port";
    timeouts(sfd, 2000);
    ASSERT_EQ(send(cfd, "request!", 8, 0), 8);
    char buf[64];
    ASSERT_EQ(recv(sfd, buf, 8, MSG_WAITALL), 8);
    ASSERT_EQ(send(sfd, buf, 8, 0), 8);
    ASSERT_EQ(recv(cfd, buf, 8, MSG_WAITALL), 8);
    EXPECT_EQ(std::string(buf, 8), "request!");
    close(cfd);
    close(sfd);
    pb::WorkloadTotals tt_tot;
    tt_tot.connections = 1;
    tt_tot.transactions = 1;
    nlohmann::json proof = inst->end(tcp_rr, tw, tt_tot);
    EXPECT_TRUE(proof.value("ok", false)) << "TCP proof: " << proof.dump();
    EXPECT_EQ(proof["proxy"].value("tcp_accepted", 0), 1) << proof.dump();
    EXPECT_EQ(proof["proxy"].value("bytes_client_to_upstream", 0), 8) << proof.dump();
    if (std::string(c.path) == "sk-lookup") {
      EXPECT_EQ(proof["sk_lookup"].value("tcp_assigned", 0), 1) << proof.dump();
    }
    if (std::string(c.path) == "tc-sk-assign") {
      EXPECT_EQ(proof["tc_sk_assign"].value("tcp_assigned", 0), 1) << proof.dump();
    }
    // A proof must be able to fail: claim more connections than the proxy saw.
    inst->begin(tcp_rr, tw);
    pb::WorkloadTotals bogus;
    bogus.connections = 3;
    EXPECT_FALSE(inst->end(tcp_rr, tw, bogus).value("ok", true)) << "the proof accepted connections the proxy never saw";

    // ---- UDP
    const pb::WorkloadInfo& udp_rr = *pb::find_workload("udp_rr");
    pb::WorkloadOptions uw;
    uw.port = 7102;
    pb::Endpoint ut = inst->client_target(pb::Protocol::kUdp, {Addr::kServer, 7102});
    inst->begin(udp_rr, uw);
    int ufd = -1;
    {
      pb::ScopedNetns in(topo.cli_ns());
      ufd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      timeouts(ufd, 2000);
    }
    sockaddr_in udst = sa(ut.ip, ut.port);
    int answered = 0;
    for (int i = 0; i < 5; ++i) {
      std::string msg = "dgram-" + std::to_string(i);
      ASSERT_EQ(sendto(ufd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&udst), sizeof udst),
                static_cast<ssize_t>(msg.size()));
      sockaddr_in from{};
      socklen_t fl = sizeof from;
      ssize_t n = recvfrom(us, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
      ASSERT_EQ(n, static_cast<ssize_t>(msg.size())) << "datagram " << i << " did not reach the server";
      EXPECT_EQ(ip_of(from), want_src);
      sendto(us, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), fl);
      sockaddr_in rfrom{};
      socklen_t rl = sizeof rfrom;
      n = recvfrom(ufd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&rfrom), &rl);
      if (n == static_cast<ssize_t>(msg.size()) && std::string(buf, msg.size()) == msg) ++answered;
      EXPECT_EQ(ip_of(rfrom), ut.ip) << "the reply did not come from the address the client sent to";
      EXPECT_EQ(ntohs(rfrom.sin_port), ut.port);
    }
    EXPECT_EQ(answered, 5);
    close(ufd);
    pb::WorkloadTotals ut_tot;
    ut_tot.packets_sent = 5;
    ut_tot.packets_received = 5;
    ut_tot.transactions = 5;
    proof = inst->end(udp_rr, uw, ut_tot);
    EXPECT_TRUE(proof.value("ok", false)) << "UDP proof: " << proof.dump();
    EXPECT_EQ(proof["proxy"].value("udp_flows_created", 0), 1) << proof.dump();
    EXPECT_EQ(proof["proxy"].value("udp_datagrams_client_to_upstream", 0), 5) << proof.dump();
    if (std::string(c.path) == "sk-lookup") {
      EXPECT_GE(proof["sk_lookup"].value("udp_assigned", 0), 1) << proof.dump();
    }
    if (std::string(c.path) == "tc-sk-assign") {
      EXPECT_GE(proof["tc_sk_assign"].value("udp_assigned", 0), 1) << proof.dump();
    }
  }
  close(tl);
  close(us);
  // Torn down: the DUT is exactly as before.
  const std::string after = dut_state(topo.dut_ns());
  EXPECT_EQ(after, before) << "left behind in the DUT";
  EXPECT_EQ(after.find("pathbench_tproxy"), std::string::npos);
  EXPECT_EQ(after.find("TPROXY"), std::string::npos);
  EXPECT_EQ(after.find("lookup 100"), std::string::npos);
  EXPECT_EQ(progs_named("pb_sk_lookup") + progs_named("pb_tc_sk_assign"), progs_before)
      << "a BPF program outlived its path";
}

TEST_P(ProxyPaths, InterceptsTcpAndUdpProvesItAndLeavesNothingBehind) {
  const Case c = GetParam();
  if (!pb::is_root()) GTEST_SKIP() << "needs root (namespaces, IP_TRANSPARENT, nft, BPF)";
  const pb::PathInfo* info = pb::find_path(c.path);
  ASSERT_NE(info, nullptr) << c.path << " is not registered";
  if (info->unsupported)
    if (auto why = info->unsupported()) GTEST_SKIP() << *why;
  pb::Topology::down(c.run_id);  // `up` keeps an existing topology: start from a clean one
  const std::string host_before = pbtest::host_snapshot();
  intercept_and_prove(c, info);
  // The topology gone too: the host is as it was (another run's pb-* namespaces would show here).
  EXPECT_EQ(pbtest::diff_lines(host_before, pbtest::host_snapshot()), "");
}

INSTANTIATE_TEST_SUITE_P(All, ProxyPaths,
                         ::testing::Values(Case{"proxy-plain", "pxt11"}, Case{"tproxy-nft", "pxt12"},
                                           Case{"tproxy-ipt", "pxt13"}, Case{"sk-lookup", "pxt14"},
                                           Case{"tc-sk-assign", "pxt15"},
                                           Case{"tproxy-nft-transparent", "pxt16"},
                                           Case{"tproxy-nft-set", "pxt17"}),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           std::string n = i.param.path;
                           for (auto& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
