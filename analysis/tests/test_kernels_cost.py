# SPDX-License-Identifier: Apache-2.0
"""The cross-kernel report in cost mode (analysis/kernels_cost.py), from the stored cost run
(tests/data/cost-sample.json.gz, Debian 6.1.0-57 in a tcg-icount guest): instructions per unit per
kernel with the change between neighbours against the cost bound, and, from profiled runs, the
functions behind a path's cost and behind a change."""

from __future__ import annotations

import copy
import os
import unittest

from analysis import kernels_cost as KC
from analysis.tests.common import TempDirTest, cli, write_run
from analysis.tests.test_cost import cost_doc, slower

NEW = "6.12.95+deb12-amd64"


def on_kernel(doc: dict, release: str, run_id: str) -> dict:
    d = copy.deepcopy(doc)
    d["run_id"] = run_id
    d["environment"]["kernel_release"] = release
    d["environment"]["virtualization"]["guest_kernel"] = release
    return d


def profiled(doc: dict, run_id: str, nft_samples: dict, overhead: float = 1.03) -> dict:
    """A profiled copy: every result's instructions per unit x overhead, and a kernel_profile of
    1000 samples a window (300 in user mode) in which nft_do_chain has nft_samples[path] (0 if absent)."""
    d = copy.deepcopy(doc)
    d["run_id"] = run_id
    for r in d["results"]:
        if r["status"] != "ok":
            continue
        r["metrics"]["transactions_per_s"] /= overhead
        n = nft_samples.get(r["path"], 0)
        fns = [{"function": "tcp_sendmsg_locked", "module": None, "samples": 200},
               {"function": "__x86_indirect_thunk_rax", "module": None, "samples": 100}]
        if n:
            fns.append({"function": "nft_do_chain", "module": "nf_tables", "samples": n})
        fns.append({"function": "other_stuff", "module": None, "samples": 400 - n})
        r["metrics"]["kernel_profile"] = {"period_ns": 50000, "samples": 1000, "user_samples": 300,
                                          "kernel_samples": 700, "unsymbolized_samples": 0, "dropped_samples": 0,
                                          "functions_seen": len(fns), "functions": fns}
    return d


class KernelsCost(TempDirTest):
    def _md(self, *args) -> str:
        out = os.path.join(self.tmp, "k")
        p = cli("kernels", *args, "--out", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(out, "kernels.md"), encoding="utf-8") as f:
            return f.read()

    def test_a_change_beyond_the_bound_is_listed_and_none_is_said_so(self):
        base = cost_doc()
        old = write_run(os.path.join(self.tmp, "old"), on_kernel(base, "6.1.0-57-amd64", "k61"))
        new = write_run(os.path.join(self.tmp, "new"), slower(on_kernel(base, NEW, "k612"), "tproxy-nft", "tcp_rr",
                                                              1.05, "k612"))
        md = self._md(new, old)
        self.assertIn("## Instructions per unit of work, per kernel", md)
        self.assertIn("### tcp_rr [instructions/transaction]", md)
        next(l for l in md.splitlines() if l.startswith("| `tproxy-nft`") and "**+5.00%" in l)
        changes = md.split("### Changes between neighbouring kernels", 1)[1]
        self.assertIn("1 of 6 path x workload rows changed beyond their bound: tcp_rr `tproxy-nft` +5.00%", changes)
        self.assertIn("No profiled run was given", md)
        # The same run on both kernels: no change, with the largest one named.
        same = write_run(os.path.join(self.tmp, "same"), on_kernel(base, NEW, "k612b"))
        md = self._md(same, old)
        self.assertIn("no change beyond its bound among 6 rows; no change larger than 0%", md)

    def test_profiles_name_the_functions_behind_a_path_and_a_change(self):
        base = cost_doc()
        a = on_kernel(base, "6.1.0-57-amd64", "k61")
        b = slower(on_kernel(base, NEW, "k612"), "tproxy-nft", "tcp_rr", 1.05, "k612")
        pa = profiled(a, "p61", {"tproxy-nft": 100})
        pb = profiled(b, "p612", {"tproxy-nft": 150})
        paths = [write_run(os.path.join(self.tmp, n), d) for n, d in (("a", a), ("b", b), ("pa", pa), ("pb", pb))]
        md = self._md(paths[0], paths[1], "--profiles", paths[2], paths[3])
        where = md.split("## Where the instructions go", 1)[1]
        self.assertIn("--kernel-profile-ns 50000", where)
        cost = where.split("### The profiler's own cost", 1)[1].split("###", 1)[0]
        self.assertIn("| 6 | +3.0% | +3.0% | +3.0% |", cost)
        self.assertIn("**tcp_rr, `tproxy-nft`**", where)
        self.assertIn("`nft_do_chain [nf_tables]`", where)
        added = where.split("### What each path adds over `baseline`", 1)[1].split("###", 1)[0]
        self.assertRegex(added, r"tcp_rr \| `tproxy-nft` \| [+−-]?\d+\.\d% \| `nft_do_chain \[nf_tables\]` \+")
        behind = where.split("### Functions behind each change between kernels", 1)[1]
        row = next(l for l in behind.splitlines() if "`tproxy-nft`" in l)
        self.assertIn("+5.00%", row)
        self.assertIn("`nft_do_chain [nf_tables]` +", row)
        self.assertIn("(10.0% → 15.0%)", row)

    def test_profile_sampling_error_hides_a_move_within_it(self):
        r = [{"metrics": {"kernel_profile": {"period_ns": 1000, "samples": 100, "user_samples": 0,
                                             "functions": [{"function": "f", "samples": 50}]}}}]
        r2 = [{"metrics": {"kernel_profile": {"period_ns": 1000, "samples": 100, "user_samples": 0,
                                              "functions": [{"function": "f", "samples": 52}]}}}]
        a, b = KC.Profile(r, 1000.0), KC.Profile(r2, 1000.0)
        self.assertAlmostEqual(a.per_unit("f"), 500.0)
        self.assertEqual(KC._moved(a, b, 5), [], "2 of 100 samples is within sampling error")
        r2[0]["metrics"]["kernel_profile"]["functions"][0]["samples"] = 80
        self.assertEqual([m[0] for m in KC._moved(a, KC.Profile(r2, 1000.0), 5)], ["f"])


if __name__ == "__main__":
    unittest.main()
