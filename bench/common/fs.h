// SPDX-License-Identifier: Apache-2.0
// common/fs.h: small file helpers.
#pragma once
#include <optional>
#include <string>

namespace pb {

std::optional<std::string> read_file(const std::string& path);
// mkdir -p; throws UsageError "cannot create <what> <dir>: <reason>".
void make_dirs(const std::string& path, const std::string& what = "directory");
// A file created with mkstemp from `prefix` (e.g. "/tmp/pathbench-haproxy-") holding `text`;
// throws EnvError with context when it cannot be created or written. Returns its path.
std::string write_temp_file(const std::string& prefix, const std::string& text);
// Points the symlink `link` at directory `target` (replacing the link), relative when both live
// under the same parent (results/latest -> <dir name>). A failure is logged, never fatal: the
// results are where they are. `run --latest-link` and `vm --latest-link` both use it.
void point_link(const std::string& link, const std::string& target);

}  // namespace pb
