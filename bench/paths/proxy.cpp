// paths/proxy.cpp: proxy-plain, tproxy-nft, tproxy-ipt, sk-lookup, tc-sk-assign (issue 4).
// Placeholder until they land.
#include "core/path.h"

namespace pb {
void add_proxy_paths(std::vector<PathInfo>&) {}
}  // namespace pb
