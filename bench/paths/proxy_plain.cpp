// SPDX-License-Identifier: Apache-2.0
// paths/proxy_plain.cpp: the control for the interception paths. No interception: the client
// targets the proxy's own address on the DUT, the proxy connects on to the server on the same
// port. What it costs is the user-space proxy alone; an intercepted path's ratio to it is the
// interception's own cost. The proxy listens on whatever port a client is pointed at
// (client_target() opens it), since workloads and the probe each use their own port.
#include "common/log.h"
#include "paths/proxy_path.h"

namespace pb {
namespace {

class ProxyPlain : public ProxyPath {
 public:
  explicit ProxyPlain(const PathContext& ctx) : ProxyPath(ctx, config(ctx.roles.wiring())) {}
  Endpoint client_target(Protocol proto, const Endpoint& server) const override {
    try {
      // With a gateway, TCP goes to it: a listener on this port, HAProxy restarted with it.
      if (gateway_ && proto == Protocol::kTcp) gateway_->listen(wiring_.dut_client_ip, server.port, false);
      else proxy_->listen_on(server.port);
    } catch (const std::exception& e) {
      // The workload will fail to connect and say so, with this in the log.
      log::error("proxy-plain: listen on {}:{}: {}", wiring_.dut_client_ip, server.port, e.what());
    }
    return {wiring_.dut_client_ip, server.port};
  }

 private:
  static tproxy::Config config(const Wiring& w) {
    tproxy::Config c;
    c.listen_ip = w.dut_client_ip;
    c.transparent = false;
    c.fixed_upstream_ip = tproxy::parse_ipv4(w.server_ip);
    c.fixed_upstream_port = 0;  // same port the client used
    return c;
  }
};

PB_REGISTER_PATH([] {
  PathInfo p = control_path("proxy-plain", "user-space proxy at the DUT's own address, no interception (control)", 10,
                            "the cost of the user-space proxy without interception: an intercepted path's ratio to "
                            "it is the interception's own cost",
                            {"kind:intercepted"});
  p.via_proxy = true;
  p.routes = false;
  p.unsupported = [] { return need_root("CAP_NET_ADMIN for the proxy's sockets"); };
  p.make = [](const PathContext& c) { return std::make_unique<ProxyPlain>(c); };
  return p;
});

}  // namespace
}  // namespace pb
