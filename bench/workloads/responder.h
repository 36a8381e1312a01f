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

class Responder {
 public:
  Responder(const std::string& ns, const WorkloadInfo& info, const WorkloadOptions& opt, const Endpoint& bind,
            Phases& ph);
  ~Responder();
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  void stop();
  void stall() { stalled_ = true; }  // stop serving (fault injection)
  uint64_t bytes_received() const { return bytes_.load(std::memory_order_relaxed); }
  uint64_t packets_received() const { return packets_.load(std::memory_order_relaxed); }
  uint64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }
  std::string error() const;

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
