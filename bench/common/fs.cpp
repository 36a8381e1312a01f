// SPDX-License-Identifier: Apache-2.0
#include "common/fs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "common/strings.h"

namespace pb {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void make_dirs(const std::string& path, const std::string& what) {
  std::string cur;
  for (auto& part : split(path, '/')) {
    cur += part + "/";
    if (part.empty()) continue;
    if (mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
      throw UsageError(errno_msg("cannot create " + what + " " + cur, errno));
  }
}

std::string write_temp_file(const std::string& prefix, const std::string& text) {
  std::vector<char> tmpl(prefix.begin(), prefix.end());
  for (char c : std::string("XXXXXX")) tmpl.push_back(c);
  tmpl.push_back('\0');
  int fd = mkstemp(tmpl.data());
  if (fd < 0) throw_errno("mkstemp " + prefix + "XXXXXX", errno);
  size_t off = 0;
  while (off < text.size()) {
    ssize_t w = write(fd, text.data() + off, text.size() - off);
    if (w <= 0) {
      int e = errno;
      close(fd);
      unlink(tmpl.data());
      throw_errno(std::string("write ") + tmpl.data(), e ? e : EIO);
    }
    off += static_cast<size_t>(w);
  }
  if (close(fd) != 0) {
    int e = errno;
    unlink(tmpl.data());
    throw_errno(std::string("close ") + tmpl.data(), e);
  }
  return tmpl.data();
}

void point_link(const std::string& link, const std::string& target_dir) {
  unlink(link.c_str());
  std::string target = target_dir;
  auto slash = link.rfind('/');
  std::string link_parent = slash == std::string::npos ? "." : link.substr(0, slash);
  if (target_dir.rfind(link_parent + "/", 0) == 0) target = target_dir.substr(link_parent.size() + 1);
  if (symlink(target.c_str(), link.c_str()) != 0) log::warn("{}", errno_msg("symlink " + link, errno));
}

}  // namespace pb
