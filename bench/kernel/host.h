// SPDX-License-Identifier: Apache-2.0
// kernel/host.h: facts about the machine pathbench runs on, and CPU placement of a thread.
#pragma once
#include <string>

namespace pb {

std::string kernel_release();  // uname -r
// "6.1.0-57-amd64" -> is it at least major.minor? (false when the release does not parse)
bool release_at_least(const std::string& release, int major, int minor);
bool is_root();
int online_cpus();             // sysconf(_SC_NPROCESSORS_ONLN), at least 1
// Pins the calling thread to one CPU; cpu < 0 leaves it to the scheduler.
void pin_thread(int cpu);

}  // namespace pb
