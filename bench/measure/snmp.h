// SPDX-License-Identifier: Apache-2.0
// measure/snmp.h: the kernel's SNMP/netstat counters of one namespace ("Ip.ForwDatagrams",
// "Tcp.RetransSegs", "TcpExt.TCPLostRetransmit", ...).
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace pb {

// /proc/thread-self/net/{snmp,netstat} follow the reading thread's namespace: a short-lived
// thread enters `ns` and reads. Missing counters read as 0 through operator[].
std::map<std::string, uint64_t> read_snmp(const std::string& ns);

}  // namespace pb
