/* SPDX-License-Identifier: GPL-2.0-only */
/* pb_steer.bpf.h: what the two BPF steerers (sk_lookup.bpf.c, tc_sk_assign.bpf.c) share: the
 * scope filter set from user space between open and load (rodata), the proxy's sockets (one
 * SOCKMAP slot per protocol, tproxy/steer_shared.h), per-CPU counters, and the scope check:
 * either a prefix and port range (rodata), or, with --services, a hash map of the intercepted
 * address:port pairs (use_services), as a Cilium-style service table is.
 * Each object gets its own copy of the maps; the loaders fill them the same way.
 */
#pragma once

const volatile __u32 dst_net = 0;   /* host byte order, masked */
const volatile __u32 dst_mask = 0;  /* host byte order; 0 with dst_net 0 = everything */
const volatile __u32 port_min = 1;
const volatile __u32 port_max = 65535;
const volatile __u32 use_services = 0;  /* 1: the `services` map decides, not the prefix */

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1);               /* resized by the loader to the number of services */
  __type(key, struct pb_service_key);
  __type(value, __u8);
} services SEC(".maps");

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

/* Is the destination intercepted? daddr_be and dport_be in network byte order. */
static __always_inline int pb_in_scope(__u32 daddr_be, __u16 dport_be)
{
  if (use_services) {
    struct pb_service_key k = {.addr = daddr_be, .port = dport_be, .pad = 0};
    return bpf_map_lookup_elem(&services, &k) != 0;
  }
  __u32 daddr = bpf_ntohl(daddr_be), dport = bpf_ntohs(dport_be);
  return (daddr & dst_mask) == dst_net && dport >= port_min && dport <= port_max;
}
