// SPDX-License-Identifier: Apache-2.0
#include "proof/capture.h"

#include <arpa/inet.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <pcap/pcap.h>
#include <poll.h>

#include <condition_variable>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/strings.h"
#include "kernel/netns.h"

namespace pb {

struct Capture::Impl {
  std::string ns, dev, filter;
  pcap_t* pc = nullptr;
  std::thread th;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  std::string start_error;
  CaptureSummary sum;
  bool stopped = false;
};

static std::string ip_str(uint32_t be) {
  char b[INET_ADDRSTRLEN];
  in_addr a{be};
  inet_ntop(AF_INET, &a, b, sizeof b);
  return b;
}

Capture::Capture(const std::string& ns, const std::string& dev, const std::string& filter)
    : impl_(new Impl) {
  impl_->ns = ns;
  impl_->dev = dev;
  impl_->filter = filter;
  impl_->sum.netns = ns;
  impl_->sum.dev = dev;
  impl_->sum.filter = filter;
  impl_->th = std::thread([this] { loop(); });
  std::unique_lock<std::mutex> lk(impl_->mu);
  impl_->cv.wait(lk, [&] { return impl_->started; });
  if (!impl_->start_error.empty()) {
    lk.unlock();
    impl_->th.join();
    std::string e = impl_->start_error;
    delete impl_;
    impl_ = nullptr;
    throw EnvError(e);
  }
}

Capture::~Capture() {
  if (impl_) {
    stop();
    delete impl_;
  }
}

void Capture::loop() {
  Impl& m = *impl_;
  auto fail = [&](const std::string& e) {
    std::lock_guard<std::mutex> lk(m.mu);
    m.start_error = "pcap on " + m.ns + "/" + m.dev + ": " + e;
    m.started = true;
    m.cv.notify_all();
  };
  try {
    ScopedNetns in(m.ns);
    char err[PCAP_ERRBUF_SIZE] = {};
    m.pc = pcap_create(m.dev.c_str(), err);
    if (!m.pc) return fail(err);
    pcap_set_snaplen(m.pc, 96);
    pcap_set_immediate_mode(m.pc, 1);
    pcap_set_buffer_size(m.pc, 8 << 20);
    pcap_set_timeout(m.pc, 50);
    if (pcap_activate(m.pc) < 0) {
      std::string e = pcap_geterr(m.pc);
      pcap_close(m.pc);
      m.pc = nullptr;
      return fail(e);
    }
    bpf_program prog{};
    if (pcap_compile(m.pc, &prog, m.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) < 0 ||
        pcap_setfilter(m.pc, &prog) < 0) {
      std::string e = std::string("filter '") + m.filter + "': " + pcap_geterr(m.pc);
      pcap_freecode(&prog);
      pcap_close(m.pc);
      m.pc = nullptr;
      return fail(e);
    }
    pcap_freecode(&prog);
    pcap_setnonblock(m.pc, 1, err);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  {
    std::lock_guard<std::mutex> lk(m.mu);
    m.started = true;
    m.cv.notify_all();
  }
  int fd = pcap_get_selectable_fd(m.pc);
  auto handler = [](u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    auto* s = reinterpret_cast<CaptureSummary*>(user);
    if (h->caplen < sizeof(ether_header) + sizeof(iphdr)) return;
    auto* eth = reinterpret_cast<const ether_header*>(bytes);
    if (ntohs(eth->ether_type) != ETHERTYPE_IP) return;
    auto* ip = reinterpret_cast<const iphdr*>(bytes + sizeof(ether_header));
    PacketInfo p;
    p.src = ip_str(ip->saddr);
    p.dst = ip_str(ip->daddr);
    p.proto = ip->protocol;
    p.ttl = ip->ttl;
    p.ip_len = ntohs(ip->tot_len);
    size_t l4 = sizeof(ether_header) + ip->ihl * 4u;
    if (ip->protocol == IPPROTO_TCP && h->caplen >= l4 + sizeof(tcphdr)) {
      auto* t = reinterpret_cast<const tcphdr*>(bytes + l4);
      p.sport = ntohs(t->source);
      p.dport = ntohs(t->dest);
      p.tcp_flags = bytes[l4 + 13];
      if (t->syn && !t->ack) ++s->tcp_syn;
    } else if (ip->protocol == IPPROTO_UDP && h->caplen >= l4 + sizeof(udphdr)) {
      auto* u = reinterpret_cast<const udphdr*>(bytes + l4);
      p.sport = ntohs(u->source);
      p.dport = ntohs(u->dest);
    }
    ++s->packets;
    ++s->ttl[std::to_string(p.ttl)];
    const char* pr = p.proto == IPPROTO_TCP ? "tcp" : p.proto == IPPROTO_UDP ? "udp" : "ip";
    ++s->flows[p.src + ">" + p.dst + "/" + pr + ":" + std::to_string(p.dport)];
    if (s->first_packets.size() < 4) s->first_packets.push_back(p);
  };
  while (!m.stop.load()) {
    pollfd pf{fd, POLLIN, 0};
    poll(&pf, 1, 20);
    pcap_dispatch(m.pc, -1, handler, reinterpret_cast<u_char*>(&m.sum));
  }
  // Drain what arrived before stop.
  while (pcap_dispatch(m.pc, -1, handler, reinterpret_cast<u_char*>(&m.sum)) > 0) {
  }
  pcap_stat st{};
  if (pcap_stats(m.pc, &st) == 0) {
    m.sum.pcap_received = st.ps_recv;
    m.sum.pcap_dropped = st.ps_drop;
  }
  pcap_close(m.pc);
  m.pc = nullptr;
}

CaptureSummary Capture::stop() {
  if (!impl_->stopped) {
    impl_->stop = true;
    if (impl_->th.joinable()) impl_->th.join();
    impl_->stopped = true;
  }
  return impl_->sum;
}

uint64_t CaptureSummary::count_flow(const std::string& src, const std::string& dst) const {
  uint64_t n = 0;
  std::string prefix = src + ">" + dst + "/";
  for (auto& [k, v] : flows)
    if (k.rfind(prefix, 0) == 0) n += v;
  return n;
}

uint64_t CaptureSummary::with_ttl(int t) const {
  auto it = ttl.find(std::to_string(t));
  return it == ttl.end() ? 0 : it->second;
}

}  // namespace pb

