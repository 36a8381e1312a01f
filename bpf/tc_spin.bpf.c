// SPDX-License-Identifier: GPL-2.0-only
/* tc_spin.bpf.c: a known, physical cost per packet (`pathbench run --inject-cost-ns-per-packet`).
 * A TC ingress program on the DUT veths that runs bpf_loop `loops` times with an empty callback,
 * then lets the packet go on unchanged (TC_ACT_UNSPEC: the next TC program, or the stack). The
 * loop count is set at run time (a .bss global the loader writes through the skeleton) from a
 * calibration under BPF_PROG_TEST_RUN, so the added nanoseconds per packet are measured, not
 * assumed (run/calibration.cpp). Used to prove what `analysis compare` can detect: a run with the
 * injection against one without must be flagged; two runs without must not. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define PB_TC_ACT_UNSPEC (-1)

__u32 loops = 0;   /* written by the loader */
__u64 packets = 0; /* packets that paid the cost (proof that the injection was in the path) */

static long spin_cb(__u64 index, void *ctx)
{
  return 0;
}

SEC("tc")
int tc_spin(struct __sk_buff *skb)
{
  __u32 n = loops;
  if (n)
    bpf_loop(n, spin_cb, NULL, 0);
  __sync_fetch_and_add(&packets, 1);
  return PB_TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
