// SPDX-License-Identifier: Apache-2.0
#include "common/json_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>

#include "common/error.h"

namespace pb {

size_t sanitize_json(nlohmann::json& j) {
  size_t n = 0;
  if (j.is_number_float()) {
    if (!std::isfinite(j.get<double>())) {
      j = nullptr;
      ++n;
    }
  } else if (j.is_object() || j.is_array()) {
    for (auto& v : j) n += sanitize_json(v);
  }
  return n;
}

void write_json_atomic(const std::string& path, nlohmann::json j) {
  sanitize_json(j);
  std::string text = j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw EnvError(errno_msg("cannot write " + tmp, errno));
  size_t off = 0;
  while (off < text.size()) {
    ssize_t w = write(fd, text.data() + off, text.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      unlink(tmp.c_str());
      throw EnvError(errno_msg("cannot write " + tmp, e));
    }
    off += static_cast<size_t>(w);
  }
  if (fsync(fd) != 0) {
    int e = errno;
    close(fd);
    unlink(tmp.c_str());
    throw EnvError(errno_msg("fsync " + tmp, e));
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    unlink(tmp.c_str());
    throw EnvError(errno_msg("rename " + tmp + " -> " + path, e));
  }
}

}  // namespace pb
