// SPDX-License-Identifier: Apache-2.0
#include "common/testhook.h"

#include <cstdlib>

namespace pb {

std::string fault_hook() {
  static const std::string v = [] {
    const char* f = std::getenv("PATHBENCH_FAULT");
    return std::string(f ? f : "");
  }();
  return v;
}

bool fault_injected(std::string_view name) { return !fault_hook().empty() && fault_hook() == name; }

}  // namespace pb
