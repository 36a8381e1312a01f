#include "git_sha.h"
#include "core/runner.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/environment.h"
#include "core/error.h"
#include "core/json_io.h"
#include "core/log.h"
#include "core/path.h"
#include "core/peers.h"
#include "core/runstate.h"
#include "core/topology.h"
#include "core/util.h"

namespace pb {

std::atomic<int> g_interrupted{0};

nlohmann::json RunConfig::to_json() const {
  nlohmann::json j = {{"paths", paths},
                      {"workloads", workloads},
                      {"duration_s", duration_s},
                      {"warmup_s", warmup_s},
                      {"cooldown_s", cooldown_s},
                      {"repetitions", repetitions},
                      {"flows", flows},
                      {"rate_pps", rate_pps},
                      {"stall_timeout_s", stall_timeout_s},
                      {"pinning", pinning},
                      {"out", out_dir},
                      {"run_id", run_id},
                      {"proof_capture", proof_capture},
                      {"peers", peers},
                      {"fresh_topology_per_path", true},
                      {"verbose", verbose}};
  j["payload_bytes"] = payload_bytes ? nlohmann::json(*payload_bytes) : nlohmann::json("default");
  j["response_bytes"] = response_bytes ? nlohmann::json(*response_bytes) : nlohmann::json("= payload");
  return j;
}

namespace {

constexpr uint16_t kBasePort = 5201;

WorkloadOptions workload_options(const RunConfig& cfg, const WorkloadInfo& w, size_t index) {
  WorkloadOptions o;
  o.name = w.name;
  o.payload_bytes = cfg.payload_bytes.value_or(w.default_payload);
  o.response_bytes = cfg.response_bytes.value_or(o.payload_bytes);
  o.flows = cfg.flows;
  o.duration_s = cfg.duration_s;
  o.warmup_s = cfg.warmup_s;
  o.cooldown_s = cfg.cooldown_s;
  o.rate_pps = cfg.rate_pps;
  o.stall_timeout_s = cfg.stall_timeout_s;
  o.port = static_cast<uint16_t>(kBasePort + index);
  // Pinning (see pinning_description()): -1 leaves a thread to the scheduler.
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (cfg.pinning == "split") {
    o.client_cpu = 0;
    o.server_cpu = static_cast<int>(n > 1 ? n - 1 : 0);
  } else if (cfg.pinning == "one-cpu") {
    o.client_cpu = 0;
    o.server_cpu = 0;
  }
  return o;
}

nlohmann::json result_entry(const std::string& path, const std::string& workload, unsigned rep,
                            unsigned order, const std::string& status, const std::string& reason) {
  nlohmann::json r = {{"path", path},      {"workload", workload}, {"repetition", rep},
                      {"order", order},    {"status", status},     {"started_utc", utc_now_iso8601()}};
  r["reason"] = reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(reason);
  return r;
}

// Reference tools for this workload on the same path instance, right after pathbench's own run
// (interleaved: ours, then theirs, for every path and repetition).
void run_peers(nlohmann::json& doc, const Topology& topo, PathInstance& inst,
               const std::string& pname, const WorkloadInfo& winfo, const WorkloadOptions& wopt, unsigned rep,
               unsigned& order, bool& any_failed) {
  for (const PeerTool& tool : peer_tools()) {
    if (tool.workload != winfo.name) continue;
    nlohmann::json entry = result_entry(pname, winfo.name, rep, order++, "ok", "");
    entry["reference"] = {{"tool", tool.tool}};
    std::optional<std::string> why = tool.unavailable();
    // wrk does not report how many connections it opened, so a proxy's counters cannot be
    // checked against it; through proxies, HAProxy (tproxy-nft) is the connection-rate reference.
    if (!why && tool.tool == "wrk" && !inst.routes())
      why = "wrk reports requests, not connections, so the proxy's counters cannot prove the path; "
            "the tcp_crr reference through a proxy is HAProxy on tproxy-nft";
    if (why) {
      entry["status"] = "skipped";
      entry["reason"] = *why;
      doc["results"].push_back(entry);
      continue;
    }
    log::info("      reference: {} {} on {}", tool.tool, winfo.name, pname);
    WorkloadOptions o = wopt;
    o.port = static_cast<uint16_t>(wopt.port + 100);  // the tool's own port: no TIME_WAIT clash
    Endpoint server{Addr::kServer, o.port};
    PeerContext pc{topo, server, server, o};
    PeerRun pr;
    nlohmann::json proof;
    try {
      pc.target = inst.client_target(o, server);
      inst.begin(o);
      pr = tool.run(pc);
      proof = inst.end(o, pr.result.totals);
    } catch (const std::exception& e) {
      pr.result.ok = false;
      pr.result.reason = e.what();
    }
    if (pr.reference.is_object())
      for (auto& [k, v] : pr.reference.items()) entry["reference"][k] = v;
    entry["workload_options"] = o.to_json();
    entry["target"] = {{"ip", pc.target.ip}, {"port", pc.target.port}};
    if (!proof.is_object()) proof = nlohmann::json::object();
    proof["generator_totals"] = pr.result.totals.to_json();
    entry["proof"] = proof;
    if (!pr.result.metrics.is_null()) entry["metrics"] = pr.result.metrics;
    std::string fail = !pr.result.ok ? pr.result.reason
                       : !proof.value("ok", true) ? "proof of path failed: " + proof.value("reason", std::string())
                                                  : "";
    if (!fail.empty()) {
      entry["status"] = "failed";
      entry["reason"] = fail;
      any_failed = true;
      log::warn("{} {} reference {}: failed: {}", pname, winfo.name, tool.tool, fail);
    }
    doc["results"].push_back(entry);
  }
}

// HAProxy in place of pathbench's proxy on tproxy-nft, right after pathbench's own tproxy-nft
// run of this repetition, on a fresh topology, through the same TCP workloads.
void run_haproxy_reference(nlohmann::json& doc, std::unique_ptr<Topology>& topo, const RunConfig& cfg,
                           unsigned rep, unsigned& order, bool& any_failed) {
  std::vector<const WorkloadInfo*> tcp;
  for (size_t wi = 0; wi < cfg.workloads.size(); ++wi) {
    const WorkloadInfo* w = find_workload(cfg.workloads[wi]);
    if (w->tcp) tcp.push_back(w);
  }
  if (tcp.empty()) return;
  auto add = [&](const WorkloadInfo& w, nlohmann::json entry) {
    entry["path"] = "tproxy-nft";
    entry["workload"] = w.name;
    doc["results"].push_back(entry);
  };
  if (auto why = HaproxyTproxy::unavailable()) {
    for (auto* w : tcp) {
      auto e = result_entry("tproxy-nft", w->name, rep, order++, "skipped", *why);
      e["reference"] = {{"tool", "haproxy"}};
      add(*w, e);
    }
    return;
  }
  std::unique_ptr<HaproxyTproxy> hp;
  std::string setup_error;
  try {
    topo.reset();
    topo = std::make_unique<Topology>(cfg.run_id);
    nlohmann::json pin = pinning_json(cfg);
    hp = std::make_unique<HaproxyTproxy>(PathContext{*topo, cfg}, pin["proxy_cpu"].is_number() ? pin["proxy_cpu"].get<int>() : -1);
  } catch (const std::exception& e) {
    setup_error = std::string("haproxy reference setup failed: ") + e.what();
  }
  for (size_t wi = 0; wi < cfg.workloads.size(); ++wi) {
    const WorkloadInfo* w = find_workload(cfg.workloads[wi]);
    if (!w->tcp || g_interrupted) continue;
    nlohmann::json entry = result_entry("tproxy-nft", w->name, rep, order++, "ok", "");
    entry["reference"] = hp ? hp->reference() : nlohmann::json{{"tool", "haproxy"}};
    if (!hp) {
      entry["status"] = "failed";
      entry["reason"] = setup_error;
      any_failed = true;
      add(*w, entry);
      continue;
    }
    log::info("      reference: haproxy on tproxy-nft, {}", w->name);
    WorkloadOptions o = workload_options(cfg, *w, wi);
    WorkloadContext ctx{*topo, {}, {Addr::kServer, o.port}, &g_interrupted};
    entry["workload_options"] = o.to_json();
    WorkloadResult wr;
    nlohmann::json proof;
    try {
      ctx.target = hp->path().client_target(o, ctx.server_bind);
      hp->path().begin(o);
      wr = w->run(ctx, o);
      proof = hp->path().end(o, wr.totals);
    } catch (const std::exception& e) {
      wr.ok = false;
      wr.reason = e.what();
    }
    if (!proof.is_object()) proof = nlohmann::json::object();
    proof["generator_totals"] = wr.totals.to_json();
    entry["proof"] = proof;
    if (!wr.metrics.is_null()) entry["metrics"] = wr.metrics;
    std::string fail = !wr.ok ? wr.reason : !proof.value("ok", true) ? "proof of path failed: " + proof.value("reason", std::string()) : "";
    if (!fail.empty()) {
      entry["status"] = "failed";
      entry["reason"] = fail;
      any_failed = true;
      log::warn("tproxy-nft {} reference haproxy: failed: {}", w->name, fail);
    }
    add(*w, entry);
  }
}

std::string fmt_secs(double s) {
  int m = static_cast<int>(s) / 60;
  return m ? fmt::format("{}m{:02d}s", m, static_cast<int>(s) % 60) : fmt::format("{}s", static_cast<int>(s));
}

}  // namespace

// Why one-cpu is the default on 2 vCPUs (measured here, baseline, 2 s windows): with threads on
// different CPUs every round trip pays cross-CPU wake-ups (IPIs, VM exits): tcp_rr p50 53 us and
// 18k/s, against 16 us and 60k/s when generator, responder and the softirq work they trigger share
// one CPU; unpinned runs flip between the two modes from one repetition to the next. One CPU also
// makes every path's cost land on the same core, so CPU cost differences show as throughput.
nlohmann::json pinning_json(const RunConfig& cfg) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  std::string last = std::to_string(n > 1 ? n - 1 : 0);
  std::string d = cfg.pinning == "one-cpu"
                      ? "generator, responder and proxy threads on CPU 0; the DUT's softirq work runs where the sender runs"
                  : cfg.pinning == "split"
                      ? "generator threads on CPU 0, responder and proxy threads on CPU " + last
                      : "no pinning: the scheduler places generator, responder, proxy and softirq work";
  nlohmann::json j = {{"policy", cfg.pinning}, {"description", d}, {"online_cpus", n}};
  j["generator_cpu"] = cfg.pinning == "none" ? nlohmann::json(nullptr) : nlohmann::json(0);
  j["responder_cpu"] = cfg.pinning == "none" ? nlohmann::json(nullptr)
                       : cfg.pinning == "split" ? nlohmann::json(n > 1 ? n - 1 : 0) : nlohmann::json(0);
  j["proxy_cpu"] = j["responder_cpu"];
  return j;
}

int run_benchmark(const RunConfig& cfg) {
  const std::string out_file = cfg.out_dir + "/run.json";
  nlohmann::json doc = {{"schema_version", 1},
                        {"tool", {{"name", "pathbench"}, {"version", PATHBENCH_VERSION}, {"git_sha", PATHBENCH_GIT_SHA}}},
                        {"run_id", cfg.run_id},
                        {"status", "running"},
                        {"status_reason", nullptr},
                        {"started_utc", utc_now_iso8601()},
                        {"options", cfg.to_json()},
                        {"results", nlohmann::json::array()},
                        {"probes", nlohmann::json::array()}};
  int exit_code = kExitOk;
  {
    RunState state(cfg.run_id);
    std::unique_ptr<Topology> topo;
    try {
      log::info("run {}: topology up (pb-{}-cli / -dut / -srv)", cfg.run_id, cfg.run_id);
      topo = std::make_unique<Topology>(cfg.run_id);
      doc["environment"] = collect_environment(topo.get());
      doc["environment"]["cpu_pinning"] = pinning_json(cfg);
    } catch (const Error& e) {
      doc["status"] = "failed";
      doc["status_reason"] = e.what();
      doc["finished_utc"] = utc_now_iso8601();
      write_json_atomic(out_file, doc);
      throw;
    }
    write_json_atomic(out_file, doc);

    const double per_workload = cfg.warmup_s + cfg.duration_s + cfg.cooldown_s + 0.4;
    const size_t total = cfg.repetitions * cfg.paths.size() * cfg.workloads.size();
    size_t done = 0;
    unsigned order = 0;
    unsigned path_instances = 0;
    bool any_failed = false;
    for (unsigned rep = 0; rep < cfg.repetitions && !g_interrupted; ++rep) {
      for (const auto& pname : cfg.paths) {
        if (g_interrupted) break;
        const PathInfo* pinfo = find_path(pname);
        std::optional<std::string> why = pinfo->unsupported ? pinfo->unsupported() : std::nullopt;
        std::unique_ptr<PathInstance> inst;
        std::string setup_error;
        nlohmann::json probe;
        if (!why) {
          try {
            // A fresh topology for every path instance after the first: no path inherits kernel
            // state from the one before. Measured here: once any `ip rule` has existed in the
            // DUT (the TPROXY paths add fwmark rules), the kernel keeps its slower policy-rule
            // FIB lookup for the namespace's life, and baseline forwarding drops from 1.33 to
            // 0.84 Mpps; netfilter hooks and conntrack state linger the same way.
            if (++path_instances > 1 || !topo) {
              topo.reset();
              topo = std::make_unique<Topology>(cfg.run_id);
            }
            inst = pinfo->make(PathContext{*topo, cfg});
          } catch (const std::exception& e) {
            setup_error = std::string("path setup failed: ") + e.what();
            log::error("{}: {}", pname, setup_error);
          }
          if (inst && cfg.proof_capture) {
            // Own ports, apart from workloads (5201+) and references (5301+). The full capture
            // summary is stored once per path instance in "probes"; results carry its verdict.
            nlohmann::json full = pcap_probe(*topo, *inst, 5501, 5502);
            full["path"] = pname;
            full["repetition"] = rep;
            doc["probes"].push_back(full);
            probe = {{"ok", full.value("ok", false)}, {"probe_index", doc["probes"].size() - 1}};
            if (full.contains("reason")) probe["reason"] = full["reason"];
            for (auto k : {"server_saw_from_expected_src", "expected_server_src", "routed", "udp_answered", "tcp_completed"})
              probe[k] = full[k];
            if (!probe.value("ok", false))
              log::warn("{}: proof probe failed: {}", pname, probe.value("reason", std::string()));
          }
        }
        for (size_t wi = 0; wi < cfg.workloads.size(); ++wi) {
          if (g_interrupted) break;
          const WorkloadInfo* winfo = find_workload(cfg.workloads[wi]);
          ++done;
          double left = static_cast<double>(total - done) * per_workload;
          log::info("[{}/{}] rep {}/{} {} {} ({} left)", done, total, rep + 1, cfg.repetitions, pname,
                    winfo->name, fmt_secs(left));
          WorkloadOptions wopt = workload_options(cfg, *winfo, wi);
          std::optional<std::string> wwhy = winfo->unsupported ? winfo->unsupported() : std::nullopt;
          if (!wwhy && inst) wwhy = inst->unsupported_workload(*winfo);
          nlohmann::json entry;
          if (why) {
            entry = result_entry(pname, winfo->name, rep, order++, "skipped", *why);
          } else if (!setup_error.empty()) {
            entry = result_entry(pname, winfo->name, rep, order++, "failed", setup_error);
            any_failed = true;
          } else if (wwhy) {
            entry = result_entry(pname, winfo->name, rep, order++, "skipped", *wwhy);
          } else {
            entry = result_entry(pname, winfo->name, rep, order++, "ok", "");
            entry["workload_options"] = wopt.to_json();
            WorkloadContext ctx{*topo, {}, {Addr::kServer, wopt.port}, &g_interrupted};
            WorkloadResult wr;
            nlohmann::json proof;
            try {
              ctx.target = inst->client_target(wopt, ctx.server_bind);
              entry["target"] = {{"ip", ctx.target.ip}, {"port", ctx.target.port}};
              inst->begin(wopt);
              wr = winfo->run(ctx, wopt);
              proof = inst->end(wopt, wr.totals);
            } catch (const std::exception& e) {
              wr.ok = false;
              wr.reason = e.what();
            }
            if (!proof.is_object()) proof = nlohmann::json::object();
            proof["generator_totals"] = wr.totals.to_json();
            if (cfg.proof_capture) proof["pcap_probe"] = probe;
            entry["proof"] = proof;
            if (!wr.metrics.is_null()) entry["metrics"] = wr.metrics;
            std::string fail;
            if (!wr.ok) fail = wr.reason;
            else if (!proof.value("ok", true)) fail = "proof of path failed: " + proof.value("reason", std::string("(no reason)"));
            else if (cfg.proof_capture && !probe.value("ok", false))
              fail = "proof of path failed (pcap probe): " + probe.value("reason", std::string());
            if (!fail.empty()) {
              if (g_interrupted) fail = "interrupted by signal " + std::to_string(g_interrupted.load());
              entry["status"] = "failed";
              entry["reason"] = fail;
              any_failed = true;
              log::warn("{} {} rep {}: failed: {}", pname, winfo->name, rep + 1, fail);
            }
          }
          doc["results"].push_back(entry);
          if (cfg.peers && inst && !wwhy && !g_interrupted) run_peers(doc, *topo, *inst, pname, *winfo, wopt, rep, order, any_failed);
        }
        inst.reset();  // tear the path down before the next one is built
        if (cfg.peers && pname == "tproxy-nft" && !why && !g_interrupted)
          run_haproxy_reference(doc, topo, cfg, rep, order, any_failed);
        doc["finished_utc"] = utc_now_iso8601();
        write_json_atomic(out_file, doc);
      }
    }
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

void print_summary(const nlohmann::json& run) {
  struct Agg {
    std::vector<double> primary, p50, p99;
    int ok = 0, failed = 0, skipped = 0;
    std::string unit, reason;
  };
  std::map<std::pair<std::string, std::string>, Agg> agg;
  std::vector<std::pair<std::string, std::string>> keys;
  for (auto& r : run["results"]) {
    std::string path = r["path"].get<std::string>();
    if (r.contains("reference")) path += " [" + r["reference"].value("tool", std::string("ref")) + "]";
    auto k = std::make_pair(path, r["workload"].get<std::string>());
    if (!agg.count(k)) keys.push_back(k);
    Agg& a = agg[k];
    std::string st = r["status"];
    if (st != "ok") {
      (st == "failed" ? a.failed : a.skipped)++;
      if (r["reason"].is_string()) a.reason = r["reason"];
      continue;
    }
    a.ok++;
    auto& m = r["metrics"];
    if (m.contains("throughput_bps") && k.second == "tcp_stream") {
      a.primary.push_back(m["throughput_bps"].get<double>() / 1e9);
      a.unit = "Gbit/s";
    } else if (m.contains("packets_per_s")) {
      a.primary.push_back(m["packets_per_s"].get<double>() / 1e6);
      a.unit = "Mpps";
    } else if (m.contains("transactions_per_s")) {
      a.primary.push_back(m["transactions_per_s"].get<double>() / 1e3);
      a.unit = "k trans/s";
    }
    if (m.contains("latency_ns") && m["latency_ns"].is_object()) {
      a.p50.push_back(m["latency_ns"]["p50"].get<double>() / 1e3);
      a.p99.push_back(m["latency_ns"]["p99"].get<double>() / 1e3);
    }
  }
  auto median = [](std::vector<double> v) {
    if (v.empty()) return std::nan("");
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  };
  auto spread = [](std::vector<double> v) {
    if (v.size() < 2) return std::string("");
    auto [mn, mx] = std::minmax_element(v.begin(), v.end());
    return fmt::format(" [{:.3g}..{:.3g}]", *mn, *mx);
  };
  std::fprintf(stderr, "\n%-24s %-11s %4s  %-32s %-10s %-10s\n", "path", "workload", "ok", "median (min..max)",
               "p50 us", "p99 us");
  for (auto& k : keys) {
    Agg& a = agg[k];
    std::string prim = a.primary.empty() ? "-" : fmt::format("{:.3g} {}{}", median(a.primary), a.unit, spread(a.primary));
    std::string p50 = a.p50.empty() ? "-" : fmt::format("{:.1f}", median(a.p50));
    std::string p99 = a.p99.empty() ? "-" : fmt::format("{:.1f}", median(a.p99));
    std::string st = fmt::format("{}/{}", a.ok, a.ok + a.failed + a.skipped);
    std::fprintf(stderr, "%-24s %-11s %4s  %-32s %-10s %-10s%s\n", k.first.c_str(), k.second.c_str(), st.c_str(),
                 prim.c_str(), p50.c_str(), p99.c_str(),
                 a.reason.empty() ? "" : ("  " + a.reason.substr(0, 80)).c_str());
  }
  std::fprintf(stderr, "run status: %s\n", run.value("status", std::string("?")).c_str());
}

}  // namespace pb
