/* SPDX-License-Identifier: GPL-2.0-only */
/* xdp_fwd.bpf.c: the xdp-redirect path. Native XDP on both DUT veths forwarding IPv4 like a
 * router: bpf_fib_lookup for the egress device and MACs, TTL decrement with incremental checksum,
 * bpf_redirect_map through the `tx_ports` devmap:
 *
 *   cli0 [xdp_pass] ==veth== dut0 [xdp_fwd] --devmap--> dut1 [xdp_fwd] ==veth== srv0 [xdp_pass]
 *
 * The peers carry xdp_pass (bpf/xdp_pass.bpf.c) because a veth drops XDP-redirected frames unless
 * its peer has an XDP program (docs/gotchas.md "A veth receiving XDP frames needs an XDP program"). Non-IPv4, TTL <= 1, no route or neighbour,
 * too big, or an egress device missing from the devmap: XDP_PASS to the stack, untouched.
 * Loader: bench/paths/forwarding.cpp. */
#include "pb_bpf_common.h"

/* Egress devices, keyed and valued by ifindex. Filled from a thread inside the DUT namespace:
 * ifindexes are resolved in the writer's namespace (docs/gotchas.md "Devmap entries are resolved in the writer's namespace"). */
struct {
  __uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u32);
} tx_ports SEC(".maps");

SEC("xdp")
int xdp_fwd(struct xdp_md *ctx)
{
  __u32 slot = pb_slot(ctx->ingress_ifindex);
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  __u64 len = data_end - data;
  struct ethhdr *eth = data;
  struct iphdr *iph = data + sizeof(*eth);

  if ((void *)(eth + 1) > data_end) {
    pb_count(slot, PB_FWD_PASS_MALFORMED, len);
    return XDP_PASS;
  }
  if (eth->h_proto != bpf_htons(ETH_P_IP)) {
    pb_count(slot, PB_FWD_PASS_NOT_IPV4, len);
    return XDP_PASS;
  }
  if ((void *)(iph + 1) > data_end || iph->version != 4 || iph->ihl < 5) {
    pb_count(slot, PB_FWD_PASS_MALFORMED, len);
    return XDP_PASS;
  }
  if (iph->ttl <= 1) {
    pb_count(slot, PB_FWD_PASS_TTL, len);
    return XDP_PASS;
  }

  struct bpf_fib_lookup fib = {};
  fib.family = AF_INET;
  fib.tos = iph->tos;
  fib.l4_protocol = iph->protocol;
  /* XDP frames are never GSO batches: the IP length is the real size, checked against the MTU. */
  fib.tot_len = bpf_ntohs(iph->tot_len);
  fib.ipv4_src = iph->saddr;
  fib.ipv4_dst = iph->daddr;
  fib.ifindex = ctx->ingress_ifindex;

  long rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), fib_flags);
  if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
    __u32 reason = rc == BPF_FIB_LKUP_RET_NO_NEIGH      ? PB_FWD_PASS_NO_NEIGH
                   : rc == BPF_FIB_LKUP_RET_FRAG_NEEDED ? PB_FWD_PASS_FRAG
                                                        : PB_FWD_PASS_NO_ROUTE;
    pb_count(slot, reason, len);
    return XDP_PASS;
  }
  /* bpf_redirect_map only records the target (one devmap lookup); the frame is sent after the
   * program returns. On a miss it returns the fallback XDP_PASS before the frame is touched, so
   * the stack gets it unmodified. */
  long r = bpf_redirect_map(&tx_ports, fib.ifindex, XDP_PASS);
  if (r != XDP_REDIRECT) {
    pb_count(slot, PB_FWD_PASS_NO_TXPORT, len);
    return XDP_PASS;
  }
  pb_ip_decrease_ttl(iph);
  __builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
  __builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
  pb_count(slot, PB_FWD_FORWARDED, len);
  return XDP_REDIRECT;
}

char LICENSE[] SEC("license") = "GPL";
