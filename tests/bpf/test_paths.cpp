// SPDX-License-Identifier: Apache-2.0
// test_paths.cpp: tc-redirect and xdp-redirect on a real throwaway topology: UDP datagrams from
// the client namespace reach the server through the BPF programs (their counters move, the
// kernel's forwarding counter does not), xdp_pps runs through each path, and destroying the path
// leaves nothing behind: its programs are unloaded (so detached), no XDP program on any veth,
// offloads restored.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <set>

#include "bpf_test_util.h"
#include "host_snapshot.h"
#include "kernel/bpf/skeleton.h"
#include "kernel/bpf/stats.h"
#include "kernel/bpf/attach.h"
#include "kernel/bpf/test_run.h"
#include "kernel/bpf/fwd_counters.h"
#include "paths/path.h"
#include "workloads/workload.h"

namespace pb {
namespace {

// Sends n datagrams client -> server:port through the DUT; returns how many arrived.
int udp_through(const Topology& topo, uint16_t port, int n) {
  int rfd, sfd;
  {
    ScopedNetns s(topo.srv_ns());
    rfd = socket(AF_INET, SOCK_DGRAM, 0);
  }
  {
    ScopedNetns c(topo.cli_ns());
    sfd = socket(AF_INET, SOCK_DGRAM, 0);
  }
  EXPECT_GE(rfd, 0);
  EXPECT_GE(sfd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, Addr::kServer, &a.sin_addr);
  EXPECT_EQ(0, bind(rfd, reinterpret_cast<sockaddr*>(&a), sizeof a)) << strerror(errno);
  timeval tv{0, 200000};
  setsockopt(rfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int got = 0;
  char buf[64] = "pathbench";
  for (int i = 0; i < n; ++i) {
    sendto(sfd, buf, 18, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    if (recv(rfd, buf, sizeof buf, 0) > 0) ++got;
  }
  close(rfd);
  close(sfd);
  return got;
}

std::string tx_csum(const std::string& ns, const std::string& dev) {
  auto out = run_cmd_checked(in_netns(ns, {"ethtool", "-k", dev}));
  auto p = out.find("tx-checksumming: ");
  return p == std::string::npos ? "?" : out.substr(p + 17, out.find_first_of(" \n", p + 17) - p - 17);
}

void expect_no_xdp(const Topology& topo) {
  EXPECT_EQ(bpf::xdp_attached_id(topo.cli_ns(), Addr::kClientDev), 0u);
  EXPECT_EQ(bpf::xdp_attached_id(topo.dut_ns(), Addr::kDutClientDev), 0u);
  EXPECT_EQ(bpf::xdp_attached_id(topo.dut_ns(), Addr::kDutServerDev), 0u);
  EXPECT_EQ(bpf::xdp_attached_id(topo.srv_ns(), Addr::kServerDev), 0u);
}

WorkloadOptions short_xdp_pps(uint16_t port) {
  WorkloadOptions x;
  x.payload_bytes = 18;
  x.duration_s = 0.3;
  x.warmup_s = 0.1;
  x.cooldown_s = 0.05;
  x.port = port;
  x.stall_timeout_s = 2;
  return x;
}

class ForwardingPath : public ::testing::TestWithParam<const char*> {};

TEST_P(ForwardingPath, ForwardsUdpAndLeavesNothing) {
  if (!is_root()) GTEST_SKIP() << test::kNeedRoot;
  const PathInfo* info = find_path(GetParam());
  ASSERT_NE(info, nullptr) << "path not registered";
  if (auto why = info->unsupported()) GTEST_SKIP() << GetParam() << " unsupported here: " << *why;
  const std::string host_before = pbtest::host_snapshot();
  std::set<uint32_t> ids;
  {
    Topology topo(test::topo_id("bp"));
    const std::string csum_before = tx_csum(topo.cli_ns(), Addr::kClientDev);
    PathContext pctx{*info, topo, {}};
    const WorkloadInfo& udp_pps = *find_workload("udp_pps");
    {
      auto inst = info->make(pctx);
      WorkloadOptions w;
      inst->begin(udp_pps, w);
      const int n = 200;
      int got = udp_through(topo, 9000, n);
      WorkloadTotals t;
      t.packets_sent = n;
      t.packets_received = static_cast<uint64_t>(got);
      auto proof = inst->end(udp_pps, w, t);
      EXPECT_EQ(got, n) << "datagrams lost through " << GetParam();
      EXPECT_TRUE(proof.value("ok", false)) << proof.dump(2);
      EXPECT_GE(proof.value("forwarded_client_to_server", 0u), static_cast<uint64_t>(n)) << proof.dump(2);
      EXPECT_EQ(proof.value("kernel_ip_forw_datagrams", 1u), 0u) << "packets took the kernel's path";
      ASSERT_TRUE(proof.contains("bpf_stats"));
      for (auto& s : proof["bpf_stats"]) ids.insert(s["prog_id"].get<uint32_t>());
      EXPECT_GE(ids.size(), 2u);

      const WorkloadInfo* wi = find_workload("xdp_pps");
      ASSERT_NE(wi, nullptr);
      if (!wi->unsupported()) {
        auto x = short_xdp_pps(9001);
        WorkloadContext wc{*wi, topo, {Addr::kServer, x.port}, {Addr::kServer, x.port}, nullptr, {}};
        inst->begin(*wi, x);
        WorkloadResult res = wi->run(wc, x);
        auto pr = inst->end(*wi, x, res.totals);
        EXPECT_TRUE(res.ok) << res.reason;
        EXPECT_GT(res.totals.packets_received, 0u);
        EXPECT_TRUE(pr.value("ok", false)) << pr.dump(2);
      }
      if (std::string(GetParam()) == "xdp-redirect") {
        EXPECT_EQ(tx_csum(topo.cli_ns(), Addr::kClientDev), "off") << "docs/gotchas.md \"XDP redirect loses checksum offload\": tx csum off during";
      }
    }
    for (uint32_t id : ids) {
      int fd = bpf_prog_get_fd_by_id(id);
      EXPECT_LT(fd, 0) << "program id " << id << " still loaded after the path was destroyed";
      if (fd >= 0) close(fd);
    }
    expect_no_xdp(topo);
    EXPECT_EQ(tx_csum(topo.cli_ns(), Addr::kClientDev), csum_before) << "offload not restored";
    EXPECT_EQ(udp_through(topo, 9002, 20), 20) << "kernel forwarding broken after teardown";
  }
  // The topology gone too: the host is as it was (another run's pb-* namespaces would show here).
  EXPECT_EQ(pbtest::diff_lines(host_before, pbtest::host_snapshot()), "");
}

INSTANTIATE_TEST_SUITE_P(Paths, ForwardingPath, ::testing::Values("tc-redirect", "xdp-redirect"),
                         [](const auto& i) {
                           std::string s = i.param;
                           for (auto& c : s) if (c == '-') c = '_';
                           return s;
                         });

// The clsact fallback (kernels before 6.6) on this kernel: forced, it must forward and clean up
// as TCX does, qdisc included.
TEST(TcRedirectClsact, ForwardsAndRemovesQdisc) {
  if (!is_root()) GTEST_SKIP() << test::kNeedRoot;
  const PathInfo* info = find_path("tc-redirect");
  ASSERT_NE(info, nullptr);
  if (auto why = info->unsupported()) GTEST_SKIP() << *why;
  Topology topo(test::topo_id("bc"));
  PathContext pctx{*info, topo, {}};
  bpf::set_tc_attach_mode(bpf::TcAttachMode::kClsact);
  {
    auto inst = info->make(pctx);
    bpf::set_tc_attach_mode(bpf::TcAttachMode::kAuto);
    const WorkloadInfo& udp_pps = *find_workload("udp_pps");
    WorkloadOptions w;
    inst->begin(udp_pps, w);
    int got = udp_through(topo, 9004, 50);
    WorkloadTotals t;
    t.packets_sent = 50;
    t.packets_received = static_cast<uint64_t>(got);
    auto proof = inst->end(udp_pps, w, t);
    EXPECT_EQ(proof.value("attach_mode", ""), "clsact");
    EXPECT_TRUE(proof.value("ok", false)) << proof.dump(2);
    EXPECT_EQ(got, 50);
    auto q = run_cmd_checked(in_netns(topo.dut_ns(), {"tc", "qdisc", "show", "dev", Addr::kDutClientDev}));
    EXPECT_NE(q.find("clsact"), std::string::npos) << q;
  }
  bpf::set_tc_attach_mode(bpf::TcAttachMode::kAuto);
  for (const char* dev : {Addr::kDutClientDev, Addr::kDutServerDev}) {
    auto q = run_cmd_checked(in_netns(topo.dut_ns(), {"tc", "qdisc", "show", "dev", dev}));
    EXPECT_EQ(q.find("clsact"), std::string::npos) << "clsact qdisc left on " << dev << ": " << q;
  }
}

// xdp_pps with plain kernel forwarding (no path object): frames must reach the sink, and the
// workload removes the programs it added to dut0 and srv0.
TEST(XdpPps, KernelForwardingAndCleanup) {
  if (!is_root()) GTEST_SKIP() << test::kNeedRoot;
  const WorkloadInfo* wi = find_workload("xdp_pps");
  ASSERT_NE(wi, nullptr);
  if (auto why = wi->unsupported()) GTEST_SKIP() << *why;
  Topology topo(test::topo_id("bq"));
  auto x = short_xdp_pps(9003);
  WorkloadContext wc{*wi, topo, {Addr::kServer, x.port}, {Addr::kServer, x.port}, nullptr, {}};
  WorkloadResult res = wi->run(wc, x);
  EXPECT_TRUE(res.ok) << res.reason;
  EXPECT_GT(res.metrics.value("packets_per_s", 0.0), 0.0);
  EXPECT_GT(res.metrics.value("dut_ip_forw_datagrams", 0u), 0u) << "the DUT's kernel routed them";
  expect_no_xdp(topo);
}

}  // namespace
}  // namespace pb
