// SPDX-License-Identifier: Apache-2.0
// common/testhook.h: the one door for fault injection. The reliability tests set
// PATHBENCH_FAULT=<name> to make the harness misbehave on purpose (e.g. "stall-responder": the
// responder stops serving when the measured window starts, as a hung server would). Production
// code asks `fault_injected(name)` at exactly one place per fault; run.json records the hook
// under options.fault when it is set, so a result made with one can never pass for a real one.
#pragma once
#include <string>
#include <string_view>

namespace pb {

bool fault_injected(std::string_view name);
std::string fault_hook();  // the PATHBENCH_FAULT value ("" when unset)

}  // namespace pb
