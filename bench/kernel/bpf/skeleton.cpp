// SPDX-License-Identifier: Apache-2.0
#include "kernel/bpf/skeleton.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>

#include "common/log.h"
#include "common/strings.h"

namespace pb::bpf {

namespace {

thread_local std::vector<std::string>* t_capture = nullptr;

int libbpf_print(enum libbpf_print_level level, const char* format, va_list args) {
  va_list copy;
  va_copy(copy, args);
  int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (n <= 0) return 0;
  std::string text(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(text.data(), text.size(), format, args);
  text.resize(static_cast<size_t>(n));
  for (auto& line : split(text, '\n')) {
    if (line.empty()) continue;
    if (t_capture && t_capture->size() < 100000) t_capture->push_back(line);
    // Everything libbpf says is detail (shown with -v); failures reach the user through the
    // exception that carries the verifier log tail.
    if (level != LIBBPF_DEBUG || log::verbose()) log::debug("libbpf: {}", line);
  }
  return n;
}

}  // namespace

void install_libbpf_logger() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(libbpf_print); });
}

LogCapture::LogCapture() : saved_(t_capture) { t_capture = &lines_; }
LogCapture::~LogCapture() { t_capture = saved_; }

std::string LogCapture::tail(size_t n) const {
  // The verifier log sits between libbpf's "-- BEGIN PROG LOAD LOG --" and "-- END ... --".
  size_t begin = lines_.size(), end = lines_.size();
  for (size_t i = lines_.size(); i-- > 0;) {
    if (lines_[i].find("-- END PROG LOAD LOG --") != std::string::npos && end == lines_.size()) end = i;
    if (lines_[i].find("-- BEGIN PROG LOAD LOG --") != std::string::npos) {
      begin = i + 1;
      break;
    }
  }
  std::string what = "verifier log tail";
  if (begin >= lines_.size()) {  // no verifier log: libbpf's own messages
    begin = 0;
    end = lines_.size();
    what = "libbpf log tail";
  }
  if (end <= begin) return "";
  size_t from = end - begin > n ? end - n : begin;
  std::string out = "; " + what + ":";
  for (size_t i = from; i < end; ++i) out += "\n  " + lines_[i];
  return out;
}

std::string load_error(const std::string& what, int err, const LogCapture& cap) {
  return errno_msg(what, err) + cap.tail();
}

ObjectCounts object_counts(const bpf_object* cobj) {
  ObjectCounts n;
  auto* obj = const_cast<bpf_object*>(cobj);  // libbpf 1.1's iteration macros take non-const
  bpf_map* m;
  bpf_object__for_each_map(m, obj)++ n.maps;
  bpf_program* p;
  bpf_object__for_each_program(p, obj)++ n.programs;
  return n;
}

}  // namespace pb::bpf
