// SPDX-License-Identifier: Apache-2.0
// tproxy/proxy.h: pathbench's transparent proxy, as a library.
//
//   client ──TCP/UDP──▶ [ interception: nft/ipt TPROXY, BPF sk_lookup, TC sk_assign, or none ]
//                         │ (the SYN / datagram lands on our IP_TRANSPARENT socket with its
//                         ▼  original destination intact)
//                       Proxy: N workers, each one thread with its own epoll, its own
//                       SO_REUSEPORT TCP listener and UDP socket
//                         │  TCP: getsockname(accepted) = original destination; non-blocking
//                         │       connect upstream; splice both ways through pooled pipes
//                         │  UDP: IP_RECVORIGDSTADDR; one upstream socket per flow; replies sent
//                         ▼       from a socket bound (IP_TRANSPARENT) to the original destination
//                       server (original destination, which must be inside `allowed`)
//
// Threads: start() creates the workers; each enters `netns` first (when set) so every socket it
// opens (listeners, upstream connections, per-flow UDP sockets) lives in that namespace. stop()
// (or the destructor) wakes them through an eventfd, joins them and closes every fd they owned.
// Counters are per-worker atomics written only by their worker and summed on read, so reading
// them costs the hot path nothing.
//
// Library rules: no dependency on the harness (bench/), errors from start() as
// std::runtime_error with context, logging through Config::log.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "addr_range.h"

namespace pb::tproxy {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

struct Config {
  // Listening address. Transparent modes bind the wildcard (TPROXY's rule and sk_lookup/sk_assign
  // hand us packets for any address); proxy-plain binds the DUT's own address.
  std::string listen_ip = "0.0.0.0";
  uint16_t port = 15001;
  bool tcp = true;
  bool udp = true;
  unsigned workers = 1;          // threads; each has its own SO_REUSEPORT listener and epoll
  // SO_REUSEPORT on the listeners. false: one plain listener (and UDP socket), so one worker:
  // bpf_sk_assign before Linux 6.5 refuses a socket of a reuseport group (-ESOCKTNOSUPPORT).
  bool reuseport = true;
  std::vector<int> cpus;         // worker i is pinned to cpus[i % size]; empty: not pinned
  bool transparent = true;       // IP_TRANSPARENT on the listeners (needed for TPROXY)
  // proxy-plain: connect here instead of to the original destination. port 0 = the port the
  // client connected to (the listener's port).
  std::optional<uint32_t> fixed_upstream_ip;  // host byte order
  uint16_t fixed_upstream_port = 0;
  // Full transparency: the upstream connection uses the client's address as its source
  // (IP_TRANSPARENT + bind). The DUT must then deliver the server's replies, which are addressed
  // to the client, to our socket: see tproxy/README.md (nft `socket transparent 1` + fwmark).
  bool keep_client_source = false;
  std::vector<Ipv4Range> allowed{Ipv4Range::parse("198.18.0.0/15")};
  std::string netns;             // /run/netns/<name> to enter; empty: stay where we are
  int backlog = 4096;
  // F_SETPIPE_SZ for the relay pipes; 0 = kernel default (64 KiB = 16 slots). 1 MiB (the
  // unprivileged pipe-max-size) roughly doubled tcp_stream through the proxy here: fewer splice
  // calls per byte. Pipes are pooled and hold pages only while data is in flight.
  unsigned pipe_bytes = 1 << 20;
  unsigned pipe_pool = 64;       // idle pipes kept per worker
  uint32_t udp_max_flows = 16384;   // per worker; the oldest flow is evicted when full
  double udp_idle_timeout_s = 30;
  unsigned udp_batch = 32;       // recvmmsg batch
  int udp_rcvbuf = 4 << 20;      // listener SO_RCVBUF(FORCE): absorbs bursts of new flows (0: default)
  uint32_t upstream_mark = 0;    // SO_MARK on upstream sockets (0: none)
  bool keepalive = true;         // SO_KEEPALIVE both sides, so vanished peers are noticed
  std::string tcp_cc;            // TCP_CONGESTION of listeners (so accepted sockets) and upstream; "" = default
  int tcp_buffer_bytes = 0;      // fixed SO_SNDBUF/SO_RCVBUF(FORCE) of listeners and upstream; 0 = autotuning
  std::function<void(LogLevel, std::string_view)> log;  // default: stderr
  // The workers in a forked process of their own instead of threads of the caller's (see
  // "Own process" below): a client in the caller's process then switches address spaces through
  // the proxy as it would through HAProxy or Envoy.
  bool own_process = false;
  // Something else in this process may fork (pathbench runs ip and nft): then each connection is
  // taken out of epoll before its close (two epoll_ctl calls), because a forked child holds the
  // sockets until its exec and close() alone would leave the registration alive. A process that
  // never forks (pathbench-tproxy, the own_process child) saves those two calls per connection.
  bool process_forks = true;
};

// A snapshot of the counters (summed over workers). Monotonic except the *_active gauges.
struct CounterSnapshot {
  uint64_t tcp_accepted = 0;
  uint64_t tcp_active = 0;
  uint64_t tcp_closed = 0;
  uint64_t refused_out_of_range = 0;   // TCP connections + UDP datagrams (see the two below)
  uint64_t tcp_refused_out_of_range = 0;
  uint64_t udp_refused_out_of_range = 0;
  uint64_t refused_loop = 0;           // destination = the proxy itself
  uint64_t upstream_connect_failed = 0;
  uint64_t client_resets = 0;          // client reset; propagated as RST upstream
  uint64_t upstream_resets = 0;        // upstream reset; propagated as RST to the client
  uint64_t half_closes = 0;            // FIN propagated as shutdown(SHUT_WR)
  uint64_t bytes_client_to_upstream = 0;
  uint64_t bytes_upstream_to_client = 0;
  uint64_t udp_flows_created = 0;
  uint64_t udp_flows_evicted = 0;      // table full: oldest removed
  uint64_t udp_flows_expired = 0;      // idle timeout
  uint64_t udp_flows_active = 0;
  uint64_t udp_datagrams_client_to_upstream = 0;
  uint64_t udp_datagrams_upstream_to_client = 0;
  uint64_t udp_bytes_client_to_upstream = 0;
  uint64_t udp_bytes_upstream_to_client = 0;
  uint64_t udp_redispatched = 0;       // another client's datagram found on a flow's socket
  uint64_t errors = 0;                 // unexpected syscall failures (accept, splice, send...)
  uint64_t accept_errors = 0;
  // name -> value, for JSON and the CLI.
  std::vector<std::pair<std::string, uint64_t>> items() const;
  CounterSnapshot operator-(const CounterSnapshot& earlier) const;  // gauges keep the later value
};

class Proxy {
 public:
  explicit Proxy(Config cfg);
  ~Proxy();  // stop()
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  // Opens the listeners (in cfg.netns) and starts the workers. Throws std::runtime_error
  // ("bind 0.0.0.0:15001 (tcp): Address already in use") on failure, leaving nothing behind.
  void start();
  // Idempotent. Joins the workers; closes all connections (RST) and sockets.
  void stop();
  bool running() const { return running_; }

  CounterSnapshot counters() const;
  const Config& config() const { return cfg_; }
  // The listening sockets (one per worker), for BPF steering (sk_lookup / sk_assign sockmaps).
  // Valid between start() and stop(); the proxy keeps ownership.
  std::vector<int> tcp_listener_fds() const;
  std::vector<int> udp_socket_fds() const;
  // Port actually bound (cfg.port, or the kernel's choice when cfg.port was 0).
  uint16_t bound_port() const { return bound_port_; }
  // Also listen on `port` (every worker, same protocols), while running. Idempotent; throws
  // std::runtime_error like start(). proxy-plain uses it: clients connect to the proxy's own
  // address on whichever port they would have used for the server.
  void listen_on(uint16_t port);
  std::vector<uint16_t> ports() const;
  // The process the workers run in: the caller's, or the forked child's (own_process).
  int pid() const;

  struct Worker;  // tproxy/worker.cpp

 private:
  Config cfg_;
  // Own process (tproxy/process.cpp): start() forks a child that runs an ordinary Proxy (threads)
  // and serves requests on a SOCK_SEQPACKET socketpair: listen_on, counters, the listeners' fds
  // (passed with SCM_RIGHTS, held here until stop()) and stop. The child stops when the pair
  // closes, so it never outlives its parent, whichever thread forked it.
  void remote_start();
  void remote_stop(bool ask = true);  // ask: send "stop" first (false: the child is exiting anyway)
  std::string remote_call(const std::string& request, std::vector<int>* fds = nullptr) const;
  std::vector<int> remote_fds(const std::string& request) const;  // dups of the child's sockets, held until stop()
  int child_ = -1;
  int ctl_ = -1;
  mutable std::vector<int> held_fds_;
  mutable std::mutex ctl_mu_;  // one request at a time on ctl_
  void open_in_netns(const std::function<void()>& fn);
  std::vector<std::unique_ptr<Worker>> workers_;
  bool running_ = false;
  uint16_t bound_port_ = 0;
  mutable std::mutex mu_;  // listeners and ports_ (workers only follow pointers they were given)
  std::vector<uint16_t> ports_;
};

// Raises RLIMIT_NOFILE's soft limit to `want` (capped by the hard limit, which is raised too when
// we are privileged). Returns the resulting soft limit.
uint64_t raise_nofile_limit(uint64_t want);

}  // namespace pb::tproxy
