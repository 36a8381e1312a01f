// SPDX-License-Identifier: Apache-2.0
// kernel/bpf/test_run.h: BPF_PROG_TEST_RUN of XDP and TC programs on a packet, for unit tests,
// feasibility probes and micro-benchmarks. The kernel reports the program's own average time
// per repetition, without syscall and copy overheads.
#pragma once
#include <cstdint>
#include <vector>

namespace pb::bpf {

struct TestRun {
  int err = 0;               // 0 or -errno
  uint32_t retval = 0;       // program's verdict
  uint32_t duration_ns = 0;  // kernel's average per repetition
  std::vector<uint8_t> out;  // packet after the program
};
// Runs an XDP or TC (sched_cls) program on `pkt` as if received on `ifindex` of the calling
// thread's namespace (0: no device context). The program's type (read from the kernel) decides
// the context: xdp_md for XDP, __sk_buff for TC. `repeat` > 1 for timing.
TestRun test_run(int prog_fd, const std::vector<uint8_t>& pkt, uint32_t ifindex, uint32_t repeat = 1);

}  // namespace pb::bpf
