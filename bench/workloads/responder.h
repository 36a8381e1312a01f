// SPDX-License-Identifier: Apache-2.0
// workloads/responder.h: the server side of the socket workloads, one thread in the server role,
// its loop chosen by the workload's traits:
//   stream (TCP)            epoll sink, bytes counted
//   rr, few flows           one blocking thread per TCP connection / one blocking UDP socket:
//                           one recv + one send per transaction, as sockperf's server does (an
//                           epoll loop would add an epoll_wait to every round trip)
//   rr many flows, crr      epoll loop (connection churn, many sockets)
//   pps (UDP)               recvmmsg sink, datagrams counted
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

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
};

class Responder : public ServerSide {
 public:
  Responder(const std::string& ns, const WorkloadInfo& info, const WorkloadOptions& opt, const Endpoint& bind,
            Phases& ph);
  ~Responder() override;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  void stop() override;
  void stall() override { stalled_ = true; }  // stop serving (fault injection)
  uint64_t bytes_received() const override { return bytes_.load(std::memory_order_relaxed); }
  uint64_t packets_received() const override { return packets_.load(std::memory_order_relaxed); }
  uint64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }
  std::string error() const override;

 private:
  void loop_tcp();
  void loop_udp();
  void loop_tcp_blocking();
  void loop_udp_blocking();
  bool hold_if_stalled();  // true once stalled: waits for the stop, then the loop ends
  const WorkloadInfo& info_;
  const WorkloadOptions& opt_;
  Phases& ph_;
  int listen_fd_ = -1, stop_fd_ = -1;
  std::atomic<uint64_t> bytes_{0}, packets_{0}, accepted_{0};
  std::atomic<bool> stop_req_{false}, stalled_{false}, failed_{false};  // error_ is read once failed_
  std::string error_;
  std::thread thread_;
};

// Reads exactly n bytes, stopping on the stop phase or an error; false on EOF or error.
bool read_full(int fd, char* buf, size_t n, const Phases& ph, std::string* err);
bool write_full(int fd, const char* buf, size_t n, const Phases& ph, std::string* err);

}  // namespace pb::workload
