// SPDX-License-Identifier: Apache-2.0
// workloads/http_wire.h: the framing both sides of http_rr / http_crr rely on. The generator must
// never count a response that is malformed, short or followed by bytes nobody asked for; the
// responder must answer whatever segmentation and pipelining the path (or a gateway) produces.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "workloads/http_wire.h"

using namespace pb::http;

namespace {

const std::string kReq = "GET /api/v1/users HTTP/1.1\r\nHost: 198.18.2.2:5201\r\nAccept: application/json\r\n\r\n";

std::string response(size_t body, const std::string& extra_headers = "") {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body) + "\r\n" +
         extra_headers + "\r\n" + json_body(body);
}

// Feeds `bytes` to a ResponseReader in pieces of `step` bytes; the status after the last piece.
Status feed_in_steps(ResponseReader& rd, const std::string& bytes, size_t step) {
  Status st = Status::kNeedMore;
  for (size_t off = 0; off < bytes.size(); off += step) {
    st = rd.feed(bytes.data() + off, std::min(step, bytes.size() - off));
    if (st == Status::kBad) return st;
    if (st == Status::kDone && off + step < bytes.size()) ADD_FAILURE() << "done before the last piece at " << off;
  }
  return st;
}

}  // namespace

TEST(HttpWire, ResponseCompleteAcrossAnySegmentation) {
  const std::string r = response(256);
  for (size_t step : {1u, 2u, 7u, 64u, 1000u}) {
    ResponseReader rd;
    EXPECT_EQ(feed_in_steps(rd, r, step), Status::kDone) << "step " << step << ": " << rd.why();
    EXPECT_EQ(rd.head().content_length, 256u);
    EXPECT_EQ(rd.extra(), 0u);
  }
  ResponseReader rd;
  EXPECT_EQ(rd.feed(r.data(), r.size() - 1), Status::kNeedMore) << "one body byte short is not a response";
}

TEST(HttpWire, HeadersInAnyCaseAndOrderAsAGatewayRewritesThem) {
  const std::string r =
      "HTTP/1.1 200 \r\nx-forwarded-for: 198.18.1.1\r\nCONNECTION: keep-alive\r\ncontent-length:  3\r\n"
      "Via: 1.1 haproxy\r\n\r\n123";
  ResponseReader rd;
  ASSERT_EQ(rd.feed(r.data(), r.size()), Status::kDone) << rd.why();
  EXPECT_EQ(rd.head().content_length, 3u);
  EXPECT_FALSE(rd.head().close);
  ResponseReader rc;
  const std::string c = response(0, "connection: Close\r\n");
  ASSERT_EQ(rc.feed(c.data(), c.size()), Status::kDone) << rc.why();
  EXPECT_TRUE(rc.head().close);
}

TEST(HttpWire, ResponsesTheGeneratorRefuses) {
  struct Case {
    std::string bytes, why;
  };
  const Case cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}", "without Content-Length"},
      {"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", "want HTTP/1.1 200"},
      {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", "not an HTTP/1.1 response"},
      {"garbage", "not an HTTP/1.1 response"},
      {"HTTP/1.1 2x0 OK\r\n", "malformed status line"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n", "not a number"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", "two different Content-Length"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n folded\r\n\r\n", "obsolete line folding"},
      {"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", "malformed header line"},
      {"HTTP/1.1 200 OK\nContent-Length: 0\n\n", "bare LF"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", "above the limit"},
  };
  for (const Case& c : cases) {
    ResponseReader rd;
    EXPECT_EQ(rd.feed(c.bytes.data(), c.bytes.size()), Status::kBad) << c.bytes;
    EXPECT_NE(rd.why().find(c.why), std::string::npos) << c.bytes << " -> " << rd.why();
  }
  // Garbage is refused from its first bytes, not after kMaxHead of waiting.
  ResponseReader early;
  EXPECT_EQ(early.feed("HTTX", 4), Status::kBad);
}

TEST(HttpWire, BytesBeyondContentLengthAreADesync) {
  // Two responses to one request, or a body longer than announced: reported, never absorbed.
  const std::string two = response(8) + response(8);
  ResponseReader rd;
  ASSERT_EQ(rd.feed(two.data(), two.size()), Status::kDone);
  EXPECT_EQ(rd.extra(), response(8).size());
  const std::string longer = response(4) + "xx";
  ResponseReader rl;
  Status st = Status::kNeedMore;
  for (size_t off = 0; off < longer.size(); off += 3) st = rl.feed(longer.data() + off, std::min<size_t>(3, longer.size() - off));
  ASSERT_EQ(st, Status::kDone);
  EXPECT_EQ(rl.extra(), 2u) << "bytes in a later segment count too";
}

TEST(HttpWire, OversizeHeadIsMalformed) {
  std::string head = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(kMaxHead, 'a');
  ResponseReader rd;
  EXPECT_EQ(rd.feed(head.data(), head.size()), Status::kBad);
  EXPECT_NE(rd.why().find("head longer than"), std::string::npos) << rd.why();
  Head h;
  std::string why;
  std::string req = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(kMaxHead, 'a') + "\r\n\r\n";
  EXPECT_EQ(parse_request_head(req, h, why), Status::kBad);
}

TEST(HttpWire, RequestHeadFraming) {
  Head h;
  std::string why;
  EXPECT_EQ(parse_request_head(kReq.substr(0, kReq.size() - 1), h, why), Status::kNeedMore);
  ASSERT_EQ(parse_request_head(kReq, h, why), Status::kDone) << why;
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/api/v1/users");
  EXPECT_EQ(h.head_len, kReq.size());
  EXPECT_FALSE(h.has_content_length);
  EXPECT_FALSE(h.close);
  const std::string post = "POST /o HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nConnection: keep-alive, close\r\n\r\n";
  ASSERT_EQ(parse_request_head(post, h, why), Status::kDone) << why;
  EXPECT_EQ(h.content_length, 5u);
  EXPECT_TRUE(h.close);
  EXPECT_EQ(parse_request_head("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", h, why), Status::kBad);
  EXPECT_NE(why.find("Host"), std::string::npos) << why;
  ASSERT_EQ(parse_request_head("GET / HTTP/1.0\r\n\r\n", h, why), Status::kDone);
  EXPECT_TRUE(h.close) << "HTTP/1.0 without keep-alive closes";
}

TEST(HttpWire, ServerAnswersPartialAndPipelinedRequests) {
  ServerConn conn(256);
  const std::string ok = response(256);
  std::string body = "{\"a\":1}";
  const std::string post = "POST /api/v1/orders HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
                           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  const std::string stream = kReq + post + kReq;
  // One byte at a time: a response exactly when each request (body included) is complete.
  std::string out;
  size_t answered = 0;
  for (size_t i = 0; i < stream.size(); ++i) {
    ASSERT_TRUE(conn.feed(&stream[i], 1, out));
    const size_t ends[] = {kReq.size(), kReq.size() + post.size(), stream.size()};
    if (answered < 3 && i + 1 == ends[answered]) ++answered;
    EXPECT_EQ(conn.requests(), answered) << "at byte " << i;
  }
  EXPECT_EQ(out, ok + ok + ok);
  // All three in one segment: three responses, in order.
  ServerConn at_once(256);
  std::string out2;
  ASSERT_TRUE(at_once.feed(stream.data(), stream.size(), out2));
  EXPECT_EQ(out2, ok + ok + ok);
  // The responses the generator reads back are what it validates.
  ResponseReader rd;
  EXPECT_EQ(rd.feed(ok.data(), ok.size()), Status::kDone) << rd.why();
}

TEST(HttpWire, ServerClosesAfterConnectionCloseAndRefusesGarbage) {
  ServerConn conn(16);
  std::string out;
  const std::string closing = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  EXPECT_FALSE(conn.feed(closing.data(), closing.size(), out)) << "close once answered";
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(out.find("Content-Length: 16\r\n"), std::string::npos);
  out.clear();
  EXPECT_FALSE(conn.feed(kReq.data(), kReq.size(), out)) << "nothing is read after a close";
  EXPECT_TRUE(out.empty());

  for (std::string garbage : {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n", 13),
                              std::string("GET /x HTTP/2\r\n"), std::string("GET  / HTTP/1.1\r\n"),
                              std::string("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")}) {
    ServerConn bad(16);
    std::string o;
    EXPECT_FALSE(bad.feed(garbage.data(), garbage.size(), o)) << garbage;
    EXPECT_EQ(o, std::string(kBadRequest)) << garbage;
  }
}

TEST(HttpWire, ResponseBodyIsJsonOfTheExactSize) {
  for (size_t n : {0u, 1u, 7u, 8u, 9u, 256u}) EXPECT_EQ(json_body(n).size(), n);
  EXPECT_EQ(json_body(10), "{\"d\":\"xx\"}");
}

TEST(HttpWire, RoutesAndRequests) {
  std::string why;
  auto r = parse_route(" POST /api/v1/orders ", why);
  ASSERT_TRUE(r) << why;
  EXPECT_EQ(r->method, "POST");
  EXPECT_TRUE(r->body);
  EXPECT_FALSE(parse_route("GET /a", why)->body);
  for (const char* bad : {"", "GET", "/a", "get /a", "GET a", "GET /a b"}) {
    EXPECT_FALSE(parse_route(bad, why)) << bad;
    EXPECT_NE(why.find("METHOD /path"), std::string::npos) << why;
  }
  std::vector<Route> routes;
  for (auto& t : default_routes()) routes.push_back(*parse_route(t, why));
  RequestBuilder rb(routes, "198.18.2.2:5201", 100, false, 3);
  std::set<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    size_t route = 99;
    const std::string req = rb.next(route);
    EXPECT_EQ(route, static_cast<size_t>(i % 3));
    // What the responder's parser takes is what the generator sends.
    Head h;
    ASSERT_EQ(parse_request_head(req, h, why), Status::kDone) << why << "\n" << req;
    EXPECT_EQ(h.method, routes[route].method);
    EXPECT_EQ(req.size(), h.head_len + (routes[route].body ? 100 : 0));
    EXPECT_EQ(h.content_length, routes[route].body ? 100u : 0u);
    EXPECT_FALSE(h.close);
    EXPECT_NE(req.find("\r\nHost: 198.18.2.2:5201\r\n"), std::string::npos);
    EXPECT_NE(req.find("\r\nAuthorization: Bearer "), std::string::npos);
    EXPECT_NE(req.find("\r\ntraceparent: 00-"), std::string::npos);
    if (route == 1) ids.insert(h.target);
    size_t lines = 0;
    for (size_t p = req.find("\r\n"); p < h.head_len - 4; p = req.find("\r\n", p + 2)) ++lines;
    EXPECT_GE(lines, 8u) << "about ten headers";
    EXPECT_LE(lines, 12u);
  }
  EXPECT_EQ(ids.size(), 2u) << "{id} varies";
  RequestBuilder closing(routes, "h:1", 0, true, 0);
  size_t route = 0;
  Head h;
  ASSERT_EQ(parse_request_head(closing.next(route), h, why), Status::kDone) << why;
  EXPECT_TRUE(h.close);
}
