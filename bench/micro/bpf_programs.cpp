// SPDX-License-Identifier: Apache-2.0
// bpf_programs.cpp: pathbench-micro. The per-packet cost of every forwarding program on every
// packet fixture (bench/roles/packet_fixtures.h, the same table the unit tests check), measured by
// the kernel under BPF_PROG_TEST_RUN: UseManualTime() with the kernel's reported duration, so
// syscall and copy overheads are not in the numbers. Names: BM_XdpFwd/udp_fwd, BM_TcFwd/no_route,
// ...; BM_XdpPass/udp_fwd is the floor (an empty XDP program under the same harness).
//
// bpf_fib_lookup needs the DUT's routes and neighbours, so main() builds a throwaway topology
// (netns/topology.sh up mb<pid>) and every benchmark runs with its thread inside the DUT
// namespace. Each fixture's verdict is checked before timing: a program that takes the wrong
// branch is reported with SkipWithError, never timed.
//
// XDP dispatcher: every BPF_PROG_RUN of an XDP program adds it to the kernel's XDP dispatcher and
// removes it again, and each change waits for an RCU grace period (milliseconds here), which made
// one benchmark take many minutes of wall time. A program already attached in native mode stays
// in the dispatcher (the test run only moves a refcount), so main() attaches the XDP programs to
// the throwaway topology's cli0/srv0, where no traffic flows. Kernel-reported times are the
// same either way; only the wall time changes.
//
// Usage: sudo build/pathbench-micro [--benchmark_filter=XdpFwd] [--benchmark_format=json]
#include <benchmark/benchmark.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "git_sha.h"
#include "roles/packet_fixtures.h"
#include "kernel/bpf/skeleton.h"
#include "kernel/bpf/stats.h"
#include "kernel/bpf/attach.h"
#include "kernel/bpf/test_run.h"
#include "kernel/bpf/fwd_counters.h"
#include "common/error.h"
#include "roles/topology.h"
#include "kernel/process.h"
#include "kernel/netns.h"
#include "kernel/host.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/strings.h"
#include "tc_fwd.skel.h"
#include "xdp_fwd.skel.h"
#include "xdp_pass.skel.h"

namespace {

using namespace pb;
using namespace pb::bpf;
namespace fx = pb::bpf::fixtures;

constexpr uint32_t kXdpPass = 2, kXdpRedirect = 4, kTcActOk = 0, kTcActRedirect = 7;

// The test run reuses one buffer for all repetitions of a call, so a forwarding program sees
// the TTL it decremented in the previous repetition: 60 repetitions keep a TTL-64 packet on the
// forwarding branch. Packets the program does not modify can repeat more.
constexpr uint32_t kRepeatModifying = 60;
constexpr uint32_t kRepeatReadOnly = 1000;

struct Env {
  std::unique_ptr<Topology> topo;
  unsigned if0 = 0, if1 = 0;
  SkelPtr<tc_fwd> tc;
  SkelPtr<xdp_fwd> xdp;
  SkelPtr<xdp_pass> pass;
  std::unique_ptr<XdpLink> anchor_fwd, anchor_pass;  // keep the programs in the XDP dispatcher
};

enum class Kind { kXdp, kTc };

void run_case(benchmark::State& st, const Env& env, Kind kind, int prog_fd, const fx::Fixture& f,
              uint32_t want) {
  ScopedNetns in(env.topo->dut_ns());
  const auto pkt = fx::build_packet(f.spec);
  const unsigned ifindex = f.ingress == fx::Ingress::kDut0 ? env.if0 : env.if1;
  auto run = [&](uint32_t repeat) {
    return kind == Kind::kXdp ? test_run(prog_fd, pkt, ifindex, repeat)
                              : test_run(prog_fd, pkt, ifindex, repeat);
  };
  TestRun check = run(1);
  if (check.err) {
    st.SkipWithError(errno_msg("BPF_PROG_TEST_RUN", -check.err).c_str());
    return;
  }
  if (check.retval != want) {
    st.SkipWithError(fmt::format("verdict {} but fixture '{}' expects {}", check.retval, f.name, want).c_str());
    return;
  }
  const uint32_t repeat = check.out == pkt ? kRepeatReadOnly : kRepeatModifying;
  double total_ns = 0;
  uint64_t packets = 0;
  for (auto _ : st) {
    TestRun r = run(repeat);
    if (r.err) {
      st.SkipWithError(errno_msg("BPF_PROG_TEST_RUN", -r.err).c_str());
      break;
    }
    const double ns = static_cast<double>(r.duration_ns) * repeat;
    st.SetIterationTime(ns / 1e9);
    total_ns += ns;
    packets += repeat;
  }
  if (packets) st.counters["ns_per_packet"] = total_ns / static_cast<double>(packets);
  st.counters["repeat"] = repeat;
  st.SetItemsProcessed(static_cast<int64_t>(packets));
  st.SetLabel(f.description);
}

Env make_env(const std::string& id) {
  Env e;
  e.topo = std::make_unique<Topology>(id);
  e.if0 = ifindex_in_netns(e.topo->dut_ns(), Addr::kDutClientDev);
  e.if1 = ifindex_in_netns(e.topo->dut_ns(), Addr::kDutServerDev);
  e.tc.reset(open_skeleton<tc_fwd>("tc_fwd"));
  e.tc->rodata->ifindex_slot0 = e.if0;
  e.tc->rodata->ifindex_slot1 = e.if1;
  load_skeleton(e.tc.get(), "tc_fwd");
  e.xdp.reset(open_skeleton<xdp_fwd>("xdp_fwd"));
  e.xdp->rodata->ifindex_slot0 = e.if0;
  e.xdp->rodata->ifindex_slot1 = e.if1;
  load_skeleton(e.xdp.get(), "xdp_fwd");
  e.pass.reset(open_skeleton<xdp_pass>("xdp_pass"));
  load_skeleton(e.pass.get(), "xdp_pass");
  run_in_netns(e.topo->dut_ns(), [&] {  // devmap ifindexes resolve in the writer's namespace
    for (unsigned idx : {e.if0, e.if1}) {
      __u32 k = idx, v = idx;
      if (bpf_map_update_elem(bpf_map__fd(e.xdp->maps.tx_ports), &k, &v, 0))
        throw BpfError(errno_msg("devmap update", errno));
    }
  });
  e.anchor_fwd = std::make_unique<XdpLink>(e.topo->cli_ns(), Addr::kClientDev,
                                           bpf_program__fd(e.xdp->progs.xdp_fwd));
  e.anchor_pass = std::make_unique<XdpLink>(e.topo->srv_ns(), Addr::kServerDev,
                                            bpf_program__fd(e.pass->progs.xdp_pass));
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return pb::kExitUsage;
  if (!pb::is_root()) {
    std::fprintf(stderr, "pathbench-micro: needs root (BPF_PROG_TEST_RUN, network namespaces)\n");
    return pb::kExitSkipped;
  }
  // SIGINT/SIGTERM: remove the topology and leave (BPF programs go with the process).
  static std::string topo_id = "mb" + std::to_string(getpid() % 1000000);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int sig = 0;
    sigwait(&set, &sig);
    std::fprintf(stderr, "pathbench-micro: signal %d, removing topology %s\n", sig, topo_id.c_str());
    pb::run_cmd({pb::topology_script(), "down", topo_id}, {}, 60);
    _exit(128 + sig);
  }).detach();
  Env env;
  try {
    env = make_env(topo_id);
  } catch (const pb::Error& e) {
    std::fprintf(stderr, "pathbench-micro: %s\n", e.what());
    return e.code();
  }
  benchmark::AddCustomContext("kernel_release", pb::kernel_release());
  benchmark::AddCustomContext("pathbench_git_sha", PATHBENCH_GIT_SHA);
  benchmark::AddCustomContext("timing", "kernel-reported BPF_PROG_TEST_RUN duration (manual time)");
  const int xdp_fd = bpf_program__fd(env.xdp->progs.xdp_fwd);
  const int tc_fd = bpf_program__fd(env.tc->progs.tc_fwd);
  const int pass_fd = bpf_program__fd(env.pass->progs.xdp_pass);
  for (const auto& f : fx::forwarding_fixtures()) {
    benchmark::RegisterBenchmark(("BM_XdpFwd/" + std::string(f.name)).c_str(),
                                 [&env, &f, xdp_fd](benchmark::State& st) {
                                   run_case(st, env, Kind::kXdp, xdp_fd, f, f.forwarded ? kXdpRedirect : kXdpPass);
                                 })
        ->UseManualTime();
    benchmark::RegisterBenchmark(("BM_TcFwd/" + std::string(f.name)).c_str(),
                                 [&env, &f, tc_fd](benchmark::State& st) {
                                   run_case(st, env, Kind::kTc, tc_fd, f, f.forwarded ? kTcActRedirect : kTcActOk);
                                 })
        ->UseManualTime();
  }
  const fx::Fixture& udp = fx::forwarding_fixtures().front();
  benchmark::RegisterBenchmark("BM_XdpPass/udp_fwd", [&env, &udp, pass_fd](benchmark::State& st) {
    run_case(st, env, Kind::kXdp, pass_fd, udp, kXdpPass);
  })->UseManualTime();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;  // env's destructors unload the programs and remove the topology
}
