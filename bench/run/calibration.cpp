// SPDX-License-Identifier: Apache-2.0
#include "run/calibration.h"

#include <bpf/libbpf.h>

#include <algorithm>
#include <cmath>

#include "common/log.h"
#include "kernel/bpf/attach.h"
#include "kernel/bpf/skeleton.h"
#include "kernel/bpf/test_run.h"
#include "kernel/netns.h"
#include "roles/packet_fixtures.h"
#include "roles/roles.h"
#include "tc_spin.skel.h"

namespace pb {

namespace {

// Kernel-measured ns per run of tc_spin with `loops`, median of 5 test runs of 2000 repetitions.
double spin_ns(tc_spin* s, uint32_t loops) {
  s->bss->loops = loops;
  auto pkt = bpf::fixtures::build_packet(bpf::fixtures::udp_c2s());
  std::vector<double> v;
  for (int i = 0; i < 5; ++i) {
    bpf::TestRun r;
    run_in_throwaway_netns([&] { r = bpf::test_run(bpf_program__fd(s->progs.tc_spin), pkt, 0, 2000); });
    if (r.err) throw BpfError(errno_msg("BPF_PROG_TEST_RUN(tc_spin)", -r.err));
    v.push_back(r.duration_ns);
  }
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::pair<uint32_t, double> calibrate(tc_spin* s, double ns) {
  const double base = spin_ns(s, 0);
  uint32_t loops = 1000;
  double per_loop = std::max(0.1, (spin_ns(s, loops) - base) / loops);
  // Refine: the cost per iteration is close to linear but not quite (bpf_loop's own call costs
  // something, and few iterations cost more each), and each measurement is noisy: up to 8 rounds.
  for (int i = 0; i < 8; ++i) {
    loops = static_cast<uint32_t>(std::clamp(ns / per_loop, 1.0, 8e6));
    double added = spin_ns(s, loops) - base;
    if (std::abs(added - ns) <= 0.03 * ns) return {loops, added};
    per_loop = std::max(0.1, added / loops);
  }
  return {loops, spin_ns(s, loops) - base};
}

}  // namespace

struct CostInjection::Impl {
  bpf::SkelPtr<tc_spin> skel;
  std::unique_ptr<bpf::TcHook> tc0, tc1;  // after skel: detached before it is unloaded
  double target = 0, measured = 0;
  uint32_t loops = 0;
  std::string mode;
};

std::pair<uint32_t, double> calibrate_spin(double ns) {
  auto s = bpf::open_and_load<tc_spin>("tc_spin");
  return calibrate(s.get(), ns);
}

CostInjection::CostInjection(const Roles& roles, double ns) : impl_(std::make_unique<Impl>()) {
  impl_->target = ns;
  impl_->skel = bpf::open_and_load<tc_spin>("tc_spin");
  if (ns > 0) std::tie(impl_->loops, impl_->measured) = calibrate(impl_->skel.get(), ns);
  impl_->skel->bss->loops = impl_->loops;
  impl_->skel->bss->packets = 0;
  const Wiring& w = roles.wiring();
  const int fd = bpf_program__fd(impl_->skel->progs.tc_spin);
  // Attached before the path is built: TCX runs programs in attach order and the clsact
  // fallback is given the highest filter priority, so the cost comes first either way.
  impl_->tc0 = std::make_unique<bpf::TcHook>(roles.dut().netns, w.dut_client_dev, fd, 1);
  impl_->tc1 = std::make_unique<bpf::TcHook>(roles.dut().netns, w.dut_server_dev, fd, 1);
  impl_->mode = impl_->tc0->mode();
  log::debug("cost injection: {} loops = {:.0f} ns per packet (target {:.0f}) on {} and {} ({})", impl_->loops,
             impl_->measured, ns, w.dut_client_dev, w.dut_server_dev, impl_->mode);
}

CostInjection::~CostInjection() = default;

nlohmann::json CostInjection::to_json() const {
  return {{"target_ns_per_packet", impl_->target},
          {"loops", impl_->loops},
          {"measured_ns_per_packet", impl_->measured},
          {"attach", impl_->mode},
          {"method", "tc_spin: bpf_loop at TC ingress of both DUT veths, calibrated with BPF_PROG_TEST_RUN"},
          {"packets", impl_->skel->bss->packets}};
}

}  // namespace pb
