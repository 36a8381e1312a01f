// SPDX-License-Identifier: Apache-2.0
#include "run/document.h"

#include "common/clock.h"
#include "common/json_io.h"
#include "git_sha.h"
#include "paths/path.h"
#include "workloads/workload.h"

namespace pb {

nlohmann::json catalogue_json() {
  nlohmann::json c = {{"paths", nlohmann::json::array()}, {"workloads", nlohmann::json::array()}};
  for (auto& p : all_paths()) c["paths"].push_back(p.catalogue_json());
  for (auto& w : all_workloads()) c["workloads"].push_back(w.catalogue_json());
  return c;
}

RunDocument::RunDocument(const RunConfig& cfg) : file_(cfg.out_dir + "/run.json") {
  doc_ = {{"schema_version", kSchemaVersion},
          {"tool", {{"name", "pathbench"}, {"version", PATHBENCH_VERSION}, {"git_sha", PATHBENCH_GIT_SHA}}},
          {"run_id", cfg.run_id},
          {"status", RunStatus::kRunning},
          {"status_reason", nullptr},
          {"started_utc", utc_now_iso8601()},
          {"options", cfg.to_json()},
          {"catalogue", catalogue_json()},
          {"results", nlohmann::json::array()},
          {"probes", nlohmann::json::array()},
          {"path_instances", nlohmann::json::array()}};
}

void RunDocument::set_environment(nlohmann::json environment) { doc_["environment"] = std::move(environment); }

size_t RunDocument::add_probe(nlohmann::json probe) {
  doc_["probes"].push_back(std::move(probe));
  return doc_["probes"].size() - 1;
}

void RunDocument::add_result(nlohmann::json row) { doc_["results"].push_back(std::move(row)); }

void RunDocument::add_instance(nlohmann::json record) { doc_["path_instances"].push_back(std::move(record)); }

void RunDocument::set_stop(const StopRecord& stop) { doc_["stop"] = stop; }

void RunDocument::set_status(RunStatus status, const std::string& reason) {
  doc_["status"] = status;
  doc_["status_reason"] = reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(reason);
}

void RunDocument::save() {
  doc_["finished_utc"] = utc_now_iso8601();
  write_json_atomic(file_, doc_);
}

}  // namespace pb
