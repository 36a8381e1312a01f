// SPDX-License-Identifier: Apache-2.0
#include "common/error.h"

#include <cstring>

namespace pb {

std::string errno_msg(const std::string& what, int err) { return what + ": " + std::strerror(err); }
void throw_errno(const std::string& what, int err) { throw EnvError(errno_msg(what, err)); }

}  // namespace pb
