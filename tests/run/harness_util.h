// SPDX-License-Identifier: Apache-2.0
// harness_util.h: helpers for privileged end-to-end tests of the pathbench binary.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernel/process.h"
#include "kernel/netns.h"
#include "kernel/host.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/strings.h"
#include "host_snapshot.h"

namespace pbtest {

pb::CmdResult pathbench(const std::vector<std::string>& args, int timeout_s = 300);
std::string temp_dir(const std::string& tag);
nlohmann::json load_json(const std::string& path);
// Namespaces whose name starts with pb-<id>-.
std::vector<std::string> namespaces_of(const std::string& run_id);

}  // namespace pbtest

#define PB_REQUIRE_ROOT()                                                              \
  do {                                                                                 \
    if (!pb::is_root()) GTEST_SKIP() << "needs root (network namespaces, BPF): run ctest as root"; \
  } while (0)
