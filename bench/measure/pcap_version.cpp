// SPDX-License-Identifier: Apache-2.0
// libpcap's version string, in a file of its own: pcap/bpf.h and linux/bpf.h cannot share one.
#include <pcap/pcap.h>

#include <string>

namespace pb {
std::string pcap_version() { return pcap_lib_version(); }
}  // namespace pb
