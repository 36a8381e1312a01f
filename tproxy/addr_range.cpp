// SPDX-License-Identifier: Apache-2.0
#include "addr_range.h"

#include <arpa/inet.h>

#include <stdexcept>

namespace pb::tproxy {

uint32_t parse_ipv4(const std::string& text) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1)
    throw std::invalid_argument("not an IPv4 address: '" + text + "'");
  return ntohl(a.s_addr);
}

std::string format_ipv4(uint32_t ip) {
  in_addr a{htonl(ip)};
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

Ipv4Range Ipv4Range::parse(const std::string& text) {
  Ipv4Range r;
  auto slash = text.find('/');
  std::string ip = text.substr(0, slash);
  unsigned len = 32;
  if (slash != std::string::npos) {
    std::string l = text.substr(slash + 1);
    if (l.empty() || l.size() > 2 || l.find_first_not_of("0123456789") != std::string::npos)
      throw std::invalid_argument("bad prefix length in '" + text + "'");
    len = static_cast<unsigned>(std::stoul(l));
    if (len > 32) throw std::invalid_argument("prefix length > 32 in '" + text + "'");
  }
  uint32_t addr = parse_ipv4(ip);
  r.prefix_len = len;
  r.mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
  if ((addr & ~r.mask) != 0)
    throw std::invalid_argument("host bits set below the prefix in '" + text + "'");
  r.net = addr & r.mask;
  return r;
}

std::string Ipv4Range::str() const { return format_ipv4(net) + "/" + std::to_string(prefix_len); }

bool in_any(const std::vector<Ipv4Range>& ranges, uint32_t ip) {
  for (const auto& r : ranges)
    if (r.contains(ip)) return true;
  return false;
}

std::vector<Ipv4Range> parse_ranges(const std::string& s) {
  std::vector<Ipv4Range> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) throw std::invalid_argument("empty item in range list '" + s + "'");
    out.push_back(Ipv4Range::parse(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace pb::tproxy
