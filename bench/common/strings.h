// SPDX-License-Identifier: Apache-2.0
// common/strings.h: the few string helpers the harness needs everywhere (no dependencies).
#pragma once
#include <string>
#include <vector>

namespace pb {

std::string trim(std::string s);
std::vector<std::string> split(const std::string& s, char sep);
std::string join(const std::vector<std::string>& v, const std::string& sep);
// argv as a shell would need it quoted, for the record ("iperf3 -c 198.18.2.2 -H 'Connection: close'").
std::string quote_join(const std::vector<std::string>& argv);

}  // namespace pb
