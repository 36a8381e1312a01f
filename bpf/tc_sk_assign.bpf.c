/* SPDX-License-Identifier: GPL-2.0-only */
/* tc_sk_assign.bpf.c: the tc-sk-assign path (Cilium's way to reach a transparent proxy). A TC
 * ingress program on dut0 that picks the proxy's socket for new connections and datagrams to the
 * intercepted destinations and attaches it to the skb with bpf_sk_assign:
 *
 *   cli0 ==veth== dut0 [tc ingress: pb_tc_sk_assign: skb->sk = proxy socket]
 *                  --[ip rule: iif dut0 to <server> ipproto tcp|udp -> table T:
 *                     local default dev lo]--> local delivery --> TCP/UDP receive takes the
 *                     assigned socket (skb_steal_sock) instead of looking one up
 *
 * The local route is needed because the kernel drops forwarded skbs that carry a socket
 * (ip_forward: skb->sk != NULL), as in the kernel selftest (prog_tests/sk_assign.c). Only new
 * flows are assigned: a TCP packet whose 4-tuple already has a socket (the proxy's accepted
 * connection, a request socket) and a UDP datagram with a connected socket (the proxy's
 * per-flow socket) are left to the stack's own lookup, which finds them. TCP segments without
 * SYN and without a socket go to the stack as well (which answers with an RST, as it should).
 * Sockets: proxy_socks SOCKMAP (PB_STEER_SLOT_TCP / _UDP); filter (prefix, port range): rodata.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "../tproxy/steer_shared.h"

#define PB_ETH_P_IP 0x0800
#define PB_TC_ACT_OK 0

#include "pb_steer.bpf.h"

static __always_inline int assign_slot(struct __sk_buff *skb, struct pb_steer_stats *st, __u32 slot)
{
  struct bpf_sock *sk = bpf_map_lookup_elem(&proxy_socks, &slot);
  if (!sk) {
    st->no_socket++;
    return PB_TC_ACT_OK;
  }
  long err = bpf_sk_assign(skb, sk, 0);
  bpf_sk_release(sk);
  if (err)
    st->assign_failed++;
  else if (slot == PB_STEER_SLOT_TCP)
    st->tcp_assigned++;
  else
    st->udp_assigned++;
  return PB_TC_ACT_OK;
}

SEC("tc")
int pb_tc_sk_assign(struct __sk_buff *skb)
{
  __u32 zero = 0;
  struct pb_steer_stats *st = bpf_map_lookup_elem(&steer_stats, &zero);
  if (!st)
    return PB_TC_ACT_OK;
  st->runs++;

  void *data = (void *)(long)skb->data;
  void *data_end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  struct iphdr *iph = (void *)(eth + 1);
  /* Ethernet + IPv4 (no options) + the ports: 38 bytes, always linear on veth. */
  if ((void *)(iph + 1) + 4 > data_end)
    return PB_TC_ACT_OK;
  if (eth->h_proto != bpf_htons(PB_ETH_P_IP) || iph->ihl != 5)
    return PB_TC_ACT_OK;
  if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP)
    return PB_TC_ACT_OK;
  __u16 *ports = (void *)(iph + 1);
  if (!pb_in_scope(iph->daddr, ports[1]))
    return PB_TC_ACT_OK;
  st->in_scope++;

  struct bpf_sock_tuple tuple = {};
  tuple.ipv4.saddr = iph->saddr;
  tuple.ipv4.daddr = iph->daddr;
  tuple.ipv4.sport = ports[0];
  tuple.ipv4.dport = ports[1];

  if (iph->protocol == IPPROTO_TCP) {
    struct tcphdr *th = (void *)(iph + 1);
    if ((void *)(th + 1) > data_end)
      return PB_TC_ACT_OK;
    if (!th->syn || th->ack) {
      /* Part of an existing connection: the stack's lookup finds the proxy's accepted socket
       * (or request socket); no per-packet helper call here. */
      st->not_syn++;
      return PB_TC_ACT_OK;
    }
    /* A SYN for a 4-tuple that already has a socket (retransmitted SYN after the request socket
     * exists, TIME_WAIT reuse): leave it to the stack. For TIME_WAIT that costs the client a
     * retransmission (docs/gotchas.md "A SYN into TIME_WAIT"). Assigning the listener instead, as
     * Cilium's assign_socket_tcp() does, makes those connects time out on current kernels: the
     * listener's request socket is not hashed beside the TIME_WAIT socket of the same 4-tuple
     * (reqsk_queue_hash_req refuses a duplicate), and no helper can retire a TIME_WAIT socket. */
    struct bpf_sock *sk = bpf_skc_lookup_tcp(skb, &tuple, sizeof(tuple.ipv4), BPF_F_CURRENT_NETNS, 0);
    if (sk) {
      int listening = sk->state == BPF_TCP_LISTEN;
      bpf_sk_release(sk);
      if (!listening) {
        st->established++;
        return PB_TC_ACT_OK;
      }
    }
    return assign_slot(skb, st, PB_STEER_SLOT_TCP);
  }

  /* UDP: a connected socket for this 4-tuple is the proxy's per-flow socket (bound to the
   * original destination, connected to the client): the stack delivers to it by itself. */
  struct bpf_sock *sk = bpf_sk_lookup_udp(skb, &tuple, sizeof(tuple.ipv4), BPF_F_CURRENT_NETNS, 0);
  if (sk) {
    int connected = sk->dst_port != 0;
    bpf_sk_release(sk);
    if (connected) {
      st->established++;
      return PB_TC_ACT_OK;
    }
  }
  return assign_slot(skb, st, PB_STEER_SLOT_UDP);
}

char LICENSE[] SEC("license") = "GPL";
