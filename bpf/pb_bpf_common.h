/* SPDX-License-Identifier: GPL-2.0-only */
/* pb_bpf_common.h: BPF-side helpers shared by the forwarding programs (header-only,
 * static __always_inline, Cilium's way). Constants that vmlinux.h cannot carry (macros) live here. */
#ifndef PB_BPF_COMMON_H
#define PB_BPF_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "pb_shared.h"

#define ETH_P_IP 0x0800
#define ETH_ALEN 6
#define AF_INET 2
#define IPPROTO_UDP_ 17

#ifndef TC_ACT_OK
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#endif

/* Decrement TTL, updating the IPv4 header checksum incrementally (RFC 1624), as
 * samples/bpf/xdp_fwd does: TTL is the high byte of the TTL/protocol word, so the checksum
 * grows by htons(0x0100) with the end-around carry folded in. The header's one's-complement sum
 * is unchanged, so a CHECKSUM_COMPLETE skb->csum stays valid too. */
static __always_inline void pb_ip_decrease_ttl(struct iphdr *iph)
{
  __u32 check = (__u32)iph->check;
  check += (__u32)bpf_htons(0x0100);
  iph->check = (__sum16)(check + (check >= 0xFFFF));
  iph->ttl--;
}

/* bpf_fib_lookup flags. Default: BPF_FIB_LOOKUP_DIRECT (the main table, or the VRF's), which skips
 * the policy-rule walk (measured: ~20 ns less per packet under BPF_PROG_TEST_RUN) and is exact for a DUT without
 * policy rules for forwarded traffic. One caveat it brings: once a namespace has had a custom
 * rule, the kernel keeps local routes in a separate table that a direct main lookup does not see,
 * so a packet for the DUT's own address would come back as a connected route with no neighbour
 * (NO_NEIGH); the programs therefore hand NO_NEIGH to the stack when looking up directly, and the
 * stack delivers it locally. A loader can set fib_flags = 0 for a full policy lookup. */
const volatile __u32 fib_flags = BPF_FIB_LOOKUP_DIRECT;

/* ifindexes of dut0 / dut1 in the DUT namespace, set by the loader before load. */
const volatile __u32 ifindex_slot0 = 0;
const volatile __u32 ifindex_slot1 = 0;

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, PB_FWD_COUNTERS);
  __type(key, __u32);
  __type(value, struct pb_counter);
} counters SEC(".maps");

static __always_inline __u32 pb_slot(__u32 ifindex)
{
  if (ifindex && ifindex == ifindex_slot0)
    return PB_SLOT_DUT0;
  if (ifindex && ifindex == ifindex_slot1)
    return PB_SLOT_DUT1;
  return PB_SLOT_OTHER;
}

static __always_inline void pb_count(__u32 slot, __u32 reason, __u64 bytes)
{
  __u32 key = slot * PB_FWD_REASONS + reason;
  struct pb_counter *c = bpf_map_lookup_elem(&counters, &key);
  if (c) {
    c->packets++;
    c->bytes += bytes;
  }
}

#endif /* PB_BPF_COMMON_H */
