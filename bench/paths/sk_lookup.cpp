// SPDX-License-Identifier: Apache-2.0
// paths/sk_lookup.cpp ↔ bpf/sk_lookup.bpf.c: the sk-lookup path. The program is attached to the
// DUT's network namespace through a netns bpf_link (it goes when the link is destroyed or this
// process dies) and hands connections and datagrams for the intercepted destinations to the
// proxy's sockets, without netfilter. Kernel state: the two iif policy rules and the local
// route (paths/proxy_path.h), the program and its maps, the netns link.
#include "common/log.h"
#include "kernel/netns.h"
#include "paths/steer.h"
#include "sk_lookup.skel.h"

namespace pb {
namespace {

struct NetnsAttach {
  static constexpr const char* kProofKey = "sk_lookup";
  // sk_lookup's bpf_sk_assign selects within a reuseport group itself (since 5.9).
  static std::optional<std::string> no_reuseport() { return std::nullopt; }
  static bpf_program* program(sk_lookup* s) { return s->progs.pb_sk_lookup; }
  static void attach(UndoLog& undo, const Roles& roles, bpf_program* prog, nlohmann::json&) {
    struct LinkDeleter {
      void operator()(bpf_link* l) const { bpf_link__destroy(l); }
    };
    std::unique_ptr<bpf_link, LinkDeleter> link;
    // Attached from a thread inside the DUT namespace, as every attachment here.
    const std::string& ns = roles.dut().netns;
    run_in_netns(ns, [&] {
      NetnsFd nsfd(ns);
      link.reset(bpf_program__attach_netns(prog, nsfd.fd()));
      if (!link) throw BpfError(errno_msg("bpf_program__attach_netns(sk_lookup, " + ns + ")", errno));
    });
    undo.adopt("sk_lookup netns link in " + ns, {{Item::kBpfLink, 1}}, 1, std::move(link));
    log::debug("sk-lookup: program attached to {}", ns);
  }
};

PB_REGISTER_PATH([] {
  return steer_path_info<sk_lookup, NetnsAttach>(
      "sk-lookup", "BPF sk_lookup (netns link) assigns the proxy socket; policy route local, no netfilter", 40);
});

}  // namespace
}  // namespace pb
