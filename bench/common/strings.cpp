// SPDX-License-Identifier: Apache-2.0
#include "common/strings.h"

namespace pb {

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

std::string quote_join(const std::vector<std::string>& v) {
  std::string s;
  for (auto& a : v) {
    if (!s.empty()) s += ' ';
    s += a.find_first_of(" '\"") == std::string::npos ? a : "'" + a + "'";
  }
  return s;
}

}  // namespace pb
