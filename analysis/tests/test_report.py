"""Report: written into the output directory, names every path, workload and the environment,
lists skipped/failed results with reasons, is self-contained HTML and deterministic."""

import os
import re
import unittest

from analysis.load import load_run
from analysis.tests.common import SAMPLE, TempDirTest, cli, load_sample, write_run


class ReportFromSample(TempDirTest):
    @classmethod
    def setUpClass(cls):
        import tempfile
        cls._cls_td = tempfile.TemporaryDirectory(prefix="pb-analysis-report-")
        cls.out = cls._cls_td.name
        cls.proc = cli("report", SAMPLE, "--out", cls.out)
        cls.loaded = load_run(SAMPLE)
        with open(os.path.join(cls.out, "report.md"), encoding="utf-8") as f:
            cls.md = f.read()
        with open(os.path.join(cls.out, "report.html"), encoding="utf-8") as f:
            cls.html = f.read()

    @classmethod
    def tearDownClass(cls):
        cls._cls_td.cleanup()

    def test_exit_0(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertIn("report.html", self.proc.stdout)

    def test_every_path_and_workload(self):
        for r in self.loaded.results:
            self.assertIn(r["path"], self.md)
            self.assertIn(r["workload"], self.md)
            self.assertIn(r["path"], self.html)

    def test_environment(self):
        env = self.loaded.environment
        for key in ("kernel_release", "cpu_model", "compiler", "libbpf_version"):
            if env.get(key):
                self.assertIn(str(env[key]), self.md, key)
        self.assertIn("## Environment", self.md)
        if env.get("offloads"):
            self.assertIn("NIC offloads", self.md)
        for tool, version in (env.get("tools") or {}).items():
            self.assertIn(str(version), self.md, tool)
        if any(isinstance(r.get("proof"), dict) and r["proof"].get("offloads") for r in self.loaded.results):
            self.assertIn("Offloads changed by paths", self.md)

    def test_sections(self):
        for title in ("What this run shows", "Common claims", "TPROXY's performance impact is minimal",
                      "eBPF is more efficient because it runs in the kernel", "eBPF needs less configuration",
                      "Medians, intervals and ratios to baseline", "Plots", "Skipped and failed",
                      "How to read this"):
            self.assertIn(title, self.md)

    def test_skipped_and_failed_reasons(self):
        for r in self.loaded.results:
            if r["status"] != "ok" and r.get("reason"):
                self.assertIn(str(r["reason"]).replace("|", "\\|")[:60], self.md)

    def test_html_self_contained(self):
        srcs = re.findall(r'(?:src|href)="([^"#]+)"', self.html)
        self.assertTrue(all(s.startswith("data:image/png;base64,") for s in srcs), srcs[:3])
        self.assertGreater(len([s for s in srcs if s.startswith("data:")]), 0)
        self.assertNotIn("<script", self.html)

    def test_plot_files_referenced_exist(self):
        for rel in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", self.md):
            self.assertTrue(os.path.exists(os.path.join(self.out, rel)), rel)

    def test_no_unsupported_speed_words(self):
        """'faster'/'slower' are never generated; better/worse only next to an interval that excludes 1."""
        for word in ("faster", "slower"):
            self.assertNotIn(word, self.md.lower().replace("\"", ""))

    def test_deterministic(self):
        out2 = os.path.join(self.tmp, "again")
        p = cli("report", SAMPLE, "--out", out2)
        self.assertEqual(p.returncode, 0, p.stderr)
        for name in ("report.md", "report.html"):
            with open(os.path.join(self.out, name), "rb") as a, open(os.path.join(out2, name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)


def _subset(doc, workloads=("tcp_rr", "tcp_stream")):
    """The sample restricted to a few workloads: same shapes, quicker to render."""
    doc["results"] = [r for r in doc["results"] if r["workload"] in workloads]
    return doc


class ReportEdgeCases(TempDirTest):
    def test_writes_into_run_directory_by_default(self):
        run_dir = os.path.join(self.tmp, "results", "2026-11-28T004000Z-6.18-abc")
        write_run(run_dir, _subset(load_sample()))
        p = cli("report", run_dir)
        self.assertEqual(p.returncode, 0, p.stderr)
        for name in ("report.md", "report.html", "plots"):
            self.assertTrue(os.path.exists(os.path.join(run_dir, name)), name)

    def test_claims_not_checkable_without_paths(self):
        doc = load_sample()
        doc["results"] = [r for r in doc["results"] if r["path"] == "baseline"]
        write_run(self.tmp, doc)
        p = cli("report", self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.tmp, "report.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertGreaterEqual(md.count("Could not be checked by this run"), 3)

    def test_two_repetitions_say_ci_unavailable(self):
        doc = _subset(load_sample())
        doc["results"] = [r for r in doc["results"] if r.get("repetition", 0) < 2]
        write_run(self.tmp, doc)
        p = cli("report", self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.tmp, "report.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("CI n/a", md)
        self.assertNotIn("significantly", md)

    def test_interrupted_run_is_flagged(self):
        doc = load_sample()
        doc["status"] = "interrupted"
        doc["status_reason"] = "SIGINT after 3 results"
        doc["results"] = doc["results"][:3]
        write_run(self.tmp, doc)
        p = cli("report", self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.tmp, "report.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("this run is interrupted", md)
        self.assertIn("SIGINT after 3 results", md)

    def test_reference_rows_shown_with_ratio(self):
        doc = _subset(load_sample(), ("tcp_stream",))
        ref = next(r for r in doc["results"] if r["status"] == "ok" and r["workload"] == "tcp_stream")
        import copy
        refs = []
        for r in doc["results"]:
            if r["path"] == ref["path"] and r["workload"] == ref["workload"] and r["status"] == "ok":
                c = copy.deepcopy(r)
                # The reference row reuses pathbench's own measurement, so the ratio must be 1.00×.
                c["reference"] = {"tool": "iperf3", "version": "3.12", "command": "iperf3 -c 198.18.2.2 -t 1"}
                refs.append(c)
        doc["results"] += refs
        write_run(self.tmp, doc)
        p = cli("report", self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.tmp, "report.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("pathbench beside reference tools", md)
        self.assertIn("iperf3 3.12", md)
        self.assertIn("iperf3 -c 198.18.2.2 -t 1", md)
        self.assertRegex(md, r"\| 1\.00×")


if __name__ == "__main__":
    unittest.main()


class ClaimVerdicts(TempDirTest):
    """The claim verdict follows the intervals: identical repetitions give a zero-width interval
    (supported), halving the rate contradicts, and real noise leaves the claim undecided."""

    def _doc(self, tproxy_rate: float, tproxy_cost: float, flatten: bool) -> dict:
        import copy
        doc = _subset(load_sample(), ("tcp_rr",))
        doc["results"] = [r for r in doc["results"] if r["path"] in ("baseline", "tproxy-nft")]
        ref = {}
        for r in doc["results"]:
            if r["path"] == "baseline" and r["status"] == "ok":
                ref.setdefault(r["workload"], r["metrics"])
        for r in doc["results"]:
            if r["status"] != "ok":
                continue
            if flatten:  # every repetition of both paths equal to baseline's first one
                r["metrics"] = copy.deepcopy(ref[r["workload"]])
            if r["path"] == "tproxy-nft":
                r["metrics"]["transactions_per_s"] *= tproxy_rate
                r["metrics"]["cpu_ns_per_transaction"] *= tproxy_cost
        return doc

    def _claim1(self, doc) -> str:
        write_run(self.tmp, doc)
        p = cli("report", self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.tmp, "report.md"), encoding="utf-8") as f:
            md = f.read()
        return md.split("TPROXY's performance impact is minimal\"", 1)[1].split("###", 1)[0]

    def test_supported_when_intervals_are_tight(self):
        self.assertIn("**Supported by this run**", self._claim1(self._doc(1.0, 1.0, True)))

    def test_contradicted_when_rate_halves(self):
        text = self._claim1(self._doc(0.5, 2.0, True))
        self.assertIn("**Contradicted by this run**", text)
        self.assertIn("50% lower (worse)", text)

    def test_real_repetitions_are_not_called_equal(self):
        text = self._claim1(self._doc(1.0, 1.0, False))
        self.assertNotIn("**Supported by this run**", text)


class OffloadShapes(unittest.TestCase):
    def test_both_recorded_shapes(self):
        from analysis.load import check_document
        from analysis.report import offload_changes
        doc = _subset(load_sample(), ("tcp_rr",))
        doc["environment"]["offloads"] = {"cli0": {"tx-checksumming": "on", "tcp-segmentation-offload": "on"}}
        ok = [r for r in doc["results"] if r["status"] == "ok"]
        ok[0]["proof"]["offloads"] = {"cli0": {"before": "on", "during": "off", "feature": "tx-checksumming"}}
        ok[1]["proof"]["offloads"] = {"cli0": {"changed": {"before": "on", "during": "off", "feature": "tx-checksumming"},
                                               "during": {"tcp-segmentation-offload": "off", "tx-checksumming": "off"}}}
        ok[2]["proof"]["offloads"] = {"cli0": "unexpected"}
        ch = offload_changes(check_document("x.json", doc))
        self.assertIn(("cli0", "tx-checksumming", "on", "off"), ch[ok[0]["path"]])
        self.assertIn(("cli0", "tcp-segmentation-offload", "on", "off"), ch[ok[1]["path"]])
