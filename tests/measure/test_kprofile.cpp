// SPDX-License-Identifier: Apache-2.0
// test_kprofile.cpp: the kernel profiler's symbolization and record (unit), and the sampler on
// this kernel (privileged: test_kprofile_privileged): a window that runs system calls is
// attributed to kernel functions, a window with nothing running counts nothing.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <set>

#include "measure/kprofile.h"

namespace pb {
namespace {

const char* kKallsyms =
    "ffffffff81000000 T _stext\n"
    "ffffffff81001000 t do_one_thing\n"
    "ffffffff81002000 D some_data\n"       // data: not a function
    "ffffffff81003000 W weak_fn\n"
    "0000000000000000 T hidden\n"          // kptr_restrict shows zeros
    "ffffffffc0a01000 t nft_do_chain\t[nf_tables]\n"
    "ffffffffc0a02000 T nft_other\t[nf_tables]\n"
    "garbage line\n";

TEST(Kallsyms, ParsesTextSymbolsAndModules) {
  Kallsyms k = Kallsyms::parse(kKallsyms);
  EXPECT_EQ(k.size(), 5u);  // _stext, do_one_thing, weak_fn, nft_do_chain, nft_other
  ASSERT_NE(k.find(0xffffffff81001234), nullptr);
  EXPECT_EQ(k.find(0xffffffff81001234)->name, "do_one_thing");
  // Inside the data symbol's range: the last text symbol below it (the data is not a function).
  EXPECT_EQ(k.find(0xffffffff81002010)->name, "do_one_thing");
  EXPECT_EQ(k.find(0xffffffffc0a01010)->name, "nft_do_chain");
  EXPECT_EQ(k.find(0xffffffffc0a01010)->module, "nf_tables");
  EXPECT_EQ(k.find(0xffffffff81003000)->module, "");
  EXPECT_EQ(k.find(0xffffffff80000000), nullptr);  // below every symbol
}

TEST(Kallsyms, ProfileSumsByFunctionAndKeepsTheTop) {
  Kallsyms k = Kallsyms::parse(kKallsyms);
  std::map<uint64_t, uint64_t> s = {{0, 7},                    // user mode
                                    {0xffffffff81001010, 5},   // do_one_thing
                                    {0xffffffff81001020, 4},   // do_one_thing
                                    {0xffffffffc0a01004, 6},   // nft_do_chain
                                    {0xffffffff81003008, 1},   // weak_fn
                                    {0xffffffff7fffffff, 2}};  // no symbol
  auto j = profile_json(s, k, 50000, 3, 2);
  EXPECT_EQ(j["period_ns"], 50000);
  EXPECT_EQ(j["samples"], 25);
  EXPECT_EQ(j["user_samples"], 7);
  EXPECT_EQ(j["kernel_samples"], 18);
  EXPECT_EQ(j["unsymbolized_samples"], 2);
  EXPECT_EQ(j["dropped_samples"], 3);
  EXPECT_EQ(j["functions_seen"], 3);
  ASSERT_EQ(j["functions"].size(), 2u) << "top 2";
  EXPECT_EQ(j["functions"][0]["function"], "do_one_thing");
  EXPECT_EQ(j["functions"][0]["samples"], 9);
  EXPECT_TRUE(j["functions"][0]["module"].is_null());
  EXPECT_EQ(j["functions"][1]["function"], "nft_do_chain");
  EXPECT_EQ(j["functions"][1]["module"], "nf_tables");
}

}  // namespace
}  // namespace pb
