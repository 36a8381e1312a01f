/* SPDX-License-Identifier: GPL-2.0-only */
/* xdp_pps.bpf.c: the xdp_pps workload's generator and sink (bench/workloads/xdp_pps.cpp).
 *
 *   [xdp_gen: BPF_PROG_RUN, live frames, XDP_TX out of cli0] cli0 ==veth== dut0 .. DUT .. dut1
 *        ==veth== srv0 [xdp_sink: count matching UDP, XDP_DROP]
 *
 * xdp_gen runs under BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES in the client namespace with
 * ctx ingress_ifindex = cli0; XDP_TX there becomes a transmit on cli0 (the xdp-trafficgen
 * technique). It rewrites the Ethernet/IPv4/UDP headers on every run: live frames reuse pages
 * without re-initialising them, and a forwarding program downstream rewrites MACs and TTL in place
 * (docs/gotchas.md "Live frames reuse pages"). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "pb_shared.h"

#define ETH_P_IP 0x0800
#define IPPROTO_UDP_ 17

/* In .bss, not rodata: read from the map on every run, never constant-folded. */
__u8 pkt_hdr[PB_PPS_HDR_LEN] = {};

/* What the sink counts: UDP to this address and port (network byte order). */
const volatile __u32 sink_daddr = 0;
const volatile __u16 sink_dport = 0;

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, PB_PPS_COUNTERS);
  __type(key, __u32);
  __type(value, __u64);
} pps_counters SEC(".maps");

static __always_inline void count(__u32 key)
{
  __u64 *c = bpf_map_lookup_elem(&pps_counters, &key);
  if (c)
    (*c)++;
}

SEC("xdp")
int xdp_gen(struct xdp_md *ctx)
{
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  if (data + PB_PPS_HDR_LEN > data_end)
    return XDP_ABORTED;
  __builtin_memcpy(data, pkt_hdr, PB_PPS_HDR_LEN);
  count(PB_PPS_GEN_TX);
  return XDP_TX;
}

SEC("xdp")
int xdp_sink(struct xdp_md *ctx)
{
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  struct iphdr *iph = data + sizeof(*eth);
  struct udphdr *udp = (void *)(iph + 1);
  if ((void *)(udp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
      iph->protocol != IPPROTO_UDP_ || iph->ihl != 5 || iph->daddr != sink_daddr ||
      udp->dest != sink_dport) {
    count(PB_PPS_SINK_OTHER);
    return XDP_PASS;
  }
  count(PB_PPS_SINK_MATCH);
  return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
