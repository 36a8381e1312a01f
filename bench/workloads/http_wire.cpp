// SPDX-License-Identifier: Apache-2.0
#include "workloads/http_wire.h"

#include <fmt/core.h>

#include <algorithm>

namespace pb::http {

namespace {

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 tchar: what a method or a header name is made of.
bool tchar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), tchar); }

// Printable for a reason: a peer's bytes, cut and with control characters escaped.
std::string shown(std::string_view s) {
  std::string o;
  for (char c : s.substr(0, 80)) {
    if (c >= 0x20 && c < 0x7f) o += c;
    else o += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
  }
  if (s.size() > 80) o += "...";
  return o;
}

// The head's extent: kDone with `len` (CRLFCRLF included) once it is all there. The first line is
// checked as soon as it is complete (`first_line`), so garbage is refused without waiting for
// kMaxHead bytes that may never come.
template <typename FirstLine>
Status head_extent(std::string_view buf, size_t& len, std::string& why, FirstLine first_line) {
  size_t eol = buf.find("\r\n");
  if (eol != std::string_view::npos && !first_line(buf.substr(0, eol), why)) return Status::kBad;
  size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos || end + 4 > kMaxHead) {
    if (buf.size() >= kMaxHead || (end != std::string_view::npos && end + 4 > kMaxHead)) {
      why = fmt::format("head longer than {} bytes without its end (CRLFCRLF)", kMaxHead);
      return Status::kBad;
    }
    if (eol == std::string_view::npos && buf.find('\n') != std::string_view::npos) {
      why = "line ended by a bare LF (want CRLF): '" + shown(buf) + "'";
      return Status::kBad;
    }
    return Status::kNeedMore;
  }
  len = end + 4;
  return Status::kDone;
}

// The header lines between the first line and the blank line: framing and connection handling.
bool parse_headers(std::string_view lines, Head& h, bool& keep_alive, bool& host, std::string& why) {
  while (!lines.empty()) {
    size_t eol = lines.find("\r\n");
    std::string_view line = lines.substr(0, eol);
    lines.remove_prefix(eol == std::string_view::npos ? lines.size() : eol + 2);
    if (line.find_first_of("\r\n") != std::string_view::npos) {
      why = "bare CR or LF in header line '" + shown(line) + "'";
      return false;
    }
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      why = "obsolete line folding in header '" + shown(line) + "'";
      return false;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || !token(line.substr(0, colon))) {
      why = "malformed header line '" + shown(line) + "'";
      return false;
    }
    std::string_view name = line.substr(0, colon), value = trim_ows(line.substr(colon + 1));
    if (ieq(name, "content-length")) {
      uint64_t v = 0;
      bool ok = !value.empty() && value.size() <= 10 &&
                std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
      for (char c : value) v = v * 10 + static_cast<uint64_t>(c - '0');
      if (!ok) {
        why = "Content-Length '" + shown(value) + "' is not a number";
        return false;
      }
      if (v > kMaxBody) {
        why = fmt::format("Content-Length {} above the limit ({} bytes)", v, kMaxBody);
        return false;
      }
      if (h.has_content_length && v != h.content_length) {
        why = "two different Content-Length headers";
        return false;
      }
      h.content_length = v;
      h.has_content_length = true;
    } else if (ieq(name, "transfer-encoding")) {
      why = "Transfer-Encoding '" + shown(value) + "' (only Content-Length framing is supported)";
      return false;
    } else if (ieq(name, "connection")) {
      size_t start = 0;
      while (start <= value.size()) {
        size_t comma = value.find(',', start);
        std::string_view opt = trim_ows(value.substr(start, comma == std::string_view::npos ? value.npos : comma - start));
        if (ieq(opt, "close")) h.close = true;
        else if (ieq(opt, "keep-alive")) keep_alive = true;
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
    } else if (ieq(name, "host")) {
      host = true;
    }
  }
  return true;
}

}  // namespace

Status parse_request_head(std::string_view buf, Head& out, std::string& why) {
  size_t len = 0;
  Status st = head_extent(buf, len, why, [](std::string_view line, std::string& w) {
    size_t sp1 = line.find(' '), sp2 = sp1 == line.npos ? line.npos : line.find(' ', sp1 + 1);
    bool ok = sp2 != line.npos && token(line.substr(0, sp1)) && sp2 > sp1 + 1 &&
              (line.substr(sp2 + 1) == "HTTP/1.1" || line.substr(sp2 + 1) == "HTTP/1.0");
    for (char c : line.substr(0, sp2 == line.npos ? 0 : sp2)) {
      const auto u = static_cast<unsigned char>(c);
      ok = ok && (c == ' ' || (u > 0x20 && u < 0x7f));
    }
    if (!ok) w = "malformed request line '" + shown(line) + "' (want METHOD target HTTP/1.1)";
    return ok;
  });
  if (st != Status::kDone) return st;
  Head h;
  h.head_len = len;
  std::string_view head = buf.substr(0, len - 4);
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' '), sp2 = line.find(' ', sp1 + 1);
  h.method = std::string(line.substr(0, sp1));
  h.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  const bool http10 = line.substr(sp2 + 1) == "HTTP/1.0";
  bool keep_alive = false, host = false;
  if (!parse_headers(eol == head.npos ? std::string_view() : head.substr(eol + 2), h, keep_alive, host, why))
    return Status::kBad;
  if (!http10 && !host) {
    why = "HTTP/1.1 request without a Host header";
    return Status::kBad;
  }
  if (http10 && !keep_alive) h.close = true;
  out = std::move(h);
  return Status::kDone;
}

Status parse_response_head(std::string_view buf, Head& out, std::string& why) {
  // The version is known from the first bytes: anything else is refused before a whole line came.
  constexpr std::string_view kVersion = "HTTP/1.1 ";
  if (buf.substr(0, kVersion.size()) != kVersion.substr(0, std::min(buf.size(), kVersion.size()))) {
    why = "not an HTTP/1.1 response: '" + shown(buf) + "'";
    return Status::kBad;
  }
  size_t len = 0;
  Status st = head_extent(buf, len, why, [&](std::string_view line, std::string& w) {
    std::string_view code = line.substr(kVersion.size(), 3);
    bool ok = code.size() == 3 && std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
              (line.size() == kVersion.size() + 3 || line[kVersion.size() + 3] == ' ');
    if (!ok) w = "malformed status line '" + shown(line) + "'";
    else if (code != "200") w = "status '" + shown(line) + "' (want HTTP/1.1 200)";
    return ok && code == "200";
  });
  if (st != Status::kDone) return st;
  Head h;
  h.head_len = len;
  h.status = 200;
  std::string_view head = buf.substr(0, len - 4);
  size_t eol = head.find("\r\n");
  bool keep_alive = false, host = false;
  if (!parse_headers(eol == head.npos ? std::string_view() : head.substr(eol + 2), h, keep_alive, host, why))
    return Status::kBad;
  if (!h.has_content_length) {
    why = "response without Content-Length";
    return Status::kBad;
  }
  out = std::move(h);
  return Status::kDone;
}

const std::string_view kBadRequest = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

std::string json_body(size_t n) {
  if (n >= 8) return "{\"d\":\"" + std::string(n - 8, 'x') + "\"}";
  return std::string(n, '1');
}

ServerConn::ServerConn(uint32_t response_bytes) {
  const std::string body = json_body(response_bytes);
  auto head = [&](bool close) {
    return fmt::format("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}\r\n",
                       response_bytes, close ? "Connection: close\r\n" : "");
  };
  ok_keep_ = head(false) + body;
  ok_close_ = head(true) + body;
}

bool ServerConn::feed(const char* p, size_t n, std::string& out) {
  if (done_) return false;
  in_.append(p, n);
  size_t pos = 0;
  for (;;) {
    if (in_body_) {
      uint64_t take = std::min<uint64_t>(body_left_, in_.size() - pos);
      pos += take;
      body_left_ -= take;
      if (body_left_) break;
      in_body_ = false;
      ++requests_;
      out += close_after_ ? ok_close_ : ok_keep_;
      if (close_after_) {
        done_ = true;
        in_.clear();
        return false;
      }
      continue;
    }
    Head h;
    std::string why;
    Status st = parse_request_head(std::string_view(in_).substr(pos), h, why);
    if (st == Status::kNeedMore) break;
    if (st == Status::kBad) {
      out += kBadRequest;
      done_ = true;
      in_.clear();
      return false;
    }
    pos += h.head_len;
    body_left_ = h.content_length;
    close_after_ = h.close;
    in_body_ = true;
  }
  in_.erase(0, pos);
  return true;
}

void ResponseReader::reset() {
  in_.clear();
  head_ = Head{};
  have_head_ = false;
  body_left_ = 0;
  extra_ = 0;
  why_.clear();
}

Status ResponseReader::feed(const char* p, size_t n) {
  if (!have_head_) {
    in_.append(p, n);
    Status st = parse_response_head(in_, head_, why_);
    if (st != Status::kDone) return st;
    have_head_ = true;
    const size_t after = in_.size() - head_.head_len;
    in_.clear();
    body_left_ = head_.content_length;
    if (after > body_left_) extra_ = after - body_left_;
    body_left_ -= std::min<uint64_t>(after, body_left_);
    return body_left_ ? Status::kNeedMore : Status::kDone;
  }
  if (n > body_left_) extra_ += n - body_left_;
  body_left_ -= std::min<uint64_t>(n, body_left_);
  return body_left_ ? Status::kNeedMore : Status::kDone;
}

std::optional<Route> parse_route(const std::string& text, std::string& why) {
  std::string_view t = trim_ows(text);
  size_t sp = t.find(' ');
  Route r;
  if (sp != t.npos) {
    r.method = std::string(t.substr(0, sp));
    r.path = std::string(trim_ows(t.substr(sp + 1)));
  }
  bool ok = !r.method.empty() && std::all_of(r.method.begin(), r.method.end(), [](char c) { return c >= 'A' && c <= 'Z'; }) &&
            !r.path.empty() && r.path[0] == '/' &&
            std::all_of(r.path.begin(), r.path.end(), [](char c) { return c > 0x20 && c != 0x7f; });
  if (!ok) {
    why = "route '" + std::string(t) + "': want METHOD /path, e.g. 'GET /api/v1/users' or 'POST /api/v1/orders'";
    return std::nullopt;
  }
  r.body = r.method == "POST" || r.method == "PUT" || r.method == "PATCH";
  return r;
}

const std::vector<std::string>& default_routes() {
  static const std::vector<std::string> r = {"GET /api/v1/users", "GET /api/v1/orders/{id}", "POST /api/v1/orders"};
  return r;
}

RequestBuilder::RequestBuilder(std::vector<Route> routes, std::string host, uint32_t body_bytes, bool close,
                               unsigned flow)
    : routes_(std::move(routes)), host_(std::move(host)), body_(json_body(body_bytes)), close_(close), flow_(flow) {}

const std::string& RequestBuilder::next(size_t& route) {
  route = static_cast<size_t>(n_ % routes_.size());
  const Route& r = routes_[route];
  const uint64_t n = n_++;
  req_.clear();
  req_ += r.method;
  req_ += ' ';
  // {id}: a different resource per request, as a real client's calls are.
  const size_t id_at = r.path.find("{id}");
  if (id_at == std::string::npos) {
    req_ += r.path;
  } else {
    req_.append(r.path, 0, id_at);
    req_ += std::to_string((n * 7919 + flow_ * 100003ull) % 1000000 + 1);
    req_.append(r.path, id_at + 4);
  }
  const uint64_t trace_hi = (flow_ + 1ull) * 0x9e3779b97f4a7c15ull, trace_lo = n + 1;
  req_ += fmt::format(
      " HTTP/1.1\r\nHost: {}\r\nUser-Agent: pathbench/" PATHBENCH_VERSION
      "\r\nAccept: application/json\r\nAccept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\n"
      // A fixed token of a realistic size (a JWT is a few hundred bytes; this one is not one).
      "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJwYXRoYmVuY2giLCJzY29wZSI6ImFwaSJ9."
      "c2lnbmF0dXJlLW9mLWEtZml4ZWQtYmVuY2htYXJrLXRva2Vu\r\n"
      "X-Request-Id: {}-{}\r\ntraceparent: 00-{:016x}{:016x}-{:016x}-01\r\n",
      host_, flow_, n, trace_hi, trace_lo, trace_lo ^ 0x5bd1e995ull);
  if (r.body) req_ += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", body_.size());
  req_ += close_ ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n";
  if (r.body) req_ += body_;
  return req_;
}

}  // namespace pb::http
