// SPDX-License-Identifier: Apache-2.0
// run/document.h: run.json, owned by one object as flent's ResultSet owns its format: the header
// (schema version, tool, run id, status, times, resolved options, the catalogue, the
// environment), the rows (results, probes, path_instances) and the stop record. Every mode writes
// it through here (results/README.md is its schema); it is saved atomically after every path
// instance, so a killed run leaves a valid document of what it measured.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "run/config.h"

namespace pb {

// Why the run stopped (run.json "stop").
struct StopRecord {
  // "repetitions done" | "target interval reached" | "time budget exhausted" |
  // "max repetitions reached" | "interrupted"
  std::string reason = "repetitions done";
  unsigned repetitions = 0;  // completed
  double elapsed_s = 0;
  nlohmann::json detail = nlohmann::json::object();  // adaptive: the last interval check
  bool operator==(const StopRecord&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StopRecord, reason, repetitions, elapsed_s, detail)

enum class RunStatus { kRunning, kComplete, kInterrupted, kFailed };
NLOHMANN_JSON_SERIALIZE_ENUM(RunStatus, {{RunStatus::kRunning, "running"},
                                         {RunStatus::kComplete, "complete"},
                                         {RunStatus::kInterrupted, "interrupted"},
                                         {RunStatus::kFailed, "failed"}})

// run.json's catalogue: every path and workload this build knows, with its traits.
nlohmann::json catalogue_json();

class RunDocument {
 public:
  static constexpr int kSchemaVersion = 2;
  // The header, status "running"; nothing is written yet. The file is <cfg.out_dir>/run.json.
  explicit RunDocument(const RunConfig& cfg);

  const std::string& file() const { return file_; }
  const nlohmann::json& json() const { return doc_; }

  void set_environment(nlohmann::json environment);
  // The index the next path instance gets.
  size_t next_instance() const { return doc_["path_instances"].size(); }
  // Appends a probe's full record; returns its index in probes[].
  size_t add_probe(nlohmann::json probe);
  void add_result(nlohmann::json row);
  void add_instance(nlohmann::json record);
  void set_stop(const StopRecord& stop);
  void set_status(RunStatus status, const std::string& reason = "");
  // finished_utc = now; written atomically (temp file, fsync, rename).
  void save();

 private:
  std::string file_;
  nlohmann::json doc_;
};

}  // namespace pb
