#include "core/topology.h"

#include <cstdlib>

#include "core/error.h"
#include "core/log.h"
#include "core/util.h"

#ifndef PATHBENCH_SOURCE_DIR
#error "PATHBENCH_SOURCE_DIR must be defined by the build"
#endif

namespace pb {

std::string topology_script() {
  if (const char* e = std::getenv("PATHBENCH_TOPOLOGY_SCRIPT")) return e;
  return std::string(PATHBENCH_SOURCE_DIR) + "/netns/topology.sh";
}

Topology::Topology(std::string run_id)
    : id_(std::move(run_id)), cli_("pb-" + id_ + "-cli"), dut_("pb-" + id_ + "-dut"),
      srv_("pb-" + id_ + "-srv") {
  // Always from scratch: `up` on an existing topology keeps it as it is (idempotent, for hands),
  // but a run must not inherit whatever a crashed run with the same --run-id left inside it.
  run_cmd({topology_script(), "down", id_}, {}, 60);
  CmdResult r = run_cmd({topology_script(), "up", id_}, {}, 60);
  if (r.status != 0) {
    // The script removes a partial topology itself; make sure anyway.
    run_cmd({topology_script(), "down", id_}, {}, 60);
    throw EnvError("topology up " + id_ + " failed: " + trim(r.err));
  }
  log::debug("topology {} up", id_);
}

Topology::~Topology() {
  try {
    down(id_);
    log::debug("topology {} down", id_);
  } catch (const std::exception& e) {
    log::error("topology down {}: {}", id_, e.what());
  }
}

void Topology::down(const std::string& run_id) {
  run_cmd_checked({topology_script(), "down", run_id}, {}, 60);
}

}  // namespace pb
