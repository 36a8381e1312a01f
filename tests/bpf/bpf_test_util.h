// SPDX-License-Identifier: Apache-2.0
// bpf_test_util.h: shared by the BPF tests: a throwaway topology with a unique id, root check.
#pragma once
#include <unistd.h>

#include <memory>
#include <string>

#include "roles/topology.h"
#include "kernel/process.h"
#include "kernel/netns.h"
#include "kernel/host.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/strings.h"

namespace pb::test {

// "bt<pid % 10^6>" plus a suffix: unique per test process, 1-8 characters [a-z0-9].
inline std::string topo_id(const char* prefix) {
  return std::string(prefix) + std::to_string(getpid() % 1000000);
}

inline const char* kNeedRoot =
    "needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN for namespaces); run `sudo ctest -L privileged`";

}  // namespace pb::test
