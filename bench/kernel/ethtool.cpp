// SPDX-License-Identifier: Apache-2.0
#include "kernel/ethtool.h"

#include "common/log.h"
#include "common/strings.h"
#include "kernel/netns.h"
#include "kernel/process.h"

namespace pb {

std::map<std::string, std::string> ethtool_features(const std::string& ns, const std::string& dev) {
  std::map<std::string, std::string> out;
  CmdResult r;
  try {
    r = run_cmd(in_netns(ns, {"ethtool", "-k", dev}), {}, 10);
  } catch (const std::exception&) {
    return out;
  }
  if (r.status != 0) return out;
  for (auto& line : split(r.out, '\n')) {
    auto c = line.find(':');
    if (c == std::string::npos) continue;
    std::string k = trim(line.substr(0, c)), v = trim(line.substr(c + 1));
    if (k.empty() || v.empty()) continue;
    out[k] = v.substr(0, v.find(' '));
  }
  return out;
}

nlohmann::json ethtool_features_json(const std::string& ns, const std::string& dev,
                                     const std::vector<std::string>& names) {
  nlohmann::json j = nlohmann::json::object();
  auto all = ethtool_features(ns, dev);
  for (auto& n : names)
    if (auto it = all.find(n); it != all.end()) j[n] = it->second;
  return j;
}

nlohmann::json ethtool_driver_json(const std::string& ns, const std::string& dev) {
  nlohmann::json j = {{"driver", nullptr}, {"version", nullptr}, {"firmware_version", nullptr}, {"bus_info", nullptr}};
  auto kv = [](const std::string& text) {
    std::map<std::string, std::string> m;
    for (auto& line : split(text, '\n')) {
      auto c = line.find(':');
      if (c != std::string::npos) m[trim(line.substr(0, c))] = trim(line.substr(c + 1));
    }
    return m;
  };
  try {
    CmdResult r = run_cmd(in_netns(ns, {"ethtool", "-i", dev}), {}, 10);
    if (r.status == 0) {
      auto m = kv(r.out);
      for (auto [key, shown] : {std::pair<const char*, const char*>{"driver", "driver"}, {"version", "version"},
                                {"firmware_version", "firmware-version"}, {"bus_info", "bus-info"}})
        if (m.count(shown) && !m[shown].empty()) j[key] = m[shown];
    }
    // Channels: the "Current hardware settings" block (the second one of each name).
    nlohmann::json q = nullptr;
    r = run_cmd(in_netns(ns, {"ethtool", "-l", dev}), {}, 10);
    if (r.status == 0) {
      auto cur = r.out.find("Current hardware settings:");
      if (cur != std::string::npos) {
        q = nlohmann::json::object();
        for (auto& [k, v] : kv(r.out.substr(cur)))
          if (k == "RX") q["rx"] = v;
          else if (k == "TX") q["tx"] = v;
          else if (k == "Combined") q["combined"] = v;
      }
    }
    if (q.is_null()) {
      // No channel API (veth on older kernels): count the queue directories.
      r = run_cmd(in_netns(ns, {"ls", "/sys/class/net/" + dev + "/queues"}), {}, 10);
      if (r.status == 0) {
        unsigned rx = 0, tx = 0;
        for (auto& name : split(r.out, '\n')) {
          if (name.rfind("rx-", 0) == 0) ++rx;
          if (name.rfind("tx-", 0) == 0) ++tx;
        }
        q = {{"rx", rx}, {"tx", tx}, {"source", "sysfs"}};
      }
    }
    j["queues"] = q;
  } catch (const std::exception&) {
  }
  return j;
}

EthtoolFeature::EthtoolFeature(std::string ns, std::string dev, std::string feature, std::string want,
                               std::string shown_as)
    : ns_(std::move(ns)), dev_(std::move(dev)), feature_(std::move(feature)), shown_as_(std::move(shown_as)) {
  auto value = [&] {
    auto all = ethtool_features(ns_, dev_);
    auto it = all.find(shown_as_);
    return it == all.end() ? std::string("unknown") : it->second;
  };
  before_ = value();
  if (before_ != want) {
    run_cmd_checked(in_netns(ns_, {"ethtool", "-K", dev_, feature_, want}));
    changed_ = true;
  }
  now_ = value();
}

EthtoolFeature::~EthtoolFeature() {
  if (!changed_) return;
  try {
    run_cmd_checked(in_netns(ns_, {"ethtool", "-K", dev_, feature_, before_ == "on" ? "on" : "off"}));
  } catch (const std::exception& e) {
    log::warn("restoring {} {} on {}/{}: {}", feature_, before_, ns_, dev_, e.what());
  }
}

nlohmann::json EthtoolFeature::to_json() const {
  return {{"feature", shown_as_}, {"before", before_}, {"during", now_}};
}

}  // namespace pb
