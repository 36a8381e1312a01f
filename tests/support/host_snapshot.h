// SPDX-License-Identifier: Apache-2.0
// tests/support/host_snapshot.h: the leak check every privileged test shares. host_snapshot()
// runs the project's scripts/host-snapshot (the host namespace's links, addresses, rules, routes,
// qdiscs, nft, iptables, BPF programs, links and pins, and the global sysctls a run could touch);
// a test takes one before and one after and expects no difference. Other runs on the machine show
// up too (their pb-<id>-* namespaces): a difference names its owner.
#pragma once
#include <string>

namespace pbtest {

// The snapshot's text; a snapshot that cannot be taken fails the calling test (ADD_FAILURE) and
// returns a text no other snapshot equals, so a broken check never passes.
std::string host_snapshot();
// Lines only in a ("- ") or only in b ("+ "): empty when equal as multisets of lines.
std::string diff_lines(const std::string& a, const std::string& b);

}  // namespace pbtest
