/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* tproxy/steer_shared.h: what the BPF steering programs (bpf/sk_lookup.bpf.c,
 * bpf/tc_sk_assign.bpf.c) share with their loaders (bench/paths/steer.h): the socket map's
 * slots and the per-CPU statistics record. Defined once, included by both sides; the C++ side
 * static_asserts the size. Fixed-width kernel types only: __u32/__u64 come from vmlinux.h on the
 * BPF side and from <linux/types.h> in user space. (Lives in tproxy/ because the proxy owns the
 * sockets the programs steer to.) */
#ifndef PB_STEER_SHARED_H
#define PB_STEER_SHARED_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Slots of the proxy_socks SOCKMAP: the proxy's TCP listener and UDP socket (one of each worker's
 * SO_REUSEPORT group is enough: the kernel picks within the group after the assignment). */
enum pb_steer_slot {
  PB_STEER_SLOT_TCP = 0,
  PB_STEER_SLOT_UDP = 1,
  PB_STEER_SLOTS = 2,
};

/* Per-CPU counters (one record, key 0), summed by the loader. */
struct pb_steer_stats {
  __u64 runs;            /* program invocations */
  __u64 in_scope;        /* IPv4 TCP/UDP to the intercepted prefix and port range */
  __u64 tcp_assigned;    /* bpf_sk_assign to the proxy's TCP listener succeeded */
  __u64 udp_assigned;    /* ... to the proxy's UDP socket */
  __u64 established;     /* tc: a socket already owns the 4-tuple; left to the stack */
  __u64 no_socket;       /* slot empty: proxy not (yet) running; packet left alone */
  __u64 assign_failed;   /* bpf_sk_assign returned an error */
  __u64 not_syn;         /* tc: TCP without SYN and no socket: left to the stack (RST) */
};

/* With --services: the intercepted destinations as a hash map (`services`), looked up with the
 * packet's destination address and port, both in network byte order; the value is unused
 * (presence means intercepted). Sized by the loader to the number of services. */
struct pb_service_key {
  __u32 addr;   /* network order */
  __u16 port;   /* network order */
  __u16 pad;    /* always 0 */
};

#endif /* PB_STEER_SHARED_H */
