// SPDX-License-Identifier: Apache-2.0
// common/registry.h: self-registration for the harness's catalogues (paths, workloads). Each
// source file registers its entries at static initialisation with a maker function; the
// catalogue is built once, on first use, sorted by each entry's `order` then name. The harness is
// linked as an object library so no registration is dropped by the linker.
#pragma once
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

namespace pb {

template <class Info>
class Registry {
 public:
  static void add(std::function<Info()> make) { makers().push_back(std::move(make)); }
  static const std::vector<Info>& all() {
    static const std::vector<Info> v = [] {
      std::vector<Info> out;
      for (auto& m : makers()) out.push_back(m());
      std::stable_sort(out.begin(), out.end(), [](const Info& a, const Info& b) {
        return a.order != b.order ? a.order < b.order : a.name < b.name;
      });
      return out;
    }();
    return v;
  }
  static const Info* find(const std::string& name) {
    for (auto& i : all())
      if (i.name == name) return &i;
    return nullptr;
  }
  struct Registrar {
    explicit Registrar(std::function<Info()> make) { add(std::move(make)); }
  };

 private:
  static std::vector<std::function<Info()>>& makers() {
    static std::vector<std::function<Info()>> v;
    return v;
  }
};

#define PB_REGISTRY_CONCAT2(a, b) a##b
#define PB_REGISTRY_CONCAT(a, b) PB_REGISTRY_CONCAT2(a, b)
// PB_REGISTER(Info, maker): registers maker (a callable returning Info) from this source file.
#define PB_REGISTER(Info, ...) \
  static const ::pb::Registry<Info>::Registrar PB_REGISTRY_CONCAT(pb_registrar_, __LINE__)(__VA_ARGS__)

}  // namespace pb
