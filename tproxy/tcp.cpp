// SPDX-License-Identifier: Apache-2.0
// tproxy/tcp.cpp: the TCP relay: accepting, the upstream connection, and moving bytes both ways.
//
// Per direction (client->upstream and back), edge-triggered:
//   1. if the direction's pipe holds bytes, splice them pipe -> destination socket; EAGAIN means
//      the destination is full: remember "blocked" and wait for EPOLLOUT (backpressure: nothing
//      more is read from the source meanwhile, so a slow peer costs at most one pipe of memory);
//   2. once the pipe is empty, splice source socket -> pipe. The pipe is only ever filled when
//      empty, which makes EAGAIN unambiguous ("socket drained", never "pipe full"; a pipe holds
//      16 skb fragments, not 64 KiB, so "full" is not knowable from byte counts);
//   3. read 0 (FIN): shutdown(dst, SHUT_WR) once the pipe is flushed (half-close propagated);
//      both directions shut: close both sockets normally (the second FIN is close()'s own);
//   4. ECONNRESET on the source or EPIPE/ECONNRESET on the destination: close the other side with
//      SO_LINGER {1, 0}, i.e. an RST, so a reset travels through the proxy as a reset.
// Pipes come from a small per-worker pool and go back as soon as they are empty, so 10,000 idle
// connections cost 2 sockets each and no pipes.
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>

#include "sock_util.h"
#include "worker.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace pb::tproxy {

namespace {

constexpr size_t kSpliceChunk = 1 << 20;  // ask for more than a pipe holds; the pipe limits it
constexpr int kAcceptBurst = 64;          // accepts per listener event, so one busy listener
                                          // cannot starve the connections it already has

}  // namespace

void Proxy::Worker::on_accept(Listener* l) {
  for (int i = 0; i < kAcceptBurst; ++i) {
    sockaddr_in client{};
    socklen_t cl = sizeof client;
    int cfd = accept4(l->fd, reinterpret_cast<sockaddr*>(&client), &cl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      if (errno == ECONNABORTED) continue;
      // EMFILE/ENFILE/ENOBUFS: leave the connection in the backlog and try on the next event.
      c.accept_errors.add();
      c.errors.add();
      if (errno == EMFILE || errno == ENFILE)
        log(LogLevel::kWarn, "accept4: out of file descriptors (raise RLIMIT_NOFILE)");
      return;
    }
    c.tcp_accepted.add();
    // The accepted socket's local address is the original destination: TPROXY and the BPF
    // steering programs deliver the SYN without rewriting it.
    sockaddr_in orig{};
    socklen_t ol = sizeof orig;
    if (getsockname(cfd, reinterpret_cast<sockaddr*>(&orig), &ol) != 0) {
      c.errors.add();
      rst_close(cfd);
      c.tcp_closed.add();
      continue;
    }
    start_conn(cfd, l->port, client, orig);
  }
}

void Proxy::Worker::start_conn(int cfd, uint16_t lport, const sockaddr_in& client,
                               const sockaddr_in& orig) {
  sockaddr_in up = orig;
  if (cfg.fixed_upstream_ip) {
    up.sin_addr.s_addr = htonl(*cfg.fixed_upstream_ip);
    if (cfg.fixed_upstream_port) up.sin_port = htons(cfg.fixed_upstream_port);
  } else if (ntohs(orig.sin_port) == lport &&
             (orig.sin_addr.s_addr == listen_ip || listen_ip == INADDR_ANY)) {
    // Someone connected to the proxy port itself: following the "original destination" would
    // connect to ourselves, forever.
    c.refused_loop.add();
    rst_close(cfd);
    c.tcp_closed.add();
    return;
  }
  if (!in_any(cfg.allowed, ntohl(up.sin_addr.s_addr))) {
    // Never an open relay: the client gets an RST, the attempt is counted.
    c.tcp_refused_out_of_range.add();
    log(LogLevel::kDebug, "refused " + addr_str(client) + " -> " + addr_str(up) + ": outside the allowed range");
    rst_close(cfd);
    c.tcp_closed.add();
    return;
  }
  int ufd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (ufd < 0) {
    c.errors.add();
    c.upstream_connect_failed.add();
    rst_close(cfd);
    c.tcp_closed.add();
    return;
  }
  int one = 1;
  setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (cfg.keepalive) setsockopt(ufd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  if (!cfg.tcp_cc.empty())
    setsockopt(ufd, IPPROTO_TCP, TCP_CONGESTION, cfg.tcp_cc.data(), static_cast<socklen_t>(cfg.tcp_cc.size()));
  if (cfg.tcp_buffer_bytes > 0) set_buffers(ufd, cfg.tcp_buffer_bytes);
  if (cfg.upstream_mark) {
    int m = static_cast<int>(cfg.upstream_mark);
    setsockopt(ufd, SOL_SOCKET, SO_MARK, &m, sizeof m);
  }
  if (cfg.keep_client_source) {
    // Full transparency: source = the client's address. IP_BIND_ADDRESS_NO_PORT defers the port
    // choice to connect(), which then picks one unique for the 4-tuple instead of reserving a
    // port per bind (which would run out at ~28k connections per source address).
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr = client.sin_addr;
    if (setsockopt(ufd, SOL_IP, IP_TRANSPARENT, &one, sizeof one) != 0 ||
        setsockopt(ufd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) != 0 ||
        bind(ufd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
      c.errors.add();
      c.upstream_connect_failed.add();
      close(ufd);
      rst_close(cfd);
      c.tcp_closed.add();
      return;
    }
  }
  int r = connect(ufd, reinterpret_cast<const sockaddr*>(&up), sizeof up);
  if (r != 0 && errno != EINPROGRESS) {
    c.upstream_connect_failed.add();
    close(ufd);
    rst_close(cfd);
    c.tcp_closed.add();
    return;
  }
  auto* conn = new Conn;
  conn->cfd = cfd;
  conn->ufd = ufd;
  conn->connected = (r == 0);
  conn->next = conns_;
  if (conns_) conns_->prev = conn;
  conns_ = conn;
  c.tcp_active.add();
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = &conn->hu;
  bool ok = epoll_ctl(epfd, EPOLL_CTL_ADD, ufd, &ev) == 0;
  ev.data.ptr = &conn->hc;
  ok = ok && epoll_ctl(epfd, EPOLL_CTL_ADD, cfd, &ev) == 0;
  if (!ok) {
    c.errors.add();
    close_conn(conn, 3);
  }
}

Pipe* Proxy::Worker::get_pipe() {
  if (!pipe_pool_.empty()) {
    Pipe* p = pipe_pool_.back();
    pipe_pool_.pop_back();
    return p;
  }
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return nullptr;
  // Best effort: above /proc/sys/fs/pipe-max-size this fails without CAP_SYS_RESOURCE and the
  // pipe keeps its default size.
  if (cfg.pipe_bytes) fcntl(fds[0], F_SETPIPE_SZ, static_cast<int>(cfg.pipe_bytes));
  auto* p = new Pipe;
  p->rd = fds[0];
  p->wr = fds[1];
  return p;
}

void Proxy::Worker::put_pipe(Pipe*& p) {
  if (!p) return;
  if (p->bytes == 0 && pipe_pool_.size() < cfg.pipe_pool) {
    pipe_pool_.push_back(p);
  } else {
    close(p->rd);
    close(p->wr);
    delete p;
  }
  p = nullptr;
}

Proxy::Worker::Pump Proxy::Worker::pump(Conn* conn, bool c2u) {
  const int src = c2u ? conn->cfd : conn->ufd;
  const int dst = c2u ? conn->ufd : conn->cfd;
  Pipe*& p = c2u ? conn->pipe_c2u : conn->pipe_u2c;
  bool& eof = c2u ? conn->c_eof : conn->u_eof;
  bool& shut = c2u ? conn->u_shut : conn->c_shut;
  bool& blocked = c2u ? conn->c2u_blocked : conn->u2c_blocked;
  Counter& bytes = c2u ? c.bytes_c2u : c.bytes_u2c;
  if (shut) return Pump::kOk;
  for (;;) {
    if (p && p->bytes) {
      ssize_t m = splice(p->rd, nullptr, dst, nullptr, p->bytes, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (m > 0) {
        p->bytes -= static_cast<size_t>(m);
        bytes.add(static_cast<uint64_t>(m));
        continue;
      }
      if (m < 0 && errno == EINTR) continue;
      if (m < 0 && errno == EAGAIN) {
        blocked = true;
        return Pump::kOk;
      }
      return m < 0 && is_reset(errno) ? Pump::kDstReset : Pump::kError;
    }
    blocked = false;
    if (eof) {
      put_pipe(p);
      // The other direction already ended: both sockets are closed right after this (both read
      // to end-of-file, so close() sends a FIN, not a reset) and the shutdown would be a syscall
      // for nothing.
      const bool other_done = c2u ? conn->c_shut : conn->u_shut;
      if (!other_done) shutdown(dst, SHUT_WR);
      shut = true;
      c.half_closes.add();
      return Pump::kOk;
    }
    if (!p && !(p = get_pipe())) {
      c.errors.add();
      return Pump::kError;
    }
    ssize_t n = splice(src, nullptr, p->wr, nullptr, kSpliceChunk, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      p->bytes = static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {
      eof = true;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      put_pipe(p);  // empty: back to the pool until this direction has data again
      return Pump::kOk;
    }
    return is_reset(errno) ? Pump::kSrcReset : Pump::kError;
  }
}

void Proxy::Worker::on_conn_event(Conn* conn, bool client_side, uint32_t ev) {
  if (!conn->connected) {
    if (client_side) {
      // Client data or FIN before the upstream is up: leave it in the socket (edge-triggered,
      // so pump c2u once connected). A client reset, though, ends it now.
      if (ev & EPOLLERR) {
        c.client_resets.add();
        close_conn(conn, 2);
      }
      return;
    }
    // Writable without error or hang-up: connected (no SO_ERROR round trip needed).
    if (!(ev & (EPOLLERR | EPOLLHUP))) {
      if (!(ev & EPOLLOUT)) return;  // not yet
      conn->connected = true;
    } else {
      // Refused / unreachable / timed out: the client sees an RST, never a hang.
      c.upstream_connect_failed.add();
      close_conn(conn, 1);
      return;
    }
    ev |= EPOLLIN;  // pump both ways below
    client_side = false;
    Pump r = pump(conn, true);
    if (r != Pump::kOk) {
      close_conn(conn, r == Pump::kSrcReset ? 2 : r == Pump::kDstReset ? 1 : 3);
      if (r == Pump::kSrcReset) c.client_resets.add();
      else if (r == Pump::kDstReset) c.upstream_resets.add();
      else c.errors.add();
      return;
    }
  }
  // Readable (or hung up / error) side: pump the direction it is the source of. Writable side:
  // pump the direction it is the destination of, if that direction was waiting for room.
  const bool rd = ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
  const bool wr = ev & (EPOLLOUT | EPOLLHUP | EPOLLERR);
  for (int pass = 0; pass < 2; ++pass) {
    bool c2u = (pass == 0) ? client_side : !client_side;
    bool want = (pass == 0) ? rd : (wr && (c2u ? conn->c2u_blocked : conn->u2c_blocked));
    if (!want) continue;
    Pump r = pump(conn, c2u);
    if (r == Pump::kOk) continue;
    // Who reset? In c2u the source is the client; in u2c the source is the upstream.
    bool client_reset = (r == Pump::kSrcReset) == c2u;
    if (r == Pump::kError) {
      c.errors.add();
      close_conn(conn, 3);
    } else if (client_reset) {
      c.client_resets.add();
      close_conn(conn, 2);  // RST upstream
    } else {
      c.upstream_resets.add();
      close_conn(conn, 1);  // RST client
    }
    return;
  }
  if (conn->c_shut && conn->u_shut) {
    close_conn(conn, 0);
    return;
  }
  if ((ev & EPOLLERR) && !conn->dead) {
    // An error with nothing left to read or write in that direction (e.g. an RST on a
    // half-closed connection).
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(client_side ? conn->cfd : conn->ufd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) {
      (client_side ? c.client_resets : c.upstream_resets).add();
      close_conn(conn, client_side ? 2 : 1);
    }
  }
}

void Proxy::Worker::close_conn(Conn* conn, int rst_mask) {
  if (conn->dead) return;
  conn->dead = true;
  // Explicitly out of the epoll set before close(): close() removes an fd from epoll only when
  // the last reference to the file goes, and a fork()/posix_spawn() elsewhere in the process
  // (the harness runs ip/nft) holds references until its exec. Events of the dead registration
  // would then carry a pointer to a freed connection. Config::process_forks = false: nothing forks.
  if (cfg.process_forks) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, conn->cfd, nullptr);
    epoll_ctl(epfd, EPOLL_CTL_DEL, conn->ufd, nullptr);
  }
  if (rst_mask & 1) rst_close(conn->cfd); else close(conn->cfd);
  if (rst_mask & 2) rst_close(conn->ufd); else close(conn->ufd);
  conn->cfd = conn->ufd = -1;
  for (Pipe** pp : {&conn->pipe_c2u, &conn->pipe_u2c}) put_pipe(*pp);  // closes non-empty ones
  if (conn->prev) conn->prev->next = conn->next; else conns_ = conn->next;
  if (conn->next) conn->next->prev = conn->prev;
  c.tcp_active.sub();
  c.tcp_closed.add();
  conn_graveyard_.push_back(conn);
}

}  // namespace pb::tproxy
