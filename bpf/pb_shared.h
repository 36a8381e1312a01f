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


/* http_observe: the API observer (bench/paths/observer.h). A request line's route key is a hash of
 * its tokens: the method, then each path segment up to ' ' or '?', where a segment of digits only is
 * the placeholder token (a route's "{id}"). The loader puts each route's key in http_route_keys;
 * requests: counters[route]; the rest: counters[PB_HTTP_ROUTES_MAX + k]. Both sides compute the key
 * with the functions below (C and C++ alike). */
#define PB_HTTP_ROUTES_MAX 8
/* Latency histogram per route, log-linear: values 0..3 ns exact, then 4 buckets per power of two
 * (25% wide), up to 2^41 ns; hist[route * PB_HTTP_BUCKETS + bucket]. */
#define PB_HTTP_BUCKETS 160
#define PB_HTTP_FNV_OFFSET 0xcbf29ce484222325ULL
#define PB_HTTP_FNV_PRIME 0x100000001b3ULL
#define PB_HTTP_PLACEHOLDER 0x9e3779b97f4a7c15ULL /* the token of a digits-only segment */

static inline __attribute__((always_inline)) __u64 pb_http_byte(__u64 t, unsigned char c) { return (t ^ c) * PB_HTTP_FNV_PRIME; }
static inline __attribute__((always_inline)) __u64 pb_http_token(__u64 h, __u64 t) { return (h ^ t) * PB_HTTP_FNV_PRIME + 1; }

enum pb_http_counter {
  PB_HTTP_UNMATCHED = 0,   /* a request line (a method, a space) that no route matches */
  PB_HTTP_RESPONSES = 1,   /* a response's first segment paired with its request */
  PB_HTTP_UNPAIRED = 2,    /* a response's first segment with no request pending on its flow */
  PB_HTTP_OVERLAP = 3,     /* a request while one was pending on its flow (pipelining: latency lost) */
  PB_HTTP_OTHER = 4,       /* segments with payload that start neither a request nor a response */
  PB_HTTP_PACKETS_IN = 5,  /* every packet at ingress (hook runs) */
  PB_HTTP_PACKETS_OUT = 6, /* ... at egress */
  PB_HTTP_EXTRA = 7,
};
#define PB_HTTP_COUNTERS (PB_HTTP_ROUTES_MAX + PB_HTTP_EXTRA)

#endif /* PB_SHARED_H */
