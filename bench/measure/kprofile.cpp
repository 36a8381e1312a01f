// SPDX-License-Identifier: Apache-2.0
#include "measure/kprofile.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <sstream>

#include "common/error.h"
#include "common/fs.h"
#include "common/strings.h"
#include "kernel/bpf/skeleton.h"
#include "kprof.skel.h"

namespace pb {

static std::atomic<uint64_t> g_profile_ns{0};
void set_kernel_profile_ns(uint64_t ns) { g_profile_ns = ns; }
uint64_t kernel_profile_ns() { return g_profile_ns; }

Kallsyms Kallsyms::parse(const std::string& text) {
  Kallsyms k;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    // "ffffffff81000000 T _stext" or "ffffffffc0a01000 t nft_do_chain\t[nf_tables]"
    std::istringstream l(line);
    std::string addr, type, name, module;
    if (!(l >> addr >> type >> name)) continue;
    if (type.size() != 1 || std::string("tTwW").find(type[0]) == std::string::npos) continue;
    l >> module;
    if (module.size() > 2 && module.front() == '[' && module.back() == ']') module = module.substr(1, module.size() - 2);
    else module.clear();
    uint64_t a = 0;
    try {
      a = std::stoull(addr, nullptr, 16);
    } catch (...) {
      continue;
    }
    if (a == 0) continue;  // hidden addresses
    k.syms_.push_back({a, name, module});
  }
  std::sort(k.syms_.begin(), k.syms_.end(), [](const KernelSymbol& a, const KernelSymbol& b) { return a.addr < b.addr; });
  return k;
}

Kallsyms Kallsyms::load() { return parse(read_file("/proc/kallsyms").value_or("")); }

const KernelSymbol* Kallsyms::find(uint64_t ip) const {
  auto it = std::upper_bound(syms_.begin(), syms_.end(), ip, [](uint64_t v, const KernelSymbol& s) { return v < s.addr; });
  if (it == syms_.begin()) return nullptr;
  return &*std::prev(it);
}

nlohmann::json profile_json(const std::map<uint64_t, uint64_t>& samples, const Kallsyms& syms, uint64_t period_ns,
                            uint64_t dropped, size_t top) {
  uint64_t user = 0, kernel = 0, unknown = 0;
  std::map<std::pair<std::string, std::string>, uint64_t> by_fn;
  for (auto [ip, n] : samples) {
    if (ip == 0) {
      user += n;
      continue;
    }
    kernel += n;
    const KernelSymbol* s = syms.find(ip);
    if (!s) {
      unknown += n;
      continue;
    }
    by_fn[{s->name, s->module}] += n;
  }
  std::vector<std::pair<std::pair<std::string, std::string>, uint64_t>> v(by_fn.begin(), by_fn.end());
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  nlohmann::json fns = nlohmann::json::array();
  for (size_t i = 0; i < v.size() && i < top; ++i) {
    nlohmann::json f = {{"function", v[i].first.first}, {"samples", v[i].second}};
    f["module"] = v[i].first.second.empty() ? nlohmann::json(nullptr) : nlohmann::json(v[i].first.second);
    fns.push_back(f);
  }
  return {{"period_ns", period_ns},
          {"samples", user + kernel},
          {"user_samples", user},
          {"kernel_samples", kernel},
          {"unsymbolized_samples", unknown},
          {"dropped_samples", dropped},
          {"functions_seen", by_fn.size()},
          {"method", "BPF perf_event program on cpu-clock (every period_ns of CPU time, all online CPUs), "
                     "symbolized with /proc/kallsyms"},
          {"functions", fns}};
}

struct KernelProfiler::Impl {
  bpf::SkelPtr<kprof> skel;
  std::vector<bpf_link*> links;
  uint64_t period = 0;
  Kallsyms syms;
  ~Impl() {
    for (bpf_link* l : links) bpf_link__destroy(l);  // disables and closes its perf event
  }
};

KernelProfiler::KernelProfiler(uint64_t period_ns) : impl_(std::make_unique<Impl>()) {
  impl_->period = period_ns;
  impl_->skel = bpf::open_and_load<kprof>("kernel profiler (bpf/kprof.bpf.c)");
  impl_->syms = Kallsyms::load();
  if (impl_->syms.size() == 0)
    throw EnvError("kernel profiler: /proc/kallsyms shows no addresses (kptr_restrict, or not root)");
  const int ncpu = libbpf_num_possible_cpus();
  for (int cpu = 0; cpu < ncpu; ++cpu) {
    perf_event_attr a{};
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_CPU_CLOCK;
    a.sample_period = period_ns;
    int fd = static_cast<int>(syscall(SYS_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC));
    if (fd < 0) {
      if (errno == ENODEV) continue;  // a possible CPU that is not online
      throw EnvError(errno_msg("kernel profiler: perf_event_open(cpu-clock, cpu " + std::to_string(cpu) + ")", errno));
    }
    bpf_link* l = bpf_program__attach_perf_event(impl_->skel->progs.pb_kprof, fd);
    if (!l) {
      int e = errno;
      close(fd);
      throw BpfError(errno_msg("kernel profiler: attach to cpu-clock on cpu " + std::to_string(cpu), e));
    }
    impl_->links.push_back(l);  // the link owns fd
  }
  if (impl_->links.empty()) throw EnvError("kernel profiler: no online CPU took a cpu-clock event");
}

KernelProfiler::~KernelProfiler() = default;

void KernelProfiler::start() {
  const int fd = bpf_map__fd(impl_->skel->maps.samples);
  uint64_t key = 0, next = 0;
  std::vector<uint64_t> keys;
  for (int r = bpf_map_get_next_key(fd, nullptr, &next); r == 0; r = bpf_map_get_next_key(fd, &key, &next)) {
    keys.push_back(next);
    key = next;
  }
  for (uint64_t k : keys) bpf_map_delete_elem(fd, &k);
  impl_->skel->bss->dropped = 0;
  __atomic_store_n(&impl_->skel->bss->enabled, 1, __ATOMIC_SEQ_CST);
}

nlohmann::json KernelProfiler::stop(size_t top) {
  __atomic_store_n(&impl_->skel->bss->enabled, 0, __ATOMIC_SEQ_CST);
  const int fd = bpf_map__fd(impl_->skel->maps.samples);
  std::map<uint64_t, uint64_t> samples;
  uint64_t key = 0, next = 0, v = 0;
  for (int r = bpf_map_get_next_key(fd, nullptr, &next); r == 0; r = bpf_map_get_next_key(fd, &key, &next)) {
    if (bpf_map_lookup_elem(fd, &next, &v) == 0) samples[next] += v;
    key = next;
  }
  return profile_json(samples, impl_->syms, impl_->period, impl_->skel->bss->dropped, top);
}

}  // namespace pb
