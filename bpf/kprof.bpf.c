/* SPDX-License-Identifier: GPL-2.0-only */
/* kprof.bpf.c: the kernel profiler behind `pathbench run --kernel-profile-ns N`
 * (bench/measure/kprofile.h). A perf_event program on the software cpu-clock event of every
 * CPU, sampled every N ns of CPU time: in cost mode (a qemu guest with -icount shift=0) guest
 * time is instructions, so a sample falls every N instructions and samples x N attribute
 * instructions to the functions they fell in. It counts samples per instruction pointer while
 * `enabled` (the measured window); user space symbolizes them with /proc/kallsyms. A sample in
 * user mode is counted under ip 0. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

__u32 enabled = 0;   /* .bss: set by user space at the window's start, cleared at its end */
__u64 dropped = 0;   /* samples not counted: the map was full */

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64);   /* kernel instruction pointer; 0 = user mode */
  __type(value, __u64); /* samples */
} samples SEC(".maps");

SEC("perf_event")
int pb_kprof(struct bpf_perf_event_data *ctx)
{
  if (!enabled)
    return 0;
  __u64 ip = ctx->regs.ip;
  if (!(ip >> 63)) /* x86-64: kernel addresses are in the upper half */
    ip = 0;
  __u64 *n = bpf_map_lookup_elem(&samples, &ip);
  if (n) {
    __sync_fetch_and_add(n, 1);
    return 0;
  }
  __u64 one = 1;
  if (bpf_map_update_elem(&samples, &ip, &one, BPF_NOEXIST) != 0) {
    n = bpf_map_lookup_elem(&samples, &ip); /* another CPU inserted it first */
    if (n)
      __sync_fetch_and_add(n, 1);
    else
      __sync_fetch_and_add(&dropped, 1);
  }
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
