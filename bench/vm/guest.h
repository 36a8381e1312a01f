// SPDX-License-Identifier: Apache-2.0
// vm/guest.h: `pathbench vm`: fetch or take a kernel, build the initramfs, boot the guest, run
// pathbench inside, bring run.json and the console log back.
#pragma once
#include <string>
#include <vector>

namespace pb::vm {
int command(const std::vector<std::string>& args);
}  // namespace pb::vm
