// SPDX-License-Identifier: Apache-2.0
// tproxy/sock_util.h: the socket helpers the proxy's files share (internal to tproxy/).
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

namespace pb::tproxy {

inline std::runtime_error sys_error(const std::string& what, int err) {
  return std::runtime_error(what + ": " + std::strerror(err));
}

inline void set_int(int fd, int level, int opt, int v, const char* name) {
  if (setsockopt(fd, level, opt, &v, sizeof v) != 0) throw sys_error(std::string("setsockopt(") + name + ")", errno);
}

// Fixed send/receive buffers (FORCE as root, past net.core.[rw]mem_max; else capped by it): turns
// the kernel's autotuning off for the socket and for what is accepted from it.
inline void set_buffers(int fd, int bytes) {
  for (auto [force, plain] : {std::pair{SO_SNDBUFFORCE, SO_SNDBUF}, std::pair{SO_RCVBUFFORCE, SO_RCVBUF}})
    if (setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof bytes) != 0) setsockopt(fd, SOL_SOCKET, plain, &bytes, sizeof bytes);
}

inline std::string addr_str(const sockaddr_in& a) {
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
  return std::string(buf) + ":" + std::to_string(ntohs(a.sin_port));
}

// Closes with SO_LINGER {1, 0}: the peer gets an RST, as a reset travels through the proxy.
inline void rst_close(int fd) {
  if (fd < 0) return;
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

inline bool is_reset(int err) {
  return err == ECONNRESET || err == EPIPE || err == ETIMEDOUT || err == EHOSTUNREACH || err == ENETUNREACH;
}

}  // namespace pb::tproxy
