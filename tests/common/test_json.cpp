// SPDX-License-Identifier: Apache-2.0
// The JSON writer: never NaN or Infinity, atomic (no temp file left, old content replaced whole).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

#include "common/error.h"
#include "common/json_io.h"
#include "kernel/process.h"
#include "kernel/netns.h"
#include "kernel/host.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/strings.h"

TEST(JsonIo, SanitizeReplacesNonFinite) {
  nlohmann::json j = {{"a", std::nan("")},
                      {"b", {1.0, std::numeric_limits<double>::infinity(), 2.5}},
                      {"c", {{"d", -std::numeric_limits<double>::infinity()}}},
                      {"e", 3}};
  EXPECT_EQ(pb::sanitize_json(j), 3u);
  EXPECT_TRUE(j["a"].is_null());
  EXPECT_TRUE(j["b"][1].is_null());
  EXPECT_EQ(j["b"][2], 2.5);
  EXPECT_TRUE(j["c"]["d"].is_null());
  EXPECT_EQ(j["e"], 3);
}

TEST(JsonIo, AtomicWriteLeavesValidFileAndNoTemp) {
  char tmpl[] = "/tmp/pb-json-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl, file = dir + "/run.json";
  pb::write_json_atomic(file, {{"schema_version", 1}, {"x", std::nan("")}});
  pb::write_json_atomic(file, {{"schema_version", 1}, {"y", 2}});
  auto text = pb::read_file(file);
  ASSERT_TRUE(text);
  EXPECT_EQ(text->find("NaN"), std::string::npos);
  auto j = nlohmann::json::parse(*text);
  EXPECT_EQ(j["y"], 2);
  EXPECT_FALSE(j.contains("x"));
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1) << "a temp file was left next to run.json";
  std::filesystem::remove_all(dir);
}

TEST(JsonIo, UnwritableDirectoryIsAnError) {
  EXPECT_THROW(pb::write_json_atomic("/proc/pathbench-no/run.json", {{"a", 1}}), pb::Error);
}
