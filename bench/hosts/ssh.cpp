// SPDX-License-Identifier: Apache-2.0
#include "hosts/ssh.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "common/clock.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/strings.h"
#include "run/runner.h"

extern char** environ;

namespace pb {

namespace {

// posix_spawn with the given stdio; the child gets default signal dispositions and an empty mask
// (the orchestrator blocks SIGINT/SIGTERM/SIGHUP for its signal thread) and a process group of its
// own, so a Ctrl-C on the terminal reaches the orchestrator alone, which then tears the agents
// down in order instead of ssh dying under them.
pid_t spawn(const std::vector<std::string>& argv, int in_fd, int out_fd, int err_fd) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  posix_spawnattr_t at;
  posix_spawnattr_init(&at);
  sigset_t none, def;
  sigemptyset(&none);
  sigemptyset(&def);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&def, s);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &def);
  posix_spawnattr_setpgroup(&at, 0);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::vector<char*> av;
  for (auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
  av.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, av[0], &fa, &at, av.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  if (rc != 0) throw EnvError(errno_msg("start " + argv[0] + " (apt-get install openssh-client)", rc));
  return pid;
}

// Waits for pid up to timeout_s; returns its status (exit code or 128+signal), or -1 on timeout.
int wait_for(pid_t pid, double timeout_s) {
  const uint64_t until = mono_ns() + static_cast<uint64_t>(timeout_s * 1e9);
  for (;;) {
    int st = 0;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (r < 0) return -2;
    if (mono_ns() > until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string tail_lines(const std::string& text, size_t n) {
  auto lines = split(trim(text), '\n');
  std::vector<std::string> keep;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
    if (!trim(lines[i]).empty()) keep.push_back(trim(lines[i]));
  return join(keep, " | ");
}

}  // namespace

std::pair<int, std::string> classify_ssh_failure(const std::string& text) {
  const std::string t = tail_lines(text, 3);
  auto has = [&](const char* s) { return text.find(s) != std::string::npos; };
  if (has("REMOTE HOST IDENTIFICATION HAS CHANGED"))
    return {kExitHostKey, "host key changed (differs from known_hosts): " + t};
  if (has("Host key verification failed") || has("No ED25519 host key is known") || has("host key is known"))
    return {kExitHostKey, "host key not known or does not match known_hosts (strict checking): " + t};
  if (has("Permission denied") || has("Too many authentication failures"))
    return {kExitHostAuth, "authentication refused (key not accepted; passwords are never tried): " + t};
  return {kExitHostUnreachable, "unreachable: " + (t.empty() ? std::string("ssh failed without a message") : t)};
}

SshHost::SshHost(HostSpec spec, const std::string& control_dir)
    : spec_(std::move(spec)), control_path_(control_dir + "/" + spec_.role), log_(control_dir + "/" + spec_.role + ".log") {}

SshHost::~SshHost() { close(); }

std::vector<std::string> SshHost::base(bool master) const {
  std::vector<std::string> a = {"ssh"};
  if (!spec_.ssh_config.empty()) a.insert(a.end(), {"-F", spec_.ssh_config});
  a.insert(a.end(), {"-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ControlPath=" + control_path_,
                     "-o", master ? "ControlMaster=yes" : "ControlMaster=no", "-o", "ConnectTimeout=5",
                     "-o", "ServerAliveInterval=2", "-o", "ServerAliveCountMax=3", "-o", "LogLevel=ERROR",
                     "-p", std::to_string(spec_.port)});
  // A master outlives its last session by 10 s, then exits by itself: after an orchestrator
  // SIGKILL nothing of ssh stays behind on this side either.
  if (master) a.insert(a.end(), {"-o", "ControlPersist=10"});
  if (!spec_.identity.empty()) a.insert(a.end(), {"-i", spec_.identity, "-o", "IdentitiesOnly=yes"});
  if (!spec_.known_hosts.empty())
    a.insert(a.end(), {"-o", "UserKnownHostsFile=" + spec_.known_hosts, "-o", "GlobalKnownHostsFile=/dev/null"});
  return a;
}

std::vector<std::string> SshHost::argv(const std::vector<std::string>& remote) const {
  std::vector<std::string> a = base(false);
  a.push_back("-T");
  a.push_back(spec_.ssh);
  a.push_back("--");
  std::string cmd;
  for (auto& w : remote) cmd += (cmd.empty() ? "" : " ") + shell_quote(w);
  a.push_back(cmd);
  return a;
}

void SshHost::connect(int timeout_s) {
  // A connection reset before the key exchange (sshd's MaxStartups throttle, a listener being
  // restarted) is worth one more try; every other failure is final.
  for (int attempt = 0;; ++attempt) {
    try {
      connect_once(timeout_s);
      return;
    } catch (const Error& e) {
      const std::string w = e.what();
      if (attempt > 0 || e.code() != kExitHostUnreachable || w.find("kex_exchange_identification") == std::string::npos)
        throw;
      log::debug("{}: {}; trying once more", spec_.where(), w);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
}

void SshHost::connect_once(int timeout_s) {
  std::vector<std::string> a = base(true);
  a.insert(a.end(), {spec_.ssh, "--", "true"});
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  int logfd = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (devnull < 0 || logfd < 0) throw EnvError(errno_msg("open " + log_, errno));
  pid_t pid = spawn(a, devnull, devnull, logfd);
  ::close(devnull);
  ::close(logfd);
  int st = wait_for(pid, timeout_s);
  if (st == -1) {
    kill(pid, SIGKILL);
    wait_for(pid, 2);
    throw Error(kExitHostUnreachable, spec_.where() + ": unreachable: ssh did not connect within " +
                                          std::to_string(timeout_s) + " s");
  }
  const std::string text = read_file(log_).value_or("");
  unlink(log_.c_str());
  if (st != 0) {
    auto [code, why] = classify_ssh_failure(text);
    throw Error(code, spec_.where() + ": " + why);
  }
  connected_ = true;
  log::debug("{}: ssh master up ({})", spec_.where(), control_path_);
}

void SshHost::close() {
  if (!connected_) return;
  connected_ = false;
  std::vector<std::string> a = base(false);
  a.insert(a.end(), {"-O", "exit", spec_.ssh});
  try {
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    pid_t pid = spawn(a, devnull, devnull, devnull);
    ::close(devnull);
    if (wait_for(pid, 5) == -1) {
      kill(pid, SIGKILL);
      wait_for(pid, 1);
    }
  } catch (const std::exception& e) {
    log::warn("{}: ssh -O exit: {}", spec_.where(), e.what());
  }
}

AgentConn::AgentConn(SshHost& host, const std::vector<std::string>& agent_args) : where_(host.spec().where()) {
  std::vector<std::string> remote = {host.spec().pathbench, "agent"};
  remote.insert(remote.end(), agent_args.begin(), agent_args.end());
  int pin[2], pout[2];
  if (pipe2(pin, O_CLOEXEC) != 0 || pipe2(pout, O_CLOEXEC) != 0) throw_errno("pipe", errno);
  // The agent's stderr (its log, ssh's messages) goes to an unlinked temp file read back through
  // its descriptor: nothing is left in /tmp even when the orchestrator is SIGKILLed.
  char tmpl[] = "/tmp/pathbench-agent-XXXXXX";
  int errfd = mkostemp(tmpl, O_CLOEXEC);
  if (errfd < 0) throw_errno("mkostemp", errno);
  unlink(tmpl);
  pid_ = spawn(host.argv(remote), pin[0], pout[1], errfd);
  ::close(pin[0]);
  ::close(pout[1]);
  err_fd_ = errfd;
  in_ = pin[1];
  out_ = pout[0];
}

AgentConn::~AgentConn() {
  close();
  if (err_fd_ >= 0) ::close(err_fd_);
}

std::string AgentConn::stderr_tail() const {
  std::string text;
  char b[65536];
  off_t off = 0;
  for (ssize_t n; (n = pread(err_fd_, b, sizeof b, off)) > 0; off += n) text.append(b, static_cast<size_t>(n));
  if (text.size() > 8192) text = text.substr(text.size() - 8192);
  return tail_lines(text, 2);
}

std::optional<std::string> AgentConn::read_line(double timeout_s) {
  const uint64_t until = mono_ns() + static_cast<uint64_t>(timeout_s * 1e9);
  for (;;) {
    auto nl = buf_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      return line;
    }
    if (out_ < 0) throw Error(kExitHostLost, where_ + ": agent connection lost");
    if (mono_ns() > until) return std::nullopt;
    pollfd p{out_, POLLIN, 0};
    int r = poll(&p, 1, 100);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char b[65536];
    ssize_t n = read(out_, b, sizeof b);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(out_);
      out_ = -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let stderr land
      std::string why = stderr_tail();
      auto [code, what] = classify_ssh_failure(why);
      // ssh's own failure (connection) is told as such; otherwise the agent ended.
      const int st = wait_for(pid_, 1);
      pid_ = -1;
      if (st == 255 && code != kExitHostUnreachable) throw Error(code, where_ + ": " + what);
      throw Error(kExitHostLost, where_ + ": agent connection lost" + (why.empty() ? "" : ": " + why));
    }
    buf_.append(b, static_cast<size_t>(n));
  }
}

nlohmann::json AgentConn::call(nlohmann::json req, double timeout_s, const AskFn& on_ask) {
  try {
    return exchange(std::move(req), timeout_s, on_ask);
  } catch (const Error& e) {
    if (e.code() == kExitHostLost && lost_.empty()) lost_ = e.what();
    throw;
  }
}

nlohmann::json AgentConn::exchange(nlohmann::json req, double timeout_s, const AskFn& on_ask) {
  const uint64_t id = next_id_++;
  req["id"] = id;
  auto send = [&](const nlohmann::json& j) {
    std::string line = j.dump() + "\n";
    size_t off = 0;
    while (off < line.size()) {
      if (in_ < 0) throw Error(kExitHostLost, where_ + ": agent connection lost");
      ssize_t w = write(in_, line.data() + off, line.size() - off);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) throw Error(kExitHostLost, errno_msg(where_ + ": write to agent", errno));
      off += static_cast<size_t>(w);
    }
  };
  send(req);
  bool interrupt_sent = false;
  const uint64_t until = mono_ns() + static_cast<uint64_t>(timeout_s * 1e9);
  for (;;) {
    // A signal to the orchestrator reaches the agent's running operation at once (the workload
    // stops as it would in namespace mode), not at the end of its window.
    if (g_interrupted && !interrupt_sent) {
      send({{"op", "interrupt"}, {"signal", g_interrupted.load()}});
      interrupt_sent = true;
    }
    double left = static_cast<double>(until > mono_ns() ? until - mono_ns() : 0) / 1e9;
    std::optional<std::string> line = read_line(std::min(left, 0.2));
    if (!line) {
      if (mono_ns() >= until)
        throw Error(kExitHostLost, fmt::format("{}: no answer from the agent to '{}' in {:.0f} s", where_,
                                               req.value("op", std::string("?")), timeout_s));
      continue;
    }
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(*line);
    } catch (const std::exception&) {
      log::debug("{}: not a protocol line: {}", where_, *line);
      continue;
    }
    if (j.contains("ask")) {
      nlohmann::json answer;
      try {
        answer = {{"answer", on_ask ? on_ask(j) : nlohmann::json(nullptr)}};
      } catch (const Error& e) {
        answer = {{"answer", nullptr}, {"error", e.what()}, {"code", e.code()}};
      }
      send(answer);
      continue;
    }
    if (!j.contains("id") || j["id"] != id) continue;
    if (!j.value("ok", false))
      throw Error(j.value("code", static_cast<int>(kExitEnv)), where_ + ": " + j.value("error", std::string("(no reason)")));
    return j;
  }
}

void AgentConn::close(double timeout_s) {
  if (in_ >= 0) {
    ::close(in_);
    in_ = -1;
  }
  if (pid_ > 0) {
    if (wait_for(pid_, timeout_s) == -1) {
      log::warn("{}: agent did not end within {:.0f} s after its stdin closed; stopping ssh", where_, timeout_s);
      kill(pid_, SIGTERM);
      if (wait_for(pid_, 2) == -1) {
        kill(pid_, SIGKILL);
        wait_for(pid_, 2);
      }
    }
    pid_ = -1;
  }
  if (out_ >= 0) {
    ::close(out_);
    out_ = -1;
  }
}

}  // namespace pb
