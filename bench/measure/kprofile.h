// SPDX-License-Identifier: Apache-2.0
// measure/kprofile.h: where a window's CPU goes, by kernel function (`pathbench run
// --kernel-profile-ns N`). A BPF perf_event program (bpf/kprof.bpf.c) on the software cpu-clock
// event of every online CPU counts samples per instruction pointer while the window is measured;
// they are symbolized here with /proc/kallsyms. In cost mode (docs/cost.md) a guest nanosecond is
// an instruction, so a sample falls every N instructions and samples x N are instructions spent
// in that function; natively they are CPU nanoseconds.
//
// Why not ftrace's function profiler: Debian's kernels are built without CONFIG_FUNCTION_PROFILER
// (6.1 and 6.12 both), and it instruments every call. Why not perf record: it needs linux-perf
// matched to each guest kernel and gives one profile per process, not per measured window.
// Sampling costs an interrupt per sample: the profile changes what it measures by that much,
// which docs/cost.md measures (a run with and without), so its instruction counts are read as
// shares and per-function figures, never mixed into the unprofiled run's totals.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pb {

// --kernel-profile-ns (process-wide, like --bpf-stats): 0 = off.
void set_kernel_profile_ns(uint64_t ns);
uint64_t kernel_profile_ns();

struct KernelSymbol {
  uint64_t addr = 0;
  std::string name, module;  // module "" = the kernel image
};

// /proc/kallsyms' text symbols (types t T w W), sorted by address.
class Kallsyms {
 public:
  static Kallsyms parse(const std::string& text);
  static Kallsyms load();  // /proc/kallsyms; empty when addresses are hidden (kptr_restrict)
  // The symbol an address falls in (the last one at or below it), or null.
  const KernelSymbol* find(uint64_t ip) const;
  size_t size() const { return syms_.size(); }

 private:
  std::vector<KernelSymbol> syms_;
};

// A window's samples (ip -> count; ip 0 = user mode) as metrics.kernel_profile: totals and the
// `top` functions by samples (results/README.md).
nlohmann::json profile_json(const std::map<uint64_t, uint64_t>& samples, const Kallsyms& syms, uint64_t period_ns,
                            uint64_t dropped, size_t top);

// The sampler: loaded and attached when constructed (samples are counted only between start and
// stop), detached when destroyed. Throws BpfError / EnvError when the kernel refuses.
class KernelProfiler {
 public:
  explicit KernelProfiler(uint64_t period_ns);
  ~KernelProfiler();
  KernelProfiler(const KernelProfiler&) = delete;
  KernelProfiler& operator=(const KernelProfiler&) = delete;
  void start();
  nlohmann::json stop(size_t top = 60);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pb
