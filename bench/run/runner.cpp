// SPDX-License-Identifier: Apache-2.0
#include "run/runner.h"

#include <signal.h>

#include <cmath>
#include <map>

#include "common/clock.h"
#include "common/error.h"
#include "common/json_io.h"
#include "common/log.h"
#include "git_sha.h"
#include "kernel/bpf/attach.h"
#include "kernel/bpf/stats.h"
#include "measure/environment.h"
#include "paths/path.h"
#include "peers/haproxy.h"
#include "proof/probe.h"
#include "roles/topology.h"
#include "run/adaptive.h"
#include "run/calibration.h"
#include "run/runstate.h"
#include "run/schedule.h"
#include "run/summary.h"
#include "run/trial.h"

namespace pb {

std::atomic<int> g_interrupted{0};

nlohmann::json catalogue_json() {
  nlohmann::json c = {{"paths", nlohmann::json::array()}, {"workloads", nlohmann::json::array()}};
  for (auto& p : all_paths()) c["paths"].push_back(p.catalogue_json());
  for (auto& w : all_workloads()) c["workloads"].push_back(w.catalogue_json());
  return c;
}

namespace {

std::string fmt_secs(double s) {
  int m = static_cast<int>(s) / 60;
  return m ? fmt::format("{}m{:02d}s", m, static_cast<int>(s) % 60) : fmt::format("{}s", static_cast<int>(s));
}

// The pcap verdict results carry (the full capture summary is stored once per instance in
// "probes").
nlohmann::json probe_verdict(const nlohmann::json& full, size_t index) {
  nlohmann::json v = {{"ok", full.value("ok", false)}, {"probe_index", index}};
  if (full.contains("reason")) v["reason"] = full["reason"];
  for (auto k : {"server_saw_from_expected_src", "expected_server_src", "routed", "udp_answered", "tcp_completed"})
    v[k] = full[k];
  return v;
}

class Runner {
 public:
  Runner(const RunConfig& cfg, nlohmann::json& doc, const std::string& out_file)
      : cfg_(cfg), doc_(doc), out_file_(out_file) {}

  // One path instance: fresh topology, the path, its probe, its trials, teardown, its record.
  void run_instance(std::unique_ptr<Topology>& topo, const InstancePlan& plan) {
    const PathInfo& info = *find_path(plan.path);
    const size_t index = doc_["path_instances"].size();
    nlohmann::json rec = {{"index", index},
                          {"path", plan.path},
                          {"path_options", plan.settings.options_json()},
                          {"repetition", plan.repetition},
                          {"proxy", plan.haproxy ? "haproxy" : info.via_proxy ? "pathbench" : "none"},
                          {"status", "ok"},
                          {"reason", nullptr}};
    std::optional<std::string> why = info.unsupported ? info.unsupported() : std::nullopt;
    if (!why && plan.haproxy) why = HaproxyTproxy::unavailable();
    std::unique_ptr<HaproxyTproxy> hp;
    std::unique_ptr<PathInstance> own;
    PathInstance* inst = nullptr;
    std::unique_ptr<CostInjection> cost;
    std::string setup_error;
    nlohmann::json probe;
    if (!why) {
      try {
        // A fresh topology for every path instance after the first: no path inherits kernel
        // state from the one before (docs/gotchas.md "A policy rule slows forwarding for the
        // namespace's life"; netfilter hooks and conntrack state linger the same way).
        if (++instances_ > 1 || !topo) {
          topo.reset();
          topo = std::make_unique<Topology>(cfg_.run_id, TopologyOptions{cfg_.tcp_cc});
        }
        PathContext ctx{info, *topo, plan.settings};
        // The calibrated slowdown goes first, so it runs ahead of the path's own TC programs.
        if (cfg_.inject_cost_ns) cost = std::make_unique<CostInjection>(*topo, *cfg_.inject_cost_ns);
        if (plan.haproxy) {
          hp = std::make_unique<HaproxyTproxy>(ctx, placement(cfg_.pinning).proxy_cpu);
          inst = &hp->path();
        } else {
          own = info.make(ctx);
          inst = own.get();
        }
        inst->setup_done();
        if (plan.settings.services && plan.settings.update_samples) inst->measure_updates();
      } catch (const std::exception& e) {
        setup_error = std::string("path setup failed: ") + e.what();
        log::error("{}: {}", plan.path, setup_error);
        inst = nullptr;
        own.reset();
        hp.reset();
        cost.reset();
      }
      if (inst && cfg_.proof_capture) {
        const uint16_t up = plan.settings.services ? plan.settings.service_port : kProbeUdpPort;
        const uint16_t tp = plan.settings.services ? plan.settings.service_port : kProbeTcpPort;
        nlohmann::json full = pcap_probe(*topo, *inst, up, tp);
        full["path"] = plan.path;
        full["repetition"] = plan.repetition;
        full["instance"] = index;
        doc_["probes"].push_back(full);
        probe = probe_verdict(full, doc_["probes"].size() - 1);
        if (!probe.value("ok", false)) log::warn("{}: proof probe failed: {}", plan.path, probe.value("reason", std::string()));
      }
    }
    if (why) {
      rec["status"] = "skipped";
      rec["reason"] = *why;
    } else if (!setup_error.empty()) {
      rec["status"] = "failed";
      rec["reason"] = setup_error;
    }
    for (const Trial& t : plan.trials) {
      if (g_interrupted) break;
      ++done_;
      progress(plan, t);
      nlohmann::json entry;
      if (why || !setup_error.empty()) {
        entry = result_entry(plan.path, t.workload, t.repetition, order_++, why ? "skipped" : "failed",
                             why ? *why : setup_error);
        if (!t.reference.empty()) entry["reference"] = {{"tool", t.reference}};
        entry["path_options"] = plan.settings.options_json();
        entry["instance"] = index;
      } else {
        TrialContext tc{*topo, *inst, rec["path_options"], static_cast<unsigned>(index),
                        cfg_.proof_capture ? &probe : nullptr, &g_interrupted};
        entry = run_trial(tc, t, plan.path, order_++);
        if (hp && entry.contains("reference"))
          for (auto& [k, v] : hp->reference().items()) entry["reference"][k] = v;
      }
      if (entry["status"] == "failed") any_failed_ = true;
      doc_["results"].push_back(entry);
    }
    if (inst) {
      // Remove the path now (recorded teardown time), before the next topology is built.
      inst->teardown();
      if (cost) rec["injected_cost"] = cost->to_json();
      cost.reset();
      rec["configuration"] = inst->configuration();
      rec["scale"] = inst->scale();
    }
    own.reset();
    hp.reset();
    doc_["path_instances"].push_back(rec);
    doc_["finished_utc"] = utc_now_iso8601();
    write_json_atomic(out_file_, doc_);
  }

  void set_total(size_t total) { total_ = total; }
  bool any_failed() const { return any_failed_; }

 private:
  void progress(const InstancePlan& plan, const Trial& t) {
    const double per_trial = cfg_.warmup_s + cfg_.duration_s + cfg_.cooldown_s + 0.4;
    std::string where = plan.path;
    if (plan.settings.services) where += fmt::format(" services={}", plan.settings.services);
    std::string tool = t.reference.empty() ? "" : " [" + t.reference + "]";
    if (total_)
      log::info("[{}/{}] rep {}/{} {} {}{} ({} left)", done_, total_, t.repetition + 1, cfg_.repetitions, where,
                t.workload, tool, fmt_secs(static_cast<double>(total_ - std::min(total_, done_)) * per_trial));
    else
      log::info("[{}] rep {} {} {}{}", done_, t.repetition + 1, where, t.workload, tool);
  }

  const RunConfig& cfg_;
  nlohmann::json& doc_;
  const std::string& out_file_;
  unsigned order_ = 0, instances_ = 0;
  size_t done_ = 0, total_ = 0;
  bool any_failed_ = false;
};

}  // namespace

int run_benchmark(const RunConfig& cfg) {
  bpf::set_stats_mode(cfg.bpf_stats == "off" ? bpf::StatsMode::kOff
                      : cfg.bpf_stats == "always" ? bpf::StatsMode::kAlways
                                                  : bpf::StatsMode::kSample);
  bpf::set_tc_attach_mode(cfg.tc_attach == "clsact" ? bpf::TcAttachMode::kClsact : bpf::TcAttachMode::kAuto);
  const std::string out_file = cfg.out_dir + "/run.json";
  const uint64_t t_start = mono_ns();
  nlohmann::json doc = {{"schema_version", 2},
                        {"tool", {{"name", "pathbench"}, {"version", PATHBENCH_VERSION}, {"git_sha", PATHBENCH_GIT_SHA}}},
                        {"run_id", cfg.run_id},
                        {"status", "running"},
                        {"status_reason", nullptr},
                        {"started_utc", utc_now_iso8601()},
                        {"options", cfg.to_json()},
                        {"catalogue", catalogue_json()},
                        {"results", nlohmann::json::array()},
                        {"probes", nlohmann::json::array()},
                        {"path_instances", nlohmann::json::array()}};
  int exit_code = kExitOk;
  bool any_failed = false;
  {
    RunState state(cfg.run_id);
    std::unique_ptr<Topology> topo;
    try {
      log::info("run {}: topology up (pb-{}-cli / -dut / -srv)", cfg.run_id, cfg.run_id);
      topo = std::make_unique<Topology>(cfg.run_id, TopologyOptions{cfg.tcp_cc});
      doc["environment"] = collect_environment(topo.get());
      doc["environment"]["cpu_pinning"] = pinning_json(cfg.pinning);
    } catch (const Error& e) {
      doc["status"] = "failed";
      doc["status_reason"] = e.what();
      doc["finished_utc"] = utc_now_iso8601();
      write_json_atomic(out_file, doc);
      throw;
    }
    write_json_atomic(out_file, doc);

    Runner runner(cfg, doc, out_file);
    const bool adaptive = cfg.adaptive.target_ci_pct > 0;
    if (!adaptive) {
      size_t total = 0;
      for (auto& plan : full_schedule(cfg)) total += plan.trials.size();
      runner.set_total(total);
    }
    const unsigned max_reps = adaptive ? cfg.adaptive.max_repetitions : cfg.repetitions;
    std::string stop_reason = "repetitions done";
    nlohmann::json stop_detail = nlohmann::json::object();
    unsigned reps_done = 0;
    for (unsigned rep = 0; rep < max_reps && !g_interrupted; ++rep) {
      for (const InstancePlan& plan : schedule_repetition(cfg, rep)) {
        if (g_interrupted) break;
        runner.run_instance(topo, plan);
      }
      if (g_interrupted) break;
      reps_done = rep + 1;
      if (!adaptive) continue;
      const double elapsed = static_cast<double>(mono_ns() - t_start) / 1e9;
      if (reps_done >= cfg.repetitions) {
        IntervalCheck c = check_intervals(doc, cfg.adaptive.target_ci_pct);
        stop_detail = {{"configurations", c.configurations}, {"undetermined", c.undetermined}, {"widest", c.widest}};
        log::info("adaptive: after {} repetitions, widest 95% interval {}", reps_done, c.widest.dump());
        if (c.all_within) {
          stop_reason = "target interval reached";
          break;
        }
      }
      // Would one more repetition fit the budget? (Repetitions take about equally long.)
      if (elapsed + elapsed / reps_done > cfg.adaptive.budget_s) {
        stop_reason = "time budget exhausted";
        break;
      }
      if (reps_done == max_reps) stop_reason = "max repetitions reached";
    }
    any_failed = runner.any_failed();
    if (g_interrupted) stop_reason = "interrupted";
    doc["stop"] = {{"reason", stop_reason},
                   {"repetitions", reps_done},
                   {"elapsed_s", static_cast<double>(mono_ns() - t_start) / 1e9},
                   {"detail", stop_detail}};
    if (g_interrupted) {
      doc["status"] = "interrupted";
      doc["status_reason"] = "signal " + std::to_string(g_interrupted.load());
      exit_code = g_interrupted == SIGINT ? kExitSigint : kExitSigterm;
    } else {
      doc["status"] = "complete";
      if (any_failed) exit_code = kExitFailedCheck;
    }
    doc["finished_utc"] = utc_now_iso8601();
    log::info("run {}: tearing down", cfg.run_id);
    topo.reset();
  }
  write_json_atomic(out_file, doc);
  print_summary(doc);
  log::info("results: {}", out_file);
  return exit_code;
}

}  // namespace pb
