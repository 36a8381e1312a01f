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

std::string haproxy_config(const std::string& mode, int client_timeout_s, const std::string& sections) {
  return fmt::format(
      "global\n  maxconn 8000\n  nbthread 1\n"
      "defaults\n  mode {}\n  timeout connect 5s\n  timeout client {}s\n  timeout server {}s\n{}",
      mode, client_timeout_s, client_timeout_s, sections);
}

std::optional<std::string> HaproxyTproxy::unavailable() {
  return need_tools({{"haproxy", "haproxy"}, {"nft", "nftables"}, {"ss", "iproute2"}});
}

HaproxyTproxy::HaproxyTproxy(const PathContext& ctx, int cpu) {
  const std::string cfg = haproxy_config(
      "tcp", 30,
      fmt::format("frontend intercepted\n  bind 0.0.0.0:{} transparent\n  default_backend original_destination\n"
                  "backend original_destination\n  server orig 0.0.0.0:0\n",
                  kHaproxyPort));
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
          {"note", "HAProxy replaces pathbench's proxy behind the same nft tproxy interception; load from "
                   "pathbench's own generators"}};
}

HaproxyTproxy::~HaproxyTproxy() {
  path_.reset();  // interception first, so nothing is steered to a closing socket
  if (proc_) proc_->stop();
  if (!cfg_path_.empty()) unlink(cfg_path_.c_str());
}

}  // namespace pb
