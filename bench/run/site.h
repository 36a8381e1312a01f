// SPDX-License-Identifier: Apache-2.0
// run/site.h: where a run's roles live, as the one runner (run/runner.h) sees it. The runner owns
// everything that is the same wherever the roles are — the schedule, trials, rows, probes, the
// adaptive stop, status and exit code, run.json (run/document.h); a Site owns what differs:
//
//                      NamespaceSite (run/netns_site.h)        HostsSite (hosts/orchestrator.h)
//   environment()      collect it, first topology up           each host's, the DUT's on top
//   build(plan)        fresh namespaces, the path in-process   the DUT's agent installs the path
//   probe()            both halves in this process             server and client halves on their hosts
//   generator(trial)   the trial's own (run/trial.h)           the client's agent generates
//   check()            -                                       an agent lost: the run cannot go on
//   close()            namespaces down                         bye: every agent tears down, exits
//
// A third site (a VM guest running the suite itself) is a whole `pathbench run` of its own.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "run/schedule.h"
#include "run/trial.h"

namespace pb {

class PathInstance;
class ProbeHalves;
class Roles;

// One path instance as a site built it.
class SitePath {
 public:
  virtual ~SitePath() = default;
  virtual PathInstance& path() = 0;
  // Adds what the site knows of a row (HAProxy's own details to its reference rows).
  virtual void annotate_row(nlohmann::json&) const {}
  // Removes the path now and returns what its instance record gains: "configuration", "scale",
  // and "injected_cost" with --inject-cost-ns-per-packet.
  virtual nlohmann::json teardown() = 0;
};

// A site's answer to build(): the path, or why it cannot run here (a skip, not a failure).
struct BuiltPath {
  std::unique_ptr<SitePath> path;
  std::optional<std::string> skipped;
};

class Site {
 public:
  virtual ~Site() = default;
  // run.json's environment; called once, before the first instance. Throws Error when the site
  // cannot be set up (the run is then recorded as failed).
  virtual nlohmann::json environment() = 0;
  // One path instance per the plan; throws with a one-line reason when its setup fails.
  virtual BuiltPath build(const InstancePlan& plan) = 0;
  // The roles the instance built last runs on.
  virtual const Roles& roles() const = 0;
  // Where the proof probe's halves run.
  virtual ProbeHalves& probe() = 0;
  // The generator of one trial (the site's, or the trial's own: generator_for).
  virtual Generator generator(const Trial& t) = 0;
  // Adds what the site knows of an instance record or a probe record (hosts mode: which hosts).
  virtual void annotate_instance(nlohmann::json&) const {}
  virtual void annotate_probe(nlohmann::json&) const {}
  // Throws Error when the site is gone mid-run (hosts: an agent's connection dropped, exit 28);
  // the runner asks after every step that talks to it.
  virtual void check() const {}
  // Ends the run on the site: everything it still holds is removed. Also done by the destructor.
  virtual void close() = 0;
};

}  // namespace pb
