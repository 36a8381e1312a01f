// SPDX-License-Identifier: Apache-2.0
// run/cli.h: `pathbench run` options: parsing, validation, output directory preparation.
#pragma once
#include <boost/program_options/options_description.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "run/config.h"

namespace pb {

struct HelpRequested {};

boost::program_options::options_description run_options_description();
// Parses and validates; throws UsageError (one line naming the problem) or HelpRequested.
// Creates nothing.
RunConfig parse_run_options(const std::vector<std::string>& args);
// Creates the results directory (default: <out-parent>/<UTC>-<kernel>-<sha>/); refuses one that
// already holds a run.json and one that is not writable. Throws UsageError.
void prepare_output_dir(RunConfig& c);

// Strict numbers for options (Boost would read "-1" as 18446744073709551615 for an unsigned):
// digits (and one '.' for doubles) only, within [lo, hi]; UsageError "--<name> '<text>': ...".
uint64_t parse_uint(const std::string& name, const std::string& text, uint64_t lo, uint64_t hi);
double parse_double(const std::string& name, const std::string& text, double lo, double hi, bool lo_open = false);
// "64,1024,16384": each element as above, no empty element, no duplicate.
std::vector<uint64_t> parse_uint_list(const std::string& name, const std::string& text, uint64_t lo, uint64_t hi);

}  // namespace pb
