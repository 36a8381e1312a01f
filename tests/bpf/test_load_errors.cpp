// SPDX-License-Identifier: Apache-2.0
// test_load_errors.cpp: a program the verifier refuses becomes a BpfError (exit code 4) whose
// message names what failed and ends with the verifier log tail, the user's only clue.
#include <gtest/gtest.h>

#include "bpf_test_util.h"
#include "kernel/bpf/skeleton.h"
#include "kernel/bpf/stats.h"
#include "kernel/bpf/attach.h"
#include "kernel/bpf/test_run.h"
#include "kernel/bpf/fwd_counters.h"
#include "verifier_reject.skel.h"

namespace pb {
namespace {

TEST(LoadErrors, VerifierRejectionCarriesLogTail) {
  if (!is_root()) GTEST_SKIP() << test::kNeedRoot;
  bpf::SkelPtr<verifier_reject> s(bpf::open_skeleton<verifier_reject>("verifier_reject"));
  try {
    bpf::load_skeleton(s.get(), "verifier_reject");
    FAIL() << "the verifier accepted a program reading the packet without a bounds check";
  } catch (const BpfError& e) {
    std::string what = e.what();
    EXPECT_EQ(e.code(), kExitBpf);
    EXPECT_NE(what.find("load verifier_reject"), std::string::npos) << what;
    EXPECT_NE(what.find("verifier log tail"), std::string::npos) << what;
    EXPECT_NE(what.find("invalid access to packet"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace pb
