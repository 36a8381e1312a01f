/* SPDX-License-Identifier: GPL-2.0-only */
/* xdp_pass.bpf.c: an XDP program that passes everything. It sits on a veth whose peer redirects
 * XDP frames to it (cli0/srv0 on xdp-redirect, dut0 when xdp_pps injects frames on paths without
 * XDP): a veth only accepts XDP frames while its receive side runs NAPI, which an attached XDP
 * program switches on (docs/gotchas.md "A veth receiving XDP frames needs an XDP program": otherwise they vanish into rx_queue_0_drops). Also
 * the empty program the micro-benchmarks use to measure BPF stats overhead. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
