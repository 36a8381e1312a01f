// SPDX-License-Identifier: Apache-2.0
// workloads/http_wire.h: HTTP/1.1 message framing for the http workloads, client and server side,
// with no I/O of its own: bytes in, requests or responses out, so every rule is unit-tested
// (tests/workloads/test_http_wire.cpp) and both responder loops share one parser.
//
// Hand-written, not a library: Debian 12 packages no maintained HTTP/1.1 parser for C/C++ (no
// llhttp or picohttpparser package; node-llhttp is its JavaScript sources, libhttp-parser-dev is
// nodejs/http-parser, archived upstream since 2022). And the subset needed is small and
// deliberately strict: Content-Length framing only (no chunked coding, no obsolete line folding),
// one status a generator accepts (200), the headers that decide framing and keep-alive. Anything
// else is a malformed message, which for the generator is a failed trial, never a counted request.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pb::http {

// A head (request or status line plus headers) longer than this without its CRLFCRLF is
// malformed: what a benchmark sends is ~400 bytes, and a gateway adds a few headers.
constexpr size_t kMaxHead = 16384;
// The largest body either side accepts (and --payload-bytes / --response-bytes allow).
constexpr uint32_t kMaxBody = 1u << 20;

enum class Status { kNeedMore, kDone, kBad };

// What framing and connection handling need from a head. Header names are matched without case,
// in any order; unknown headers are skipped.
struct Head {
  size_t head_len = 0;        // bytes up to and including CRLFCRLF
  uint64_t content_length = 0;
  bool has_content_length = false;
  bool close = false;         // Connection: close (or HTTP/1.0 without keep-alive)
  // request
  std::string method, target;
  // response
  int status = 0;
};

// Parses the head at the start of `buf`: kNeedMore while no CRLFCRLF (and below kMaxHead), kBad
// with `why` set, kDone with `out` filled. Requests without Content-Length have no body; a response
// must carry Content-Length (the generator never reads to EOF: that would hide a desync).
Status parse_request_head(std::string_view buf, Head& out, std::string& why);
Status parse_response_head(std::string_view buf, Head& out, std::string& why);

// Server side of one connection: received bytes in (any segmentation, pipelined requests), the
// responses due out. A malformed request gets a 400 and closes the connection.
class ServerConn {
 public:
  explicit ServerConn(uint32_t response_bytes);
  // Consumes n bytes; appends every response now complete to `out`. Returns false once the
  // connection must close after `out` is written (Connection: close, or a 400); the bytes after
  // that request are ignored.
  bool feed(const char* p, size_t n, std::string& out);
  uint64_t requests() const { return requests_; }

 private:
  std::string ok_keep_, ok_close_;  // whole responses, built once
  std::string in_;                  // head bytes not yet parsed
  uint64_t body_left_ = 0;          // body bytes of the current request still to skip
  bool close_after_ = false, in_body_ = false, done_ = false;
  uint64_t requests_ = 0;
};

// The 400 a malformed request gets.
extern const std::string_view kBadRequest;
// A response body of n bytes that is valid JSON (n >= 8: {"d":"xx..."}; shorter: a number).
std::string json_body(size_t n);

// Client side: one response to one request; fed bytes as they arrive.
class ResponseReader {
 public:
  void reset();
  // kDone when the response is complete; `extra` then holds bytes received beyond it (a desync
  // when the client has nothing else outstanding). kBad with why().
  Status feed(const char* p, size_t n);
  const Head& head() const { return head_; }
  const std::string& why() const { return why_; }
  size_t extra() const { return extra_; }

 private:
  std::string in_;
  Head head_;
  bool have_head_ = false;
  uint64_t body_left_ = 0;
  size_t extra_ = 0;
  std::string why_;
};

// One route the generator requests: "GET /api/v1/orders/{id}" ({id} becomes a number that
// varies per request). Body-carrying methods (POST, PUT, PATCH) send --payload-bytes of JSON.
struct Route {
  std::string method, path;
  bool body = false;
  std::string text() const { return method + " " + path; }
};
// "GET /a" -> Route; nullopt with `why` when it is not METHOD SP /path (a token, then an
// absolute path without spaces or control characters).
std::optional<Route> parse_route(const std::string& text, std::string& why);
const std::vector<std::string>& default_routes();

// Builds the requests of one flow: a small JSON API call with about ten headers, as a browser's
// or service's client library sends (Host, User-Agent, Accept, Accept-Encoding, Accept-Language,
// Authorization, X-Request-Id, traceparent, Connection; Content-Type and Content-Length with a
// body).
class RequestBuilder {
 public:
  RequestBuilder(std::vector<Route> routes, std::string host, uint32_t body_bytes, bool close, unsigned flow);
  // The next request, cycling over the routes; `route` is its index.
  const std::string& next(size_t& route);
  size_t routes() const { return routes_.size(); }

 private:
  std::vector<Route> routes_;
  std::string host_, body_, req_;
  bool close_;
  unsigned flow_;
  uint64_t n_ = 0;
};

}  // namespace pb::http
