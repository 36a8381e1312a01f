/* SPDX-License-Identifier: GPL-2.0-only */
/* pb_steer.bpf.h: what the two BPF steerers (sk_lookup.bpf.c, tc_sk_assign.bpf.c) share: the
 * scope filter set from user space between open and load (rodata), the proxy's sockets (one
 * SOCKMAP slot per protocol, tproxy/steer_shared.h), per-CPU counters, and the scope check.
 * Each object gets its own copy of the maps; the loaders fill them the same way.
 */
#pragma once

const volatile __u32 dst_net = 0;   /* host byte order, masked */
const volatile __u32 dst_mask = 0;  /* host byte order; 0 with dst_net 0 = everything */
const volatile __u32 port_min = 1;
const volatile __u32 port_max = 65535;

struct {
  __uint(type, BPF_MAP_TYPE_SOCKMAP);
  __uint(max_entries, PB_STEER_SLOTS);
  __type(key, __u32);
  __type(value, __u64);
} proxy_socks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct pb_steer_stats);
} steer_stats SEC(".maps");

/* Destination (host byte order) inside the intercepted prefix and port range? */
static __always_inline int pb_in_scope(__u32 daddr, __u32 dport)
{
  return (daddr & dst_mask) == dst_net && dport >= port_min && dport <= port_max;
}
