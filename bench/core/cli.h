// cli.h: `pathbench run` options: parsing, validation, output directory preparation.
#pragma once
#include <boost/program_options/options_description.hpp>
#include <string>
#include <vector>

#include "core/config.h"

namespace pb {

struct HelpRequested {};

boost::program_options::options_description run_options_description();
// Parses and validates; throws UsageError (one line naming the problem) or HelpRequested.
// Creates nothing.
RunConfig parse_run_options(const std::vector<std::string>& args);
// Creates the results directory (default: <out-parent>/<UTC>-<kernel>-<sha>/); refuses one that
// already holds a run.json and one that is not writable. Throws UsageError.
void prepare_output_dir(RunConfig& c);

}  // namespace pb
