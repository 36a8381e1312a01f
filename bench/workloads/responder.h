// SPDX-License-Identifier: Apache-2.0
// workloads/responder.h: the server side of the socket workloads, one thread in the server role
// (--responder thread, the default) or a forked process of its own (--responder process: every
// round trip then crosses two address spaces, as between sockperf's client and server or any real
// client and service; docs/peers.md measures what that costs), its loop chosen by the workload's
// traits:
//   stream (TCP)            epoll sink, bytes counted
//   rr, few flows           one blocking thread per TCP connection / one blocking UDP socket:
//                           one recv + one send per transaction, as sockperf's server does (an
//                           epoll loop would add an epoll_wait to every round trip)
//   rr many flows, crr      epoll loop (connection churn, many sockets)
//   pps (UDP)               recvmmsg sink, datagrams counted
// With application http (http_rr, http_crr) the TCP rr/crr loops answer HTTP/1.1 instead of fixed
// sizes: requests framed by workloads/http_wire.h (partial and pipelined ones), 200 with
// --response-bytes of JSON, keep-alive unless Connection: close, a 400 and a close for garbage.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <thread>

#include <nlohmann/json.hpp>

#include "workloads/controller.h"
#include "workloads/workload.h"

namespace pb::workload {

// The server side as a load sees it: a Responder in the server role (the same process), or in
// hosts mode a Responder on the server host's agent (hosts/agent.h), whose counters are fetched
// by sync() at the measured window's edges and at stop; between them they are the last fetched.
class ServerSide {
 public:
  virtual ~ServerSide() = default;
  virtual void sync() {}
  virtual uint64_t bytes_received() const = 0;
  virtual uint64_t packets_received() const = 0;
  virtual std::string error() const = 0;
  virtual void stall() = 0;
  virtual void stop() = 0;  // final counters are readable after it
  // How it ran, for metrics.system_state.responder: {"model", "pid", "generator_pid"}; null where
  // the server side is elsewhere (hosts mode: a process of the agent on another host).
  virtual nlohmann::json describe() const { return nullptr; }
};

class Responder : public ServerSide {
 public:
  Responder(const std::string& ns, const WorkloadInfo& info, const WorkloadOptions& opt, const Endpoint& bind,
            Phases& ph);
  ~Responder() override;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  void stop() override;
  void stall() override { sh_->stalled = true; }  // stop serving (fault injection)
  uint64_t bytes_received() const override { return sh_->bytes.load(std::memory_order_relaxed); }
  uint64_t packets_received() const override { return sh_->packets.load(std::memory_order_relaxed); }
  uint64_t accepted() const { return sh_->accepted.load(std::memory_order_relaxed); }
  std::string error() const override;
  nlohmann::json describe() const override;

 private:
  // What the loops and their owner share. In a MAP_SHARED mapping, so that with --responder process
  // (WorkloadOptions::responder) the forked child's counters, errors and stop flag are the ones
  // the parent reads and writes (lock-free atomics work across processes).
  struct Shared {
    std::atomic<uint64_t> bytes{0}, packets{0}, accepted{0};
    std::atomic<bool> stop_req{false}, stalled{false}, failed{false};  // error is read once failed
    Phases ph;  // the child's view of the load's phases: only the stop reaches it
    char error[512] = {};
  };
  void run_loop(bool tcp);
  void fail(const std::string& what);
  void loop_tcp();
  void loop_udp();
  void loop_tcp_blocking();
  void serve_http(int fd);  // one HTTP/1.1 connection of loop_tcp_blocking
  void loop_udp_blocking();
  bool hold_if_stalled();  // true once stalled: waits for the stop, then the loop ends
  const Phases& phases() const { return child_ == 0 ? sh_->ph : ph_; }  // in the child: the shared copy
  const WorkloadInfo& info_;
  const WorkloadOptions& opt_;
  Phases& ph_;
  int listen_fd_ = -1, stop_fd_ = -1;
  Shared* sh_ = nullptr;
  pid_t child_ = -1;  // --responder process: the child's pid in the parent, 0 in the child
  pid_t child_pid_ = -1;  // the child's pid, kept after it ended
  std::thread thread_;
};

// Reads exactly n bytes, stopping on the stop phase or an error; false on EOF or error.
bool read_full(int fd, char* buf, size_t n, const Phases& ph, std::string* err);
bool write_full(int fd, const char* buf, size_t n, const Phases& ph, std::string* err);

}  // namespace pb::workload
