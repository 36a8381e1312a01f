#!/bin/sh
# Regenerate tests/data/sample-run.json from a REAL pathbench run (root: it creates namespaces).
# Takes the benchmark lock so it never runs beside another benchmark on the machine, then stores
# the run.json re-serialised without indentation (same values, about 40% of the size).
# Usage (from the repo root, after `make build`): sudo tests/data/regenerate.sh
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=/tmp/analysis-sample-$$-$(date +%Y%m%d%H%M%S)
flock /tmp/pathbench-bench.lock build/pathbench run --paths all --workloads all \
    --duration-s 1 --repetitions 3 --out "$out" || echo "note: pathbench run exited $? (failed results are kept in the sample)" >&2
/usr/bin/python3 -c 'import json, sys; json.dump(json.load(open(sys.argv[1])), open(sys.argv[2], "w"), separators=(",", ":")); print(sys.argv[2])' \
    "$out/run.json" tests/data/sample-run.json
/usr/bin/python3 -m analysis validate tests/data/sample-run.json
ls -l tests/data/sample-run.json
