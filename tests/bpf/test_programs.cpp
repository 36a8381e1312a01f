// SPDX-License-Identifier: Apache-2.0
// test_programs.cpp: the forwarding programs (tc_fwd, xdp_fwd) on every packet fixture of
// bench/roles/packet_fixtures.h under BPF_PROG_TEST_RUN, in the DUT namespace of a throwaway topology
// (bpf_fib_lookup needs its routes and neighbours). Checks the verdict, the rewritten headers
// (MACs, TTL, a valid IPv4 checksum, nothing else changed) and the counter that must move.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include "bpf_test_util.h"
#include "roles/packet_fixtures.h"
#include "kernel/bpf/skeleton.h"
#include "kernel/bpf/stats.h"
#include "kernel/bpf/attach.h"
#include "kernel/bpf/test_run.h"
#include "kernel/bpf/fwd_counters.h"
#include "tc_fwd.skel.h"
#include "xdp_fwd.skel.h"

namespace pb {
namespace {

using namespace pb::bpf;
namespace fx = pb::bpf::fixtures;

enum class Prog { kXdp, kTc };

constexpr uint32_t kXdpPass = 2, kXdpRedirect = 4;
constexpr uint32_t kTcActOk = 0, kTcActRedirect = 7;

class ForwardingPrograms : public ::testing::TestWithParam<std::tuple<fx::Fixture, Prog>> {
 protected:
  static void SetUpTestSuite() {
    if (!is_root()) return;
    topo_ = new Topology(test::topo_id("bt"));
    if0_ = ifindex_in_netns(topo_->dut_ns(), Addr::kDutClientDev);
    if1_ = ifindex_in_netns(topo_->dut_ns(), Addr::kDutServerDev);
    tc_ = tc_fwd::open();
    tc_->rodata->ifindex_slot0 = if0_;
    tc_->rodata->ifindex_slot1 = if1_;
    load_skeleton(tc_, "tc_fwd");
    xdp_ = xdp_fwd::open();
    xdp_->rodata->ifindex_slot0 = if0_;
    xdp_->rodata->ifindex_slot1 = if1_;
    load_skeleton(xdp_, "xdp_fwd");
    run_in_netns(topo_->dut_ns(), [] {  // devmap ifindexes resolve in the writer's namespace
      for (unsigned idx : {if0_, if1_}) {
        __u32 k = idx, v = idx;
        ASSERT_EQ(0, bpf_map_update_elem(bpf_map__fd(xdp_->maps.tx_ports), &k, &v, 0));
      }
    });
  }
  static void TearDownTestSuite() {
    if (tc_) tc_fwd::destroy(tc_);
    if (xdp_) xdp_fwd::destroy(xdp_);
    delete topo_;
    tc_ = nullptr;
    xdp_ = nullptr;
    topo_ = nullptr;
  }
  void SetUp() override {
    if (!is_root()) GTEST_SKIP() << test::kNeedRoot;
    ASSERT_NE(topo_, nullptr) << "harness broken: topology not set up";
  }

  static Topology* topo_;
  static unsigned if0_, if1_;
  static tc_fwd* tc_;
  static xdp_fwd* xdp_;
};
Topology* ForwardingPrograms::topo_ = nullptr;
unsigned ForwardingPrograms::if0_ = 0, ForwardingPrograms::if1_ = 0;
tc_fwd* ForwardingPrograms::tc_ = nullptr;
xdp_fwd* ForwardingPrograms::xdp_ = nullptr;

TEST_P(ForwardingPrograms, VerdictAndRewrite) {
  const auto& [f, prog] = GetParam();
  const bool xdp = prog == Prog::kXdp;
  const unsigned ifindex = f.ingress == fx::Ingress::kDut0 ? if0_ : if1_;
  const int slot = f.ingress == fx::Ingress::kDut0 ? PB_SLOT_DUT0 : PB_SLOT_DUT1;
  const int prog_fd = xdp ? bpf_program__fd(xdp_->progs.xdp_fwd) : bpf_program__fd(tc_->progs.tc_fwd);
  const int map_fd = xdp ? bpf_map__fd(xdp_->maps.counters) : bpf_map__fd(tc_->maps.counters);
  const auto in = fx::build_packet(f.spec);

  auto before = read_percpu_counters(map_fd, PB_FWD_COUNTERS);
  TestRun r;
  run_in_netns(topo_->dut_ns(), [&] {
    r = xdp ? test_run(prog_fd, in, ifindex) : test_run(prog_fd, in, ifindex);
  });
  ASSERT_EQ(r.err, 0) << "BPF_PROG_TEST_RUN failed: " << strerror(-r.err);
  auto after = read_percpu_counters(map_fd, PB_FWD_COUNTERS);

  const uint32_t want = f.forwarded ? (xdp ? kXdpRedirect : kTcActRedirect) : (xdp ? kXdpPass : kTcActOk);
  EXPECT_EQ(r.retval, want) << f.description;
  EXPECT_EQ(fwd_packets(after, &before, f.reason, slot), 1u)
      << "counter " << fwd_reason_name(f.reason) << " in slot " << slot << " must move by one";
  uint64_t all = 0;
  for (uint32_t reason = 0; reason < PB_FWD_REASONS; ++reason) all += fwd_packets(after, &before, reason);
  EXPECT_EQ(all, 1u) << "exactly one counter moves per packet";

  ASSERT_EQ(r.out.size(), in.size()) << "frame length changed";
  if (!f.forwarded) {
    EXPECT_EQ(r.out, in) << "a packet passed to the stack must be untouched";
    return;
  }
  EXPECT_TRUE(std::equal(f.out_dst.begin(), f.out_dst.end(), r.out.begin())) << "destination MAC";
  EXPECT_TRUE(std::equal(f.out_src.begin(), f.out_src.end(), r.out.begin() + 6)) << "source MAC";
  EXPECT_EQ(r.out[fx::kEthLen + 8], f.out_ttl) << "TTL decremented by one";
  EXPECT_TRUE(fx::ipv4_checksum_ok(r.out)) << "IPv4 header checksum valid after the TTL change";
  // Nothing but MACs, TTL and header checksum changes.
  for (size_t i = 12; i < in.size(); ++i) {
    if (i == fx::kEthLen + 8 || i == fx::kEthLen + 10 || i == fx::kEthLen + 11) continue;
    EXPECT_EQ(r.out[i], in[i]) << "byte " << i << " changed";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, ForwardingPrograms,
    ::testing::Combine(::testing::ValuesIn(fx::forwarding_fixtures()),
                       ::testing::Values(Prog::kXdp, Prog::kTc)),
    [](const ::testing::TestParamInfo<ForwardingPrograms::ParamType>& i) {
      return std::string(std::get<1>(i.param) == Prog::kXdp ? "xdp_fwd_" : "tc_fwd_") +
             std::get<0>(i.param).name;
    });

// The fixture builder itself: checksums valid, sizes as documented.
TEST(Fixtures, PacketsAreWellFormed) {
  for (const auto& f : fx::forwarding_fixtures()) {
    auto p = fx::build_packet(f.spec);
    EXPECT_GE(p.size(), 60u) << f.name;
    if (f.spec.ethertype == 0x0800) {
      EXPECT_TRUE(fx::ipv4_checksum_ok(p)) << f.name;
    }
  }
  EXPECT_EQ(fx::build_packet(fx::udp_c2s()).size(), 60u);
}

}  // namespace
}  // namespace pb

namespace pb {
namespace {

// BPF_FIB_LOOKUP_DIRECT looks in the main table only. Once a namespace has had a policy rule
// (the proxy paths add fwmark rules in the DUT), the kernel keeps local routes in their own
// table for good, and a direct lookup of the DUT's own address finds the connected route instead.
// The programs must still hand such a packet to the stack untouched (as NO_NEIGH).
TEST(ForwardingProgramsUnmergedFib, LocalDestinationStillGoesToTheStack) {
  if (!is_root()) GTEST_SKIP() << test::kNeedRoot;
  Topology topo(test::topo_id("bu"));
  run_cmd_checked({"ip", "-n", topo.dut_ns(), "rule", "add", "fwmark", "1", "lookup", "100"});
  run_cmd_checked({"ip", "-n", topo.dut_ns(), "rule", "del", "fwmark", "1", "lookup", "100"});
  const unsigned if0 = ifindex_in_netns(topo.dut_ns(), Addr::kDutClientDev);
  bpf::SkelPtr<tc_fwd> tc(bpf::open_skeleton<tc_fwd>("tc_fwd"));
  bpf::load_skeleton(tc.get(), "tc_fwd");
  bpf::SkelPtr<xdp_fwd> xdp(bpf::open_skeleton<xdp_fwd>("xdp_fwd"));
  bpf::load_skeleton(xdp.get(), "xdp_fwd");
  fx::PacketSpec local = fx::udp_c2s();
  local.daddr = fx::ip4(Addr::kDutClientSide);
  const auto in = fx::build_packet(local);
  bpf::TestRun rt, rx;
  run_in_netns(topo.dut_ns(), [&] {
    rt = bpf::test_run(bpf_program__fd(tc->progs.tc_fwd), in, if0);
    rx = bpf::test_run(bpf_program__fd(xdp->progs.xdp_fwd), in, if0);
  });
  ASSERT_EQ(rt.err, 0);
  ASSERT_EQ(rx.err, 0);
  EXPECT_EQ(rt.retval, kTcActOk) << "tc_fwd must pass a packet for the DUT itself to the stack";
  EXPECT_EQ(rx.retval, kXdpPass) << "xdp_fwd must pass a packet for the DUT itself to the stack";
  EXPECT_EQ(rt.out, in);
  EXPECT_EQ(rx.out, in);
}

}  // namespace
}  // namespace pb
