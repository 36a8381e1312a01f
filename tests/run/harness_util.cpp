// SPDX-License-Identifier: Apache-2.0
#include "harness_util.h"

#include <unistd.h>

#include <cstdlib>

namespace pbtest {

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
