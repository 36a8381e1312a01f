// SPDX-License-Identifier: Apache-2.0
// peers/haproxy.h: HAProxy, twice: as the HTTP responder wrk needs (peers/tools.cpp) and as the
// transparent proxy behind tproxy-nft's interception, in place of pathbench's own.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "paths/path.h"

namespace pb {

class ChildProcess;

// The one configuration shape both uses share: global limits (2 fds per connection must fit
// RLIMIT_NOFILE: maxconn 8000), defaults in `mode` with timeouts, then `sections` (frontend and
// backend lines); `global_extra` lines go at the end of the global section.
std::string haproxy_config(const std::string& mode, int client_timeout_s, const std::string& sections,
                           const std::string& global_extra = "", unsigned nbthread = 1);

// The global lines that give HAProxy's sockets the run's --tcp-buffer-bytes (none for 0:
// autotuning), and in *note what they amount to: HAProxy sets them with SO_SNDBUF/SO_RCVBUF, which
// the kernel caps at net.core.wmem_max/rmem_max (global sysctls, never changed here); ours use the
// FORCE variants. Where the cap is lower, the note says so.
std::string haproxy_buffer_tuning(int buffer_bytes, std::string* note);

// HAProxy (TCP mode, `bind ... transparent`, `server 0.0.0.0:0` = the original destination) in
// the DUT behind tproxy-nft's interception: the reference for pathbench's own proxy on
// tproxy-nft, driven by pathbench's generators. RAII: removes the interception, stops HAProxy.
class HaproxyTproxy {
 public:
  static std::optional<std::string> unavailable();
  HaproxyTproxy(const PathContext& ctx, int cpu);
  ~HaproxyTproxy();
  PathInstance& path() { return *path_; }
  const nlohmann::json& reference() const { return ref_; }

 private:
  std::unique_ptr<ChildProcess> proc_;
  std::unique_ptr<PathInstance> path_;  // declared after proc_: the interception goes first
  std::string cfg_path_;
  nlohmann::json ref_;
};

}  // namespace pb
