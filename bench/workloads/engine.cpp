#include "workloads/engine.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "core/error.h"
#include "core/log.h"
#include "core/path.h"
#include "core/topology.h"
#include "core/util.h"

namespace pb::engine {

// Fault injection for the reliability tests: PATHBENCH_FAULT=stall-responder makes the responder
// stop serving once the measured window starts, as a hung server would. Read once; costs nothing
// when unset.
static bool fault_stall_responder() {
  static const bool on = [] {
    const char* f = std::getenv("PATHBENCH_FAULT");
    return f && std::string(f) == "stall-responder";
  }();
  return on;
}

static sockaddr_in to_sa(const Endpoint& ep) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(ep.port);
  if (inet_pton(AF_INET, ep.ip.c_str(), &sa.sin_addr) != 1)
    throw UsageError("bad IPv4 address '" + ep.ip + "'");
  return sa;
}

int tcp_listen(const Endpoint& ep, int backlog) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw_errno("socket", errno);
  int one = 1;
  // TIME_WAIT from the previous repetition must not block the bind (FIELD-NOTES gotcha 9).
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa = to_sa(ep);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    int e = errno;
    close(fd);
    throw_errno("bind tcp " + ep.ip + ":" + std::to_string(ep.port), e);
  }
  if (listen(fd, backlog) != 0) {
    int e = errno;
    close(fd);
    throw_errno("listen", e);
  }
  return fd;
}

int udp_bind(const Endpoint& ep, int rcvbuf) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw_errno("socket", errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // FORCE variant: a per-socket buffer above net.core.rmem_max without touching that sysctl.
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  sockaddr_in sa = to_sa(ep);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    int e = errno;
    close(fd);
    throw_errno("bind udp " + ep.ip + ":" + std::to_string(ep.port), e);
  }
  return fd;
}

void set_timeouts(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void pin_thread(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

int tcp_connect(const Endpoint& target, int timeout_ms, std::string* err) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = errno_msg("socket", errno);
    return -1;
  }
  set_timeouts(fd, timeout_ms);  // SO_SNDTIMEO bounds connect() too
  sockaddr_in sa = to_sa(target);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    *err = errno_msg("connect " + target.ip + ":" + std::to_string(target.port), errno);
    close(fd);
    return -1;
  }
  return fd;
}

bool read_full(int fd, char* buf, size_t n, const Shared& sh, std::string* err) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = recv(fd, buf + got, n - got, 0);
    if (r > 0) {
      got += static_cast<size_t>(r);
      continue;
    }
    if (r == 0) {
      *err = "connection closed by peer";
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (sh.stopping()) return false;
      continue;
    }
    *err = errno_msg("recv", errno);
    return false;
  }
  return true;
}

bool write_full(int fd, const char* buf, size_t n, const Shared& sh, std::string* err) {
  size_t off = 0;
  while (off < n) {
    ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
    if (w > 0) {
      off += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (sh.stopping()) return false;
      continue;
    }
    *err = errno_msg("send", errno);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Responder

Responder::Responder(const std::string& ns, const WorkloadOptions& opt, const Endpoint& bind,
                     Shared& sh)
    : opt_(opt), sh_(sh) {
  const bool tcp = find_workload(opt.name)->tcp;
  {
    ScopedNetns in(ns);
    listen_fd_ = tcp ? tcp_listen(bind) : udp_bind(bind, 32 << 20);
  }
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this, tcp, ns] {
    try {
      pin_thread(opt_.server_cpu);
      // Request/response with few flows: a blocking thread per connection (TCP) or a blocking
      // socket (UDP) — one recv and one send per transaction, as sockperf's server does; an
      // epoll loop would add an epoll_wait to every round trip. Many flows, connection churn
      // (tcp_crr) and bulk traffic use the epoll loop.
      const bool rr = opt_.name == "tcp_rr" || opt_.name == "udp_rr";
      if (tcp && rr && opt_.flows <= 64) loop_tcp_blocking();
      else if (tcp) loop_tcp();
      else if (rr) loop_udp_blocking();
      else loop_udp();
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  });
}

Responder::~Responder() {
  stop();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
}

void Responder::stop() {
  stop_req_ = true;
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
}

std::string Responder::error() const { return error_; }

namespace {
struct Conn {
  uint64_t pending = 0;  // request bytes received toward the next response
  uint64_t out_left = 0; // response bytes still to write
};
}  // namespace

void Responder::loop_tcp() {
  const bool stream = opt_.name == "tcp_stream";
  const bool crr = opt_.name == "tcp_crr";
  const size_t req = opt_.payload_bytes, resp = opt_.response_bytes;
  std::vector<char> buf(stream ? (1 << 18) : std::max<size_t>(65536, req));
  std::vector<char> out(std::max<size_t>(resp, 1), 'r');
  int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd_;
  epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.data.fd = stop_fd_;
  epoll_ctl(ep, EPOLL_CTL_ADD, stop_fd_, &ev);
  std::unordered_map<int, Conn> conns;
  auto drop = [&](int fd) {
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    conns.erase(fd);
  };
  // Writes what is owed; true when done, false on would-block (then EPOLLOUT is armed).
  auto flush = [&](int fd, Conn& c) -> int {
    while (c.out_left) {
      ssize_t w = send(fd, out.data(), std::min<uint64_t>(c.out_left, out.size()), MSG_NOSIGNAL);
      if (w > 0) {
        c.out_left -= static_cast<uint64_t>(w);
        continue;
      }
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        epoll_event e{};
        e.events = EPOLLIN | EPOLLOUT;
        e.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
        return 0;
      }
      return -1;
    }
    return 1;
  };
  epoll_event events[256];
  bool running = true;
  while (running) {
    if (fault_stall_responder() && sh_.phase.load() >= kMeasure) {
      uint64_t v;
      while (read(stop_fd_, &v, sizeof v) != sizeof v) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      break;
    }
    int n = epoll_wait(ep, events, 256, 200);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == stop_fd_) {
        running = false;
        continue;
      }
      if (fd == listen_fd_) {
        for (;;) {
          int c = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          accepted_.fetch_add(1, std::memory_order_relaxed);
          if (!stream) set_nodelay(c);
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
          conns[c] = Conn{};
        }
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      Conn& c = it->second;
      if (events[i].events & EPOLLOUT) {
        int r = flush(fd, c);
        if (r < 0) {
          drop(fd);
          continue;
        }
        if (r > 0) {
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.fd = fd;
          epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
        }
      }
      if (!(events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      ssize_t r = recv(fd, buf.data(), buf.size(), 0);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        drop(fd);
        continue;
      }
      if (r < 0) continue;
      bytes_.fetch_add(static_cast<uint64_t>(r), std::memory_order_relaxed);
      if (stream) continue;
      c.pending += static_cast<uint64_t>(r);
      while (c.pending >= req) {
        c.pending -= req;
        c.out_left += resp;
      }
      if (c.out_left && !(events[i].events & EPOLLOUT)) {
        if (flush(fd, c) < 0) {
          drop(fd);
          continue;
        }
      }
      (void)crr;  // crr: the client closes after its response; EOF above closes our side
    }
  }
  for (auto& [fd, c] : conns) close(fd);
  close(ep);
}

void Responder::stall_if_faulty() {
  if (fault_stall_responder() && sh_.phase.load() >= kMeasure)
    while (!stop_req_ && !sh_.stopping()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

void Responder::loop_tcp_blocking() {
  std::vector<std::thread> conns;
  pollfd pf[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  while (!stop_req_) {
    if (poll(pf, 2, 200) <= 0) continue;
    if (pf[1].revents) break;
    int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    accepted_.fetch_add(1, std::memory_order_relaxed);
    conns.emplace_back([this, c] {
      pin_thread(opt_.server_cpu);
      set_timeouts(c, 200);
      set_nodelay(c);
      std::vector<char> req(opt_.payload_bytes), resp(opt_.response_bytes, 'r');
      std::string err;
      while (!stop_req_) {
        if (!read_full(c, req.data(), req.size(), sh_, &err)) break;
        bytes_.fetch_add(req.size(), std::memory_order_relaxed);
        stall_if_faulty();
        if (!write_full(c, resp.data(), resp.size(), sh_, &err)) break;
      }
      close(c);
    });
  }
  stop_req_ = true;
  for (auto& t : conns) t.join();
}

void Responder::loop_udp_blocking() {
  int fl = fcntl(listen_fd_, F_GETFL);
  fcntl(listen_fd_, F_SETFL, fl & ~O_NONBLOCK);
  set_timeouts(listen_fd_, 200);
  std::vector<char> buf(65536), out(std::max<uint32_t>(opt_.response_bytes, 1), 'r');
  while (!stop_req_) {
    sockaddr_in peer{};
    socklen_t pl = sizeof peer;
    ssize_t n = recvfrom(listen_fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&peer), &pl);
    if (n < 0) continue;  // timeout: look at the stop flag
    packets_.fetch_add(1, std::memory_order_relaxed);
    stall_if_faulty();
    std::memcpy(out.data(), buf.data(), std::min<size_t>({8, static_cast<size_t>(n), out.size()}));
    sendto(listen_fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&peer), pl);
  }
}

void Responder::loop_udp() {
  const bool pps = opt_.name == "udp_pps";
  constexpr unsigned kBatch = 64;
  std::vector<char> bufs(kBatch * 2048);
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  sockaddr_in peers[kBatch];
  std::vector<char> out(std::max<uint32_t>(opt_.response_bytes, 1), 'r');
  pollfd pf[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  for (;;) {
    if (fault_stall_responder() && sh_.phase.load() >= kMeasure) {
      uint64_t v;
      while (read(stop_fd_, &v, sizeof v) != sizeof v) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      break;
    }
    std::memset(msgs, 0, sizeof msgs);
    for (unsigned i = 0; i < kBatch; ++i) {
      iov[i] = {bufs.data() + i * 2048, 2048};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &peers[i];
      msgs[i].msg_hdr.msg_namelen = sizeof peers[i];
    }
    int n = recvmmsg(listen_fd_, msgs, pps ? kBatch : 1, MSG_DONTWAIT, nullptr);
    if (n <= 0) {
      if (poll(pf, 2, 200) > 0 && (pf[1].revents & POLLIN)) break;
      continue;
    }
    packets_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    if (pps) continue;
    for (int i = 0; i < n; ++i) {
      // Echo the request's first 8 bytes (sequence number) so the client can match replies.
      size_t seq_len = std::min<size_t>(8, std::min<size_t>(msgs[i].msg_len, out.size()));
      std::memcpy(out.data(), iov[i].iov_base, seq_len);
      sendto(listen_fd_, out.data(), out.size(), MSG_DONTWAIT,
             reinterpret_cast<sockaddr*>(&peers[i]), msgs[i].msg_hdr.msg_namelen);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Controller

static uint64_t retrans(const Topology& topo) {
  uint64_t n = 0;
  for (const auto& ns : {topo.cli(), topo.srv()}) {
    auto m = read_snmp(ns);
    n += m["Tcp.RetransSegs"];
  }
  return n;
}

std::string drive(const WorkloadContext& ctx, const WorkloadOptions& opt, Shared& sh,
                  std::vector<std::unique_ptr<FlowStats>>& flows, Responder& resp,
                  const FlowFn& flow_fn, Window& win) {
  const bool tcp = find_workload(opt.name)->tcp;
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < flows.size(); ++i) {
    threads.emplace_back([&, i] {
      try {
        ScopedNetns in(ctx.topo.cli());
        pin_thread(opt.client_cpu);
        flow_fn(i, *flows[i]);
      } catch (const std::exception& e) {
        flows[i]->error = e.what();
      }
    });
  }
  // Progress is work that reached the other end and came back: bytes or datagrams the responder
  // received, transactions the client completed. Attempts (a request sent into a void, bytes
  // queued in a socket buffer) are not progress, or a hung responder would look busy.
  auto progress = [&] {
    uint64_t p = resp.bytes_received() + resp.packets_received();
    for (auto& f : flows) p += f->transactions.load();
    return p;
  };
  auto snap = [&](std::vector<uint64_t>& tx, std::vector<uint64_t>& by, std::vector<uint64_t>& pk,
                  std::vector<uint64_t>& lo) {
    for (auto& f : flows) {
      tx.push_back(f->transactions.load());
      by.push_back(f->bytes.load());
      pk.push_back(f->packets.load());
      lo.push_back(f->lost.load());
    }
  };
  std::string failure;
  uint64_t last_progress = progress(), last_change = mono_ns();
  auto wait_phase = [&](double seconds) {
    const uint64_t until = mono_ns() + static_cast<uint64_t>(seconds * 1e9);
    while (failure.empty() && mono_ns() < until) {
      uint64_t left = until - mono_ns();
      std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<uint64_t>(left, 50000000)));
      if (ctx.interrupted && ctx.interrupted->load()) {
        failure = "interrupted by signal " + std::to_string(ctx.interrupted->load());
        break;
      }
      uint64_t p = progress();
      uint64_t now = mono_ns();
      if (p != last_progress) {
        last_progress = p;
        last_change = now;
      } else if (static_cast<double>(now - last_change) / 1e9 > opt.stall_timeout_s) {
        failure = "watchdog: no progress for " + fmt::format("{:.1f}", opt.stall_timeout_s) +
                  " s (generator or responder stalled)";
      }
      for (auto& f : flows)
        if (!f->error.empty() && failure.empty()) failure = "flow error: " + f->error;
      if (!resp.error().empty() && failure.empty()) failure = "responder: " + resp.error();
    }
  };
  wait_phase(opt.warmup_s);
  if (failure.empty()) {
    if (tcp) win.retrans0 = retrans(ctx.topo);
    CpuTimes c0 = CpuTimes::now();
    win.start_ns = mono_ns();
    sh.phase = kMeasure;
    win.srv_bytes0 = resp.bytes_received();
    win.srv_packets0 = resp.packets_received();
    snap(win.tx0, win.by0, win.pk0, win.lo0);
    wait_phase(opt.duration_s);
    snap(win.tx1, win.by1, win.pk1, win.lo1);
    win.srv_bytes1 = resp.bytes_received();
    win.srv_packets1 = resp.packets_received();
    sh.phase = kCooldown;
    win.end_ns = mono_ns();
    CpuTimes c1 = CpuTimes::now();
    win.cpu = CpuUsage::between(c0, c1);
    if (tcp) win.retrans1 = retrans(ctx.topo);
    if (failure.empty()) wait_phase(opt.cooldown_s);
  }
  sh.phase = kStop;
  for (auto& t : threads) t.join();
  // Let datagrams in flight land before the responder's totals are read.
  if (!tcp) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  resp.stop();
  return failure;
}

}  // namespace pb::engine
