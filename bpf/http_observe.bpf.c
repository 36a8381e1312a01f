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
 * Routes are patterns the loader writes into http_routes (pb_shared.h): "GET /api/v1/orders/\x01",
 * where \x01 matches one path segment. Counters and histograms are per-CPU arrays (no atomics);
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

/* The routes, written by the loader before each workload (its --http-routes); len 0 ends the list. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, PB_HTTP_ROUTES_MAX);
  __type(key, __u32);
  __type(value, struct pb_http_route);
} http_routes SEC(".maps");

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

/* One scratch buffer per CPU: 128 bytes do not belong on the 512-byte BPF stack twice over. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, char[PB_BUF]);
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

/* Does the request line in buf[0..n) match the route? A pattern byte PB_HTTP_WILDCARD takes one or
 * more bytes up to '/', ' ' or '?'; the path must end (' ' or '?') where the pattern does. One
 * step per bpf_loop iteration: as a plain loop over 192 steps with its branches, the verifier's
 * walk of 8 routes went past its million instructions. */
struct match_ctx {
  const char *buf;
  const struct pb_http_route *rt;
  __u32 i, j, took, n, plen;
  int result;
};

static long match_step(__u64 index, void *vctx)
{
  struct match_ctx *m = vctx;
  __u32 i = m->i, j = m->j;
  if (j >= m->n || j >= PB_BUF)
    return 1; /* result stays 0 */
  char c = m->buf[j & (PB_BUF - 1)];
  if (i >= m->plen || i >= PB_HTTP_PATTERN_MAX) {
    m->result = c == ' ' || c == '?';
    return 1;
  }
  char p = m->rt->pattern[i & (PB_HTTP_PATTERN_MAX - 1)];
  if (p == PB_HTTP_WILDCARD) {
    if (c == '/' || c == ' ' || c == '?') {
      if (!m->took)
        return 1;
      m->i = i + 1;
      m->took = 0;
      return 0;
    }
    m->took = 1;
    m->j = j + 1;
    return 0;
  }
  if (c != p)
    return 1;
  m->i = i + 1;
  m->j = j + 1;
  return 0;
}

static __always_inline int match_route(const char *buf, __u32 n, const struct pb_http_route *rt)
{
  struct match_ctx m = {.buf = buf, .rt = rt, .n = n, .plen = rt->len};
  bpf_loop(PB_BUF + PB_HTTP_PATTERN_MAX, match_step, &m, 0);
  return m.result;
}

/* A request line starts with an upper-case token and a space within its first 8 bytes. */
static __always_inline int looks_like_request(const char *buf, __u32 n)
{
  for (int k = 0; k < 8; k++) {
    if ((__u32)k >= n)
      return 0;
    char c = buf[k];
    if (c == ' ')
      return k > 0 && n > (__u32)k + 1 && buf[k + 1] == '/';
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

static __always_inline char *load(struct __sk_buff *skb, __u32 off, __u32 *len)
{
  __u32 zero = 0;
  char *buf = bpf_map_lookup_elem(&http_scratch, &zero);
  if (!buf)
    return 0;
  __u32 n = *len;
  if (n > PB_BUF)
    n = PB_BUF;
  if (n < 1)
    return 0;
  if (bpf_skb_load_bytes(skb, off, buf, n))
    return 0;
  *len = n;
  return buf;
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
  char *buf = load(skb, off, &n);
  if (!buf)
    return PB_TC_ACT_UNSPEC;
  if (!looks_like_request(buf, n)) {
    count(PB_HTTP_ROUTES_MAX + PB_HTTP_OTHER);
    return PB_TC_ACT_UNSPEC;
  }
  __u32 route = PB_HTTP_ROUTES_MAX;
  for (__u32 r = 0; r < PB_HTTP_ROUTES_MAX; r++) {
    const struct pb_http_route *rt = bpf_map_lookup_elem(&http_routes, &r);
    if (!rt || !rt->len)
      break;
    if (match_route(buf, n, rt)) {
      route = r;
      break;
    }
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
  char *buf = load(skb, off, &n);
  if (!buf)
    return PB_TC_ACT_UNSPEC;
  if (n < 8 || buf[0] != 'H' || buf[1] != 'T' || buf[2] != 'T' || buf[3] != 'P' || buf[4] != '/' || buf[5] != '1' ||
      buf[6] != '.') {
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
