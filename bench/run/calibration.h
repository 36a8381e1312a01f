// SPDX-License-Identifier: Apache-2.0
// run/calibration.h: a calibrated slowdown, so compare's detection power is measured rather than
// assumed. CostInjection puts bpf/tc_spin.bpf.c at TC ingress of both DUT veths, ahead of any
// program the path has there, with its bpf_loop count calibrated under BPF_PROG_TEST_RUN to add
// `ns` nanoseconds to every packet the DUT receives as an skb (kernel forwarding, proxies, TC
// programs). Frames redirected by XDP never reach TC ingress: there the injection adds nothing,
// and its record says how many packets paid (a per-packet counter).
#pragma once
#include <memory>
#include <nlohmann/json.hpp>

namespace pb {

class Roles;

class CostInjection {
 public:
  CostInjection(const Roles& roles, double ns_per_packet);
  ~CostInjection();
  CostInjection(const CostInjection&) = delete;
  CostInjection& operator=(const CostInjection&) = delete;
  // {"target_ns_per_packet", "loops", "measured_ns_per_packet", "attach", "packets"}
  nlohmann::json to_json() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Calibrates bpf_loop iterations for `ns` nanoseconds per run on this machine; returns
// {loops, measured added ns}. Runs in a throwaway namespace.
std::pair<uint32_t, double> calibrate_spin(double ns);

}  // namespace pb
