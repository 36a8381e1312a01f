// SPDX-License-Identifier: Apache-2.0
// tproxy/udp.cpp: the UDP half of a worker.
//
// A datagram reaches us in one of two places:
//   - the worker's listening socket (IP_TRANSPARENT, IP_RECVORIGDSTADDR): the first datagram of
//     a flow always, later ones too with sk_assign / sk_lookup when the flow's client-side
//     socket is not chosen by the kernel;
//   - the flow's client-side socket: bound (IP_TRANSPARENT) to the original destination and
//     connected to the client. The kernel's UDP lookup prefers a connected socket, and nft/ipt
//     TPROXY look for an "established" socket before the listener, so after the first datagram
//     the client's datagrams usually arrive here directly.
// Either way: flow = (client addr:port, original destination addr:port) -> upstream socket
// connected to the original destination (or the fixed upstream). Replies from the upstream are
// sent through the client-side socket, so they leave with the original destination as source
// address and port and the client sees an ordinary reply. proxy-plain (no interception, the
// destination is our own address) replies through the listener instead.
// The flow table is bounded (LRU eviction) and idle flows expire; see flow_table.h.
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "worker.h"

namespace pb::tproxy {

namespace {
constexpr size_t kDgramMax = 65536;

bool set1(int fd, int level, int opt) {
  int one = 1;
  return setsockopt(fd, level, opt, &one, sizeof one) == 0;
}
}  // namespace

void Proxy::Worker::on_udp_listener(Listener* l) {
  const unsigned batch = static_cast<unsigned>(umsgs_.size());
  auto& slots = uslots_;
  auto& msgs = umsgs_;
  for (int round = 0; round < 4; ++round) {
    for (unsigned i = 0; i < batch; ++i) {
      slots[i].iov = {ubuf_.data() + i * kDgramMax, kDgramMax};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_name = &slots[i].from;
      msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      msgs[i].msg_hdr.msg_iov = &slots[i].iov;
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = slots[i].ctrl;
      msgs[i].msg_hdr.msg_controllen = sizeof slots[i].ctrl;
    }
    int n = recvmmsg(l->fd, msgs.data(), batch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) c.errors.add();
      return;
    }
    for (int i = 0; i < n; ++i) {
      sockaddr_in orig{};
      bool have_orig = false;
      for (cmsghdr* cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cm; cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm)) {
        if (cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_ORIGDSTADDR) {
          std::memcpy(&orig, CMSG_DATA(cm), sizeof orig);
          have_orig = true;
        }
      }
      if (!have_orig) {
        orig.sin_family = AF_INET;
        orig.sin_addr.s_addr = listen_ip;
        orig.sin_port = htons(l->port);
      }
      client_datagram(l, slots[i].from, orig, static_cast<const char*>(slots[i].iov.iov_base),
                      msgs[i].msg_len);
    }
    if (static_cast<unsigned>(n) < batch) return;
  }
}

void Proxy::Worker::client_datagram(Listener* l, const sockaddr_in& client,
                                    const sockaddr_in& orig, const char* data, size_t len) {
  sockaddr_in up = orig;
  if (cfg.fixed_upstream_ip) {
    up.sin_addr.s_addr = htonl(*cfg.fixed_upstream_ip);
    if (cfg.fixed_upstream_port) up.sin_port = htons(cfg.fixed_upstream_port);
  } else if (ntohs(orig.sin_port) == l->port &&
             (orig.sin_addr.s_addr == listen_ip || listen_ip == INADDR_ANY)) {
    c.refused_loop.add();
    return;
  }
  if (!in_any(cfg.allowed, ntohl(up.sin_addr.s_addr))) {
    c.udp_refused_out_of_range.add();
    return;
  }
  FlowKey key{client.sin_addr.s_addr, orig.sin_addr.s_addr, client.sin_port, orig.sin_port};
  uint64_t now = now_ns();
  std::unique_ptr<Flow>* fp = flows_.find(key, now);
  Flow* f = fp ? fp->get() : create_flow(l, key, client, orig, up, now);
  if (!f) return;
  ssize_t w = send(f->ufd, data, len, MSG_DONTWAIT);
  if (w < 0) {
    // ECONNREFUSED: an ICMP port unreachable from an earlier datagram; EAGAIN: upstream socket
    // buffer full (UDP may drop). Counted, not fatal.
    c.errors.add();
    return;
  }
  c.udp_dgrams_c2u.add();
  c.udp_bytes_c2u.add(len);
}

Flow* Proxy::Worker::create_flow(Listener* l, const FlowKey& key, const sockaddr_in& client,
                                 const sockaddr_in& orig, const sockaddr_in& upstream,
                                 uint64_t now) {
  auto f = std::make_unique<Flow>();
  f->listener = l;
  f->orig = orig;
  f->key = key;
  f->client = client;
  f->ufd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (f->ufd < 0) {
    c.errors.add();
    return nullptr;
  }
  if (cfg.upstream_mark) {
    int m = static_cast<int>(cfg.upstream_mark);
    setsockopt(f->ufd, SOL_SOCKET, SO_MARK, &m, sizeof m);
  }
  bool ok = true;
  if (cfg.keep_client_source) {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr = client.sin_addr;
    ok = set1(f->ufd, SOL_IP, IP_TRANSPARENT) && set1(f->ufd, SOL_SOCKET, SO_REUSEADDR) &&
         bind(f->ufd, reinterpret_cast<sockaddr*>(&src), sizeof src) == 0;
  }
  ok = ok && connect(f->ufd, reinterpret_cast<const sockaddr*>(&upstream), sizeof upstream) == 0;
  // Replies must come from the original destination. When that is our own listening address
  // (proxy-plain), the listener itself is the right sender.
  const bool own_addr = orig.sin_addr.s_addr == listen_ip && ntohs(orig.sin_port) == l->port;
  if (ok && !own_addr) {
    f->client_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    // SO_REUSEADDR: several clients may talk to the same original destination; each flow's
    // socket binds the same address and port and is told apart by its connected peer.
    ok = f->client_fd >= 0 && set1(f->client_fd, SOL_IP, IP_TRANSPARENT) &&
         set1(f->client_fd, SOL_SOCKET, SO_REUSEADDR) &&
         bind(f->client_fd, reinterpret_cast<const sockaddr*>(&orig), sizeof orig) == 0 &&
         connect(f->client_fd, reinterpret_cast<const sockaddr*>(&client), sizeof client) == 0;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  if (ok) {
    ev.data.ptr = &f->hu;
    ok = epoll_ctl(epfd, EPOLL_CTL_ADD, f->ufd, &ev) == 0;
  }
  if (ok && f->client_fd >= 0) {
    ev.data.ptr = &f->hc;
    ok = epoll_ctl(epfd, EPOLL_CTL_ADD, f->client_fd, &ev) == 0;
  }
  if (!ok) {
    c.errors.add();
    for (int fd : {f->ufd, f->client_fd}) {
      if (fd < 0) continue;
      epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);  // see close_conn()
      close(fd);
    }
    return nullptr;
  }
  Flow* raw = f.get();
  flows_.insert(key, std::move(f), now, [this](const FlowKey&, std::unique_ptr<Flow>& old) {
    kill_flow(old.get());
    c.udp_flows_evicted.add();
    flow_graveyard_.push_back(std::move(old));
  });
  c.udp_flows_created.add();
  c.udp_flows_active.add();
  return raw;
}

void Proxy::Worker::kill_flow(Flow* f) {
  f->dead = true;
  // Out of the epoll set before close(), for the reason given in close_conn().
  if (f->ufd >= 0) epoll_ctl(epfd, EPOLL_CTL_DEL, f->ufd, nullptr);
  if (f->client_fd >= 0) epoll_ctl(epfd, EPOLL_CTL_DEL, f->client_fd, nullptr);
  if (f->ufd >= 0) close(f->ufd);
  if (f->client_fd >= 0) close(f->client_fd);
  f->ufd = f->client_fd = -1;
  c.udp_flows_active.sub();
}

void Proxy::Worker::sweep_flows(uint64_t now) {
  const uint64_t idle_ns = static_cast<uint64_t>(cfg.udp_idle_timeout_s * 1e9);
  flows_.expire(now, idle_ns, [this](const FlowKey&, std::unique_ptr<Flow>& f) {
    kill_flow(f.get());
    c.udp_flows_expired.add();
    flow_graveyard_.push_back(std::move(f));
  });
}

void Proxy::Worker::on_flow_event(Flow* f, bool client_side) {
  // Level-triggered. Datagrams move in batches: one recvmmsg, one sendmmsg (2 syscalls per
  // batch instead of 2 per datagram, which is what bounds udp_pps through a proxy). A bounded
  // number of rounds per event so one flow cannot starve the others.
  const unsigned batch = static_cast<unsigned>(umsgs_.size());
  const int in_fd = client_side ? f->client_fd : f->ufd;
  int out_fd = client_side ? f->ufd : f->client_fd;
  const sockaddr_in* out_name = nullptr;  // proxy-plain: reply through the listener, addressed
  if (out_fd < 0) {
    out_fd = f->listener->fd;
    out_name = &f->client;
  }
  const FlowKey key = f->key;
  Counter& dgrams = client_side ? c.udp_dgrams_c2u : c.udp_dgrams_u2c;
  Counter& bytes = client_side ? c.udp_bytes_c2u : c.udp_bytes_u2c;
  for (int round = 0; round < 4 && !f->dead; ++round) {
    for (unsigned i = 0; i < batch; ++i) {
      uslots_[i].iov = {ubuf_.data() + i * kDgramMax, kDgramMax};
      umsgs_[i] = {};
      umsgs_[i].msg_hdr.msg_name = &uslots_[i].from;
      umsgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      umsgs_[i].msg_hdr.msg_iov = &uslots_[i].iov;
      umsgs_[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(in_fd, umsgs_.data(), batch, MSG_DONTWAIT, nullptr);
    if (n <= 0) {
      // EAGAIN: drained. ECONNREFUSED etc. (ICMP errors on a connected UDP socket): counted;
      // the flow stays until it idles out, as a NAT would keep it.
      if (n < 0 && errno != EAGAIN && errno != EINTR) c.errors.add();
      return;
    }
    // Build the send batch in place: same buffers, lengths as received.
    unsigned out = 0;
    for (int i = 0; i < n; ++i) {
      const size_t len = umsgs_[i].msg_len;
      const sockaddr_in& from = uslots_[i].from;
      if (client_side && (from.sin_addr.s_addr != f->client.sin_addr.s_addr ||
                          from.sin_port != f->client.sin_port)) {
        // Queued while this socket was bound to the original destination but not yet
        // connected to its client (a bind/connect window no socket API closes): another
        // client's datagram. Dispatch it as if it had reached the listener.
        client_datagram(f->listener, from, f->orig, static_cast<const char*>(uslots_[i].iov.iov_base), len);
        c.udp_redispatched.add();
        continue;
      }
      sock_iov_[out] = {uslots_[i].iov.iov_base, len};
      sock_msgs_[out] = {};
      sock_msgs_[out].msg_hdr.msg_iov = &sock_iov_[out];
      sock_msgs_[out].msg_hdr.msg_iovlen = 1;
      if (out_name) {
        sock_msgs_[out].msg_hdr.msg_name = const_cast<sockaddr_in*>(out_name);
        sock_msgs_[out].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      }
      ++out;
    }
    if (f->dead) return;  // a re-dispatched datagram's new flow evicted this one
    if (out) {
      flows_.find(key, now_ns());  // refresh LRU position
      int sent = sendmmsg(out_fd, sock_msgs_.data(), out, MSG_DONTWAIT);
      if (sent < 0) sent = 0;
      if (static_cast<unsigned>(sent) < out) c.errors.add(out - static_cast<unsigned>(sent));  // UDP: dropped
      dgrams.add(static_cast<uint64_t>(sent));
      uint64_t sb = 0;
      for (int i = 0; i < sent; ++i) sb += sock_iov_[i].iov_len;
      bytes.add(sb);
    }
    if (static_cast<unsigned>(n) < batch) return;
  }
}

}  // namespace pb::tproxy
