// SPDX-License-Identifier: Apache-2.0
#include "measure/snmp.h"

#include <sstream>

#include "common/fs.h"
#include "kernel/netns.h"

namespace pb {

static void parse_pairs(const std::string& text, std::map<std::string, uint64_t>& out) {
  std::istringstream in(text);
  std::string names, values;
  while (std::getline(in, names) && std::getline(in, values)) {
    std::istringstream n(names), v(values);
    std::string prefix, vprefix;
    n >> prefix;
    v >> vprefix;
    if (prefix != vprefix || prefix.empty()) continue;
    prefix.pop_back();  // "Ip:" -> "Ip"
    std::string key;
    long long val;
    while (n >> key && v >> val) out[prefix + "." + key] = static_cast<uint64_t>(val);
  }
}

std::map<std::string, uint64_t> read_snmp(const std::string& ns) {
  std::map<std::string, uint64_t> out;
  run_in_netns(ns, [&] {
    for (const char* f : {"/proc/thread-self/net/snmp", "/proc/thread-self/net/netstat"})
      if (auto t = read_file(f)) parse_pairs(*t, out);
  });
  return out;
}

}  // namespace pb
