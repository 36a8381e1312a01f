// SPDX-License-Identifier: Apache-2.0
// kernel/ethtool.h: interface offloads (`ethtool -k` / `-K`) inside a namespace. Offloads decide
// how many bytes each packet through the DUT carries (64 KB GSO batches or MTU-sized frames), so
// they are read for the record and changed only by guards that restore them.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pb {

// Every feature of `ethtool -k dev` in namespace ns: "tx-checksumming" -> "off" (the "[fixed]"
// suffix dropped). Empty when ethtool fails (device absent, ethtool missing).
std::map<std::string, std::string> ethtool_features(const std::string& ns, const std::string& dev);
// The named features only, as JSON ({} when unreadable).
nlohmann::json ethtool_features_json(const std::string& ns, const std::string& dev,
                                     const std::vector<std::string>& names);

// Driver, firmware and bus of `ethtool -i dev`, and queue counts: `ethtool -l` (channels) where the
// driver has them, else /sys/class/net/<dev>/queues (rx-N, tx-N). Unknown values are null.
nlohmann::json ethtool_driver_json(const std::string& ns, const std::string& dev);

// `ethtool -K dev <feature> <value>` inside a namespace, restored on destruction when changed.
// `shown_as` is how `ethtool -k` names it ("tx" is shown as "tx-checksumming").
class EthtoolFeature {
 public:
  EthtoolFeature(std::string ns, std::string dev, std::string feature, std::string want,
                 std::string shown_as);
  ~EthtoolFeature();
  EthtoolFeature(const EthtoolFeature&) = delete;
  EthtoolFeature& operator=(const EthtoolFeature&) = delete;
  bool changed() const { return changed_; }
  nlohmann::json to_json() const;  // {"feature", "before", "during"}

 private:
  std::string ns_, dev_, feature_, shown_as_, before_, now_;
  bool changed_ = false;
};

}  // namespace pb
