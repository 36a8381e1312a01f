# SPDX-License-Identifier: Apache-2.0
"""Every plot type renders from stored data (the schema-1 sample, the schema-2 fixture and its
services sweep), carries its labels, and is byte-identical when redrawn."""

import copy
import os
import unittest
import xml.etree.ElementTree as ET

from analysis import plots
from analysis.load import check_document, load_run
from analysis.summary import summarize
from analysis.tests.common import SAMPLE, TempDirTest, load_sample, write_run
from analysis.tests.fixtures import services_sweep, v2_sample

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _workloads_with(run, pred):
    return sorted({r["workload"] for r in run.results if r["status"] == "ok" and pred(r.get("metrics") or {})})


class Images(TempDirTest):
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
                self.assertNotIn("nan", svg.lower().replace("nanum", ""))
            self.assertTrue(f.title and f.caption)


class RenderSample(Images):
    @classmethod
    def setUpClass(cls):
        cls.loaded = load_run(SAMPLE)
        cls.s = summarize(cls.loaded)

    def test_forest(self):
        figs = plots.plot_forest(self.loaded, self.s, self.tmp)
        self.assert_images(figs, ["forest"])
        with open(figs[0].svg, encoding="utf-8") as f:
            svg = f.read()
        self.assertIn("no 95% CI", svg)          # 3 repetitions: no interval is drawn, and it says so
        for p in {r["path"] for r in self.loaded.results if r["path"] != self.s.reference}:
            self.assertIn(p, svg)

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
        self.assert_images(figs, ["ratio-heatmap"])

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
            if f.name not in ("ratio-heatmap", "forest"):  # a ratio has no unit
                self.assertTrue(any(u in svg for u in units), f"{f.name}: no unit in labels")


class RenderV2(Images):
    """Schema-2 data: 95% intervals exist (6 repetitions), connect latency, flagged repetitions,
    a services sweep, a payload sweep."""

    @classmethod
    def setUpClass(cls):
        doc = v2_sample()
        doc["results"] = [r for r in doc["results"] if r["workload"] in ("tcp_crr", "tcp_rr")]
        cls.v2 = check_document("v2.json", doc)
        cls.s = summarize(cls.v2)
        cls.sweep = check_document("sweep.json", services_sweep(v2_sample(), services=(1, 100, 10000)))
        cls.ss = summarize(cls.sweep)

    def test_forest_with_intervals_and_flags(self):
        figs = plots.plot_forest(self.v2, self.s, self.tmp)
        self.assert_images(figs, ["forest"])
        with open(figs[0].svg, encoding="utf-8") as f:
            svg = f.read()
        self.assertIn("bar = 95% CI", svg)
        self.assertIn("flagged abnormal", svg)

    def test_connect_latency_cdf(self):
        figs = plots.plot_latency_cdfs(self.v2, self.s, self.tmp)
        self.assertIn("connect-cdf-tcp_crr", [f.name for f in figs])
        self.assert_images(figs, ["latency-cdf-tcp_crr", "latency-cdf-tcp_rr", "connect-cdf-tcp_crr"])

    def test_scale(self):
        figs = plots.plot_scale(self.sweep, self.ss, self.tmp)
        self.assert_images(figs, ["scale-tcp_crr-services"])
        with open(figs[0].svg, encoding="utf-8") as f:
            svg = f.read()
        for label in ("connect latency p50", "connect latency p99", "connections/s", "CPU per connection", "log scale"):
            self.assertIn(label, svg)

    def test_payload_sweep(self):
        doc = copy.deepcopy(self.v2.doc)
        extra = []
        for r in doc["results"]:
            if r["status"] == "ok" and r["workload"] == "tcp_rr":
                c = copy.deepcopy(r)
                c["workload_options"]["payload_bytes"] = 1024
                c["workload_options"]["response_bytes"] = 1024
                c["metrics"]["transactions_per_s"] *= 0.9
                extra.append(c)
        doc["results"] += extra
        run = check_document("p.json", doc)
        figs = plots.plot_sweeps(run, summarize(run), self.tmp)
        self.assert_images(figs, ["sweep-tcp_rr-payload_bytes"])   # response_bytes moves with it: one axis

    def test_trend_and_kernels_plots(self):
        from analysis.kernels import plot_kernels
        from analysis.trend import merged_catalogue, render
        other = copy.deepcopy(self.v2.doc)
        other["environment"]["kernel_release"] = "6.1.0-test"
        runs = [self.v2, check_document("o.json", other)]
        png, svg, md, text = render(runs, self.tmp)
        self.assertIn("6.1.0-test", text)
        figs = plot_kernels(runs, [summarize(r) for r in runs], merged_catalogue(runs), self.tmp)
        self.assert_images(figs, ["kernels-ratios"])


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
        r0["proof"]["bpf_stats"] = [{"program": "p_list", "run_cnt": 10, "run_time_ns": 800},
                                    {"program": "p_zero", "run_cnt": 0, "run_time_ns": 0},
                                    "garbage", {"program": "p_ns", "ns_per_run": 70.5}]
        r1 = next(r for r in d2["results"] if r["status"] == "ok" and r is not r0)
        r1["proof"]["bpf_stats"] = {"p_dict": {"run_cnt": 4, "run_time_ns": 400}}
        run2 = load_run(write_run(os.path.join(self.tmp, "shapes"), d2))
        found = plots.bpf_stats(run2.results)
        self.assertEqual(sorted(k[2] for k in found), ["p_dict", "p_list", "p_ns"])
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
