// SPDX-License-Identifier: Apache-2.0
#include <fmt/core.h>

#include "peers/haproxy.h"

#include <unistd.h>

#include "common/error.h"
#include "common/fs.h"
#include "common/strings.h"
#include "kernel/netns.h"
#include "kernel/process.h"
#include "paths/tproxy_nft.h"
#include "peers/tools.h"

namespace pb {

namespace {
constexpr uint16_t kHaproxyPort = 15002;
}  // namespace

std::string haproxy_config(const std::string& mode, int client_timeout_s, const std::string& sections,
                           const std::string& global_extra, unsigned nbthread) {
  return fmt::format(
      // maxpipes: splice's pipes count against the fd limit HAProxy raises itself to (maxconn x 2 +
      // maxpipes x 2 + a few); its default, maxconn / 4, asks for 20014 and the hard limit is 20000.
      "global\n  maxconn 8000\n  maxpipes 1000\n  nbthread {}\n{}"
      "defaults\n  mode {}\n  timeout connect 5s\n  timeout client {}s\n  timeout server {}s\n{}",
      nbthread, global_extra, mode, client_timeout_s, client_timeout_s, sections);
}

std::string haproxy_buffer_tuning(int buf, std::string* note) {
  *note = "autotuning (the kernel's own, as our proxy's)";
  if (buf <= 0) return {};
  *note = fmt::format("{} bytes per socket, as our proxy's", buf);
  for (const char* k : {"wmem_max", "rmem_max"}) {
    long cap = 0;
    if (auto v = read_file(std::string("/proc/sys/net/core/") + k)) {
      try {
        cap = std::stol(trim(*v));
      } catch (const std::exception&) {
        cap = 0;  // unreadable: no claim either way
      }
    }
    if (cap > 0 && cap < buf)
      *note += fmt::format("; but net.core.{} is {}: HAProxy's are capped there, ours are not (SO_*BUFFORCE)", k, cap);
  }
  return fmt::format("  tune.sndbuf.client {0}\n  tune.sndbuf.server {0}\n  tune.rcvbuf.client {0}\n"
                     "  tune.rcvbuf.server {0}\n", buf);
}

std::optional<std::string> HaproxyTproxy::unavailable() {
  return need_tools({{"haproxy", "haproxy"}, {"nft", "nftables"}, {"ss", "iproute2"}});
}

HaproxyTproxy::HaproxyTproxy(const PathContext& ctx, int cpu) {
  // --tcp-buffer-bytes: the same fixed buffers as our proxy's sockets.
  std::string buf_note;
  const std::string tune = haproxy_buffer_tuning(ctx.settings.tcp_buffer_bytes, &buf_note);
  const std::string cfg = haproxy_config(
      "tcp", 30,
      // splice-request/-response: HAProxy always moves bytes with splice(), as our proxy does.
      // Without them it copies through user space, and `splice-auto` did not engage on a stream
      // here, so the comparison was splice against copy (docs/peers.md "Through an interception").
      fmt::format("frontend intercepted\n  bind 0.0.0.0:{} transparent\n  default_backend original_destination\n"
                  "backend original_destination\n  option splice-request\n  option splice-response\n  server orig 0.0.0.0:0\n",
                  kHaproxyPort),
      tune);
  cfg_path_ = write_temp_file("/tmp/pathbench-haproxy-tproxy-", cfg);
  const std::string& dut = ctx.roles.dut().netns;
  std::vector<std::string> argv = pinned(cpu, {"haproxy", "-db", "-f", cfg_path_});
  try {
    proc_ = std::make_unique<ChildProcess>(in_netns(dut, argv));
    wait_listening(dut, true, kHaproxyPort, "haproxy (transparent)");
    path_ = make_tproxy_nft_external(ctx, kHaproxyPort);
  } catch (...) {
    path_.reset();
    proc_.reset();
    unlink(cfg_path_.c_str());
    throw;
  }
  ref_ = {{"tool", "haproxy"},
          {"version", version_of({"haproxy", "-v"}, R"(HAProxy version (\S+))")},
          {"command", quote_join(argv)},
          {"config", cfg},
          {"tcp_buffers", buf_note},
          {"note", "HAProxy replaces pathbench's proxy behind the same nft tproxy interception; load from "
                   "pathbench's own generators"}};
}

HaproxyTproxy::~HaproxyTproxy() {
  path_.reset();  // interception first, so nothing is steered to a closing socket
  if (proc_) proc_->stop();
  if (!cfg_path_.empty()) unlink(cfg_path_.c_str());
}

}  // namespace pb
