// SPDX-License-Identifier: Apache-2.0
// paths/path.h: a path under test. A PathInfo is the path's table of traits (what kind of path it
// is, what reaches the server, what it is compared against) plus a factory; a PathInstance is
// the RAII owner of everything one instance puts in the DUT, through its undo log
// (kernel/undo.h): built in make(), removed by teardown() (or the destructor), in reverse order.
// The runner builds one instance per path x path options x repetition on a fresh topology,
// runs every workload through it, then tears it down.
//
// Nothing decides by a path's name: the probe follows `routes`, proofs follow the instance,
// the report follows `kind`, `technology` and `compare_against` (run.json's catalogue).
#pragma once
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/registry.h"
#include "kernel/undo.h"
#include "roles/roles.h"
#include "workloads/workload.h"

namespace pb {

class ApiObserver;

enum class PathKind { kKernelRouted, kBpfForwarded, kIntercepted, kControl };
enum class Technology { kNone, kTproxy, kEbpf };
const char* to_string(PathKind k);
const char* to_string(Technology t);

// Where traffic goes in the first packet's match: the intercepted services (the scale
// axis): N destination address:port pairs, the one the traffic uses at a chosen position.
enum class MatchPosition { kFirst, kMiddle, kLast };
const char* to_string(MatchPosition m);
NLOHMANN_JSON_SERIALIZE_ENUM(MatchPosition, {{MatchPosition::kFirst, "first"},
                                             {MatchPosition::kMiddle, "middle"},
                                             {MatchPosition::kLast, "last"}})

// What the run hands every path instance.
struct PathSettings {
  unsigned proxy_workers = 1;      // --proxy-workers
  std::vector<int> proxy_cpus;     // --proxy-cpus, else the pinning policy's proxy CPU
  unsigned proxy_pipe_bytes = 0;   // --proxy-pipe-bytes (0: tproxy::Config's default)
  std::string proxy_model = "thread";  // --proxy-model: "process" = tproxy::Config::own_process
  std::string tcp_cc;              // --tcp-cc: every TCP socket the path makes (the proxy's)
  int tcp_buffer_bytes = 0;        // --tcp-buffer-bytes: the proxy's sockets too (0: autotuning)
  // --services: 0 = intercept every port of the server's address (one rule or prefix check);
  // N >= 1 = N services, the real one at `match_position`, on `service_port`.
  uint64_t services = 0;
  MatchPosition match_position = MatchPosition::kLast;
  uint16_t service_port = 0;
  uint32_t update_samples = 0;     // services: add/remove cycles timed after setup
  // --gateway: what terminates intercepted TCP: "none" = pathbench's L4 proxy; "haproxy" = an L7
  // gateway (paths/gateway.h) on paths that take one (PathInfo::takes_gateway()).
  std::string gateway = "none";
  // --observe: who counts the API calls: "none" | "ebpf-empty" (the hook alone) | "ebpf-http" (a
  // BPF program on the DUT's interface) | "gateway-log" (the gateway's per-request log):
  // paths/observer.h.
  std::string observe = "none";
  nlohmann::json options_json() const;  // path_options of results ({} without services)
  bool operator==(const PathSettings&) const = default;
};
// The agent protocol carries every setting (a path on the DUT host is built from these alone).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PathSettings, proxy_workers, proxy_cpus, proxy_pipe_bytes, proxy_model, tcp_cc,
                                                tcp_buffer_bytes, services, match_position, service_port,
                                                update_samples, gateway, observe)

struct PathInfo;

// Thrown by a path's constructor when it cannot run on these roles at all (a reason, not a
// failure: hosts mode's agent records the instance as skipped). Nothing is installed by then.
struct PathUnsupportedHere : EnvError {
  using EnvError::EnvError;
};

struct PathContext {
  const PathInfo& info;
  const Roles& roles;
  PathSettings settings;
};

class PathInstance {
 public:
  explicit PathInstance(const PathContext& ctx);
  virtual ~PathInstance();
  PathInstance(const PathInstance&) = delete;
  PathInstance& operator=(const PathInstance&) = delete;

  // Whether this path can carry a workload; reason if not. Default: a path that terminates
  // traffic in a proxy cannot carry raw injected frames (there is no socket to terminate).
  virtual std::optional<std::string> unsupported_workload(const WorkloadInfo& w) const;
  // Where a client sends traffic of this protocol meant for `server`; default: straight to it.
  // (A workload's and the proof probe's exchanges alike: the protocol is all it depends on.)
  virtual Endpoint client_target(Protocol, const Endpoint& server) const { return server; }
  // Around a workload run (warm-up included), given the workload's descriptor and options. end()
  // returns the path's proof for that run: counters and checks; "ok": false and "reason" when
  // the traffic did not take the path. Both run the path's own (path_begin, path_end), then the
  // API observer's when one is set (--observe: proof.observer, its failure the proof's).
  void begin(const WorkloadInfo& wl, const WorkloadOptions& w);
  nlohmann::json end(const WorkloadInfo& wl, const WorkloadOptions& w, const WorkloadTotals& t);
  // The observer installed with this instance (run/installed_path.cpp owns it and clears this
  // before removing it); nullptr: none.
  void set_observer(ApiObserver* o) { observer_ = o; }
  bool has_observer() const { return observer_ != nullptr; }
  // What the server-side capture of the proof probe must see as the source address: the client
  // when the DUT routes, the DUT's own address when a proxy re-originates.
  virtual std::string expected_server_src() const;
  bool routes() const;

  // Removes everything now (the undo log, in reverse order); idempotent.
  void teardown() { undo_.undo_all(); }
  // What the instance installed (undo log), with setup and teardown time.
  nlohmann::json configuration() const { return undo_.configuration(); }
  nlohmann::json pending_undo_commands() const { return undo_.pending_commands(); }
  // Paths with services: {"services", "install_ns", "update": {...}, "memory_bytes"}; else null.
  nlohmann::json scale() const { return scale_; }
  void setup_done() { undo_.setup_done(); }
  // After setup (not counted in it): paths with services time adding and removing one service.
  virtual void measure_updates() {}

 protected:
  virtual void path_begin(const WorkloadInfo&, const WorkloadOptions&) {}
  virtual nlohmann::json path_end(const WorkloadInfo&, const WorkloadOptions&, const WorkloadTotals&) { return {{"ok", true}}; }
  ApiObserver* observer_ = nullptr;

  const PathInfo& info_;
  const Roles& roles_;
  const Wiring wiring_;
  const PathSettings settings_;
  nlohmann::json scale_ = nullptr;  // paths with services fill it (paths/services.h)
  // Declared last among the state the subclass uses: subclasses hand everything they install to
  // it and call teardown() in their destructor if they keep raw pointers into adopted objects.
  UndoLog undo_;
};

struct PathInfo {
  std::string name;
  std::string description;
  int order = 100;                  // display order
  PathKind kind = PathKind::kKernelRouted;
  Technology technology = Technology::kNone;
  bool via_proxy = false;           // traffic terminates in a user-space proxy
  bool routes = true;               // the DUT routes (TTL decremented once)
  bool keeps_client_source = false; // via_proxy: the upstream connection keeps the client's address
  bool reference = false;           // the path every other is a ratio to (baseline)
  std::string control_for;          // control paths: what comparison they isolate
  // Control paths: which paths they are the control for, by name or as "kind:<kind>" (every path
  // of that kind). A path's `compare_against` in the catalogue is the control that names it, else
  // baseline: the control declares it, so adding a control edits no other path.
  std::vector<std::string> controls;
  uint64_t max_services = 0;        // > 0: accepts --services up to this many
  bool haproxy_reference = false;   // peers mode: HAProxy can stand in for pathbench's proxy behind it
  bool in_default_suite = true;
  // Reason this kernel/machine cannot run the path, or nullopt. Cheap and side-effect free.
  std::function<std::optional<std::string>()> unsupported;
  std::function<std::unique_ptr<PathInstance>(const PathContext&)> make;

  bool takes_services() const { return max_services > 0; }
  // An L7 gateway can stand where the proxy is: every proxy path but the fully transparent one
  // (the gateway connects upstream from the DUT's address, as Envoy in Cilium does).
  bool takes_gateway() const { return via_proxy && !keeps_client_source; }
  // The path whose ratio isolates this one's own cost (see `controls`).
  std::string compare_against() const;
  nlohmann::json catalogue_json() const;
};

// Where --observe applies: the paths an API gateway stands on, and the reference (the routed
// baseline, where an observer on the DUT sees the requests as they pass).
inline bool takes_observer(const PathInfo& p) { return p.takes_gateway() || p.reference; }

// Registry: every path registers itself from its own source file (PB_REGISTER_PATH); adding a
// path is adding a file. all_paths() is sorted by `order`.
inline const std::vector<PathInfo>& all_paths() { return Registry<PathInfo>::all(); }
inline const PathInfo* find_path(const std::string& name) { return Registry<PathInfo>::find(name); }
#define PB_REGISTER_PATH(...) PB_REGISTER(::pb::PathInfo, __VA_ARGS__)

// The traits every path of one family shares, for the family's registrations.
PathInfo intercepted_path(std::string name, std::string description, int order, Technology t);
PathInfo bpf_forwarded_path(std::string name, std::string description, int order);
// A control path: `control_for` says what comparison it isolates, `controls` which paths it is
// the control for (names, or "kind:<kind>").
PathInfo control_path(std::string name, std::string description, int order, std::string control_for,
                      std::vector<std::string> controls);

// Common feasibility checks for `unsupported`.
std::optional<std::string> need_root(const std::string& why);
std::optional<std::string> need_program(const std::string& program, const std::string& package);

}  // namespace pb
