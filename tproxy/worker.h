// SPDX-License-Identifier: Apache-2.0
// tproxy/worker.h: one proxy worker (internal to tproxy/). A worker is one thread with one epoll
// set holding its TCP listener, its UDP socket, an eventfd to stop it, and every connection and
// UDP flow it accepted. Nothing is shared between workers except the kernel's SO_REUSEPORT
// group, so there are no locks on the data path.
//
// epoll entries carry a pointer to a Handle {kind, owner}; connections and flows that die while
// a batch of events is being handled are only marked dead and freed after the batch ("graveyard"),
// so a later event of the same batch never touches freed memory.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "flow_table.h"
#include "proxy.h"

namespace pb::tproxy {

// Single-writer counter: only its worker writes it, anyone may read it. A plain load + store
// (no lock prefix) is enough for one writer and keeps the hot path cheap.
struct Counter {
  std::atomic<uint64_t> v{0};
  void add(uint64_t n = 1) { v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void sub(uint64_t n = 1) { v.store(v.load(std::memory_order_relaxed) - n, std::memory_order_relaxed); }
  uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

struct alignas(64) WorkerCounters {
  Counter tcp_accepted, tcp_active, tcp_closed, tcp_refused_out_of_range, udp_refused_out_of_range,
      refused_loop, upstream_connect_failed, client_resets, upstream_resets, half_closes,
      bytes_c2u, bytes_u2c, udp_flows_created, udp_flows_evicted, udp_flows_expired,
      udp_flows_active, udp_dgrams_c2u, udp_dgrams_u2c, udp_bytes_c2u, udp_bytes_u2c, udp_redispatched,
      errors, accept_errors;
};

enum class Kind : uint8_t { kTcpListener, kUdpListener, kWake, kConnClient, kConnUpstream,
                            kFlowClient, kFlowUpstream };

struct Handle {
  Kind kind;
  void* owner;
};

// A listening socket (TCP listener or UDP socket) of one worker on one port. Workers start with
// one per protocol on Config::port; Proxy::listen_on() adds more while they run (epoll_ctl is
// safe against a concurrent epoll_wait). Never freed before the worker.
struct Listener {
  Handle h;
  int fd = -1;
  uint16_t port = 0;
};

struct Pipe {
  int rd = -1, wr = -1;
  size_t bytes = 0;  // bytes sitting in the pipe
};

struct Conn {
  Handle hc{Kind::kConnClient, this};
  Handle hu{Kind::kConnUpstream, this};
  int cfd = -1, ufd = -1;
  Pipe* pipe_c2u = nullptr;  // taken from the pool only while data is in flight
  Pipe* pipe_u2c = nullptr;
  bool connected = false;    // upstream connect() completed
  bool c_eof = false;        // client sent FIN (read returned 0)
  bool u_eof = false;
  bool u_shut = false;       // we propagated the client's FIN upstream (shutdown(ufd, SHUT_WR))
  bool c_shut = false;
  bool c2u_blocked = false;  // waiting for ufd to become writable
  bool u2c_blocked = false;
  bool dead = false;
  Conn* prev = nullptr;      // the worker's list of live connections (for stop())
  Conn* next = nullptr;
};

struct FlowKey {
  uint32_t cip;  // network byte order, as received
  uint32_t dip;
  uint16_t cport;
  uint16_t dport;
  bool operator==(const FlowKey& o) const {
    return cip == o.cip && dip == o.dip && cport == o.cport && dport == o.dport;
  }
};
struct FlowKeyHash {
  size_t operator()(const FlowKey& k) const {
    uint64_t a = (uint64_t{k.cip} << 32) | k.dip;
    uint64_t b = (uint64_t{k.cport} << 16) | k.dport;
    uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x7F4A7C159E3779B9ull + (a >> 29));
    return static_cast<size_t>(h ^ (h >> 31));
  }
};

struct Flow {
  Handle hc{Kind::kFlowClient, this};
  Handle hu{Kind::kFlowUpstream, this};
  FlowKey key{};
  sockaddr_in client{};
  int client_fd = -1;  // bound to the original destination, connected to the client; -1: reply
                       // through the listener (proxy-plain, where the destination is our own)
  Listener* listener = nullptr;  // the UDP listener the flow started on
  sockaddr_in orig{};            // original destination (what client_fd is bound to)
  int ufd = -1;        // connected to the upstream
  bool dead = false;
};

struct UdpSlot {
  sockaddr_in from;
  alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(sockaddr_in))];
  iovec iov;
};

struct Proxy::Worker {
  Worker(const Config& cfg, unsigned index);
  ~Worker();
  void open_base();                  // epoll + eventfd; throws std::runtime_error
  // Opens this worker's TCP listener and/or UDP socket on `port` (0: any) in the calling
  // thread's namespace and adds them to the epoll set. Returns the bound port.
  uint16_t open_listeners(uint16_t port);
  void run();                        // thread body
  void wake();                       // ask run() to return

  const Config& cfg;
  unsigned index;
  int epfd = -1, wakefd = -1;
  uint32_t listen_ip = 0;            // network order
  std::vector<std::unique_ptr<Listener>> tcp_listeners, udp_listeners;  // guarded by Proxy::mu_
  std::thread thread;
  WorkerCounters c;

 private:
  void log(LogLevel l, const std::string& m) const;
  // TCP
  void on_accept(Listener* l);
  void start_conn(int cfd, uint16_t lport, const sockaddr_in& client, const sockaddr_in& orig);
  void on_conn_event(Conn* conn, bool client_side, uint32_t ev);
  enum class Pump { kOk, kSrcReset, kDstReset, kError };
  Pump pump(Conn* conn, bool c2u);
  void close_conn(Conn* conn, int rst_fd_mask);  // bit 1: RST client, bit 2: RST upstream
  Pipe* get_pipe();
  void put_pipe(Pipe*& p);
  // UDP
  void on_udp_listener(Listener* l);
  void on_flow_event(Flow* f, bool client_side);
  void client_datagram(Listener* l, const sockaddr_in& client, const sockaddr_in& orig,
                       const char* data, size_t len);
  Flow* create_flow(Listener* l, const FlowKey& key, const sockaddr_in& client,
                    const sockaddr_in& orig, const sockaddr_in& upstream, uint64_t now);
  void kill_flow(Flow* f);
  void sweep_flows(uint64_t now);

  Conn* conns_ = nullptr;
  std::vector<Pipe*> pipe_pool_;
  std::vector<Conn*> conn_graveyard_;
  std::vector<std::unique_ptr<Flow>> flow_graveyard_;
  LruFlowTable<FlowKey, std::unique_ptr<Flow>, FlowKeyHash> flows_;
  std::vector<char> ubuf_;           // UDP receive buffers, udp_batch x 64 KiB
  std::vector<UdpSlot> uslots_;      // recvmmsg state, allocated once
  std::vector<mmsghdr> umsgs_;
  std::vector<iovec> sock_iov_;      // sendmmsg state for the flow sockets
  std::vector<mmsghdr> sock_msgs_;
  uint64_t last_sweep_ns_ = 0;
  Handle h_wake_{Kind::kWake, nullptr};
};

uint64_t now_ns();

}  // namespace pb::tproxy
