// SPDX-License-Identifier: Apache-2.0
// tproxy/proxy.cpp: Proxy start/stop, namespace entry, counters.
#include "proxy.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>

#include "worker.h"

namespace pb::tproxy {

namespace {

// Moves the calling thread into /run/netns/<name> for good (worker threads end there). The same
// mechanism as the harness's pb::ScopedNetns (setns applies per thread; sockets stay in the
// namespace they were created in); kept here so the library does not depend on the harness.
void enter_netns(const std::string& name) {
  if (name.empty()) return;
  std::string p = "/run/netns/" + name;
  int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("open " + p + ": " + std::strerror(errno));
  int r = setns(fd, CLONE_NEWNET);
  int e = errno;
  close(fd);
  if (r != 0) throw std::runtime_error("setns(" + name + "): " + std::strerror(e));
}

void default_log(LogLevel l, std::string_view m) {
  if (l == LogLevel::kDebug) return;
  std::fprintf(stderr, "%s%.*s\n", l == LogLevel::kError ? "error: " : l == LogLevel::kWarn ? "warning: " : "",
               static_cast<int>(m.size()), m.data());
}

}  // namespace

Proxy::Proxy(Config cfg) : cfg_(std::move(cfg)) {
  if (!cfg_.log) cfg_.log = default_log;
  if (cfg_.workers == 0) cfg_.workers = 1;
}

Proxy::~Proxy() { stop(); }

void Proxy::open_in_netns(const std::function<void()>& fn) {
  std::exception_ptr ep;
  std::thread t([&] {
    try {
      enter_netns(cfg_.netns);
      fn();
    } catch (...) {
      ep = std::current_exception();
    }
  });
  t.join();
  if (ep) std::rethrow_exception(ep);
}

void Proxy::start() {
  if (running_) return;
  if (!cfg_.tcp && !cfg_.udp) throw std::runtime_error("tproxy: neither tcp nor udp enabled");
  if (!cfg_.reuseport && cfg_.workers > 1)
    throw std::runtime_error("tproxy: " + std::to_string(cfg_.workers) +
                             " workers need SO_REUSEPORT listeners; without it (reuseport off) one worker only");
  if (cfg_.own_process) {
    remote_start();  // tproxy/process.cpp
    return;
  }
  // Sockets are opened by a thread inside the namespace, one worker after the other: the first
  // one fixes the port when cfg.port is 0, the others join its SO_REUSEPORT group.
  std::lock_guard<std::mutex> lk(mu_);
  try {
    open_in_netns([&] {
      uint16_t port = cfg_.port;
      for (unsigned i = 0; i < cfg_.workers; ++i) {
        workers_.push_back(std::make_unique<Worker>(cfg_, i));
        workers_.back()->open_base();
        port = workers_.back()->open_listeners(port);
      }
      bound_port_ = port;
    });
  } catch (...) {
    workers_.clear();  // closes whatever was opened
    throw;
  }
  ports_ = {bound_port_};
  for (auto& w : workers_) {
    Worker* wp = w.get();
    wp->thread = std::thread([this, wp] {
      try {
        enter_netns(cfg_.netns);  // upstream sockets are created by this thread
      } catch (const std::exception& e) {
        cfg_.log(LogLevel::kError, std::string("tproxy worker: ") + e.what());
        return;
      }
      wp->run();
    });
  }
  running_ = true;
  cfg_.log(LogLevel::kDebug, "tproxy: " + std::to_string(cfg_.workers) + " worker(s) on " +
                                 cfg_.listen_ip + ":" + std::to_string(bound_port_) +
                                 (cfg_.netns.empty() ? "" : " in " + cfg_.netns));
}

void Proxy::listen_on(uint16_t port) {
  std::lock_guard<std::mutex> lk(mu_);
  if (!running_) throw std::runtime_error("tproxy: listen_on before start");
  for (uint16_t p : ports_)
    if (p == port) return;
  if (cfg_.own_process) {
    remote_call("listen " + std::to_string(port));
    ports_.push_back(port);
    return;
  }
  open_in_netns([&] {
    for (auto& w : workers_) w->open_listeners(port);
  });
  ports_.push_back(port);
  cfg_.log(LogLevel::kDebug, "tproxy: also listening on port " + std::to_string(port));
}

std::vector<uint16_t> Proxy::ports() const {
  std::lock_guard<std::mutex> lk(mu_);
  return ports_;
}

void Proxy::stop() {
  if (cfg_.own_process) {
    remote_stop();
    return;
  }
  std::lock_guard<std::mutex> lk(mu_);
  for (auto& w : workers_) w->wake();
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
  workers_.clear();
  running_ = false;
}

int Proxy::pid() const { return cfg_.own_process ? child_ : static_cast<int>(getpid()); }

std::vector<int> Proxy::tcp_listener_fds() const {
  if (cfg_.own_process) return remote_fds("fds tcp");
  std::vector<int> v;
  std::lock_guard<std::mutex> lk(mu_);
  for (auto& w : workers_)
    for (auto& l : w->tcp_listeners) v.push_back(l->fd);
  return v;
}

std::vector<int> Proxy::udp_socket_fds() const {
  if (cfg_.own_process) return remote_fds("fds udp");
  std::vector<int> v;
  std::lock_guard<std::mutex> lk(mu_);
  for (auto& w : workers_)
    for (auto& l : w->udp_listeners) v.push_back(l->fd);
  return v;
}

CounterSnapshot Proxy::counters() const {
  CounterSnapshot s;
  if (cfg_.own_process) {
    if (!running_) return s;
    std::string b = remote_call("counters");
    if (b.size() != sizeof s) throw std::runtime_error("tproxy process: counters of " + std::to_string(b.size()) + " bytes");
    std::memcpy(&s, b.data(), sizeof s);
    return s;
  }
  std::lock_guard<std::mutex> lk(mu_);
  for (auto& w : workers_) {
    const WorkerCounters& c = w->c;
    s.tcp_accepted += c.tcp_accepted.get();
    s.tcp_active += c.tcp_active.get();
    s.tcp_closed += c.tcp_closed.get();
    s.tcp_refused_out_of_range += c.tcp_refused_out_of_range.get();
    s.udp_refused_out_of_range += c.udp_refused_out_of_range.get();
    s.refused_loop += c.refused_loop.get();
    s.upstream_connect_failed += c.upstream_connect_failed.get();
    s.client_resets += c.client_resets.get();
    s.upstream_resets += c.upstream_resets.get();
    s.half_closes += c.half_closes.get();
    s.bytes_client_to_upstream += c.bytes_c2u.get();
    s.bytes_upstream_to_client += c.bytes_u2c.get();
    s.udp_flows_created += c.udp_flows_created.get();
    s.udp_flows_evicted += c.udp_flows_evicted.get();
    s.udp_flows_expired += c.udp_flows_expired.get();
    s.udp_flows_active += c.udp_flows_active.get();
    s.udp_datagrams_client_to_upstream += c.udp_dgrams_c2u.get();
    s.udp_datagrams_upstream_to_client += c.udp_dgrams_u2c.get();
    s.udp_bytes_client_to_upstream += c.udp_bytes_c2u.get();
    s.udp_bytes_upstream_to_client += c.udp_bytes_u2c.get();
    s.udp_redispatched += c.udp_redispatched.get();
    s.errors += c.errors.get();
    s.accept_errors += c.accept_errors.get();
  }
  s.refused_out_of_range = s.tcp_refused_out_of_range + s.udp_refused_out_of_range;
  return s;
}

#define PB_TPROXY_COUNTERS(X)                                                                   \
  X(tcp_accepted) X(tcp_active) X(tcp_closed) X(refused_out_of_range) X(tcp_refused_out_of_range) \
  X(udp_refused_out_of_range) X(refused_loop) X(upstream_connect_failed) X(client_resets)       \
  X(upstream_resets) X(half_closes) X(bytes_client_to_upstream) X(bytes_upstream_to_client)     \
  X(udp_flows_created) X(udp_flows_evicted) X(udp_flows_expired) X(udp_flows_active)            \
  X(udp_datagrams_client_to_upstream) X(udp_datagrams_upstream_to_client)                       \
  X(udp_bytes_client_to_upstream) X(udp_bytes_upstream_to_client) X(udp_redispatched)          \
  X(errors) X(accept_errors)

std::vector<std::pair<std::string, uint64_t>> CounterSnapshot::items() const {
  std::vector<std::pair<std::string, uint64_t>> v;
#define X(n) v.emplace_back(#n, n);
  PB_TPROXY_COUNTERS(X)
#undef X
  return v;
}

CounterSnapshot CounterSnapshot::operator-(const CounterSnapshot& e) const {
  CounterSnapshot d;
#define X(n) d.n = n - e.n;
  PB_TPROXY_COUNTERS(X)
#undef X
  d.tcp_active = tcp_active;
  d.udp_flows_active = udp_flows_active;
  return d;
}

uint64_t raise_nofile_limit(uint64_t want) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur >= want) return rl.rlim_cur;
  if (rl.rlim_max < want) {
    rlimit r2{want, want};
    if (setrlimit(RLIMIT_NOFILE, &r2) == 0) return want;  // privileged: hard limit raised too
  }
  rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  getrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur;
}

}  // namespace pb::tproxy
