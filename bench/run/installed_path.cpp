// SPDX-License-Identifier: Apache-2.0
#include "run/installed_path.h"

#include "paths/observer.h"
#include "peers/haproxy.h"
#include "run/calibration.h"

namespace pb {

std::optional<std::string> InstalledPath::unsupported(const PathInfo& info, const InstallOptions& opt) {
  if (auto why = info.unsupported ? info.unsupported() : std::nullopt) return why;
  if (opt.haproxy) return HaproxyTproxy::unavailable();
  return std::nullopt;
}

InstalledPath::InstalledPath(const PathInfo& info, const Roles& roles, const InstallOptions& opt) {
  // Members are destroyed in reverse order when this throws: whatever was built is removed.
  if (opt.inject_cost_ns) cost_ = std::make_unique<CostInjection>(roles, *opt.inject_cost_ns);
  PathContext ctx{info, roles, opt.settings};
  if (opt.haproxy) {
    haproxy_ = std::make_unique<HaproxyTproxy>(ctx, opt.haproxy_cpu);
    path_ = &haproxy_->path();
  } else {
    own_ = info.make(ctx);
    path_ = own_.get();
  }
  path_->setup_done();
  if (opt.settings.services && opt.settings.update_samples) path_->measure_updates();
  const std::string& observe = opt.settings.observe;
  if (observe == "ebpf-empty" || observe == "ebpf-http") {
    observer_ = make_ebpf_observer(roles, observe);
    path_->set_observer(observer_.get());
  } else if (observe != "none" && !path_->has_observer()) {
    throw PathUnsupportedHere(info.name + " cannot take --observe " + observe +
                              (observe == "gateway-log" ? " (it needs --gateway haproxy)" : ""));
  }
}

InstalledPath::~InstalledPath() {
  drop_observer();
  own_.reset();
  haproxy_.reset();
  cost_.reset();
}

void InstalledPath::annotate_row(nlohmann::json& row) const {
  if (haproxy_ && row.contains("reference"))
    for (auto& [k, v] : haproxy_->reference().items()) row["reference"][k] = v;
}

nlohmann::json InstalledPath::teardown() {
  if (!torn_down_.is_null()) return torn_down_;
  // The observer first, then the path (its teardown time is recorded), before anything else is built.
  drop_observer();
  path_->teardown();
  torn_down_ = {{"configuration", path_->configuration()}, {"scale", path_->scale()}};
  if (cost_) torn_down_["injected_cost"] = cost_->to_json();
  own_.reset();
  haproxy_.reset();
  cost_.reset();
  path_ = nullptr;
  return torn_down_;
}

void InstalledPath::drop_observer() {
  if (!observer_) return;
  if (path_) path_->set_observer(nullptr);
  observer_.reset();
}

nlohmann::json InstalledPath::pending_undo_commands() const {
  return torn_down_.is_null() && path_ ? path_->pending_undo_commands() : nlohmann::json::array();
}

}  // namespace pb
