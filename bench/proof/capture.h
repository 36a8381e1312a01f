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
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <thread>
#include <vector>

namespace pb {

struct PacketInfo {
  std::string src, dst;  // dotted quads
  uint8_t proto = 0;     // IPPROTO_*
  uint16_t sport = 0, dport = 0;
  uint8_t ttl = 0;
  uint32_t len = 0;  // IP total length
  uint8_t tcp_flags = 0;
};

struct CaptureSummary {
  std::string ns, dev, filter;
  uint64_t packets = 0;           // matched by the filter and decoded as IPv4
  uint64_t pcap_received = 0, pcap_dropped = 0;
  // (src,dst,proto,dport) -> count: where the packets went
  std::map<std::string, uint64_t> flows;
  std::map<int, uint64_t> ttls;  // TTL -> count
  uint64_t syn = 0;               // TCP SYN without ACK
  std::vector<PacketInfo> first;  // first few packets, for the record
  nlohmann::json to_json() const;
  static CaptureSummary from_json(const nlohmann::json& j);  // what to_json wrote (hosts mode)
  uint64_t count_flow(const std::string& src, const std::string& dst) const;
};

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
