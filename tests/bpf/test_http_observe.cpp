// SPDX-License-Identifier: Apache-2.0
// test_http_observe.cpp: the API observer's BPF programs (bpf/http_observe.bpf.c) under
// BPF_PROG_TEST_RUN, table-driven: each request line is counted under the route the C++ twin
// (paths/observer.h request_key, which counts the gateway's log) says and the table expects, or
// as unmatched, or as not a request; a response on the reversed flow is paired with its request
// and lands in that route's latency histogram; the empty programs pass every packet on.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <cstring>

#include "bpf_test_util.h"
#include "http_observe.skel.h"
#include "kernel/bpf/skeleton.h"
#include "kernel/bpf/stats.h"
#include "kernel/bpf/test_run.h"
#include "paths/observer.h"
#include "roles/packet_fixtures.h"

namespace pb {
namespace {

namespace fx = pb::bpf::fixtures;
constexpr uint32_t kTcActUnspec = 0xffffffffu;  // TC_ACT_UNSPEC (-1): the next program runs

std::vector<uint8_t> frame(const std::string& payload, bool response, uint16_t client_port = 40000) {
  fx::PacketSpec s = fx::tcp_c2s();
  s.sport = client_port;
  s.dport = 8080;
  if (response) {
    std::swap(s.saddr, s.daddr);
    std::swap(s.sport, s.dport);
  }
  s.payload = payload.size();
  std::vector<uint8_t> f = fx::build_packet(s);
  std::memcpy(f.data() + fx::kEthLen + fx::kIpLen + fx::kTcpLen, payload.data(), payload.size());
  return f;
}

class HttpObserve : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) GTEST_SKIP() << test::kNeedRoot;
    skel_.reset(bpf::open_skeleton<http_observe>("http_observe"));
    bpf::load_skeleton(skel_.get(), "http_observe");
    routes_ = {"GET /api/v1/users", "GET /api/v1/orders/{id}", "POST /api/v1/orders", "DELETE /a/{x}/b/{y}"};
    for (uint32_t i = 0; i < routes_.size(); ++i) {
      const uint64_t k = route_key(routes_[i]);
      ASSERT_EQ(0, bpf_map_update_elem(bpf_map__fd(skel_->maps.http_route_keys), &k, &i, BPF_ANY));
    }
  }
  std::vector<uint64_t> counters() {
    return bpf::read_percpu_u64(bpf_map__fd(skel_->maps.http_counters), PB_HTTP_COUNTERS);
  }
  std::vector<uint64_t> hist() {
    return bpf::read_percpu_u64(bpf_map__fd(skel_->maps.http_hist), PB_HTTP_ROUTES_MAX * PB_HTTP_BUCKETS);
  }
  uint32_t run(bpf_program* p, const std::vector<uint8_t>& f) {
    bpf::TestRun r = bpf::test_run(bpf_program__fd(p), f, 0);
    EXPECT_EQ(r.err, 0);
    return r.retval;
  }
  std::vector<std::string> routes_;
  bpf::SkelPtr<http_observe> skel_;
};

// -1: unmatched request; -2: not a request (other payload).
struct Case {
  std::string request;
  int route;
};

TEST_F(HttpObserve, CountsEachRequestUnderTheRouteItsTwinMatches) {
  const std::vector<Case> cases = {
      {"GET /api/v1/users HTTP/1.1\r\nHost: x\r\n\r\n", 0},
      {"GET /api/v1/users?limit=10 HTTP/1.1\r\n\r\n", 0},
      {"GET /api/v1/users/ HTTP/1.1\r\n\r\n", -1},       // a longer path is another route
      {"GET /api/v1/user HTTP/1.1\r\n\r\n", -1},
      {"POST /api/v1/users HTTP/1.1\r\n\r\n", -1},       // the method is part of the route
      {"GET /api/v1/orders/12345 HTTP/1.1\r\n\r\n", 1},
      {"GET /api/v1/orders/42?x=1 HTTP/1.1\r\n\r\n", 1},
      {"GET /api/v1/orders/abc HTTP/1.1\r\n\r\n", -1},    // a placeholder is a digits-only segment
      {"GET /api/v1/orders/ HTTP/1.1\r\n\r\n", -1},      // ... of at least one digit
      {"GET /api/v1/orders/1/2 HTTP/1.1\r\n\r\n", -1},   // ... and one segment only
      {"POST /api/v1/orders HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 2},
      {"DELETE /a/1/b/2 HTTP/1.1\r\n\r\n", 3},
      {"DELETE /a/1/c/2 HTTP/1.1\r\n\r\n", -1},
      {"get /api/v1/users HTTP/1.1\r\n\r\n", -2},        // not a request line: lower case
      {"{\"d\":\"body bytes of a segment that continues a request\"}", -2},
      {"GET /" + std::string(200, 'a') + " HTTP/1.1\r\n\r\n", -1},  // beyond the 128 bytes parsed: no match
  };
  uint16_t port = 41000;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.request.substr(0, 60));
    // The twin agrees with the table (what the gateway's log is matched with).
    const std::string line = c.request.substr(0, c.request.find("\r\n"));
    int twin = -1;
    for (size_t r = 0; r < routes_.size() && twin < 0; ++r)
      if (c.route >= -1 && route_matches(routes_[r], line)) twin = static_cast<int>(r);
    if (c.route >= -1) {
      EXPECT_EQ(twin, c.route) << "C++ twin";
    }
    const auto before = counters();
    EXPECT_EQ(run(skel_->progs.pb_http_in, frame(c.request, false, port++)), kTcActUnspec);
    const auto after = counters();
    for (uint32_t k = 0; k < PB_HTTP_COUNTERS; ++k) {
      uint64_t want = 0;
      if (k == PB_HTTP_ROUTES_MAX + PB_HTTP_PACKETS_IN) want = 1;
      if (c.route >= 0 && k == static_cast<uint32_t>(c.route)) want = 1;
      if (c.route == -1 && k == PB_HTTP_ROUTES_MAX + PB_HTTP_UNMATCHED) want = 1;
      if (c.route == -2 && k == PB_HTTP_ROUTES_MAX + PB_HTTP_OTHER) want = 1;
      EXPECT_EQ(after[k] - before[k], want) << "counter " << k;
    }
  }
}

TEST_F(HttpObserve, PairsAResponseWithItsRequestIntoTheRoutesHistogram) {
  const auto c0 = counters();
  const auto h0 = hist();
  run(skel_->progs.pb_http_in, frame("GET /api/v1/orders/7 HTTP/1.1\r\n\r\n", false, 42000));
  // A response on another flow has no request pending.
  run(skel_->progs.pb_http_out, frame("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true, 42001));
  EXPECT_EQ(run(skel_->progs.pb_http_out, frame("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true, 42000)),
            kTcActUnspec);
  // The same flow again: its request was answered, nothing is pending.
  run(skel_->progs.pb_http_out, frame("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true, 42000));
  const auto c1 = counters();
  const auto h1 = hist();
  EXPECT_EQ(c1[PB_HTTP_ROUTES_MAX + PB_HTTP_RESPONSES] - c0[PB_HTTP_ROUTES_MAX + PB_HTTP_RESPONSES], 1u);
  EXPECT_EQ(c1[PB_HTTP_ROUTES_MAX + PB_HTTP_UNPAIRED] - c0[PB_HTTP_ROUTES_MAX + PB_HTTP_UNPAIRED], 2u);
  uint64_t in_route1 = 0, elsewhere = 0;
  for (size_t b = 0; b < h1.size(); ++b) (b / PB_HTTP_BUCKETS == 1 ? in_route1 : elsewhere) += h1[b] - h0[b];
  EXPECT_EQ(in_route1, 1u) << "one latency sample, in route 1's histogram";
  EXPECT_EQ(elsewhere, 0u);
  // Two requests on one flow before its response: the second is counted, the overlap too.
  const auto o0 = counters();
  run(skel_->progs.pb_http_in, frame("GET /api/v1/users HTTP/1.1\r\n\r\n", false, 42002));
  run(skel_->progs.pb_http_in, frame("GET /api/v1/users HTTP/1.1\r\n\r\n", false, 42002));
  const auto o1 = counters();
  EXPECT_EQ(o1[0] - o0[0], 2u);
  EXPECT_EQ(o1[PB_HTTP_ROUTES_MAX + PB_HTTP_OVERLAP] - o0[PB_HTTP_ROUTES_MAX + PB_HTTP_OVERLAP], 1u);
}

TEST_F(HttpObserve, EmptyProgramsPassEverythingOnAndCountNothing) {
  const auto c0 = counters();
  EXPECT_EQ(run(skel_->progs.pb_http_empty_in, frame("GET /api/v1/users HTTP/1.1\r\n\r\n", false)), kTcActUnspec);
  EXPECT_EQ(run(skel_->progs.pb_http_empty_out, frame("HTTP/1.1 200 OK\r\n\r\n", true)), kTcActUnspec);
  EXPECT_EQ(counters(), c0);
}

}  // namespace
}  // namespace pb
