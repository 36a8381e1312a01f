// SPDX-License-Identifier: Apache-2.0
#include "paths/observer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/core.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "common/error.h"
#include "common/log.h"
#include "http_observe.skel.h"
#include "kernel/bpf/attach.h"
#include "kernel/bpf/skeleton.h"
#include "kernel/bpf/stats.h"
#include "pb_shared.h"
#include "paths/gateway.h"

namespace pb {

const std::vector<std::string>& observe_kinds() {
  static const std::vector<std::string> k = {"none", "ebpf-empty", "ebpf-http", "gateway-log"};
  return k;
}

size_t observe_max_routes() { return PB_HTTP_ROUTES_MAX; }

uint64_t route_key(const std::string& route_text) {
  const size_t sp = route_text.find(' ');
  if (sp == std::string::npos || sp == 0 || sp + 1 >= route_text.size() || route_text[sp + 1] != '/')
    throw UsageError("--http-routes: '" + route_text + "' is not 'METHOD /path'");
  uint64_t t = PB_HTTP_FNV_OFFSET;
  for (size_t i = 0; i < sp; ++i) t = pb_http_byte(t, static_cast<unsigned char>(route_text[i]));
  uint64_t h = pb_http_token(PB_HTTP_FNV_OFFSET, t);
  const std::string path = route_text.substr(sp + 2);  // after the leading '/'
  size_t start = 0;
  for (;;) {
    const size_t slash = path.find('/', start);
    const std::string seg = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    const bool placeholder = seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
    if (!placeholder && (seg.find('{') != std::string::npos || seg.find('}') != std::string::npos))
      throw UsageError("--observe: in '" + route_text + "' a placeholder is not a whole path segment ('" + seg +
                       "'): the observers tell routes apart by segments");
    if (!seg.empty() && std::all_of(seg.begin(), seg.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw UsageError("--observe: in '" + route_text + "' the segment '" + seg +
                       "' is digits only, which the observers read as a placeholder: write {id}");
    uint64_t st = PB_HTTP_FNV_OFFSET;
    if (placeholder) {
      st = PB_HTTP_PLACEHOLDER;
    } else {
      for (char c : seg) st = pb_http_byte(st, static_cast<unsigned char>(c));
    }
    h = pb_http_token(h, st);
    if (slash == std::string::npos) return h;
    start = slash + 1;
  }
}

std::optional<uint64_t> request_key(std::string_view line) {
  // The same walk as bpf/http_observe.bpf.c request_key, over at most its 128 bytes.
  const size_t n = std::min<size_t>(line.size(), 128);
  uint64_t h = PB_HTTP_FNV_OFFSET, t = PB_HTTP_FNV_OFFSET;
  bool in_path = false, digits = true, nonempty = false;
  for (size_t k = 0; k < n; ++k) {
    const auto c = static_cast<unsigned char>(line[k]);
    if (!in_path) {
      if (c == ' ') {
        h = pb_http_token(h, t);
        if (k + 1 >= n || line[k + 1] != '/') return std::nullopt;
        ++k;
        in_path = true;
        t = PB_HTTP_FNV_OFFSET;
        continue;
      }
      t = pb_http_byte(t, c);
      continue;
    }
    if (c == '/' || c == ' ' || c == '?') {
      h = pb_http_token(h, nonempty && digits ? PB_HTTP_PLACEHOLDER : t);
      if (c != '/') return h;
      t = PB_HTTP_FNV_OFFSET;
      digits = true;
      nonempty = false;
      continue;
    }
    t = pb_http_byte(t, c);
    nonempty = true;
    if (c < '0' || c > '9') digits = false;
  }
  return std::nullopt;
}

bool route_matches(const std::string& route_text, std::string_view line) {
  auto k = request_key(line);
  return k && *k == route_key(route_text);
}

std::vector<uint64_t> generator_route_requests(const WorkloadOptions& w, const WorkloadTotals& t) {
  if (!t.http_route_requests.empty()) return t.http_route_requests;
  // A reference tool (wrk) sends the first route only and reports its total.
  if (w.http_routes.size() == 1) return {t.transactions};
  return {};
}

std::string check_route_counts(const std::string& who, const std::vector<uint64_t>& observed,
                               const std::vector<uint64_t>& generator, uint64_t in_flight,
                               const std::vector<std::string>& routes) {
  if (generator.size() != routes.size())
    return who + ": the generator did not report its requests per route";
  for (size_t i = 0; i < routes.size(); ++i) {
    const uint64_t o = i < observed.size() ? observed[i] : 0;
    if (o < generator[i])
      return fmt::format("{} counted {} requests on '{}', the generator completed {}", who, o, routes[i], generator[i]);
    if (o > generator[i] + in_flight)
      return fmt::format("{} counted {} requests on '{}', more than the generator's {} (+{} in flight)", who, o,
                         routes[i], generator[i], in_flight);
  }
  return {};
}

namespace {

// Requests a load may leave in flight when it stops: one per flow, twice for a tool run in two
// parts (wrk's discarded warm-up run), as for the gateway's own proof (paths/proxy_path.cpp).
uint64_t in_flight(const WorkloadOptions& w) { return 2 * uint64_t{w.flows}; }

// bpf/pb_shared.h's log-linear buckets: [lo, hi) of bucket b.
std::pair<double, double> bucket_bounds(uint32_t b) {
  if (b < 4) return {static_cast<double>(b), static_cast<double>(b + 1)};
  const uint32_t msb = (b + 4) / 4, sub = (b + 4) % 4;
  const double lo = static_cast<double>(uint64_t{4 + sub} << (msb - 2));
  return {lo, lo + static_cast<double>(uint64_t{1} << (msb - 2))};
}

// Quantiles of a bucketed distribution, each at its bucket's midpoint (buckets are 25% wide).
nlohmann::json bucket_summary(const std::vector<uint64_t>& counts, bool ns_buckets) {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  nlohmann::json s = {{"samples", n}};
  if (!n) return s;
  for (auto [name, q] : {std::pair{"p50", 0.50}, {"p90", 0.90}, {"p99", 0.99}}) {
    const uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(n - 1)) + 1;
    uint64_t seen = 0;
    for (size_t b = 0; b < counts.size(); ++b) {
      seen += counts[b];
      if (seen >= rank) {
        if (ns_buckets) {
          auto [lo, hi] = bucket_bounds(static_cast<uint32_t>(b));
          s[name] = (lo + hi) / 2;
        } else {
          s[name] = static_cast<double>(b);
        }
        break;
      }
    }
  }
  return s;
}

nlohmann::json prog_delta(const bpf::ProgStats& a, const bpf::ProgStats& b) {
  const uint64_t n = b.run_cnt - a.run_cnt, t = b.run_time_ns - a.run_time_ns;
  nlohmann::json j = {{"name", b.name}, {"id", b.id}, {"run_cnt", n}, {"run_time_ns", t}};
  j["ns_per_run"] = n ? nlohmann::json(static_cast<double>(t) / static_cast<double>(n)) : nlohmann::json(nullptr);
  return j;
}

class EbpfObserver : public ApiObserver {
 public:
  EbpfObserver(const Roles& roles, bool parse) : parse_(parse) {
    skel_.reset(bpf::open_skeleton<http_observe>("http_observe"));
    bpf::load_skeleton(skel_.get(), "http_observe");
    dev_ = roles.wiring().dut_client_dev;
    in_fd_ = bpf_program__fd(parse ? skel_->progs.pb_http_in : skel_->progs.pb_http_empty_in);
    out_fd_ = bpf_program__fd(parse ? skel_->progs.pb_http_out : skel_->progs.pb_http_empty_out);
    // First on each hook: a program ahead of the observer may end the chain (tc-sk-assign's does).
    in_ = std::make_unique<bpf::TcHook>(roles.dut().netns, dev_, in_fd_, 0, bpf::TcDirection::kIngress, true);
    out_ = std::make_unique<bpf::TcHook>(roles.dut().netns, dev_, out_fd_, 0, bpf::TcDirection::kEgress, true);
    log::debug("observer {}: attached to {} ingress and egress ({})", kind(), dev_, in_->mode());
  }
  ~EbpfObserver() override {
    // Detached before the skeleton (and its programs) go; egress first: on clsact the ingress hook
    // may own the qdisc, and removing it takes the egress filter with it.
    out_.reset();
    in_.reset();
  }

  const char* kind() const { return parse_ ? "ebpf-http" : "ebpf-empty"; }

  void begin(const WorkloadInfo& wl, const WorkloadOptions& w) override {
    routes_.clear();
    if (parse_ && wl.application == Application::kHttp) {
      if (w.http_routes.size() > PB_HTTP_ROUTES_MAX)
        throw UsageError(fmt::format("--observe ebpf-http tells at most {} routes apart, --http-routes has {}",
                                     PB_HTTP_ROUTES_MAX, w.http_routes.size()));
      // The keys of the previous workload's routes go; this one's come in.
      const int fd = bpf_map__fd(skel_->maps.http_route_keys);
      for (uint64_t k : keys_) bpf_map_delete_elem(fd, &k);
      keys_.clear();
      for (uint32_t i = 0; i < w.http_routes.size(); ++i) {
        const uint64_t k = route_key(w.http_routes[i]);
        if (bpf_map_update_elem(fd, &k, &i, BPF_ANY))
          throw BpfError(errno_msg("bpf_map_update_elem(http_route_keys)", errno));
        keys_.push_back(k);
      }
      routes_ = w.http_routes;
    }
    c0_ = counters();
    h0_ = hist();
    in0_ = bpf::prog_stats(in_fd_);
    out0_ = bpf::prog_stats(out_fd_);
    // The programs' own cost per run: BPF stats on for a sample of the warm-up (kernel/bpf/stats.h).
    stats_.start(bpf::stats_sample_seconds(w.warmup_s, w.duration_s), bpf::stats_sample_in_warmup(w.warmup_s));
  }

  nlohmann::json end(const WorkloadInfo& wl, const WorkloadOptions& w, const WorkloadTotals& t) override {
    stats_.stop();
    nlohmann::json j = {{"kind", kind()},
                        {"bpf_stats", stats_.to_json()},
                        {"hook", fmt::format("tc ingress + egress of {} in the DUT, first on each ({})", dev_, in_->mode())},
                        {"programs", {{"ingress", prog_delta(in0_, bpf::prog_stats(in_fd_))},
                                      {"egress", prog_delta(out0_, bpf::prog_stats(out_fd_))}}},
                        {"ok", true}};
    if (!parse_) return j;
    std::vector<uint64_t> c = counters(), h = hist();
    for (size_t i = 0; i < c.size(); ++i) c[i] -= c0_[i];
    for (size_t i = 0; i < h.size(); ++i) h[i] -= h0_[i];
    auto extra = [&](int k) { return c[PB_HTTP_ROUTES_MAX + k]; };
    j["packets"] = {{"ingress", extra(PB_HTTP_PACKETS_IN)}, {"egress", extra(PB_HTTP_PACKETS_OUT)}};
    j["unmatched_requests"] = extra(PB_HTTP_UNMATCHED);
    j["responses_paired"] = extra(PB_HTTP_RESPONSES);
    j["responses_unpaired"] = extra(PB_HTTP_UNPAIRED);
    j["overlapping_requests"] = extra(PB_HTTP_OVERLAP);
    j["other_segments"] = extra(PB_HTTP_OTHER);
    j["latency_from"] = "request's first segment in at the DUT's client interface to its response's first segment out";
    if (wl.application != Application::kHttp) {
      j["note"] = "not an HTTP workload: nothing to count";
      return j;
    }
    const std::vector<uint64_t> gen = generator_route_requests(w, t);
    std::vector<uint64_t> seen;
    nlohmann::json routes = nlohmann::json::object();
    uint64_t gen_total = 0;
    for (size_t r = 0; r < routes_.size(); ++r) {
      seen.push_back(c[r]);
      std::vector<uint64_t> buckets(h.begin() + static_cast<long>(r * PB_HTTP_BUCKETS),
                                    h.begin() + static_cast<long>((r + 1) * PB_HTTP_BUCKETS));
      routes[routes_[r]] = {{"requests", c[r]},
                            {"generator", r < gen.size() ? nlohmann::json(gen[r]) : nlohmann::json(nullptr)},
                            {"latency_ns", bucket_summary(buckets, true)}};
      if (r < gen.size()) gen_total += gen[r];
    }
    j["routes"] = routes;
    // The programs' cost per observed request: ns per run (the sampled window) x runs per request
    // (the whole workload's packet counts).
    auto per_run = [&](const char* hook) {
      const nlohmann::json& v = j["programs"][hook]["ns_per_run"];
      return v.is_number() ? v.get<double>() : 0.0;  // null: BPF stats were off
    };
    const double ni = per_run("ingress"), no = per_run("egress");
    uint64_t requests = 0;
    for (uint64_t x : seen) requests += x;
    if (requests && ni > 0 && no > 0)
      j["bpf_ns_per_request"] = (ni * static_cast<double>(extra(PB_HTTP_PACKETS_IN)) +
                                 no * static_cast<double>(extra(PB_HTTP_PACKETS_OUT))) / static_cast<double>(requests);
    j["packets_per_request"] = requests ? nlohmann::json(static_cast<double>(extra(PB_HTTP_PACKETS_IN) + extra(PB_HTTP_PACKETS_OUT)) /
                                                         static_cast<double>(requests))
                                        : nlohmann::json(nullptr);
    std::string why = check_route_counts("the eBPF observer", seen, gen, in_flight(w), routes_);
    if (why.empty() && extra(PB_HTTP_UNMATCHED))
      why = fmt::format("the eBPF observer saw {} requests that match no route", extra(PB_HTTP_UNMATCHED));
    if (why.empty() && extra(PB_HTTP_RESPONSES) < gen_total)
      why = fmt::format("the eBPF observer paired {} responses with their requests, the generator completed {}",
                        extra(PB_HTTP_RESPONSES), gen_total);
    if (!why.empty()) {
      j["ok"] = false;
      j["reason"] = why;
    }
    return j;
  }

 private:
  std::vector<uint64_t> counters() const {
    return bpf::read_percpu_u64(bpf_map__fd(skel_->maps.http_counters), PB_HTTP_COUNTERS);
  }
  std::vector<uint64_t> hist() const {
    return bpf::read_percpu_u64(bpf_map__fd(skel_->maps.http_hist), PB_HTTP_ROUTES_MAX * PB_HTTP_BUCKETS);
  }

  bool parse_;
  bpf::SkelPtr<http_observe> skel_;
  std::unique_ptr<bpf::TcHook> in_, out_;  // after skel_: destroyed first
  std::string dev_;
  int in_fd_ = -1, out_fd_ = -1;
  std::vector<std::string> routes_;
  std::vector<uint64_t> keys_;  // in http_route_keys now
  std::vector<uint64_t> c0_, h0_;
  bpf::ProgStats in0_, out0_;
  bpf::StatsSampler stats_;
};

uint64_t file_size(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

class GatewayLogObserver : public ApiObserver {
 public:
  explicit GatewayLogObserver(const HaproxyGateway& g) : gw_(g) {}

  void begin(const WorkloadInfo&, const WorkloadOptions&) override {
    path_ = gw_.log_path();
    offset_ = file_size(path_);
  }

  nlohmann::json end(const WorkloadInfo& wl, const WorkloadOptions& w, const WorkloadTotals& t) override {
    nlohmann::json j = {{"kind", "gateway-log"},
                        {"hook", "HAProxy's per-request log (log stdout, one line per request)"},
                        {"ok", true}};
    if (wl.application != Application::kHttp) {
      j["note"] = "not an HTTP workload: nothing to count";
      return j;
    }
    if (gw_.log_path() != path_) {
      j["ok"] = false;
      j["reason"] = "the gateway restarted during the workload: its log is not one file";
      return j;
    }
    const std::vector<uint64_t> gen = generator_route_requests(w, t);
    uint64_t gen_total = 0;
    for (uint64_t g : gen) gen_total += g;
    std::vector<uint64_t> patterns;
    for (auto& r : w.http_routes) patterns.push_back(route_key(r));
    // A line is written when its stream ends, just after the response: wait for the last ones.
    Tally tl;
    for (int i = 0; i < 50; ++i) {
      tl = tally(patterns);
      if (tl.lines >= gen_total) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    nlohmann::json routes = nlohmann::json::object();
    for (size_t r = 0; r < w.http_routes.size(); ++r)
      routes[w.http_routes[r]] = {{"requests", tl.per_route[r]},
                                  {"generator", r < gen.size() ? nlohmann::json(gen[r]) : nlohmann::json(nullptr)},
                                  {"latency_ms", bucket_summary(tl.ms[r], false)}};
    j["routes"] = routes;
    j["log_lines"] = tl.lines;
    j["log_bytes"] = tl.bytes;
    j["unmatched_requests"] = tl.unmatched;
    j["non_2xx"] = tl.non_2xx;
    j["streams_without_request"] = tl.no_request;
    j["latency_from"] = "HAProxy's %Tt: the request's stream, accept to close, in whole milliseconds";
    std::string why = check_route_counts("the gateway's log", tl.per_route, gen, in_flight(w), w.http_routes);
    if (why.empty() && tl.unmatched)
      why = fmt::format("the gateway's log has {} requests that match no route", tl.unmatched);
    if (why.empty() && tl.no_request > t.idle_connections + in_flight(w))
      why = fmt::format("the gateway's log has {} streams without a request, more than the {} connections that carried none",
                        tl.no_request, t.idle_connections + in_flight(w));
    if (why.empty() && tl.non_2xx) why = fmt::format("the gateway's log has {} requests answered other than 2xx", tl.non_2xx);
    if (!why.empty()) {
      j["ok"] = false;
      j["reason"] = why;
    }
    return j;
  }

 private:
  struct Tally {
    std::vector<uint64_t> per_route;
    std::vector<std::vector<uint64_t>> ms;  // per route, count per whole millisecond
    uint64_t lines = 0, bytes = 0, unmatched = 0, non_2xx = 0, no_request = 0;
  };

  Tally tally(const std::vector<uint64_t>& patterns) const {
    Tally tl;
    tl.per_route.assign(patterns.size(), 0);
    tl.ms.assign(patterns.size(), std::vector<uint64_t>(1001, 0));
    std::ifstream in(path_);
    in.seekg(static_cast<std::streamoff>(offset_));
    const std::string tag = std::string(HaproxyGateway::kLogTag) + " ";
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(tag, 0) != 0) continue;  // HAProxy's own notices share the stream
      tl.lines++;
      tl.bytes += line.size() + 1;
      // "<tag> METHOD PATH STATUS Tt"
      std::string_view rest = std::string_view(line).substr(tag.size());
      const size_t sp_status = rest.rfind(' ', rest.rfind(' ') - 1);
      const std::string_view request = rest.substr(0, sp_status + 1);  // "METHOD PATH "
      const std::string_view tail = rest.substr(sp_status + 1);
      const int status = std::atoi(std::string(tail.substr(0, tail.find(' '))).c_str());
      const long tt = std::atol(std::string(tail.substr(tail.find(' ') + 1)).c_str());
      // A stream that carried no request (wrk's address check, a connection cut at the stop)
      // logs no method; `option dontlognull` drops most of them.
      if (request.rfind("- ", 0) == 0) {
        tl.lines--;
        tl.no_request++;
        continue;
      }
      if (status < 200 || status > 299) tl.non_2xx++;
      const std::optional<uint64_t> key = request_key(request);
      size_t r = 0;
      while (r < patterns.size() && (!key || *key != patterns[r])) ++r;
      if (r == patterns.size()) {
        tl.unmatched++;
        continue;
      }
      tl.per_route[r]++;
      tl.ms[r][static_cast<size_t>(std::clamp(tt, 0L, 1000L))]++;
    }
    return tl;
  }

  const HaproxyGateway& gw_;
  std::string path_;
  uint64_t offset_ = 0;
};

}  // namespace

std::unique_ptr<ApiObserver> make_ebpf_observer(const Roles& roles, const std::string& kind) {
  return std::make_unique<EbpfObserver>(roles, kind == "ebpf-http");
}

std::unique_ptr<ApiObserver> make_gateway_log_observer(const HaproxyGateway& gateway) {
  return std::make_unique<GatewayLogObserver>(gateway);
}

}  // namespace pb
