// SPDX-License-Identifier: Apache-2.0
#include "run/runner.h"

#include <signal.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "kernel/bpf/attach.h"
#include "kernel/bpf/stats.h"
#include "measure/kprofile.h"
#include "paths/path.h"
#include "proof/probe.h"
#include "roles/roles.h"
#include "run/adaptive.h"
#include "run/netns_site.h"
#include "run/schedule.h"
#include "run/site.h"
#include "run/summary.h"
#include "run/trial.h"

namespace pb {

std::atomic<int> g_interrupted{0};

void apply_bpf_settings(const std::string& bpf_stats, const std::string& tc_attach, uint64_t kernel_profile_ns) {
  set_kernel_profile_ns(kernel_profile_ns);
  bpf::set_stats_mode(bpf_stats == "off"      ? bpf::StatsMode::kOff
                      : bpf_stats == "always" ? bpf::StatsMode::kAlways
                                              : bpf::StatsMode::kSample);
  bpf::set_tc_attach_mode(tc_attach == "clsact" ? bpf::TcAttachMode::kClsact : bpf::TcAttachMode::kAuto);
}

namespace {

std::string fmt_secs(double s) {
  int m = static_cast<int>(s) / 60;
  return m ? fmt::format("{}m{:02d}s", m, static_cast<int>(s) % 60) : fmt::format("{}s", static_cast<int>(s));
}

// The pcap verdict rows carry (the probe's full record is stored once per instance in "probes").
nlohmann::json probe_verdict_row(const nlohmann::json& full, size_t index) {
  nlohmann::json v = {{"ok", full.value("ok", false)}, {"probe_index", index}};
  if (full.contains("reason")) v["reason"] = full["reason"];
  for (auto k : {"server_saw_from_expected_src", "expected_server_src", "routed", "udp_answered", "tcp_completed"})
    v[k] = full.contains(k) ? full[k] : nlohmann::json(nullptr);
  return v;
}

class Runner {
 public:
  Runner(const RunConfig& cfg, Site& site, RunDocument& doc) : cfg_(cfg), site_(site), doc_(doc) {}

  // The whole schedule; returns why it stopped. Throws Error when the site is lost.
  StopRecord run() {
    const uint64_t t_start = mono_ns();
    const bool adaptive = cfg_.adaptive.target_ci_pct > 0;
    if (!adaptive)
      for (auto& plan : full_schedule(cfg_)) total_ += plan.trials.size();
    const unsigned max_reps = adaptive ? cfg_.adaptive.max_repetitions : cfg_.repetitions;
    StopRecord stop;
    for (unsigned rep = 0; rep < max_reps && !g_interrupted; ++rep) {
      for (const InstancePlan& plan : schedule_repetition(cfg_, rep)) {
        if (g_interrupted) break;
        run_instance(plan);
      }
      if (g_interrupted) break;
      stop.repetitions = rep + 1;
      if (!adaptive) continue;
      const double elapsed = static_cast<double>(mono_ns() - t_start) / 1e9;
      if (stop.repetitions >= cfg_.repetitions) {
        IntervalCheck c = check_intervals(doc_.json(), cfg_.adaptive.target_ci_pct);
        stop.detail = {{"configurations", c.configurations}, {"undetermined", c.undetermined}, {"widest", c.widest}};
        log::info("adaptive: after {} repetitions, widest 95% interval {}", stop.repetitions, c.widest.dump());
        if (c.all_within) {
          stop.reason = "target interval reached";
          break;
        }
      }
      // Would one more repetition fit the budget? (Repetitions take about equally long.)
      if (elapsed + elapsed / stop.repetitions > cfg_.adaptive.budget_s) {
        stop.reason = "time budget exhausted";
        break;
      }
      if (stop.repetitions == max_reps) stop.reason = "max repetitions reached";
    }
    if (g_interrupted) stop.reason = "interrupted";
    stop.elapsed_s = static_cast<double>(mono_ns() - t_start) / 1e9;
    return stop;
  }

  bool any_failed() const { return any_failed_; }

 private:
  // One path instance: built by the site, its probe, its trials, teardown, its record.
  void run_instance(const InstancePlan& plan) {
    const PathInfo& info = *find_path(plan.path);
    const size_t index = doc_.next_instance();
    nlohmann::json rec = {{"index", index},
                          {"path", plan.path},
                          {"path_options", plan.settings.options_json()},
                          {"repetition", plan.repetition},
                          {"proxy", plan.haproxy ? "haproxy" : info.via_proxy ? "pathbench" : "none"},
                          {"status", "ok"},
                          {"reason", nullptr}};
    site_.annotate_instance(rec);
    BuiltPath built;
    std::string setup_error;
    try {
      built = site_.build(plan);
    } catch (const std::exception& e) {
      setup_error = std::string("path setup failed: ") + e.what();
      log::error("{}: {}", plan.path, setup_error);
    }
    site_.check();
    nlohmann::json probe;
    if (built.path && cfg_.proof_capture) probe = run_probe(plan, index, built.path->path());
    if (built.skipped) {
      rec["status"] = "skipped";
      rec["reason"] = *built.skipped;
    } else if (!setup_error.empty()) {
      rec["status"] = "failed";
      rec["reason"] = setup_error;
    }
    for (const Trial& t : plan.trials) {
      if (g_interrupted) break;
      ++done_;
      progress(plan, t);
      nlohmann::json row;
      if (!built.path) {
        row = result_entry(plan.path, t.workload->name, t.repetition, order_++, built.skipped ? "skipped" : "failed",
                           built.skipped.value_or(setup_error));
        if (!t.reference.empty()) row["reference"] = {{"tool", t.reference}};
        row["path_options"] = rec["path_options"];
        row["instance"] = index;
      } else {
        const Generator g = site_.generator(t);
        TrialContext tc{site_.roles(), built.path->path(), rec["path_options"], static_cast<unsigned>(index),
                        cfg_.proof_capture ? &probe : nullptr, &g_interrupted, &g};
        row = run_trial(tc, t, plan.path, order_++);
        built.path->annotate_row(row);
      }
      if (row["status"] == "failed") any_failed_ = true;
      doc_.add_result(std::move(row));
      site_.check();
    }
    if (built.path) {
      // Removed now (its teardown time recorded), before the next instance is built.
      rec.update(built.path->teardown());
      built.path.reset();
    }
    doc_.add_instance(std::move(rec));
    doc_.save();
  }

  nlohmann::json run_probe(const InstancePlan& plan, size_t index, PathInstance& path) {
    const uint16_t up = plan.settings.services ? plan.settings.service_port : kProbeUdpPort;
    const uint16_t tp = plan.settings.services ? plan.settings.service_port : kProbeTcpPort;
    nlohmann::json full = pcap_probe(site_.probe(), site_.roles().wiring(), path, up, tp);
    site_.check();
    site_.annotate_probe(full);
    full["path"] = plan.path;
    full["repetition"] = plan.repetition;
    full["instance"] = index;
    nlohmann::json row = probe_verdict_row(full, doc_.add_probe(full));
    if (!row.value("ok", false)) log::warn("{}: proof probe failed: {}", plan.path, row.value("reason", std::string()));
    return row;
  }

  void progress(const InstancePlan& plan, const Trial& t) {
    const double per_trial = cfg_.warmup_s + cfg_.duration_s + cfg_.cooldown_s + 0.4;
    std::string where = plan.path;
    if (plan.settings.services) where += fmt::format(" services={}", plan.settings.services);
    if (plan.settings.gateway != "none") where += " gateway=" + plan.settings.gateway;
    if (plan.settings.observe != "none") where += " observe=" + plan.settings.observe;
    std::string tool = t.reference.empty() ? "" : " [" + t.reference + "]";
    if (total_)
      log::info("[{}/{}] rep {}/{} {} {}{} ({} left)", done_, total_, t.repetition + 1, cfg_.repetitions, where,
                t.workload->name, tool, fmt_secs(static_cast<double>(total_ - std::min(total_, done_)) * per_trial));
    else
      log::info("[{}] rep {} {} {}{}", done_, t.repetition + 1, where, t.workload->name, tool);
  }

  const RunConfig& cfg_;
  Site& site_;
  RunDocument& doc_;
  unsigned order_ = 0;
  size_t done_ = 0, total_ = 0;
  bool any_failed_ = false;
};

}  // namespace

int run_benchmark(const RunConfig& cfg, Site& site) {
  apply_bpf_settings(cfg.bpf_stats, cfg.tc_attach, cfg.kernel_profile_ns);
  RunDocument doc(cfg);
  // A failure of the site as a whole (its setup; an agent lost mid-run) is saved as such, then
  // thrown: the exit code is the error's.
  auto fail = [&](const Error& e) {
    doc.set_status(RunStatus::kFailed, e.what());
    try {
      doc.save();
    } catch (const std::exception& w) {
      log::error("{}", w.what());
    }
  };
  try {
    doc.set_environment(site.environment());
  } catch (const Error& e) {
    fail(e);
    throw;
  }
  doc.save();
  Runner runner(cfg, site, doc);
  StopRecord stop;
  try {
    stop = runner.run();
  } catch (const Error& e) {
    fail(e);
    throw;
  }
  doc.set_stop(stop);
  int exit_code = kExitOk;
  if (const int sig = g_interrupted.load()) {
    doc.set_status(RunStatus::kInterrupted, "signal " + std::to_string(sig));
    exit_code = sig == SIGINT ? kExitSigint : kExitSigterm;
  } else {
    doc.set_status(RunStatus::kComplete);
    if (runner.any_failed()) exit_code = kExitFailedCheck;
  }
  site.close();
  doc.save();
  print_summary(doc.json());
  log::info("results: {}", doc.file());
  return exit_code;
}

int run_benchmark(const RunConfig& cfg) {
  NamespaceSite site(cfg);
  return run_benchmark(cfg, site);
}

}  // namespace pb
