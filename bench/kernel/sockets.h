// SPDX-License-Identifier: Apache-2.0
// kernel/sockets.h: the IPv4 sockets every generator, responder and probe makes, in one place
// (address parsing, SO_REUSEADDR, timeouts, TCP_NODELAY, the run's congestion control).
// Sockets are created in the calling thread's network namespace and stay there.
#pragma once
#include <netinet/in.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace pb {

struct Endpoint {
  std::string ip;
  uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Endpoint, ip, port)

// Throws UsageError for an address that is not dotted-quad IPv4.
sockaddr_in ipv4_sockaddr(const Endpoint& ep);

// TCP congestion control for one socket (setsockopt TCP_CONGESTION). With CAP_NET_ADMIN any
// available algorithm can be chosen per socket, even one a non-initial namespace may not make
// its default (net.ipv4.tcp_allowed_congestion_control). "" leaves the namespace's default.
// Throws EnvError naming the algorithm when the kernel refuses it.
void set_congestion_control(int fd, const std::string& cc);
// Fixed send and receive buffers of `bytes` each (SO_SNDBUFFORCE/SO_RCVBUFFORCE as root, beyond
// net.core.[rw]mem_max without touching those globals); this turns the kernel's buffer
// autotuning off for the socket (and for sockets accepted from it). 0 leaves autotuning on.
void set_buffers(int fd, int bytes);
// The algorithm a TCP socket uses ("" when it cannot be read).
std::string congestion_control_of(int fd);

// Non-blocking listener with SO_REUSEADDR (TIME_WAIT of the previous repetition must not block
// the bind: docs/gotchas.md "TIME_WAIT on the server port"). Accepted sockets inherit `cc`.
int tcp_listen(const Endpoint& ep, int backlog = 4096, const std::string& cc = {}, int buffer_bytes = 0);
// Non-blocking UDP socket with SO_REUSEADDR; rcvbuf > 0 forces that receive buffer
// (SO_RCVBUFFORCE: above net.core.rmem_max without touching that global sysctl).
int udp_bind(const Endpoint& ep, int rcvbuf = 0);
// Blocking connect bounded by timeout_ms (SO_SNDTIMEO bounds connect() too; the timeouts stay
// set on the socket). Returns -1 and sets *err on failure.
int tcp_connect(const Endpoint& target, int timeout_ms, std::string* err, const std::string& cc = {},
                int buffer_bytes = 0);
// A connected UDP socket (blocking). Returns -1 and sets *err on failure.
int udp_connect(const Endpoint& target, std::string* err);

void set_timeouts(int fd, int ms);  // SO_RCVTIMEO and SO_SNDTIMEO
void set_nodelay(int fd);

}  // namespace pb
