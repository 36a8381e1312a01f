/* SPDX-License-Identifier: GPL-2.0-only */
/* http_observe.bpf.c: observing API calls in the kernel (`pathbench run --observe ebpf-http`), and
 * the same hook with nothing in it (`--observe ebpf-empty`), so hook cost and parsing cost are
 * seen apart. Two TC programs on the DUT's client-facing interface, first in the chain:
 *
 *   cli ──▶ dut0 [tc ingress: pb_http_in]  a segment that starts "METHOD SP /path": count it
 *                                           under its route, remember (flow, route, time)
 *   cli ◀── dut0 [tc egress:  pb_http_out] a segment that starts "HTTP/1.": the response to the
 *                                           flow's pending request: latency into its route's
 *                                           histogram
 *
 * Why TC on the DUT's interface and not a kprobe on tcp_sendmsg/tcp_recvmsg (Pixie) or uprobes in
 * the gateway (Beyla): it sees every path's traffic at the same point whatever terminates it (our
 * L4 proxy, HAProxy, or nothing on the routed baseline), needs no knowledge of the process, and
 * parses at most 128 bytes per segment with bounded loops. What it cannot see: TLS (the uprobe
 * tools' reason to exist), a request line split across segments (an API call's fits one), and
 * pipelined requests' latencies (counted as overlap). The latency is the DUT's: from the request's
 * arrival at its interface to its response's departure (Beyla's server-side span).
 *
 * Routes are keys the loader writes into http_route_keys (pb_shared.h): a hash of the request
 * line's tokens (method, path segments), where a digits-only segment is the placeholder "{id}". Counters and histograms are per-CPU arrays (no atomics);
 * pending requests an LRU hash keyed by the flow. Every program returns TC_ACT_UNSPEC (TCX_NEXT):
 * the packet goes on to the path's own programs (tc-sk-assign's) unchanged.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "pb_shared.h"

#define PB_TC_ACT_UNSPEC (-1)
#define PB_ETH_P_IP 0x0800
#define PB_BUF 128

/* The routes, written by the loader before each workload (its --http-routes): key -> route index. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, PB_HTTP_ROUTES_MAX);
  __type(key, __u64);
  __type(value, __u32);
} http_route_keys SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, PB_HTTP_COUNTERS);
  __type(key, __u32);
  __type(value, __u64);
} http_counters SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, PB_HTTP_ROUTES_MAX * PB_HTTP_BUCKETS);
  __type(key, __u32);
  __type(value, __u64);
} http_hist SEC(".maps");

struct flow_key {
  __u32 client_ip, server_ip;
  __u16 client_port, server_port;
};
struct pending {
  __u64 t_ns;
  __u32 route;
  __u32 pad;
};
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, struct flow_key);
  __type(value, struct pending);
} http_pending SEC(".maps");

/* One scratch buffer per CPU: 128 bytes do not belong on the 512-byte BPF stack. Its length is
 * kept beside it and read back from the map in the parsing loop: a length the verifier tracks in a
 * register made it walk the loop once per possible length (past half its million instructions on
 * Linux 6.1). */
struct scratch {
  __u32 len;
  char data[PB_BUF];
};
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct scratch);
} http_scratch SEC(".maps");

static __always_inline void count(__u32 k)
{
  __u64 *c = bpf_map_lookup_elem(&http_counters, &k);
  if (c)
    (*c)++;
}

/* The TCP payload of an IPv4 frame: its offset and length, and the flow; 0 when there is none. */
static __always_inline __u32 tcp_payload(struct __sk_buff *skb, __u32 *off, struct flow_key *fk, int egress)
{
  void *data = (void *)(long)skb->data;
  void *data_end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  struct iphdr *iph = (void *)(eth + 1);
  if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(PB_ETH_P_IP) || iph->protocol != IPPROTO_TCP)
    return 0;
  __u32 ihl = iph->ihl * 4;
  if (ihl < sizeof(*iph))
    return 0;
  struct tcphdr *th = (void *)iph + ihl;
  if ((void *)(th + 1) > data_end)
    return 0;
  __u32 doff = th->doff * 4;
  __u32 tot = bpf_ntohs(iph->tot_len);
  if (tot <= ihl + doff)
    return 0;
  *off = sizeof(*eth) + ihl + doff;
  if (egress) {
    fk->client_ip = iph->daddr;
    fk->server_ip = iph->saddr;
    fk->client_port = th->dest;
    fk->server_port = th->source;
  } else {
    fk->client_ip = iph->saddr;
    fk->server_ip = iph->daddr;
    fk->client_port = th->source;
    fk->server_port = th->dest;
  }
  return tot - ihl - doff;
}

/* The route key of the request line in sc->data[0..sc->len) (pb_shared.h): 1 with *key set, 0 when
 * the line does not end (' ' or '?' after the path) within the bytes parsed. One pass, a bounded
 * loop whose state is small: `state` (method, the path's '/', path) and `seg` (the segment so far:
 * empty 0, digits only 1, anything else 2|3). It verifies on Linux 6.1, where a bpf_loop callback per
 * pattern byte did not (its verifier reported an infinite loop), and costs one hash lookup per
 * request whatever the number of routes. */
static __always_inline int request_key(const struct scratch *sc, __u64 *key)
{
  __u64 h = PB_HTTP_FNV_OFFSET, t = PB_HTTP_FNV_OFFSET;
  __u32 state = 0, seg = 0;
  for (__u32 k = 0; k < PB_BUF; k++) {
    if (k >= sc->len)
      return 0;
    unsigned char c = sc->data[k];
    if (state == 0) {
      if (c == ' ') {
        h = pb_http_token(h, t);
        t = PB_HTTP_FNV_OFFSET;
        state = 1;
      } else {
        t = pb_http_byte(t, c);
      }
      continue;
    }
    if (state == 1) {
      if (c != '/')
        return 0;
      state = 2;
      continue;
    }
    if (c == '/' || c == ' ' || c == '?') {
      h = pb_http_token(h, seg == 1 ? PB_HTTP_PLACEHOLDER : t);
      if (c != '/') {
        *key = h;
        return 1;
      }
      t = PB_HTTP_FNV_OFFSET;
      seg = 0;
      continue;
    }
    t = pb_http_byte(t, c);
    seg |= (c >= '0' && c <= '9') ? 1 : 2;
  }
  return 0;
}

/* A request line starts with an upper-case token and a space within its first 8 bytes. */
static __always_inline int looks_like_request(const struct scratch *sc)
{
  for (int k = 0; k < 8; k++) {
    if ((__u32)k >= sc->len)
      return 0;
    char c = sc->data[k];
    if (c == ' ')
      return k > 0 && sc->len > (__u32)k + 1 && sc->data[k + 1] == '/';
    if (c < 'A' || c > 'Z')
      return 0;
  }
  return 0;
}

/* log-linear bucket of v (pb_shared.h). */
static __always_inline __u32 bucket_of(__u64 v)
{
  if (v < 4)
    return (__u32)v;
  __u32 msb = 0;
  __u64 x = v;
  if (x >> 32) { x >>= 32; msb += 32; }
  if (x >> 16) { x >>= 16; msb += 16; }
  if (x >> 8) { x >>= 8; msb += 8; }
  if (x >> 4) { x >>= 4; msb += 4; }
  if (x >> 2) { x >>= 2; msb += 2; }
  if (x >> 1) { msb += 1; }
  __u32 b = msb * 4 + (__u32)((v >> (msb - 2)) & 3) - 4;
  return b < PB_HTTP_BUCKETS ? b : PB_HTTP_BUCKETS - 1;
}

static __always_inline struct scratch *load(struct __sk_buff *skb, __u32 off, __u32 len)
{
  __u32 zero = 0;
  struct scratch *sc = bpf_map_lookup_elem(&http_scratch, &zero);
  if (!sc || len < 1)
    return 0;
  /* 1..128 by construction: a range the verifier keeps (a clamp and a check, reordered by the
   * compiler, lost the lower bound on 6.1). */
  __u32 n = ((len > PB_BUF ? PB_BUF : len) - 1) & (PB_BUF - 1);
  n += 1;
  if (bpf_skb_load_bytes(skb, off, sc->data, n))
    return 0;
  sc->len = n;
  return sc;
}

SEC("tc")
int pb_http_in(struct __sk_buff *skb)
{
  count(PB_HTTP_ROUTES_MAX + PB_HTTP_PACKETS_IN);
  struct flow_key fk = {};
  __u32 off = 0;
  __u32 n = tcp_payload(skb, &off, &fk, 0);
  if (!n)
    return PB_TC_ACT_UNSPEC;
  struct scratch *sc = load(skb, off, n);
  if (!sc)
    return PB_TC_ACT_UNSPEC;
  if (!looks_like_request(sc)) {
    count(PB_HTTP_ROUTES_MAX + PB_HTTP_OTHER);
    return PB_TC_ACT_UNSPEC;
  }
  __u32 route = PB_HTTP_ROUTES_MAX;
  __u64 key = 0;
  if (request_key(sc, &key)) {
    __u32 *r = bpf_map_lookup_elem(&http_route_keys, &key);
    if (r)
      route = *r;
  }
  if (route >= PB_HTTP_ROUTES_MAX) {
    count(PB_HTTP_ROUTES_MAX + PB_HTTP_UNMATCHED);
    return PB_TC_ACT_UNSPEC;
  }
  count(route);
  struct pending pd = {.t_ns = bpf_ktime_get_ns(), .route = route};
  if (bpf_map_update_elem(&http_pending, &fk, &pd, BPF_NOEXIST)) {
    count(PB_HTTP_ROUTES_MAX + PB_HTTP_OVERLAP);
    bpf_map_update_elem(&http_pending, &fk, &pd, BPF_ANY);
  }
  return PB_TC_ACT_UNSPEC;
}

SEC("tc")
int pb_http_out(struct __sk_buff *skb)
{
  count(PB_HTTP_ROUTES_MAX + PB_HTTP_PACKETS_OUT);
  struct flow_key fk = {};
  __u32 off = 0;
  __u32 n = tcp_payload(skb, &off, &fk, 1);
  if (!n)
    return PB_TC_ACT_UNSPEC;
  /* A response's status line starts "HTTP/1.": 8 bytes on the stack are enough. */
  char buf[8];
  if (n < 8 || bpf_skb_load_bytes(skb, off, buf, sizeof buf) || buf[0] != 'H' || buf[1] != 'T' || buf[2] != 'T' ||
      buf[3] != 'P' || buf[4] != '/' || buf[5] != '1' || buf[6] != '.') {
    count(PB_HTTP_ROUTES_MAX + PB_HTTP_OTHER);
    return PB_TC_ACT_UNSPEC;
  }
  struct pending *pd = bpf_map_lookup_elem(&http_pending, &fk);
  if (!pd) {
    count(PB_HTTP_ROUTES_MAX + PB_HTTP_UNPAIRED);
    return PB_TC_ACT_UNSPEC;
  }
  __u64 dt = bpf_ktime_get_ns() - pd->t_ns;
  __u32 route = pd->route;
  bpf_map_delete_elem(&http_pending, &fk);
  if (route < PB_HTTP_ROUTES_MAX) {
    __u32 k = route * PB_HTTP_BUCKETS + bucket_of(dt);
    __u64 *h = bpf_map_lookup_elem(&http_hist, &k);
    if (h)
      (*h)++;
  }
  count(PB_HTTP_ROUTES_MAX + PB_HTTP_RESPONSES);
  return PB_TC_ACT_UNSPEC;
}

/* The same hooks with nothing in them: what the hook itself costs. */
SEC("tc")
int pb_http_empty_in(struct __sk_buff *skb)
{
  return PB_TC_ACT_UNSPEC;
}

SEC("tc")
int pb_http_empty_out(struct __sk_buff *skb)
{
  return PB_TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
