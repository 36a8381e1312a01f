/* SPDX-License-Identifier: GPL-2.0-only */
/* verifier_reject.bpf.c: a program the verifier must refuse (packet read without a bounds
 * check), so the tests can check that a load failure reports the verifier's reason. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int verifier_reject(struct xdp_md *ctx)
{
  unsigned char *p = (void *)(long)ctx->data;
  return p[20];
}

char LICENSE[] SEC("license") = "GPL";
