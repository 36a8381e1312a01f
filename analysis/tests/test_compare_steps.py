# SPDX-License-Identifier: Apache-2.0
"""compare as a pipeline (analysis/compare.py): each step on its own — prepare (guard, cost mode,
machine speed), match, tested rows, pooled rows, false-discovery control, warnings — and
CompareOptions overriding defaults."""

import copy
import unittest

from analysis import compare as C
from analysis.load import check_document
from analysis.tests.common import scaled
from analysis.tests.fixtures import v2_sample


def _run(doc, name="a.json"):
    return check_document(name, copy.deepcopy(doc))


def _small():
    d = v2_sample()
    d["results"] = [r for r in d["results"] if r["workload"] in ("tcp_rr",) and r["path"] in ("baseline", "tproxy-nft")]
    return d


class Steps(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.doc = _small()

    def test_options_defaults_and_overrides(self):
        o = C.CompareOptions()
        self.assertEqual(o.threshold_pct, C.DEFAULT_THRESHOLD_PCT)
        self.assertIn("cost", o.gate)
        c = C.compare_runs(_run(self.doc), _run(self.doc, "b.json"), fdr=None, threshold_pct=3.0)
        self.assertIsNone(c.fdr)
        self.assertEqual(c.threshold_pct, 3.0)

    def test_prepare_decides_guard_and_mode(self):
        a = _run(self.doc)
        g = copy.deepcopy(self.doc)
        g["environment"]["virtualization"] = {"pathbench_guest": True, "accelerator": "tcg"}
        ctx = C.prepare(a, _run(g, "g.json"), C.CompareOptions())
        self.assertIsNotNone(ctx.guard)
        self.assertFalse(ctx.cost)
        ctx = C.prepare(a, _run(g, "g.json"), C.CompareOptions(allow_cross_environment=True))
        self.assertIsNone(ctx.guard)

    def test_match_pairs_by_path_and_workload(self):
        a, b = _run(self.doc), _run(self.doc, "b.json")
        ctx = C.prepare(a, b, C.CompareOptions())
        pairs, notes = C._match(ctx.sa, ctx.sb)
        self.assertEqual(len(pairs), 2)
        self.assertTrue(all(ka == kb for ka, kb in pairs))
        b2 = copy.deepcopy(self.doc)
        b2["results"] = [r for r in b2["results"] if r["path"] == "baseline"]
        ctx = C.prepare(a, _run(b2, "b2.json"), C.CompareOptions())
        pairs, _ = C._match(ctx.sa, ctx.sb)
        self.assertIn(None, [kb for _, kb in pairs], "tproxy-nft is only in A")

    def test_tested_rows_then_fdr(self):
        a, b = _run(self.doc), _run(scaled(self.doc, 0.8, 1.25, "slow"), "b.json")
        ctx = C.prepare(a, b, C.CompareOptions(speed_adjust=False))
        pairs, _ = C._match(ctx.sa, ctx.sb)
        rows, strata = C.tested_rows(ctx, pairs)
        prim = [r for r in rows if r.metric == "transactions_per_s"]
        self.assertEqual(len(prim), 2)
        self.assertTrue(all(r.change_pct < -15 for r in prim))
        self.assertEqual(len(strata), 2, "rate and CPU per unit, pooled over the two paths")
        pooled = C.pooled_rows(ctx, strata)
        self.assertEqual({r.path for r in pooled}, {C.POOLED_PATH})
        family = C.control_fdr(rows + pooled, ctx.opts.gate, 0.05)
        self.assertGreater(family, 0)
        self.assertTrue(all(r.q_value is not None for r in rows + pooled if r.p_value is not None
                            and C.M.kind(r.metric) in ctx.opts.gate))

    def test_fdr_demotes_a_lone_row(self):
        rows = [C.Row("w", f"p{i}", "", "", "transactions_per_s", "", True, 8, 8, 1, 1, -20, -30, -10, 0.95, 8,
                      C.REGRESSION if i == 0 else C.NOT_SIG, p_value=0.04 if i == 0 else 0.9) for i in range(10)]
        C.control_fdr(rows, ("rate",), 0.05)
        self.assertEqual(rows[0].status, C.NOT_SIG_FAMILY)
        self.assertIn("among 10 gated rows", rows[0].note)

    def test_warnings_name_the_speed_factor(self):
        a, b = _run(self.doc), _run(self.doc, "b.json")
        ctx = C.prepare(a, b, C.CompareOptions())
        ctx.factor = 1.05
        ws = C.make_warnings(ctx, [], 0)
        self.assertTrue(any("machine speed" in w and "+5.0%" in w for w in ws), ws)


if __name__ == "__main__":
    unittest.main()
