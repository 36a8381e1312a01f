// SPDX-License-Identifier: Apache-2.0
// kernel/bpf/skeleton.h: opening and loading libbpf skeletons with the verifier's own words in
// the error: libbpf's log goes through pathbench's logger (shown with -v), and the lines a failed
// load printed are captured per thread so the exception can carry the verifier log's tail.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "kernel/undo.h"

struct bpf_object;

namespace pb::bpf {

// Routes libbpf's log to pb::log::debug (shown with -v). Idempotent; the loaders call it.
void install_libbpf_logger();

// Collects libbpf's log lines printed by this thread while alive, so a failed load can say why.
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  // The last `n` lines of the verifier log (or of libbpf's log when there is no verifier log),
  // as "; verifier log tail:\n  line\n  line", or "" when nothing was logged.
  std::string tail(size_t n = 12) const;

 private:
  std::vector<std::string> lines_;
  std::vector<std::string>* saved_;
};

// Loads a skeleton (opened, rodata set) and throws BpfError("load <what>: <errno>; verifier log
// tail: ...") when the kernel refuses it.
template <class Skel>
void load_skeleton(Skel* s, const std::string& what);

// Opens a skeleton; throws BpfError on failure.
template <class Skel>
Skel* open_skeleton(const std::string& what);

// unique_ptr that destroys a skeleton.
template <class Skel>
struct SkelDeleter {
  void operator()(Skel* s) const { Skel::destroy(s); }
};
template <class Skel>
using SkelPtr = std::unique_ptr<Skel, SkelDeleter<Skel>>;

std::string load_error(const std::string& what, int err, const LogCapture& cap);

template <class Skel>
Skel* open_skeleton(const std::string& what) {
  install_libbpf_logger();
  LogCapture cap;
  Skel* s = Skel::open();
  if (!s) throw BpfError(load_error("open " + what, errno, cap));
  return s;
}

template <class Skel>
void load_skeleton(Skel* s, const std::string& what) {
  install_libbpf_logger();
  LogCapture cap;
  int err = Skel::load(s);
  if (err) throw BpfError(load_error("load " + what, -err, cap));
}

// Opens, lets `configure` set rodata (between open and load), loads.
template <class Skel, class Configure>
SkelPtr<Skel> open_and_load(const std::string& what, Configure&& configure) {
  SkelPtr<Skel> s(open_skeleton<Skel>(what));
  configure(s.get());
  load_skeleton(s.get(), what);
  return s;
}
template <class Skel>
SkelPtr<Skel> open_and_load(const std::string& what) {
  return open_and_load<Skel>(what, [](Skel*) {});
}

// What loading an object installs in the kernel, for the undo log's record: its programs and
// maps (.rodata/.bss included: they are kernel maps too), and the bpf() calls that took (one
// BTF load, one per map, one per program).
struct ObjectCounts {
  uint64_t programs = 0, maps = 0;
  std::vector<Installed> installed() const { return {{Item::kBpfProgram, programs}, {Item::kBpfMap, maps}}; }
  uint64_t calls() const { return 1 + programs + maps; }
};
ObjectCounts object_counts(const bpf_object* obj);

// Loads a skeleton (see open_and_load) and hands it to the undo log; returns it.
template <class Skel, class Configure>
Skel* load_into(UndoLog& undo, const std::string& what, Configure&& configure) {
  SkelPtr<Skel> s = open_and_load<Skel>(what, std::forward<Configure>(configure));
  ObjectCounts n = object_counts(s->obj);
  return undo.adopt("BPF object " + what, n.installed(), n.calls(), std::move(s));
}
template <class Skel>
Skel* load_into(UndoLog& undo, const std::string& what) {
  return load_into<Skel>(undo, what, [](Skel*) {});
}

}  // namespace pb::bpf
