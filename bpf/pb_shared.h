/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* pb_shared.h: records and map layouts shared by the BPF programs in bpf/ and their C++ loaders.
 * Defined once here, included by both sides (the C++ side static_asserts the sizes in
 * bench/kernel/bpf/stats.h and bench/kernel/bpf/fwd_counters.h). Fixed-width kernel types only: __u32/__u64 come from vmlinux.h on the
 * BPF side and from <linux/types.h> in user space. */
#ifndef PB_SHARED_H
#define PB_SHARED_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* One counter: packets and bytes (frame length as the program saw it). */
struct pb_counter {
  __u64 packets;
  __u64 bytes;
};

/* Why a forwarding program did what it did. Index into the per-CPU `counters` array, per
 * ingress slot: counters[slot * PB_FWD_REASONS + reason]. */
enum pb_fwd_reason {
  PB_FWD_FORWARDED = 0,     /* rewritten and redirected to the egress device */
  PB_FWD_PASS_NOT_IPV4 = 1, /* not an IPv4 frame (ARP, IPv6, ...): to the stack untouched */
  PB_FWD_PASS_TTL = 2,      /* TTL <= 1: the stack sends ICMP time exceeded */
  PB_FWD_PASS_NO_ROUTE = 3, /* bpf_fib_lookup: no route, local, blackhole, ... */
  PB_FWD_PASS_NO_NEIGH = 4, /* route but no neighbour entry (XDP; TC uses redirect_neigh) */
  PB_FWD_PASS_FRAG = 5,     /* fib lookup says the packet is bigger than the egress MTU */
  PB_FWD_PASS_NO_TXPORT = 6,/* XDP: egress device not in the devmap */
  PB_FWD_PASS_MALFORMED = 7,/* IPv4 but shorter than its header or not version 4 / ihl < 5 */
  PB_FWD_DROP_REDIRECT = 8, /* redirect helper failed (the packet is dropped) */
  PB_FWD_REASONS = 9,
};

/* Ingress slots: which DUT interface the packet came in on. Set through rodata
 * (ifindex_slot0/1) before load; anything else (test runs) counts in PB_SLOT_OTHER. */
enum pb_fwd_slot {
  PB_SLOT_DUT0 = 0,
  PB_SLOT_DUT1 = 1,
  PB_SLOT_OTHER = 2,
  PB_SLOTS = 3,
};

#define PB_FWD_COUNTERS ((int)PB_SLOTS * (int)PB_FWD_REASONS)

/* xdp_pps: header template of the injected frame (Ethernet + IPv4 + UDP, no options). */
#define PB_PPS_HDR_LEN 42

/* xdp_pps counters (per-CPU array). */
enum pb_pps_counter {
  PB_PPS_GEN_TX = 0,        /* generator runs that returned XDP_TX */
  PB_PPS_SINK_MATCH = 1,    /* sink: matching UDP frames counted and dropped */
  PB_PPS_SINK_OTHER = 2,    /* sink: anything else, passed to the stack */
  PB_PPS_COUNTERS = 3,
};

#endif /* PB_SHARED_H */
