// SPDX-License-Identifier: Apache-2.0
// tproxy/addr_range.h: IPv4 prefixes (a.b.c.d/len) and the "is this destination allowed" check
// that keeps the transparent proxy from becoming an open relay. Pure logic, unit-tested.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace pb::tproxy {

struct Ipv4Range {
  uint32_t net = 0;   // host byte order, already masked
  uint32_t mask = 0;  // host byte order
  unsigned prefix_len = 0;

  // "198.18.0.0/15", "10.1.2.3" (= /32). Throws std::invalid_argument with the offending text.
  // Host bits set below the prefix ("198.18.1.1/15") are an error: they usually mean a typo.
  static Ipv4Range parse(const std::string& text);
  bool contains(uint32_t ip_host_order) const { return (ip_host_order & mask) == net; }
  std::string str() const;
};

// Dotted quad <-> host-order integer. parse throws std::invalid_argument.
uint32_t parse_ipv4(const std::string& text);
std::string format_ipv4(uint32_t ip_host_order);

// Empty list allows nothing (a proxy with no allowed range refuses every destination).
bool in_any(const std::vector<Ipv4Range>& ranges, uint32_t ip_host_order);

// "198.18.0.0/15,10.0.0.0/8" -> ranges. Throws std::invalid_argument.
std::vector<Ipv4Range> parse_ranges(const std::string& comma_separated);

}  // namespace pb::tproxy
