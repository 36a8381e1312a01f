"""Every plot renders from the stored sample, carries its labels, and is byte-identical when redrawn."""

import copy
import os
import unittest
import xml.etree.ElementTree as ET

from analysis import plots
from analysis.load import load_run
from analysis.summary import summarize
from analysis.tests.common import SAMPLE, TempDirTest, load_sample, write_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _workloads_with(run, pred):
    return sorted({r["workload"] for r in run.results if r["status"] == "ok" and pred(r.get("metrics") or {})})


class RenderSample(TempDirTest):
    def setUp(self):
        super().setUp()
        self.loaded = load_run(SAMPLE)
        self.s = summarize(self.loaded)

    def assert_images(self, figs, expected_stems):
        stems = [f.name for f in figs]
        self.assertEqual(sorted(stems), sorted(expected_stems))
        for f in figs:
            with open(f.png, "rb") as fh:
                data = fh.read()
            self.assertTrue(data.startswith(PNG_MAGIC), f.png)
            self.assertGreater(len(data), 5000, f"{f.png} looks empty")
            if f.svg:
                root = ET.parse(f.svg).getroot()
                self.assertTrue(root.tag.endswith("svg"))
                with open(f.svg, encoding="utf-8") as fh:
                    svg = fh.read()
                self.assertNotIn("<dc:date>", svg)
            self.assertTrue(f.title and f.caption)

    def test_bars(self):
        figs = plots.plot_bars(self.loaded, self.s, self.tmp)
        wls = _workloads_with(self.loaded, lambda m: any(k in m for k in ("throughput_bps", "transactions_per_s", "packets_per_s")))
        self.assert_images(figs, [f"bars-{w}" for w in wls])

    def test_latency_cdfs(self):
        figs = plots.plot_latency_cdfs(self.loaded, self.s, self.tmp)
        wls = _workloads_with(self.loaded, lambda m: bool((m.get("histogram") or {}).get("buckets")))
        self.assert_images(figs, [f"latency-cdf-{w}" for w in wls])

    def test_heatmap(self):
        figs = plots.plot_ratio_heatmap(self.loaded, self.s, self.tmp)
        has_base = any(r["path"] == "baseline" for r in self.loaded.results)
        self.assert_images(figs, ["ratio-heatmap"] if has_base else [])

    def test_bpf_cost_from_sample_or_absent(self):
        figs = plots.plot_bpf_cost(self.loaded, self.s, self.tmp)
        self.assert_images(figs, ["bpf-cost"] if plots.bpf_stats(self.loaded.results) else [])

    def test_deterministic(self):
        a = os.path.join(self.tmp, "a")
        b = os.path.join(self.tmp, "b")
        fa = plots.plot_all(self.loaded, self.s, a)
        fb = plots.plot_all(load_run(SAMPLE), summarize(load_run(SAMPLE)), b)
        self.assertEqual([f.name for f in fa], [f.name for f in fb])
        for x, y in zip(fa, fb):
            for p, q in ((x.png, y.png), (x.svg, y.svg)):
                with open(p, "rb") as f1, open(q, "rb") as f2:
                    self.assertEqual(f1.read(), f2.read(), f"{os.path.basename(p)} differs between renders")

    def test_labels_name_run_and_units(self):
        from analysis import metrics as M
        figs = plots.plot_all(self.loaded, self.s, self.tmp)
        self.assertTrue(figs)
        units = {m.unit for m in M.METRICS.values()} | {"µs", "ns per program run"}
        for f in figs:
            with open(f.svg, encoding="utf-8") as fh:
                svg = fh.read()
            self.assertIn(self.loaded.run_id, svg, f.name)
            self.assertIn(self.loaded.kernel, svg, f.name)
            if f.name != "ratio-heatmap":  # a ratio has no unit; its colour bar says "ratio"
                self.assertTrue(any(u in svg for u in units), f"{f.name}: no unit in labels")


class Tolerance(TempDirTest):
    def test_bpf_stats_shapes(self):
        """proof.bpf_stats may be absent, a list, a dict, or carry only run_cnt/run_time_ns."""
        doc = load_sample()
        ok = [r for r in doc["results"] if r["status"] == "ok"]
        for r in ok:
            r.setdefault("proof", {})
            r["proof"].pop("bpf_stats", None)
        run = load_run(write_run(os.path.join(self.tmp, "none"), doc))
        self.assertEqual(plots.plot_bpf_cost(run, summarize(run), self.tmp), [])
        d2 = copy.deepcopy(doc)
        r0 = next(r for r in d2["results"] if r["status"] == "ok")
        # Test-only shapes (the numbers are irrelevant; the point is that each shape is read).
        r0["proof"]["bpf_stats"] = [{"program": "p_list", "run_cnt": 10, "run_time_ns": 800},
                                    {"program": "p_zero", "run_cnt": 0, "run_time_ns": 0},
                                    "garbage", {"program": "p_ns", "ns_per_run": 70.5}]
        r1 = next(r for r in d2["results"] if r["status"] == "ok" and r is not r0)
        r1["proof"]["bpf_stats"] = {"p_dict": {"run_cnt": 4, "run_time_ns": 400}}
        run2 = load_run(write_run(os.path.join(self.tmp, "shapes"), d2))
        found = plots.bpf_stats(run2.results)
        progs = sorted(k[2] for k in found)
        self.assertEqual(progs, ["p_dict", "p_list", "p_ns"])
        self.assertEqual(len(plots.plot_bpf_cost(run2, summarize(run2), self.tmp)), 1)

    def test_only_failures_render_nothing_but_do_not_crash(self):
        doc = load_sample()
        for r in doc["results"]:
            r["status"] = "failed"
            r["reason"] = "test: everything failed"
        run = load_run(write_run(self.tmp, doc))
        figs = plots.plot_all(run, summarize(run), self.tmp)
        for f in figs:
            self.assertTrue(os.path.exists(f.png))


if __name__ == "__main__":
    unittest.main()
