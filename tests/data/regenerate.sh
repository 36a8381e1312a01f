#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Regenerate tests/data/sample-run.json.gz from a REAL pathbench run (root: it creates namespaces).
# Takes the benchmark lock so it never runs beside another benchmark on the machine, then stores
# the harness's run.json byte for byte, gzip-compressed (-n: no name or time in the header, so the
# same run gives the same file). The analysis reads .gz transparently.
# Usage (from the repo root, after `make build`): sudo tests/data/regenerate.sh
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=/tmp/analysis-sample-$$-$(date +%Y%m%d%H%M%S)
rc=0
flock /tmp/pathbench-bench.lock build/pathbench run --paths all --workloads all \
    --duration-s 1 --repetitions 3 --out "$out" || rc=$?
# Exit 1 means some results failed a check; they stay in the sample (the report shows failures).
[ "$rc" -le 1 ] || { echo "regenerate: pathbench run exited $rc" >&2; exit "$rc"; }
gzip -9 -n -c "$out/run.json" > tests/data/sample-run.json.gz
/usr/bin/python3 -m analysis validate tests/data/sample-run.json.gz
ls -l "$out/run.json" tests/data/sample-run.json.gz
