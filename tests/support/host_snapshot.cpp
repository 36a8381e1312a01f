// SPDX-License-Identifier: Apache-2.0
#include "host_snapshot.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "common/clock.h"
#include "kernel/process.h"

namespace pbtest {

std::string host_snapshot() {
  const std::string tool = std::string(PATHBENCH_SOURCE_DIR) + "/scripts/host-snapshot";
  pb::CmdResult r = pb::run_cmd({tool}, {}, 60);
  if (r.status != 0 || r.out.find("### netns") == std::string::npos) {
    ADD_FAILURE() << tool << " failed (exit " << r.status << "): " << r.err;
    return "host-snapshot failed at " + std::to_string(pb::mono_ns());
  }
  return r.out;
}

std::string diff_lines(const std::string& a, const std::string& b) {
  std::multiset<std::string> la, lb;
  std::istringstream ia(a), ib(b);
  std::string l;
  while (std::getline(ia, l)) la.insert(l);
  while (std::getline(ib, l)) lb.insert(l);
  std::string out;
  for (auto& x : la)
    if (!lb.count(x)) out += "- " + x + "\n";
  for (auto& x : lb)
    if (!la.count(x)) out += "+ " + x + "\n";
  return out;
}

}  // namespace pbtest
