// topology.h: the client — DUT — server namespaces of one run, owned for the run's length.
//
//   pb-<id>-cli              pb-<id>-dut                          pb-<id>-srv
//   cli0 198.18.1.1/24 ==veth== dut0 198.18.1.254 | dut1 198.18.2.254 ==veth== srv0 198.18.2.2/24
//
// Built and removed by netns/topology.sh (the same script a user can run by hand); this class
// calls `up` in its constructor and `down` in its destructor, which logs and never throws.
#pragma once
#include <string>

namespace pb {

struct Addr {
  static constexpr const char* kClient = "198.18.1.1";
  static constexpr const char* kDutClientSide = "198.18.1.254";
  static constexpr const char* kDutServerSide = "198.18.2.254";
  static constexpr const char* kServer = "198.18.2.2";
  static constexpr const char* kClientMac = "02:00:c6:12:01:01";
  static constexpr const char* kDut0Mac = "02:00:c6:12:01:fe";
  static constexpr const char* kDut1Mac = "02:00:c6:12:02:fe";
  static constexpr const char* kServerMac = "02:00:c6:12:02:02";
  static constexpr const char* kClientDev = "cli0";
  static constexpr const char* kDutClientDev = "dut0";
  static constexpr const char* kDutServerDev = "dut1";
  static constexpr const char* kServerDev = "srv0";
};

// Path of netns/topology.sh: $PATHBENCH_TOPOLOGY_SCRIPT, else the source tree's copy.
std::string topology_script();

class Topology {
 public:
  explicit Topology(std::string run_id);
  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  const std::string& id() const { return id_; }
  const std::string& cli() const { return cli_; }
  const std::string& dut() const { return dut_; }
  const std::string& srv() const { return srv_; }

  static void down(const std::string& run_id);  // throws on failure

 private:
  std::string id_, cli_, dut_, srv_;
};

}  // namespace pb
