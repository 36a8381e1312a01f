/* SPDX-License-Identifier: GPL-2.0-only */
/* sk_lookup.bpf.c: the sk-lookup path. A BPF_PROG_TYPE_SK_LOOKUP program attached to the DUT's
 * network namespace (netns bpf_link) that hands connections and datagrams for the intercepted
 * destinations to the transparent proxy's sockets, without netfilter:
 *
 *   cli0 ==veth== dut0 --[ip rule: iif dut0 to <server> ipproto tcp|udp -> table T:
 *                         local default dev lo]--> local delivery --> socket lookup:
 *                         connected/established socket? -> it (the proxy's own flows)
 *                         else [sk_lookup: pb_sk_lookup] --bpf_sk_assign--> proxy socket
 *
 * sk_lookup runs only for packets the routing decision already delivers locally, and only when
 * no established (TCP) / connected (UDP) socket matches; hence the policy route, set up by the
 * loader (bench/paths/sk_lookup.cpp, bench/paths/proxy_path.h). The proxy's sockets come from the proxy_socks SOCKMAP
 * (PB_STEER_SLOT_TCP / _UDP); the destination filter (prefix, port range) is rodata set before
 * load. Counters: per-CPU pb_steer_stats (tproxy/steer_shared.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "../tproxy/steer_shared.h"

#define PB_AF_INET 2

#include "pb_steer.bpf.h"

SEC("sk_lookup")
int pb_sk_lookup(struct bpf_sk_lookup *ctx)
{
  __u32 zero = 0;
  struct pb_steer_stats *st = bpf_map_lookup_elem(&steer_stats, &zero);
  if (!st)
    return SK_PASS;
  st->runs++;
  if (ctx->family != PB_AF_INET)
    return SK_PASS;
  if (ctx->protocol != IPPROTO_TCP && ctx->protocol != IPPROTO_UDP)
    return SK_PASS;
  if (!pb_in_scope(ctx->local_ip4, bpf_htons(ctx->local_port)))  /* local_port: host order */
    return SK_PASS;
  st->in_scope++;

  __u32 slot = ctx->protocol == IPPROTO_TCP ? PB_STEER_SLOT_TCP : PB_STEER_SLOT_UDP;
  struct bpf_sock *sk = bpf_map_lookup_elem(&proxy_socks, &slot);
  if (!sk) {
    st->no_socket++;
    return SK_PASS;
  }
  long err = bpf_sk_assign(ctx, sk, 0);
  bpf_sk_release(sk);
  if (err) {
    st->assign_failed++;
    return SK_PASS;
  }
  if (slot == PB_STEER_SLOT_TCP)
    st->tcp_assigned++;
  else
    st->udp_assigned++;
  return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
