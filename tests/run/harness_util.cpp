// SPDX-License-Identifier: Apache-2.0
#include "harness_util.h"

#include <unistd.h>

#include <cstdlib>
#include <set>
#include <sstream>

namespace pbtest {

std::string host_snapshot() {
  std::string tool = std::string(PATHBENCH_SOURCE_DIR) + "/../shared/tools/host-snapshot";
  if (access(tool.c_str(), R_OK) == 0) return pb::run_cmd({"bash", tool}, {}, 60).out;
  std::string s;
  for (auto argv : std::vector<std::vector<std::string>>{
           {"ip", "netns", "list"}, {"ip", "-o", "link", "show"}, {"ip", "rule", "show"},
           {"ip", "route", "show", "table", "all"}, {"nft", "list", "ruleset"},
           {"bpftool", "prog", "show"}, {"bpftool", "link", "show"},
           {"sysctl", "net.ipv4.ip_forward", "kernel.bpf_stats_enabled", "net.core.rmem_max"}})
    s += pb::run_cmd(argv, {}, 30).out;
  return s;
}

std::string diff_lines(const std::string& a, const std::string& b) {
  std::multiset<std::string> la, lb;
  std::istringstream ia(a), ib(b);
  std::string l;
  while (std::getline(ia, l)) la.insert(l);
  while (std::getline(ib, l)) lb.insert(l);
  std::string out;
  for (auto& x : la)
    if (!lb.count(x)) out += "- " + x + "\n";
  for (auto& x : lb)
    if (!la.count(x)) out += "+ " + x + "\n";
  return out;
}

pb::CmdResult pathbench(const std::vector<std::string>& args, int timeout_s) {
  std::vector<std::string> argv{PATHBENCH_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return pb::run_cmd(argv, {}, timeout_s);
}

std::string temp_dir(const std::string& tag) {
  std::string t = "/tmp/pbtest-" + tag + "-XXXXXX";
  std::vector<char> buf(t.begin(), t.end());
  buf.push_back(0);
  if (!mkdtemp(buf.data())) std::abort();
  return buf.data();
}

nlohmann::json load_json(const std::string& path) {
  auto t = pb::read_file(path);
  if (!t) return nullptr;
  return nlohmann::json::parse(*t, nullptr, false);
}

std::vector<std::string> namespaces_of(const std::string& run_id) {
  std::vector<std::string> v;
  for (auto& l : pb::split(pb::run_cmd({"ip", "netns", "list"}).out, '\n')) {
    std::string name = l.substr(0, l.find(' '));
    if (name.rfind("pb-" + run_id + "-", 0) == 0) v.push_back(name);
  }
  return v;
}

}  // namespace pbtest
