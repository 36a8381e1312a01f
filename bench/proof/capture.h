// SPDX-License-Identifier: Apache-2.0
// proof/capture.h: libpcap capture on an interface inside a namespace, to prove which way traffic went.
// A capture thread enters the namespace, opens the device there (the packet socket stays in that
// namespace), applies a BPF filter and decodes IPv4/TCP/UDP headers of what it sees. Captures
// cost CPU, so the harness uses them around short proof probes, not measured windows.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace pb {

// Members are named as run.json's probes[] name them (results/README.md); the serializers below
// are the only ones (run.json and, in hosts mode, the agent protocol).
struct PacketInfo {
  std::string src, dst;  // dotted quads
  uint8_t proto = 0;     // IPPROTO_*
  uint16_t sport = 0, dport = 0;
  uint8_t ttl = 0;
  uint32_t ip_len = 0;   // IP total length
  uint8_t tcp_flags = 0;
  bool operator==(const PacketInfo&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PacketInfo, src, dst, proto, sport, dport, ttl, ip_len, tcp_flags)

struct CaptureSummary {
  std::string netns, dev, filter;
  uint64_t packets = 0;           // matched by the filter and decoded as IPv4
  uint64_t pcap_received = 0, pcap_dropped = 0;
  // (src,dst,proto,dport) -> count: where the packets went
  std::map<std::string, uint64_t> flows;
  std::map<std::string, uint64_t> ttl;  // TTL (decimal) -> count (a JSON object's keys are strings)
  uint64_t tcp_syn = 0;                 // TCP SYN without ACK
  std::vector<PacketInfo> first_packets;  // first few packets, for the record
  uint64_t count_flow(const std::string& src, const std::string& dst) const;
  uint64_t with_ttl(int t) const;
  bool operator==(const CaptureSummary&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CaptureSummary, netns, dev, filter, packets, pcap_received,
                                                pcap_dropped, flows, ttl, tcp_syn, first_packets)

class Capture {
 public:
  // Starts capturing immediately; throws EnvError when the device cannot be opened or the filter
  // does not compile. Returns once the capture is active (no packet lost to a startup race).
  Capture(const std::string& ns, const std::string& dev, const std::string& filter);
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;
  CaptureSummary stop();  // idempotent

 private:
  void loop();
  struct Impl;
  Impl* impl_;
};

}  // namespace pb
