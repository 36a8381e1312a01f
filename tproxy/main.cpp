// SPDX-License-Identifier: Apache-2.0
// tproxy/main.cpp: pathbench-tproxy, the transparent proxy as a standalone program, for use by
// hand (usually under `ip netns exec pb-<id>-dut`). See tproxy/README.md.
#include <signal.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "proxy.h"

namespace po = boost::program_options;
using pb::tproxy::Config;
using pb::tproxy::Proxy;

namespace {

// Exit codes as in the rest of pathbench (bench/common/error.h).
constexpr int kExitOk = 0, kExitUsage = 2, kExitEnv = 3;

std::vector<int> parse_cpus(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) v.push_back(std::stoi(item));
  return v;
}

nlohmann::json counters_json(const Proxy& p) {
  nlohmann::json j;
  for (auto& [k, v] : p.counters().items()) j[k] = v;
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  std::string upstream, allowed = "198.18.0.0/15", cpus, protocols = "tcp,udp";
  bool plain = false, verbose = false;
  uint64_t nofile = 1 << 20;
  double stats_s = 0;

  po::options_description general("General");
  general.add_options()
      ("help,h", "show this help and exit")
      ("verbose,v", po::bool_switch(&verbose), "log debug messages (refused destinations, ...)")
      ("netns", po::value(&cfg.netns), "enter network namespace /run/netns/<name> first "
                                       "(or run the program under `ip netns exec`)")
      ("stats-interval-s", po::value(&stats_s)->default_value(0),
       "print the counters as one JSON line every this many seconds (0: only at exit)")
      ("nofile", po::value(&nofile)->default_value(nofile),
       "raise RLIMIT_NOFILE to this (each TCP connection holds 2 fds)");
  po::options_description listen("Listening");
  listen.add_options()
      ("listen-ip", po::value(&cfg.listen_ip)->default_value(cfg.listen_ip),
       "address to bind; the wildcard for TPROXY / sk_lookup / sk_assign")
      ("port", po::value(&cfg.port)->default_value(cfg.port), "TCP and UDP port (0: any)")
      ("protocols", po::value(&protocols)->default_value(protocols), "tcp, udp or tcp,udp")
      ("workers", po::value(&cfg.workers)->default_value(cfg.workers),
       "worker threads, each with its own epoll and SO_REUSEPORT listener")
      ("cpus", po::value(&cpus), "pin worker i to the i-th CPU of this comma-separated list")
      ("plain", po::bool_switch(&plain),
       "no IP_TRANSPARENT: clients connect to the proxy's own address (use with --upstream)")
      ("backlog", po::value(&cfg.backlog)->default_value(cfg.backlog), "listen() backlog");
  po::options_description up("Upstream");
  up.add_options()
      ("upstream", po::value(&upstream),
       "IP[:PORT]: connect here instead of the original destination (PORT default: the port "
       "the client used)")
      ("allowed", po::value(&allowed)->default_value(allowed),
       "comma-separated IPv4 prefixes upstream destinations must fall in; anything else is "
       "refused (TCP: RST) and counted. A transparent proxy must not be an open relay")
      ("keep-client-source", po::bool_switch(&cfg.keep_client_source),
       "full transparency: connect upstream from the client's address (needs the reply route "
       "and `socket transparent` mark rule in this namespace, see README)")
      ("upstream-mark", po::value(&cfg.upstream_mark)->default_value(0), "SO_MARK for upstream sockets")
      ("pipe-bytes", po::value(&cfg.pipe_bytes)->default_value(cfg.pipe_bytes),
       "relay pipe size (F_SETPIPE_SZ); 0: kernel default, 64 KiB");
  po::options_description udp("UDP");
  udp.add_options()
      ("udp-max-flows", po::value(&cfg.udp_max_flows)->default_value(cfg.udp_max_flows),
       "flows per worker; the least recently used one is evicted when full")
      ("udp-idle-timeout-s", po::value(&cfg.udp_idle_timeout_s)->default_value(cfg.udp_idle_timeout_s),
       "an idle flow is closed after this long")
      ("udp-batch", po::value(&cfg.udp_batch)->default_value(cfg.udp_batch), "recvmmsg batch");
  po::options_description all("pathbench-tproxy: pathbench's transparent TCP/UDP proxy\n\n"
                              "usage: pathbench-tproxy [options]\n"
                              "example (inside the DUT of topology px1, with an nft tproxy rule to :15001):\n"
                              "  ip netns exec pb-px1-dut pathbench-tproxy --port 15001 --stats-interval-s 1\n");
  all.add(general).add(listen).add(up).add(udp);

  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, all), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << all << "\nCounters are printed as JSON on stdout at exit (SIGINT/SIGTERM).\n"
                << "Exit codes: 0 ok, 2 bad usage, 3 setup failed (bind, permissions).\n";
      return kExitOk;
    }
    cfg.allowed = pb::tproxy::parse_ranges(allowed);
    cfg.cpus = parse_cpus(cpus);
    cfg.tcp = protocols.find("tcp") != std::string::npos;
    cfg.udp = protocols.find("udp") != std::string::npos;
    if (!cfg.tcp && !cfg.udp) throw std::invalid_argument("--protocols: want tcp, udp or tcp,udp");
    cfg.transparent = !plain;
    cfg.process_forks = false;  // this program never forks
    if (!upstream.empty()) {
      auto colon = upstream.find(':');
      cfg.fixed_upstream_ip = pb::tproxy::parse_ipv4(upstream.substr(0, colon));
      if (colon != std::string::npos) cfg.fixed_upstream_port = static_cast<uint16_t>(std::stoul(upstream.substr(colon + 1)));
    }
    if (plain && upstream.empty()) throw std::invalid_argument("--plain needs --upstream");
  } catch (const std::exception& e) {
    std::cerr << "pathbench-tproxy: " << e.what() << "\n(see --help)\n";
    return kExitUsage;
  }
  cfg.log = [verbose](pb::tproxy::LogLevel l, std::string_view m) {
    if (l == pb::tproxy::LogLevel::kDebug && !verbose) return;
    std::cerr << "pathbench-tproxy: " << m << "\n";
  };

  // Signals are taken synchronously by the main thread; workers inherit the blocked mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  uint64_t got = pb::tproxy::raise_nofile_limit(nofile);
  if (got < nofile) std::cerr << "pathbench-tproxy: RLIMIT_NOFILE is " << got << " (wanted " << nofile << ")\n";

  Proxy proxy(cfg);
  try {
    proxy.start();
  } catch (const std::exception& e) {
    std::cerr << "pathbench-tproxy: " << e.what() << "\n";
    return kExitEnv;
  }
  std::cerr << "pathbench-tproxy: listening on " << cfg.listen_ip << ":" << proxy.bound_port() << " ("
            << protocols << ", " << cfg.workers << " worker(s)"
            << (cfg.transparent ? ", transparent" : "") << ")\n";
  for (;;) {
    timespec ts{static_cast<time_t>(stats_s > 0 ? stats_s : 3600), static_cast<long>(stats_s > 0 ? (stats_s - static_cast<long>(stats_s)) * 1e9 : 0)};
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM) break;
    if (stats_s > 0) std::cout << counters_json(proxy).dump() << std::endl;
  }
  nlohmann::json j = counters_json(proxy);
  proxy.stop();
  std::cout << j.dump() << std::endl;
  return kExitOk;
}
