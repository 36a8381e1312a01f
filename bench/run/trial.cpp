// SPDX-License-Identifier: Apache-2.0
#include "run/trial.h"

#include "common/clock.h"
#include "common/log.h"
#include "paths/path.h"
#include "roles/roles.h"

namespace pb {

nlohmann::json result_entry(const std::string& path, const std::string& workload, unsigned rep, unsigned order,
                            const std::string& status, const std::string& reason) {
  nlohmann::json r = {{"path", path},   {"workload", workload}, {"repetition", rep},
                      {"order", order}, {"status", status},     {"started_utc", utc_now_iso8601()}};
  r["reason"] = reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(reason);
  return r;
}

Generator generator_for(const Trial& t, const WorkloadInfo& w) {
  Generator g;
  if (t.own_load) {
    // Our own generators (HAProxy's rows are HAProxy in the DUT with our generators as load).
    g.tool = t.reference;
    g.unavailable = w.unsupported;
    g.run = [&w](const WorkloadContext& ctx, const WorkloadOptions& o) {
      PeerRun pr;
      pr.result = w.run(ctx, o);
      return pr;
    };
    return g;
  }
  for (const PeerTool& tool : peer_tools())
    if (tool.tool == t.reference && tool.workload == w.name) {
      g.tool = tool.tool;
      g.reports_connections = tool.reports_connections;
      g.unavailable = tool.unavailable;
      g.run = [&tool](const WorkloadContext& ctx, const WorkloadOptions& o) {
        return tool.run(PeerContext{ctx.roles, ctx.target, ctx.server_bind, o});
      };
      return g;
    }
  g.tool = t.reference;
  g.unavailable = [] { return std::optional<std::string>("unknown reference tool"); };
  return g;
}

nlohmann::json run_trial(const TrialContext& ctx, const Trial& t, const std::string& path_name, unsigned order) {
  const WorkloadInfo& w = *t.workload;
  const Generator g = ctx.generator ? *ctx.generator : generator_for(t, w);
  nlohmann::json entry = result_entry(path_name, w.name, t.repetition, order, "ok", "");
  if (!g.tool.empty()) entry["reference"] = {{"tool", g.tool}};
  entry["path_options"] = ctx.path_options;
  entry["instance"] = ctx.instance_index;
  std::optional<std::string> why = g.unavailable ? g.unavailable() : std::nullopt;
  if (!why) why = ctx.path.unsupported_workload(w);
  // A tool that does not report how many connections it opened cannot prove a proxy path.
  if (!why && !g.reports_connections && !ctx.path.routes())
    why = g.tool + " reports requests, not connections, so the proxy's counters cannot prove the path";
  if (why) {
    entry["status"] = "skipped";
    entry["reason"] = *why;
    return entry;
  }
  entry["workload_options"] = t.options;
  WorkloadContext wctx{w, ctx.roles, {}, {ctx.roles.wiring().server_ip, t.options.port}, ctx.interrupted, {}};
  PeerRun pr;
  nlohmann::json proof;
  try {
    wctx.target = ctx.path.client_target(w.protocol, wctx.server_bind);
    entry["target"] = wctx.target;
    ctx.path.begin(w, t.options);
    pr = g.run(wctx, t.options);
    proof = ctx.path.end(w, t.options, pr.result.totals);
  } catch (const std::exception& e) {
    pr.result.ok = false;
    pr.result.reason = e.what();
  }
  if (pr.reference.is_object())
    for (auto& [k, v] : pr.reference.items()) entry["reference"][k] = v;
  if (!proof.is_object()) proof = nlohmann::json::object();
  proof["generator_totals"] = pr.result.totals;
  if (ctx.probe) proof["pcap_probe"] = *ctx.probe;
  entry["proof"] = proof;
  if (!pr.result.metrics.is_null()) entry["metrics"] = pr.result.metrics;
  std::string fail;
  if (!pr.result.ok) fail = pr.result.reason;
  else if (!proof.value("ok", true)) fail = "proof of path failed: " + proof.value("reason", std::string("(no reason)"));
  else if (ctx.probe && !ctx.probe->value("ok", false))
    fail = "proof of path failed (pcap probe): " + ctx.probe->value("reason", std::string());
  if (!fail.empty()) {
    if (ctx.interrupted && ctx.interrupted->load()) fail = "interrupted by signal " + std::to_string(ctx.interrupted->load());
    entry["status"] = "failed";
    entry["reason"] = fail;
    log::warn("{} {}{} rep {}: failed: {}", path_name, w.name, g.tool.empty() ? "" : " [" + g.tool + "]",
              t.repetition + 1, fail);
  }
  return entry;
}

}  // namespace pb
