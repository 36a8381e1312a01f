// workloads/xdp_pps.cpp: live-frame packet-rate generator (issue 3). Placeholder until it lands.
#include "core/workload.h"

namespace pb {
void add_xdp_workloads(std::vector<WorkloadInfo>&) {}
}  // namespace pb
