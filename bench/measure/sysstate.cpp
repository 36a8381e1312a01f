// SPDX-License-Identifier: Apache-2.0
#include "measure/sysstate.h"

#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>
#include <vector>

#include "common/fs.h"
#include "common/strings.h"
#include "kernel/host.h"
#include "kernel/netns.h"
#include "roles/roles.h"

namespace pb {

namespace {

std::vector<CpuTimes> read_per_cpu(uint64_t* ctxt) {
  std::vector<CpuTimes> out;
  auto text = read_file("/proc/stat");
  if (!text) return out;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("cpu", 0) == 0 && line.size() > 3 && std::isdigit(static_cast<unsigned char>(line[3])))
      out.push_back(CpuTimes::parse(line.substr(line.find(' '))));
    else if (line.rfind("ctxt ", 0) == 0)
      *ctxt = std::stoull(line.substr(5));
  }
  return out;
}

void read_softirqs(std::vector<uint64_t>& rx, std::vector<uint64_t>& tx) {
  auto text = read_file("/proc/softirqs");
  if (!text) return;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string name;
    l >> name;
    std::vector<uint64_t>* dst = name == "NET_RX:" ? &rx : name == "NET_TX:" ? &tx : nullptr;
    if (!dst) continue;
    uint64_t v;
    while (l >> v) dst->push_back(v);
  }
}

// /proc/thread-self/net/dev of the calling thread's namespace: the interfaces named in `want`.
void read_netdev(const std::vector<std::string>& want, std::map<std::string, IfCounters>& out) {
  auto text = read_file("/proc/thread-self/net/dev");
  if (!text) return;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    auto c = line.find(':');
    if (c == std::string::npos) continue;
    std::string dev = trim(line.substr(0, c));
    if (std::find(want.begin(), want.end(), dev) == want.end()) continue;
    std::istringstream l(line.substr(c + 1));
    uint64_t f[16] = {};
    for (auto& x : f) l >> x;
    IfCounters k;
    k.rx_bytes = f[0];
    k.rx_packets = f[1];
    k.rx_drops = f[3];
    k.tx_bytes = f[8];
    k.tx_packets = f[9];
    k.tx_drops = f[11];
    out[dev] = k;
  }
}

}  // namespace

SysSnapshot SysSnapshot::take(const Roles* roles) {
  SysSnapshot s;
  s.per_cpu = read_per_cpu(&s.ctxt);
  read_softirqs(s.net_rx, s.net_tx);
  if (roles) {
    const Wiring& w = roles->wiring();
    if (roles->client().local) run_in_netns(roles->client().netns, [&] { read_netdev({w.client_dev}, s.ifs); });
    if (roles->dut().local)
      run_in_netns(roles->dut().netns, [&] { read_netdev({w.dut_client_dev, w.dut_server_dev}, s.ifs); });
    if (roles->server().local) run_in_netns(roles->server().netns, [&] { read_netdev({w.server_dev}, s.ifs); });
  }
  return s;
}

nlohmann::json sys_between(const SysSnapshot& a, const SysSnapshot& b, const std::vector<int>& workload_cpus) {
  auto d = [](uint64_t x, uint64_t y) { return y > x ? y - x : 0; };
  nlohmann::json j;
  uint64_t steal = 0, other_busy = 0;
  nlohmann::json cpus = nlohmann::json::array();
  for (size_t i = 0; i < std::min(a.per_cpu.size(), b.per_cpu.size()); ++i) {
    const CpuTimes &x = a.per_cpu[i], &y = b.per_cpu[i];
    steal += d(x.steal, y.steal);
    nlohmann::json c = {{"cpu", i},
                        {"busy_ns", d(x.busy(), y.busy())},
                        {"softirq_ns", d(x.softirq, y.softirq)},
                        {"sys_ns", d(x.system, y.system)},
                        {"user_ns", d(x.user + x.nice, y.user + y.nice)},
                        {"steal_ns", d(x.steal, y.steal)}};
    if (i < a.net_rx.size() && i < b.net_rx.size()) c["net_rx_softirqs"] = d(a.net_rx[i], b.net_rx[i]);
    if (i < a.net_tx.size() && i < b.net_tx.size()) c["net_tx_softirqs"] = d(a.net_tx[i], b.net_tx[i]);
    const bool used = workload_cpus.empty() ||
                      std::find(workload_cpus.begin(), workload_cpus.end(), static_cast<int>(i)) != workload_cpus.end();
    if (!used) other_busy += d(x.busy(), y.busy());
    cpus.push_back(c);
  }
  j["steal_ns"] = steal;
  j["context_switches"] = d(a.ctxt, b.ctxt);
  j["per_cpu"] = cpus;
  j["workload_cpus"] = workload_cpus;
  j["other_cpus_busy_ns"] = other_busy;
  nlohmann::json ifs = nlohmann::json::object();
  for (auto& [dev, y] : b.ifs) {
    auto it = a.ifs.find(dev);
    if (it == a.ifs.end()) continue;
    const IfCounters& x = it->second;
    uint64_t rb = d(x.rx_bytes, y.rx_bytes), rp = d(x.rx_packets, y.rx_packets);
    uint64_t tb = d(x.tx_bytes, y.tx_bytes), tp = d(x.tx_packets, y.tx_packets);
    nlohmann::json e = {{"rx_bytes", rb}, {"rx_packets", rp}, {"tx_bytes", tb}, {"tx_packets", tp},
                        {"rx_drops", d(x.rx_drops, y.rx_drops)}, {"tx_drops", d(x.tx_drops, y.tx_drops)}};
    if (rp) e["rx_bytes_per_packet"] = static_cast<double>(rb) / static_cast<double>(rp);
    if (tp) e["tx_bytes_per_packet"] = static_cast<double>(tb) / static_cast<double>(tp);
    ifs[dev] = e;
  }
  j["interfaces"] = ifs;
  return j;
}

double cpu_speed_probe(int cpu) {
  double best = 0;
  std::thread t([&] {
    pin_thread(cpu);
    for (int r = 0; r < 3; ++r) {
      timespec t0, t1;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
      uint64_t x = 0x9E3779B97F4A7C15ull;
      for (int i = 0; i < 1000000; ++i) {  // xorshift-multiply: integer ALU, no memory traffic
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x *= 0x2545F4914F6CDD1Dull;
      }
      asm volatile("" : : "r"(x));
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
      double ns = static_cast<double>(t1.tv_sec - t0.tv_sec) * 1e9 + static_cast<double>(t1.tv_nsec - t0.tv_nsec);
      if (best == 0 || ns < best) best = ns;
    }
  });
  t.join();
  return best;
}

std::optional<double> memory_speed_probe(int cpu) {
  constexpr size_t kBytes = 4u << 20;
  double best = 0;
  std::thread t([&] {
    pin_thread(cpu);
    // mmap, not a vector: freed 4 MiB blocks raise glibc's mmap threshold and then stay resident
    // in the probe thread's arena (the soak test saw RSS grow 9 MiB over 10 runs).
    void* mem = mmap(nullptr, 2 * kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return;
    auto* src = static_cast<unsigned char*>(mem);
    auto* dst = src + kBytes;
    std::memset(src, 0x5a, kBytes);  // touched: no page faults timed
    std::memcpy(dst, src, kBytes);
    for (int r = 0; r < 3; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int k = 0; k < 4; ++k) {
        src[k] = static_cast<unsigned char>(k);
        std::memcpy(dst, src, kBytes);
        asm volatile("" : : "r"(dst) : "memory");
      }
      const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
      const double per_mib = ns / (4.0 * kBytes / (1u << 20));
      if (best == 0 || per_mib < best) best = per_mib;
    }
    munmap(mem, 2 * kBytes);
  });
  t.join();
  if (best == 0) return std::nullopt;
  return best;
}

}  // namespace pb
