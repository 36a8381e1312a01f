// SPDX-License-Identifier: Apache-2.0
// run/commands.h: the user's verbs; each returns the process exit code or throws pb::Error.
#pragma once
#include <string>
#include <vector>

namespace pb {
int cmd_run(const std::vector<std::string>& args);
int cmd_list(const std::vector<std::string>& args);
int cmd_doctor(const std::vector<std::string>& args);
int cmd_cleanup(const std::vector<std::string>& args);
}  // namespace pb
