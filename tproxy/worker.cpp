// SPDX-License-Identifier: Apache-2.0
// tproxy/worker.cpp: a worker's life: its epoll set and eventfd, its thread and the event loop that
// hands each event to the TCP relay (tproxy/tcp.cpp) or the UDP flows (tproxy/udp.cpp); its
// listeners are opened by tproxy/listeners.cpp.
#include "worker.h"

#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>

#include "sock_util.h"

namespace pb::tproxy {

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

Proxy::Worker::Worker(const Config& cfg_, unsigned index_)
    : cfg(cfg_), index(index_), flows_(cfg_.udp_max_flows) {}

Proxy::Worker::~Worker() {
  // Runs after the thread has been joined (or was never started): close everything.
  for (Conn* c = conns_; c;) {
    Conn* n = c->next;
    // Live connections at stop: reset both sides, as a crashed proxy would look to its peers.
    rst_close(c->cfd);
    rst_close(c->ufd);
    for (Pipe* p : {c->pipe_c2u, c->pipe_u2c})
      if (p) {
        close(p->rd);
        close(p->wr);
        delete p;
      }
    delete c;
    c = n;
  }
  conns_ = nullptr;
  for (Conn* c : conn_graveyard_) delete c;
  for (Pipe* p : pipe_pool_) {
    close(p->rd);
    close(p->wr);
    delete p;
  }
  flows_.clear([](const FlowKey&, std::unique_ptr<Flow>& f) {
    if (f->client_fd >= 0) close(f->client_fd);
    if (f->ufd >= 0) close(f->ufd);
  });
  for (auto* v : {&tcp_listeners, &udp_listeners})
    for (auto& l : *v)
      if (l->fd >= 0) close(l->fd);
  for (int fd : {wakefd, epfd})
    if (fd >= 0) close(fd);
}

void Proxy::Worker::log(LogLevel l, const std::string& m) const {
  if (cfg.log) cfg.log(l, "tproxy worker " + std::to_string(index) + ": " + m);
}

void Proxy::Worker::open_base() {
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) throw sys_error("epoll_create1", errno);
  wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakefd < 0) throw sys_error("eventfd", errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &h_wake_;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev) != 0) throw sys_error("epoll_ctl(eventfd)", errno);
  in_addr a{};
  if (inet_pton(AF_INET, cfg.listen_ip.c_str(), &a) != 1)
    throw std::runtime_error("bad listen address '" + cfg.listen_ip + "'");
  listen_ip = a.s_addr;
  if (cfg.udp) {
    const unsigned batch = cfg.udp_batch ? cfg.udp_batch : 1;
    ubuf_.resize(size_t{batch} * 65536);
    uslots_.resize(batch);
    umsgs_.resize(batch);
    sock_iov_.resize(batch);
    sock_msgs_.resize(batch);
  }
}

void Proxy::Worker::wake() {
  uint64_t one = 1;
  if (wakefd >= 0) (void)!write(wakefd, &one, sizeof one);
}

void Proxy::Worker::run() {
  // Visible in top/perf: "pb-tproxy-<i>".
  pthread_setname_np(pthread_self(), ("pb-tproxy-" + std::to_string(index)).c_str());
  if (!cfg.cpus.empty()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cfg.cpus[index % cfg.cpus.size()], &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
      log(LogLevel::kWarn, "cannot pin to cpu " + std::to_string(cfg.cpus[index % cfg.cpus.size()]));
  }
  const uint64_t idle_ns = static_cast<uint64_t>(cfg.udp_idle_timeout_s * 1e9);
  epoll_event events[128];
  for (;;) {
    // Wake up now and then only while there are UDP flows to expire.
    int timeout_ms = flows_.size() ? 250 : -1;
    int n = epoll_wait(epfd, events, 128, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      log(LogLevel::kError, std::string("epoll_wait: ") + std::strerror(errno));
      c.errors.add();
      return;
    }
    bool stop = false;
    for (int i = 0; i < n; ++i) {
      auto* h = static_cast<Handle*>(events[i].data.ptr);
      uint32_t e = events[i].events;
      switch (h->kind) {
        case Kind::kWake: stop = true; break;
        case Kind::kTcpListener: on_accept(static_cast<Listener*>(h->owner)); break;
        case Kind::kUdpListener: on_udp_listener(static_cast<Listener*>(h->owner)); break;
        case Kind::kConnClient:
        case Kind::kConnUpstream: {
          auto* conn = static_cast<Conn*>(h->owner);
          if (!conn->dead) on_conn_event(conn, h->kind == Kind::kConnClient, e);
          break;
        }
        case Kind::kFlowClient:
        case Kind::kFlowUpstream: {
          auto* f = static_cast<Flow*>(h->owner);
          if (!f->dead) on_flow_event(f, h->kind == Kind::kFlowClient);
          break;
        }
      }
    }
    for (Conn* conn : conn_graveyard_) delete conn;
    conn_graveyard_.clear();
    flow_graveyard_.clear();
    if (flows_.size() && idle_ns) {
      uint64_t now = now_ns();
      if (now - last_sweep_ns_ > 200'000'000ull) {
        last_sweep_ns_ = now;
        sweep_flows(now);
        flow_graveyard_.clear();
      }
    }
    if (stop) return;
  }
}

}  // namespace pb::tproxy
