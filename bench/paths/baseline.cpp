// SPDX-License-Identifier: Apache-2.0
// paths/baseline.cpp: plain kernel IPv4 forwarding in the DUT (the reference every other path is
// a ratio to). Nothing is added to the DUT; the proof is the kernel's own forwarding counter.
#include "measure/snmp.h"
#include "paths/path.h"

namespace pb {
namespace {

class Baseline : public PathInstance {
 public:
  explicit Baseline(const PathContext& ctx) : PathInstance(ctx) {}
  void path_begin(const WorkloadInfo&, const WorkloadOptions&) override { before_ = read_snmp(roles_.dut().netns); }
  nlohmann::json path_end(const WorkloadInfo& wl, const WorkloadOptions&, const WorkloadTotals& t) override {
    auto after = read_snmp(roles_.dut().netns);
    uint64_t fwd = after["Ip.ForwDatagrams"] - before_["Ip.ForwDatagrams"];
    nlohmann::json p = {{"kernel_ip_forw_datagrams", fwd}, {"ok", true}};
    // Every datagram the client sent and the server received crossed the DUT's forwarding path
    // (injected frames: what the server received; the rest were lost before the DUT).
    uint64_t expect = wl.transport == Transport::kFrames ? t.packets_received : std::min(t.packets_sent, t.packets_received);
    if (fwd == 0) {
      p["ok"] = false;
      p["reason"] = "the DUT forwarded no datagram (Ip.ForwDatagrams did not move)";
    } else if (fwd < expect) {
      p["ok"] = false;
      p["reason"] = "the DUT forwarded " + std::to_string(fwd) + " datagrams but the server got " + std::to_string(expect);
    }
    return p;
  }

 private:
  std::map<std::string, uint64_t> before_;
};

PB_REGISTER_PATH([] {
  PathInfo p;
  p.name = "baseline";
  p.description = "kernel IPv4 forwarding in the DUT (no interception)";
  p.order = 0;
  p.kind = PathKind::kKernelRouted;
  p.reference = true;
  p.unsupported = [] { return std::optional<std::string>(); };
  p.make = [](const PathContext& c) { return std::make_unique<Baseline>(c); };
  return p;
});

}  // namespace
}  // namespace pb
