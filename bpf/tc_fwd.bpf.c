/* SPDX-License-Identifier: GPL-2.0-only */
/* tc_fwd.bpf.c: the tc-redirect path. TC ingress program on both DUT veths that forwards IPv4
 * like a router, without the kernel's forwarding path:
 *
 *   cli0 ==veth== dut0 [tc ingress: tc_fwd] --bpf_redirect--> dut1 ==veth== srv0
 *                 dut0 <--bpf_redirect-- [tc ingress: tc_fwd] dut1
 *
 * bpf_fib_lookup (the DUT namespace's routes and neighbours) picks the egress device and MACs;
 * TTL is decremented and the IPv4 checksum fixed incrementally; bpf_redirect sends the skb out of
 * the egress device (bpf_redirect_neigh when the neighbour is not resolved yet). Non-IPv4,
 * TTL <= 1, no route, local destinations and too-big packets go to the stack untouched
 * (TC_ACT_OK), which does ICMP and everything else a router must. Loader: bench/paths/forwarding.cpp.
 */
#include "pb_bpf_common.h"

SEC("tc")
int tc_fwd(struct __sk_buff *skb)
{
  __u32 slot = pb_slot(skb->ingress_ifindex);
  __u64 len = skb->len;
  void *data = (void *)(long)skb->data;
  void *data_end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  struct iphdr *iph = data + sizeof(*eth);

  if ((void *)(iph + 1) > data_end) {
    /* Headers not in the linear part (rare on veth): pull them in, then look again. */
    if (bpf_skb_pull_data(skb, sizeof(*eth) + sizeof(*iph)) < 0) {
      pb_count(slot, PB_FWD_PASS_MALFORMED, len);
      return TC_ACT_OK;
    }
    data = (void *)(long)skb->data;
    data_end = (void *)(long)skb->data_end;
    eth = data;
    iph = data + sizeof(*eth);
    if ((void *)(eth + 1) > data_end) {
      pb_count(slot, PB_FWD_PASS_MALFORMED, len);
      return TC_ACT_OK;
    }
    if ((void *)(iph + 1) > data_end) {
      pb_count(slot, eth->h_proto == bpf_htons(ETH_P_IP) ? PB_FWD_PASS_MALFORMED
                                                         : PB_FWD_PASS_NOT_IPV4, len);
      return TC_ACT_OK;
    }
  }
  if (eth->h_proto != bpf_htons(ETH_P_IP)) {
    pb_count(slot, PB_FWD_PASS_NOT_IPV4, len);
    return TC_ACT_OK;
  }
  if (iph->version != 4 || iph->ihl < 5) {
    pb_count(slot, PB_FWD_PASS_MALFORMED, len);
    return TC_ACT_OK;
  }
  if (iph->ttl <= 1) {
    pb_count(slot, PB_FWD_PASS_TTL, len);
    return TC_ACT_OK;
  }

  struct bpf_fib_lookup fib = {};
  fib.family = AF_INET;
  fib.tos = iph->tos;
  fib.l4_protocol = iph->protocol;
  /* tot_len = 0 (docs/gotchas.md "TC fib lookup and GSO batches"): with it set, the lookup checks the IP length against the
   * egress MTU and returns FRAG_NEEDED for every GSO batch; 0 makes it use is_skb_forwardable(),
   * which understands GSO. */
  fib.tot_len = 0;
  fib.ipv4_src = iph->saddr;
  fib.ipv4_dst = iph->daddr;
  fib.ifindex = skb->ingress_ifindex;

  long rc = bpf_fib_lookup(skb, &fib, sizeof(fib), fib_flags);
  switch (rc) {
  case BPF_FIB_LKUP_RET_SUCCESS:
    pb_ip_decrease_ttl(iph);
    __builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
    __builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
    pb_count(slot, PB_FWD_FORWARDED, len);
    return bpf_redirect(fib.ifindex, 0);
  case BPF_FIB_LKUP_RET_NO_NEIGH: {
    /* Route but no neighbour entry. After a direct lookup this may be the DUT's own address
     * (see pb_bpf_common.h): the stack decides. After a full lookup, let the kernel resolve the
     * neighbour on the egress device; fib.ipv4_dst now holds the next hop. */
    if (fib_flags & BPF_FIB_LOOKUP_DIRECT) {
      pb_count(slot, PB_FWD_PASS_NO_NEIGH, len);
      return TC_ACT_OK;
    }
    struct bpf_redir_neigh nh = {};
    nh.nh_family = AF_INET;
    nh.ipv4_nh = fib.ipv4_dst;
    pb_ip_decrease_ttl(iph);
    long r = bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
    if (r == TC_ACT_SHOT) {
      pb_count(slot, PB_FWD_DROP_REDIRECT, len);
      return TC_ACT_SHOT;
    }
    pb_count(slot, PB_FWD_FORWARDED, len);
    return r;
  }
  case BPF_FIB_LKUP_RET_FRAG_NEEDED:
    pb_count(slot, PB_FWD_PASS_FRAG, len);
    return TC_ACT_OK;
  default:
    pb_count(slot, PB_FWD_PASS_NO_ROUTE, len);
    return TC_ACT_OK;
  }
}

char LICENSE[] SEC("license") = "GPL";
