// SPDX-License-Identifier: Apache-2.0
#include "kernel/bpf/test_run.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

namespace pb::bpf {

TestRun test_run(int prog_fd, const std::vector<uint8_t>& pkt, uint32_t ifindex, uint32_t repeat) {
  TestRun r;
  bpf_prog_info info{};
  __u32 len = sizeof(info);
  if (int err = bpf_obj_get_info_by_fd(prog_fd, &info, &len)) {
    r.err = err;
    return r;
  }
  r.out.resize(pkt.size() + 256);
  xdp_md xctx{};
  xctx.data_end = static_cast<__u32>(pkt.size());
  xctx.ingress_ifindex = ifindex;
  __sk_buff sctx{};
  sctx.ifindex = ifindex;
  sctx.ingress_ifindex = ifindex;
  bpf_test_run_opts o{};
  o.sz = sizeof(o);
  o.data_in = pkt.data();
  o.data_size_in = static_cast<__u32>(pkt.size());
  o.data_out = r.out.data();
  o.data_size_out = static_cast<__u32>(r.out.size());
  if (ifindex) {
    if (info.type == BPF_PROG_TYPE_XDP) {
      o.ctx_in = &xctx;
      o.ctx_size_in = sizeof(xctx);
    } else {
      o.ctx_in = &sctx;
      o.ctx_size_in = sizeof(sctx);
    }
  }
  o.repeat = repeat;
  int err = bpf_prog_test_run_opts(prog_fd, &o);
  r.err = err;
  r.retval = o.retval;
  r.duration_ns = o.duration;
  r.out.resize(err ? 0 : o.data_size_out);
  return r;
}

}  // namespace pb::bpf
