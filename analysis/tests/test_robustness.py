# SPDX-License-Identifier: Apache-2.0
"""Damaged documents never produce a traceback: the loader either rejects them with one InputError
line or everything downstream (summaries, report, compare, trend) copes.  Mutations are drawn with a
fixed seed from the stored sample, so failures reproduce."""

import copy
import os
import random
import unittest

from analysis.compare import compare_runs
from analysis.load import InputError, check_document
from analysis.report import build
from analysis.summary import summarize
from analysis.tests.common import TempDirTest, load_sample
from analysis.kernels import build as kernels_build
from analysis.trend import render

JUNK = [None, "", "x", -1, 0, 1.5, True, [], {}, [1, 2], {"a": 1}, 10 ** 30]


def _paths(node, prefix=()):
    """Every (container, key) inside node, depth-first, bounded so histograms do not dominate."""
    out = []
    if isinstance(node, dict):
        for k in sorted(node):
            out.append((node, k))
            out += _paths(node[k], prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            out.append((node, i))
            out += _paths(v, prefix + (i,))
    return out


class Mutations(TempDirTest):
    def test_no_traceback(self):
        base = load_sample()
        base["results"] = [r for r in base["results"] if r["workload"] in ("tcp_rr",)][:8]
        self._mutate(base, random.Random(1234), 25)

    def test_no_traceback_schema_2(self):
        """The same on a schema-2 document: catalogue, path_instances, system_state, virtualization."""
        from analysis.tests.fixtures import v2_sample
        base = v2_sample()
        keep = [r for r in base["results"] if r["workload"] == "tcp_crr"][:10]
        base["results"] = keep
        base["path_instances"] = base["path_instances"][:12]
        self._mutate(base, random.Random(99), 15)

    def _mutate(self, base, rng, count):
        accepted = rejected = 0
        for i in range(count):
            doc = copy.deepcopy(base)
            for _ in range(rng.randint(1, 3)):
                spots = _paths(doc)
                parent, key = spots[rng.randrange(len(spots))]
                if rng.random() < 0.3 and isinstance(parent, dict):
                    del parent[key]
                else:
                    parent[key] = copy.deepcopy(rng.choice(JUNK))
            try:
                run = check_document(f"mutant-{i}.json", doc)
            except InputError as e:
                self.assertNotIn("\n", str(e))
                rejected += 1
                continue
            accepted += 1
            with self.subTest(mutant=i):
                summarize(run)
                compare_runs(run, run)
                out = os.path.join(self.tmp, f"m{i}-{id(base)}")
                os.makedirs(out)
                build(run, out)
                render([run], out)
                kernels_build([run, run], out)
        self.assertGreater(accepted, 0)
        self.assertGreater(rejected, 0)


if __name__ == "__main__":
    unittest.main()
