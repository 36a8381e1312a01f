// SPDX-License-Identifier: Apache-2.0
// roles/packet_fixtures.h: packet fixtures for the forwarding programs (katran's shape): one table of
// (name, description, packet builder, ingress interface, expected verdict and rewrite), read by
// both the BPF unit tests (tests/bpf/) and the micro-benchmarks (bench/micro/), so what is timed
// is exactly what is checked. Addresses and MACs are the topology's (netns/topology.sh), so a
// fixture run in a topology's DUT namespace meets real routes and neighbours.
#pragma once
#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "roles/topology.h"
#include "pb_shared.h"

namespace pb::bpf::fixtures {

using Mac = std::array<uint8_t, 6>;

inline Mac parse_mac(const char* s) {
  Mac m{};
  unsigned v[6];
  if (std::sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) == 6)
    for (int i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(v[i]);
  return m;
}

inline uint32_t ip4(const char* s) {
  in_addr a{};
  inet_pton(AF_INET, s, &a);
  return a.s_addr;  // network order
}

// One's-complement sum over 16-bit words (RFC 1071), not folded/complemented.
inline uint32_t csum_add(uint32_t sum, const uint8_t* p, size_t n) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += static_cast<uint32_t>(p[n - 1] << 8);
  return sum;
}
inline uint16_t csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

constexpr size_t kEthLen = 14, kIpLen = 20, kUdpLen = 8, kTcpLen = 20;

struct PacketSpec {
  Mac dst = parse_mac(Addr::kDut0Mac);
  Mac src = parse_mac(Addr::kClientMac);
  uint16_t ethertype = 0x0800;
  uint32_t saddr = ip4(Addr::kClient);
  uint32_t daddr = ip4(Addr::kServer);
  uint8_t proto = 17;  // IPPROTO_UDP / IPPROTO_TCP (6)
  uint8_t ttl = 64;
  uint16_t sport = 40000, dport = 9;
  size_t payload = 18;  // 18: a 60-byte frame (64 on the wire with the FCS)
};

// Ethernet + IPv4 (no options, DF) + UDP/TCP with valid checksums; a non-IPv4 ethertype gives
// an ARP request of the same addresses.
inline std::vector<uint8_t> build_packet(const PacketSpec& s) {
  std::vector<uint8_t> f;
  f.insert(f.end(), s.dst.begin(), s.dst.end());
  f.insert(f.end(), s.src.begin(), s.src.end());
  f.push_back(static_cast<uint8_t>(s.ethertype >> 8));
  f.push_back(static_cast<uint8_t>(s.ethertype));
  auto put32 = [&](uint32_t net) {
    const auto* b = reinterpret_cast<const uint8_t*>(&net);
    f.insert(f.end(), b, b + 4);
  };
  if (s.ethertype != 0x0800) {  // ARP request: who has daddr, tell saddr
    const uint8_t hdr[] = {0, 1, 8, 0, 6, 4, 0, 1};
    f.insert(f.end(), hdr, hdr + sizeof hdr);
    f.insert(f.end(), s.src.begin(), s.src.end());
    put32(s.saddr);
    f.insert(f.end(), 6, 0);
    put32(s.daddr);
    f.resize(60, 0);
    return f;
  }
  const size_t l4 = s.proto == 6 ? kTcpLen : kUdpLen;
  const size_t tot = kIpLen + l4 + s.payload;
  const size_t ip = f.size();
  f.insert(f.end(), {0x45, 0, static_cast<uint8_t>(tot >> 8), static_cast<uint8_t>(tot), 0x12, 0x34,
                     0x40, 0, s.ttl, s.proto, 0, 0});
  put32(s.saddr);
  put32(s.daddr);
  uint16_t ipc = csum_fold(csum_add(0, f.data() + ip, kIpLen));
  f[ip + 10] = static_cast<uint8_t>(ipc >> 8);
  f[ip + 11] = static_cast<uint8_t>(ipc);
  const size_t l4o = f.size();
  f.push_back(static_cast<uint8_t>(s.sport >> 8));
  f.push_back(static_cast<uint8_t>(s.sport));
  f.push_back(static_cast<uint8_t>(s.dport >> 8));
  f.push_back(static_cast<uint8_t>(s.dport));
  if (s.proto == 6) {  // seq, ack, data offset 5, ACK|PSH, window
    f.insert(f.end(), {0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0});
  } else {
    const size_t ul = kUdpLen + s.payload;
    f.insert(f.end(), {static_cast<uint8_t>(ul >> 8), static_cast<uint8_t>(ul), 0, 0});
  }
  for (size_t i = 0; i < s.payload; ++i) f.push_back(static_cast<uint8_t>('a' + i % 26));
  // L4 checksum over the pseudo-header
  uint8_t pseudo[12];
  std::memcpy(pseudo, f.data() + ip + 12, 8);
  pseudo[8] = 0;
  pseudo[9] = s.proto;
  const size_t l4len = l4 + s.payload;
  pseudo[10] = static_cast<uint8_t>(l4len >> 8);
  pseudo[11] = static_cast<uint8_t>(l4len);
  uint16_t c = csum_fold(csum_add(csum_add(0, pseudo, 12), f.data() + l4o, l4len));
  if (s.proto == 17 && c == 0) c = 0xffff;
  size_t co = l4o + (s.proto == 6 ? 16 : 6);
  f[co] = static_cast<uint8_t>(c >> 8);
  f[co + 1] = static_cast<uint8_t>(c);
  return f;
}

// Is the IPv4 header checksum of an Ethernet frame valid?
inline bool ipv4_checksum_ok(const std::vector<uint8_t>& f) {
  if (f.size() < kEthLen + kIpLen) return false;
  return csum_fold(csum_add(0, f.data() + kEthLen, kIpLen)) == 0;
}

enum class Ingress { kDut0, kDut1 };

struct Fixture {
  const char* name;         // benchmark / test name suffix: BM_XdpFwd/<name>
  const char* description;
  Ingress ingress;          // DUT interface the packet arrives on
  PacketSpec spec;
  bool forwarded;           // redirected (XDP_REDIRECT / TC_ACT_REDIRECT), else passed untouched
  uint32_t reason;          // pb_fwd_reason counter that must move by one
  Mac out_dst{}, out_src{};  // when forwarded: rewritten MACs
  uint8_t out_ttl = 0;      // when forwarded: decremented TTL
};

inline PacketSpec udp_c2s() { return PacketSpec{}; }
inline PacketSpec tcp_c2s() {
  PacketSpec s;
  s.proto = 6;
  s.dport = 5201;
  s.payload = 64;
  return s;
}
inline PacketSpec udp_s2c() {
  PacketSpec s;
  s.dst = parse_mac(Addr::kDut1Mac);
  s.src = parse_mac(Addr::kServerMac);
  s.saddr = ip4(Addr::kServer);
  s.daddr = ip4(Addr::kClient);
  s.sport = 9;
  s.dport = 40000;
  return s;
}

inline const std::vector<Fixture>& forwarding_fixtures() {
  static const std::vector<Fixture> v = [] {
    const Mac srv = parse_mac(Addr::kServerMac), dut1 = parse_mac(Addr::kDut1Mac);
    const Mac cli = parse_mac(Addr::kClientMac), dut0 = parse_mac(Addr::kDut0Mac);
    std::vector<Fixture> f;
    f.push_back({"udp_fwd", "UDP client -> server, 60-byte frame: forwarded out of dut1",
                 Ingress::kDut0, udp_c2s(), true, PB_FWD_FORWARDED, srv, dut1, 63});
    f.push_back({"tcp_fwd", "TCP segment client -> server, 64-byte payload: forwarded",
                 Ingress::kDut0, tcp_c2s(), true, PB_FWD_FORWARDED, srv, dut1, 63});
    f.push_back({"udp_fwd_reverse", "UDP server -> client arriving on dut1: forwarded out of dut0",
                 Ingress::kDut1, udp_s2c(), true, PB_FWD_FORWARDED, cli, dut0, 63});
    PacketSpec nr = udp_c2s();
    nr.daddr = ip4("198.19.0.1");  // benchmarking range, but the DUT has no route there
    f.push_back({"no_route", "UDP to 198.19.0.1 (no route in the DUT): to the stack untouched",
                 Ingress::kDut0, nr, false, PB_FWD_PASS_NO_ROUTE});
    PacketSpec local = udp_c2s();
    local.daddr = ip4(Addr::kDutClientSide);
    f.push_back({"local_dst", "UDP to the DUT's own address: to the stack (local delivery)",
                 Ingress::kDut0, local, false, PB_FWD_PASS_NO_ROUTE});
    PacketSpec ttl = udp_c2s();
    ttl.ttl = 1;
    f.push_back({"ttl_expired", "UDP with TTL 1: to the stack (ICMP time exceeded is its job)",
                 Ingress::kDut0, ttl, false, PB_FWD_PASS_TTL});
    PacketSpec arp = udp_c2s();
    arp.ethertype = 0x0806;
    arp.dst = Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    f.push_back({"non_ip", "ARP request: not IPv4, to the stack untouched", Ingress::kDut0, arp,
                 false, PB_FWD_PASS_NOT_IPV4});
    return f;
  }();
  return v;
}

}  // namespace pb::bpf::fixtures
