# SPDX-License-Identifier: Apache-2.0
"""Shared helpers for the analysis tests: where the stored sample run is, how to call the CLI,
and how to derive variants (scaled copies, broken files) from the sample at test time."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The stored sample made by a real `pathbench run` (see tests/data/README.md).  The environment
# variable lets a developer point the suite at another run.json.
SAMPLE = os.environ.get("PATHBENCH_ANALYSIS_SAMPLE", os.path.join(REPO, "tests", "data", "sample-run.json.gz"))
PYTHON = "/usr/bin/python3"


def sample_bytes() -> bytes:
    """The sample's JSON text (decompressed when stored as .gz)."""
    with open(SAMPLE, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        import gzip
        raw = gzip.decompress(raw)
    return raw


def load_sample() -> dict:
    return json.loads(sample_bytes())


def cli(*args, cwd: str = REPO, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `/usr/bin/python3 -m analysis ARGS` from the repo root, as the Makefile does."""
    return subprocess.run([PYTHON, "-m", "analysis", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=600)


def write_run(directory: str, doc: dict, name: str = "run.json") -> str:
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    return path


RATE_KEYS = ("throughput_bps", "transactions_per_s", "packets_per_s")
COST_KEYS = ("cpu_ns_per_transaction", "cpu_ns_per_byte", "cpu_ns_per_packet")


def scaled(doc: dict, rate: float, cost: float, run_id: str, kernel: str | None = None) -> dict:
    """A copy of a real run with every rate multiplied by `rate` and every latency and CPU cost by
    `cost` (histogram bucket bounds included), as if the same machine had become slower."""
    d = copy.deepcopy(doc)
    d["run_id"] = run_id
    if kernel:
        d.setdefault("environment", {})["kernel_release"] = kernel
    for r in d["results"]:
        m = r.get("metrics")
        if not isinstance(m, dict):
            continue
        for k in RATE_KEYS:
            if k in m:
                m[k] = m[k] * rate
        for k in COST_KEYS:
            if k in m:
                m[k] = m[k] * cost
        if isinstance(m.get("latency_ns"), dict):
            m["latency_ns"] = {k: v * cost for k, v in m["latency_ns"].items()}
        h = m.get("histogram")
        if isinstance(h, dict) and isinstance(h.get("buckets"), list):
            h["buckets"] = [[int(lo * cost), max(1, int(w * cost)), c] for lo, w, c in h["buckets"]]
    return d


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self._td = tempfile.TemporaryDirectory(prefix="pb-analysis-test-")
        self.tmp = self._td.name

    def tearDown(self):
        self._td.cleanup()
