# SPDX-License-Identifier: Apache-2.0
"""Traits, not names: no analysis code decides anything from a path or workload name (load.py's
table of schema-1 names is the one exception), renaming every path and workload changes no number
and no verdict, and changing a trait changes the behaviour."""

import ast
import copy
import os
import unittest

from analysis import load
from analysis.load import check_document
from analysis.report import claim_ebpf_config, claim_ebpf_efficient, claim_tproxy
from analysis.summary import summarize
from analysis.tests.common import REPO
from analysis.tests.fixtures import catalogue, v2_sample

NAMES = ({p["name"] for p in catalogue()["paths"]} | {w["name"] for w in catalogue()["workloads"]})


def _docstrings(tree):
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def rename(doc: dict, f) -> dict:
    d = copy.deepcopy(doc)
    for p in d["catalogue"]["paths"]:
        p["name"] = f(p["name"])
        if p.get("compare_against"):
            p["compare_against"] = f(p["compare_against"])
    for w in d["catalogue"]["workloads"]:
        w["name"] = f(w["name"])
    for r in d["results"]:
        r["path"], r["workload"] = f(r["path"]), f(r["workload"])
    for i in d.get("path_instances", []):
        i["path"] = f(i["path"])
    return d


class NoNamesInCode(unittest.TestCase):
    def test_no_name_literals_outside_the_v1_table(self):
        pkg = os.path.join(REPO, "analysis")
        offenders = []
        for fn in sorted(os.listdir(pkg)):
            if not fn.endswith(".py") or fn == "load.py":
                continue
            with open(os.path.join(pkg, fn), encoding="utf-8") as f:
                tree = ast.parse(f.read())
            docs = _docstrings(tree)
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs \
                        and node.value in NAMES:
                    offenders.append(f"{fn}:{node.lineno}: {node.value!r}")
        self.assertEqual(offenders, [], "behaviour chosen by name; give the thing a trait instead")

    def test_the_removed_tables_are_gone(self):
        from analysis import metrics
        for name in ("PATH_ORDER", "PATH_DESCRIPTIONS", "WORKLOAD_ORDER", "primary_metric_key"):
            self.assertFalse(hasattr(metrics, name), name)


class RenameEverything(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.doc = v2_sample()

    def _numbers(self, doc):
        run = check_document("x.json", doc)
        S = summarize(run)
        ratios = sorted((S.cat.workload(k.workload).order, S.cat.path(k.path).order,
                         round(S.ratio_to_reference(k, g.primary).value or 0, 12)) for k, g in S.items())
        claims = [(c.word,) for c in (claim_tproxy(S), claim_ebpf_efficient(S, run), claim_ebpf_config(S))]
        return ratios, claims, S

    def test_renamed_run_gives_the_same_numbers_and_verdicts(self):
        f = lambda n: "zz-" + n[::-1]
        a_ratios, a_claims, sa = self._numbers(self.doc)
        b_ratios, b_claims, sb = self._numbers(rename(self.doc, f))
        self.assertEqual(a_ratios, b_ratios)      # same ratio for the same (workload, path) position
        self.assertEqual(a_claims, b_claims)
        self.assertEqual(sb.reference, f(sa.reference))

    def test_traits_decide(self):
        """Making the first TPROXY interceptor an eBPF one moves it from claim 1 to claim 2."""
        d = copy.deepcopy(self.doc)
        tp = [p for p in d["catalogue"]["paths"] if p["technology"] == "tproxy"]
        tp[0]["technology"] = "ebpf"
        run = check_document("x.json", d)
        S = summarize(run)
        self.assertNotIn(f"`{tp[0]['name']}`", claim_tproxy(S).sentence.split("costs")[0])
        from analysis.doc import Doc, to_markdown
        doc = Doc()
        for d in claim_ebpf_efficient(S, run).details:
            d(doc)
        self.assertIn(f"`{tp[0]['name']}` ÷ `", to_markdown(doc, "."))     # now an eBPF path set against TPROXY

    def test_reference_is_the_kernel_routed_path(self):
        d = copy.deepcopy(self.doc)
        ref = next(p for p in d["catalogue"]["paths"] if p["kind"] == "kernel-routed")
        S = summarize(check_document("x.json", d))
        self.assertEqual(S.reference, ref["name"])
        ref["kind"] = "control"
        S = summarize(check_document("x.json", d))
        self.assertIsNone(S.reference)

    def test_unknown_names_get_neutral_traits(self):
        d = copy.deepcopy(self.doc)
        r = copy.deepcopy(next(r for r in d["results"] if r["status"] == "ok"))
        r["path"], r["workload"] = "brand-new-path", "brand_new_workload"
        d["results"].append(r)
        run = check_document("x.json", d)
        t = run.catalogue.path("brand-new-path")
        self.assertFalse(t.known)
        self.assertEqual(t.kind, "unknown")
        self.assertIsNotNone(run.catalogue.primary_metric("brand_new_workload", [r]))
        self.assertEqual(run.catalogue.paths[run.catalogue.reference_path].kind, "kernel-routed")

    def test_v1_table_is_complete(self):
        for p in load.V1_CATALOGUE["paths"]:
            for trait in ("kind", "technology", "via_proxy", "routes", "compare_against", "order"):
                self.assertIn(trait, p, p["name"])
        for w in load.V1_CATALOGUE["workloads"]:
            for trait in ("pattern", "protocol", "primary_metric", "cpu_metric", "order"):
                self.assertIn(trait, w, w["name"])


if __name__ == "__main__":
    unittest.main()
