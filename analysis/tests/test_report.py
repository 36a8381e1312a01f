# SPDX-License-Identifier: Apache-2.0
"""Report: what a reader sees first (the forest picture, then three one-sentence verdicts, then
reproducibility and flagged repetitions, all before any table), the claims decided from traits and
95% intervals, configuration effort, the scale section with its crossover, the TCG caveat, and the
old guarantees: every path and workload named, failures with reasons, self-contained deterministic
HTML.  One test renders report.html in headless Chromium and looks at the first screen."""

import copy
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from analysis.load import load_run
from analysis.tests.common import SAMPLE, TempDirTest, cli, load_sample, write_run
from analysis.tests.fixtures import services_sweep, v2_sample


def _read(d, name="report.md"):
    with open(os.path.join(d, name), encoding="utf-8") as f:
        return f.read()


def _first_screen_order(html: str) -> dict:
    """Positions of the first figure, the verdict list and the first table in the HTML."""
    return {"figure": html.find("<figure"), "verdicts": html.find('<ul class="verdicts">'),
            "table": html.find("<table")}


class ReportFromSample(unittest.TestCase):
    """The stored schema-1 sample (3 repetitions, no system_state, no configuration)."""

    @classmethod
    def setUpClass(cls):
        cls._td = tempfile.TemporaryDirectory(prefix="pb-analysis-report-")
        cls.out = cls._td.name
        cls.proc = cli("report", SAMPLE, "--out", cls.out)
        cls.loaded = load_run(SAMPLE)
        cls.md = _read(cls.out)
        cls.html = _read(cls.out, "report.html")

    @classmethod
    def tearDownClass(cls):
        cls._td.cleanup()

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
        for title in ("Verdicts on three common claims", "How reproducible these ratios are",
                      "Repetitions flagged abnormal", "What this run shows", "The claims in detail",
                      "TPROXY's performance impact is minimal", "eBPF is highly efficient",
                      "eBPF needs less configuration", "Medians, intervals and ratios to baseline", "Plots",
                      "Skipped and failed", "How to read this"):
            self.assertIn(title, self.md)

    def test_three_repetitions_are_honest(self):
        """No 95% interval exists with 3 repetitions: the report says so and decides nothing."""
        self.assertIn("CI unavailable at 95% with n=3", self.md)
        self.assertIn("no 95% interval exists with n=3 repetitions (needs 6)", self.md)
        self.assertIn("not estimable from n=3 repetitions", self.md)
        self.assertNotIn("75%", self.md.split("## How to read this")[0])   # the old min-max level is gone
        verdicts = self.md.split("## Verdicts on three common claims", 1)[1].split("##", 1)[0]
        self.assertNotIn("**Supported", verdicts)
        self.assertNotIn("**Contradicted", verdicts)

    def test_v1_has_no_configuration_or_state(self):
        self.assertIn("records no configuration", self.md)
        self.assertIn("Not checked: this run records no `metrics.system_state`", self.md)

    def test_no_proof_key_guessing(self):
        """The old report looked for proof keys the harness never writes; they are gone."""
        import analysis.report as R
        self.assertFalse(hasattr(R, "CONFIG_KEYS"))

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

    def test_no_unsupported_speed_words_and_no_nan(self):
        for word in ("faster", "slower"):
            self.assertNotIn(word, self.md.lower().replace("\"", ""))
        self.assertNotRegex(self.md, r"\bnan\b|\bNaN\b|\binf\b")

    def test_deterministic(self):
        with tempfile.TemporaryDirectory() as out2:
            p = cli("report", SAMPLE, "--out", out2)
            self.assertEqual(p.returncode, 0, p.stderr)
            for name in ("report.md", "report.html"):
                with open(os.path.join(self.out, name), "rb") as a, open(os.path.join(out2, name), "rb") as b:
                    self.assertEqual(a.read(), b.read(), name)


class ReportV2(unittest.TestCase):
    """A schema-2 run with 6 repetitions (the real A/A pair stitched, schema-2 extras synthesized)."""

    @classmethod
    def setUpClass(cls):
        cls._td = tempfile.TemporaryDirectory(prefix="pb-analysis-report2-")
        cls.out = cls._td.name
        cls.doc = v2_sample()
        cls.proc = cli("report", write_run(cls.out, cls.doc))
        cls.md = _read(cls.out)
        cls.html = _read(cls.out, "report.html")

    @classmethod
    def tearDownClass(cls):
        cls._td.cleanup()

    def test_exit_0(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)

    def test_picture_and_verdicts_before_any_table(self):
        pos = _first_screen_order(self.html)
        self.assertGreater(pos["figure"], 0)
        self.assertIn('alt="Each path ÷ baseline, per workload"', self.html[pos["figure"]:pos["figure"] + 300])
        self.assertGreater(pos["verdicts"], pos["figure"])
        self.assertGreater(pos["table"], pos["verdicts"])
        h1 = self.html.find("<h1")
        self.assertLess(h1, pos["figure"])
        # nothing but the title and one line between the top of the page and the picture
        between = self.html[h1:pos["figure"]]
        self.assertEqual(between.count("<p"), 1, between)

    def test_three_one_sentence_verdicts(self):
        block = self.html[self.html.find('<ul class="verdicts">'):]
        block = block[:block.find("</ul>")]
        items = re.findall(r"<li>(.*?)</li>", block)
        self.assertEqual(len(items), 3)
        for it, claim in zip(items, ("TPROXY", "eBPF is highly efficient", "eBPF needs less configuration")):
            self.assertIn(claim, it)
            self.assertRegex(it, r"<b>(Supported|Supported in part|Contradicted|Mixed|Not decided|Neither|"
                                 r"Not supported, not contradicted|Could not be checked)</b>")

    def test_claims_use_traits_and_intervals(self):
        verdicts = self.md.split("## Verdicts on three common claims", 1)[1].split("\n## ", 1)[0]
        self.assertIn("÷ their `compare_against` `proxy-plain`", verdicts)   # the interception's own cost
        self.assertRegex(verdicts, r"\[\d\.\d\d–\d\.\d\d\]")                 # a 95% interval is quoted
        self.assertIn("objects", verdicts)                                   # claim 3 from configuration

    def test_reproducibility_per_workload(self):
        block = self.md.split("## How reproducible these ratios are", 1)[1].split("\n## ", 1)[0]
        wls = {r["workload"] for r in self.doc["results"] if r["status"] == "ok"}
        for w in wls:
            self.assertRegex(block, rf"\*\*{w}\*\*: on a rerun the ratios to `baseline` would typically move by ±\d")

    def test_flagged_repetitions_shown_with_reasons(self):
        block = self.md.split("## Repetitions flagged abnormal", 1)[1].split("\n## ", 1)[0]
        self.assertIn("slow CPU: speed probe", block)
        self.assertIn("kept in every number", block)
        self.assertIn("## With and without flagged repetitions", self.md)

    def test_configuration_effort_table(self):
        block = self.md.split('### "eBPF needs less configuration"', 1)[1].split("\n## ", 1)[0]
        for col in ("nft_rules", "iptables_rules", "bpf_programs", "bpf_maps", "routes", "policy_rules",
                    "sysctls", "commands", "syscalls", "setup ms", "teardown ms"):
            self.assertIn(col, block)
        self.assertNotIn("could not be checked", block.lower())

    def test_environment_virtualization_and_features(self):
        self.assertIn("### Virtualization", self.md)
        self.assertIn("### Kernel features", self.md)
        self.assertNotRegex(self.md, r"\bnan\b|\bNaN\b")

    def test_exclude_flagged_option(self):
        with tempfile.TemporaryDirectory() as out:
            p = cli("report", os.path.join(self.out, "run.json"), "--out", out, "--exclude-flagged")
            self.assertEqual(p.returncode, 0, p.stderr)
            md = _read(out)
            self.assertIn("numbers without flagged repetitions", md)
            self.assertIn("left out of every number", md)
            self.assertNotEqual(md.split("## What this run shows")[1], self.md.split("## What this run shows")[1])


class ScaleReport(TempDirTest):
    def test_crossover_and_tables(self):
        doc = services_sweep(v2_sample())
        write_run(self.tmp, doc)
        p = cli("report", self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        md = _read(self.tmp)
        block = md.split("### Where eBPF's advantage appears", 1)[1].split("\n## ", 1)[0]
        # The fixture's cost model puts tc-sk-assign behind tproxy-nft up to N=100 and ahead from N=1000.
        pair = block.split("**`tc-sk-assign` against `tproxy-nft`**", 1)[1].split("**`", 1)[0]
        self.assertIn("connect latency p50: crossover between services=100 and 1,000", pair)
        self.assertRegex(pair, r"\d\.\d\d× \[\d\.\d\d–\d\.\d\d\] at 1,000")
        self.assertIn("connections/s", pair)
        self.assertIn("CPU per connection", pair)
        self.assertIn("### Install time and update cost per path", md)
        self.assertTrue(os.path.getsize(os.path.join(self.tmp, "plots", "scale-tcp_crr-services.png")) > 5000)
        self.assertIn("plots/scale-tcp_crr-services.png", md)

    def test_no_crossover_found(self):
        """Without the synthetic per-service cost, eBPF is never significantly better at some N on."""
        doc = services_sweep(v2_sample(), services=(1, 10))
        for r in doc["results"]:
            if r.get("path_options", {}).get("services") and r["status"] == "ok":
                pass
        from analysis.load import check_document
        from analysis.scale import crossovers
        from analysis.summary import summarize
        from analysis.tests import fixtures as F
        saved = dict(F.SCALE_FLAT_NS), dict(F.SCALE_NS_PER_SERVICE)
        F.SCALE_FLAT_NS.clear()
        F.SCALE_NS_PER_SERVICE.clear()
        F.SCALE_FLAT_NS["tc-sk-assign"] = 20000.0      # far behind at every N
        try:
            doc = services_sweep(v2_sample(), services=(1, 10))
        finally:
            F.SCALE_FLAT_NS.clear(); F.SCALE_FLAT_NS.update(saved[0])
            F.SCALE_NS_PER_SERVICE.clear(); F.SCALE_NS_PER_SERVICE.update(saved[1])
        xs = [x for x in crossovers(summarize(check_document("x.json", doc)))
              if x.ebpf == "tc-sk-assign" and x.metric == "connect_latency_ns.p50"]
        self.assertTrue(xs)
        self.assertTrue(all("none found up to services=10 (the largest measured)" in x.text for x in xs))


class Environments(TempDirTest):
    def test_tcg_caveat_on_top(self):
        doc = load_sample()
        doc["results"] = [r for r in doc["results"] if r["workload"] == "tcp_rr"]
        doc["environment"]["virtualization"] = {"pathbench_guest": True, "accelerator": "tcg"}
        write_run(self.tmp, doc)
        p = cli("report", self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        html = _read(self.tmp, "report.html")
        warn = html.find("functional truth, not performance truth")
        self.assertGreater(warn, 0)
        self.assertLess(warn, _first_screen_order(html)["figure"])


def _subset(doc, workloads=("tcp_rr", "tcp_stream")):
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
        self.assertGreaterEqual(_read(self.tmp).count("**Could not be checked**"), 3)

    def test_no_reference_path(self):
        doc = load_sample()
        doc["results"] = [r for r in doc["results"] if r["path"] != "baseline" and r["workload"] == "tcp_rr"]
        write_run(self.tmp, doc)
        p = cli("report", self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("No overview picture", _read(self.tmp))

    def test_interrupted_run_is_flagged(self):
        doc = load_sample()
        doc["status"] = "interrupted"
        doc["status_reason"] = "SIGINT after 3 results"
        doc["results"] = doc["results"][:3]
        write_run(self.tmp, doc)
        p = cli("report", self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        md = _read(self.tmp)
        self.assertIn("this run is interrupted", md)
        self.assertIn("SIGINT after 3 results", md)

    def test_reference_rows_shown_with_ratio(self):
        doc = _subset(load_sample(), ("tcp_stream",))
        ref = next(r for r in doc["results"] if r["status"] == "ok" and r["workload"] == "tcp_stream")
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
        md = _read(self.tmp)
        self.assertIn("pathbench beside reference tools", md)
        self.assertIn("iperf3 3.12", md)
        self.assertIn("iperf3 -c 198.18.2.2 -t 1", md)
        self.assertRegex(md, r"\| 1\.00×")
        # The CPU per unit beside it: the same rows, so the same CPU, ratio 1.00×.
        self.assertRegex(md, r"CPU ns/byte \(= CPU s/GB\): 1\.00×")
        self.assertNotIn("upper bounds", md, "no proxy reference, no proxy-model note")

    def test_haproxy_in_place_of_our_proxy_notes_the_proxy_model(self):
        doc = _subset(load_sample(), ("tcp_crr",))
        own = [r for r in doc["results"] if r["status"] == "ok" and r["workload"] == "tcp_crr"]
        path = own[0]["path"]
        refs = []
        for r in own:
            if r["path"] != path:
                continue
            c = copy.deepcopy(r)
            c["metrics"]["cpu_ns_per_transaction"] = r["metrics"]["cpu_ns_per_transaction"] * 2
            c["reference"] = {"tool": "haproxy", "version": "2.6.12", "command": "haproxy -db -f cfg",
                              "config": "defaults\n  mode tcp\n"}
            refs.append(c)
        doc["results"] += refs
        for model, note in (("thread", True), ("process", False)):
            doc.setdefault("options", {})["proxy_model"] = model
            write_run(self.tmp, doc)
            p = cli("report", self.tmp)
            self.assertEqual(p.returncode, 0, p.stderr)
            md = _read(self.tmp)
            self.assertRegex(md, r"CPU µs/transaction: 0\.50×")  # half the CPU per connection of HAProxy
            self.assertEqual("upper bounds" in md, note, model)


class ClaimVerdicts(TempDirTest):
    """The claim-1 verdict follows the 95% intervals (6 repetitions): identical repetitions give a
    zero-width interval (supported), halving the rate contradicts, real noise leaves it undecided."""

    @classmethod
    def setUpClass(cls):
        doc = v2_sample()
        doc["results"] = [r for r in doc["results"] if r["workload"] == "tcp_rr"
                          and r["path"] in ("baseline", "proxy-plain", "tproxy-nft")]
        cls.base = doc

    def _doc(self, tproxy_rate: float, tproxy_cost: float, flatten: bool) -> dict:
        doc = copy.deepcopy(self.base)
        ref = next(r["metrics"] for r in doc["results"] if r["path"] == "baseline" and r["status"] == "ok")
        for r in doc["results"]:
            if r["status"] != "ok":
                continue
            if flatten:  # every repetition of every path equal to baseline's first one
                r["metrics"] = copy.deepcopy(ref)
            if r["path"] == "tproxy-nft":
                r["metrics"]["transactions_per_s"] *= tproxy_rate
                r["metrics"]["cpu_ns_per_transaction"] *= tproxy_cost
        return doc

    def _claim1(self, doc) -> str:
        from analysis.load import check_document
        from analysis.report import claim_tproxy
        from analysis.summary import summarize
        return claim_tproxy(summarize(check_document("x.json", doc))).line

    def test_supported_when_intervals_are_tight(self):
        self.assertIn("**Supported**", self._claim1(self._doc(1.0, 1.0, True)))

    def test_contradicted_when_rate_halves(self):
        text = self._claim1(self._doc(0.5, 2.0, True))
        self.assertIn("**Contradicted**", text)
        self.assertIn("÷ `proxy-plain`", text)

    def test_real_repetitions_are_not_called_equal(self):
        self.assertNotIn("**Supported**", self._claim1(self._doc(1.0, 1.0, False)))


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


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class LooksRightInABrowser(TempDirTest):
    """Render report.html in headless Chromium and check the first screen is not blank: a good part
    of it is drawn (the forest picture), in more than one colour."""

    def test_first_screen_not_blank(self):
        if not CHROMIUM:
            self.skipTest("chromium is not installed (apt-get install chromium): the rendered report was not looked at")
        doc = v2_sample()
        doc["results"] = [r for r in doc["results"] if r["workload"] in ("tcp_rr", "udp_rr", "tcp_crr")]
        write_run(self.tmp, doc)
        p = cli("report", self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        shot = os.path.join(self.tmp, "first-screen.png")
        profile = tempfile.mkdtemp(prefix="pb-chromium-", dir=self.tmp)
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1280,900",
               "file://" + os.path.join(self.tmp, "report.html")]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        except subprocess.TimeoutExpired:
            self.fail("chromium did not finish within 180 s")
        self.assertTrue(os.path.exists(shot), proc.stderr[-2000:])
        import matplotlib.image as mpimg
        import numpy as np
        img = mpimg.imread(shot)[..., :3]
        self.assertEqual(img.shape[:2], (900, 1280))
        ink = (img.mean(axis=2) < 0.85).mean()           # fraction of pixels that are not (near) white
        colours = len(np.unique((img[::4, ::4] * 15).round().reshape(-1, 3), axis=0))
        self.assertGreater(ink, 0.04, "first screen is (nearly) blank")
        self.assertGreater(colours, 20, "first screen has no picture in it")
        # the forest picture occupies the upper part of the screen
        upper = (img[100:700].mean(axis=2) < 0.85).mean()
        self.assertGreater(upper, 0.04)


if __name__ == "__main__":
    unittest.main()
