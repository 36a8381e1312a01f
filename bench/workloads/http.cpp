// SPDX-License-Identifier: Apache-2.0
// workloads/http.cpp: HTTP/1.1 request/response, pathbench's own generator (the socket workloads'
// flows and controller, socket_load.h; the framing, http_wire.h):
//   http_rr   keep-alive: each flow's one connection carries request after request
//   http_crr  a connection per request (Connection: close; the server closes after its response),
//             connect latency recorded as tcp_crr's
// Requests cycle over --http-routes, a small JSON API call with about ten headers; responses are
// --response-bytes of JSON. Every response is validated (status 200, Content-Length, the body read
// in full, no byte beyond it, the close after Connection: close): one that is not is the trial's
// failure with its reason, never a counted request. Closed loop by default; open loop with
// --rate-rps (latency from each request's intended send time).
#include <fmt/core.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/clock.h"
#include "common/error.h"
#include "kernel/sockets.h"
#include "workloads/http_wire.h"
#include "workloads/socket_load.h"

namespace pb::workload {
namespace {

std::vector<http::Route> routes_of(const WorkloadOptions& opt) {
  std::vector<http::Route> out;
  for (const std::string& t : opt.http_routes) {
    std::string why;
    auto r = http::parse_route(t, why);
    if (!r) throw UsageError("--http-routes: " + why);
    out.push_back(*r);
  }
  if (out.empty()) throw UsageError("--http-routes: no route to request");
  return out;
}

http::RequestBuilder requests(const FlowArgs& a, bool close) {
  return http::RequestBuilder(routes_of(a.opt), a.ctx.target.ip + ":" + std::to_string(a.ctx.target.port),
                              a.opt.payload_bytes, close, a.index);
}

// Reads one whole response into `rd`; false with `err` set on a malformed, short or desynced one,
// false with `err` empty on the stop phase.
bool read_response(int fd, http::ResponseReader& rd, std::vector<char>& buf, const Phases& ph, std::string& err) {
  rd.reset();
  for (;;) {
    ssize_t r = recv(fd, buf.data(), buf.size(), 0);
    if (r > 0) {
      http::Status st = rd.feed(buf.data(), static_cast<size_t>(r));
      if (st == http::Status::kBad) {
        err = "malformed response: " + rd.why();
        return false;
      }
      if (st == http::Status::kNeedMore) continue;
      if (rd.extra()) {
        err = fmt::format("desync: {} bytes beyond the response's Content-Length {}", rd.extra(),
                          rd.head().content_length);
        return false;
      }
      return true;
    }
    if (r == 0) {
      err = "the server closed the connection before the response was complete";
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (ph.stopping()) return false;
      continue;
    }
    err = errno_msg("recv", errno);
    return false;
  }
}

void http_rr_flow(const FlowArgs& a) {
  int fd = connect_flow(a);
  if (fd < 0) return;
  set_nodelay(fd);
  http::RequestBuilder rb = requests(a, false);
  http::ResponseReader rd;
  std::vector<char> buf(65536);
  Pacer pace(a);
  std::string err;
  while (!a.ph.stopping()) {
    const uint64_t t0 = pace.next();
    if (a.ph.stopping()) break;
    // Nothing may be waiting before a request: a byte here is a response nobody asked for (one
    // request is in flight per connection), which would otherwise pass as the next one's.
    ssize_t early = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (early >= 0) {
      err = early ? fmt::format("desync: {} bytes arrived with no request outstanding", early)
                  : std::string("the server closed the keep-alive connection");
      break;
    }
    size_t route = 0;
    const std::string& req = rb.next(route);
    if (!write_full(fd, req.data(), req.size(), a.ph, &err) || !read_response(fd, rd, buf, a.ph, err)) break;
    if (rd.head().close) {
      err = "the server answered Connection: close on a keep-alive connection";
      break;
    }
    record_transaction(a.st, a.ph, t0, mono_ns(), route);
  }
  // A bad response fails the trial in any phase; a send or receive cut by the stop does not.
  if (!err.empty()) a.st.error = err;
  close(fd);
}

// After a Connection: close exchange the server must close, with nothing after the response.
bool await_close(int fd, std::vector<char>& buf, const Phases& ph, std::string& err) {
  const uint64_t deadline = mono_ns() + 1000000000;
  for (;;) {
    ssize_t r = recv(fd, buf.data(), buf.size(), 0);
    if (r == 0) return true;
    if (r > 0) {
      err = fmt::format("desync: {} bytes after the response to a Connection: close request", r);
      return false;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      // A reset after the whole response: the server closed, abortively; still closed.
      if (errno == ECONNRESET) return true;
      err = errno_msg("recv", errno);
      return false;
    }
    if (ph.stopping()) return false;
    if (mono_ns() > deadline) {
      err = "the server kept the connection open for 1 s after answering a Connection: close request";
      return false;
    }
  }
}

void http_crr_flow(const FlowArgs& a) {
  http::RequestBuilder rb = requests(a, true);
  http::ResponseReader rd;
  std::vector<char> buf(65536);
  Pacer pace(a);
  std::string err;
  while (!a.ph.stopping()) {
    const uint64_t due = pace.next();
    if (a.ph.stopping()) break;
    const uint64_t t0 = mono_ns();
    int fd = tcp_connect(a.ctx.target, 1000, &err, a.opt.tcp_cc, a.opt.tcp_buffer_bytes);
    if (fd < 0) {
      if (a.ph.stopping()) err.clear();
      break;
    }
    // As tcp_crr: connect() alone is the first packet's round trip through the path.
    if (a.ph.measuring()) a.st.connect_hist.record(mono_ns() - t0);
    if (a.st.tcp_cc.empty()) record_socket(fd, a.st);
    a.st.connections.fetch_add(1, std::memory_order_relaxed);
    set_nodelay(fd);
    size_t route = 0;
    const std::string& req = rb.next(route);
    bool ok = write_full(fd, req.data(), req.size(), a.ph, &err) && read_response(fd, rd, buf, a.ph, err);
    // The request is done when its response is; the close is checked, not timed.
    const uint64_t t_done = mono_ns();
    ok = ok && await_close(fd, buf, a.ph, err);
    close(fd);
    if (!ok) break;
    record_transaction(a.st, a.ph, due, t_done, route);
  }
  if (!err.empty()) a.st.error = err;
}

WorkloadInfo http_workload(std::string name, std::string desc, int order, Pattern pattern, FlowFn fn) {
  WorkloadInfo w = socket_workload(std::move(name), std::move(desc), order, Protocol::kTcp, pattern,
                                   // The default request: GET routes carry no body, POST routes this much JSON.
                                   128, 0, http::kMaxBody, fn);
  w.application = Application::kHttp;
  w.default_response = 256;  // a small JSON document
  w.open_loop = true;
  // Not in the default suite: an L7 workload, run with the HTTP gateway (`make bench-api`).
  w.in_default_suite = false;
  return w;
}

PB_REGISTER_WORKLOAD([] {
  return http_workload("http_rr", "HTTP/1.1 keep-alive requests over --http-routes; requests/s, latency", 80,
                       Pattern::kRr, http_rr_flow);
});
PB_REGISTER_WORKLOAD([] {
  return http_workload("http_crr",
                       "HTTP/1.1 a connection per request (Connection: close); requests/s, latency, connect latency",
                       90, Pattern::kCrr, http_crr_flow);
});

}  // namespace
}  // namespace pb::workload
