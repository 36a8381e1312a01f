// paths/forwarding.cpp: tc-redirect and xdp-redirect (issue 3). Placeholder until they land.
#include "core/path.h"

namespace pb {
void add_forwarding_paths(std::vector<PathInfo>&) {}
}  // namespace pb
