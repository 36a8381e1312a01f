# SPDX-License-Identifier: Apache-2.0
"""The report's API-traffic section (analysis/report_api.py) on synthetic runs of HTTP workloads behind an
L7 gateway (fixtures.http_gateway_run): present only with gateway results, ratios to the plain gateway and
to the L4 proxy paired by repetition, pathbench ÷ wrk paired by repetition and judged against the peers
target, the three API claims' verdicts, and repetitions that failed their proof or did not run left out."""

import copy
import os
import unittest

from analysis.doc import Doc, to_markdown
from analysis.load import check_document, load_run
from analysis.metrics import group_results
from analysis.report_api import (TITLE, ApiData, Cell, agreement_word, api_section, ebpf_pairs,
                                 interception_pairs)
from analysis.stats import Ratio
from analysis.summary import summarize
from analysis.tests.common import TempDirTest, write_run
from analysis.tests.fixtures import WRK_AGREEMENT, http_gateway_run, v2_sample

GW = "haproxy"


def _section(doc: dict, exclude_flagged: bool = False):
    run = check_document("x.json", doc)
    S = summarize(run, exclude_flagged)
    d = Doc()
    claims = api_section(d, run, S)
    return to_markdown(d, "/tmp"), claims, ApiData(S)


def _words(claims) -> list[str]:
    return [c.word for c in claims]


def _cell(path, wl="http_rr", gw=GW, options=""):
    return Cell(wl, "", path, gw, options)


def _result(doc, path, wl, rep, gateway=True, reference=False):
    for r in doc["results"]:
        if (r["path"], r["workload"], r.get("repetition")) == (path, wl, rep) and \
                bool(r["path_options"].get("gateway")) == gateway and ("reference" in r) == reference:
            return r
    raise KeyError((path, wl, rep))


class Presence(unittest.TestCase):
    def test_present_with_gateway_results(self):
        md, claims, _ = _section(http_gateway_run())
        self.assertTrue(f"## {TITLE}" in md, f"## {TITLE}")
        self.assertEqual(len(claims), 3)
        for part in ("What an interception costs behind the gateway", "What the L7 gateway costs over pathbench's L4 proxy",
                     "Agreement with the reference tool", "The API claims in detail"):
            self.assertIn(part, md)

    def test_absent_without_gateway_results(self):
        """A run without HTTP gateway results (the stored real one; the HTTP run with only the L4 proxy;
        HTTP workloads whose catalogue does not say application http) gets no section at all."""
        no_gw = http_gateway_run()
        no_gw["results"] = [r for r in no_gw["results"] if not r["path_options"].get("gateway")]
        not_http = http_gateway_run()
        for w in not_http["catalogue"]["workloads"]:
            w.pop("application", None)
        for doc in (v2_sample(), no_gw, not_http):
            md, claims, _ = _section(doc)
            self.assertEqual(claims, [])
            self.assertFalse(TITLE in md, TITLE)

    def test_gateway_and_l4_rows_are_separate_configurations(self):
        """A path option some results carry and others leave out (the gateway at its default) splits groups."""
        groups = group_results(http_gateway_run()["results"])
        nft = sorted(k.pvariant for k in groups if k.path == "tproxy-nft" and k.workload == "http_rr" and not k.reference)
        self.assertEqual(nft, ["", 'gateway="haproxy"'])
        self.assertTrue(all(len(v) == 6 for k, v in groups.items() if k.workload == "http_rr"))


class Ratios(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.md, cls.claims, cls.D = _section(http_gateway_run(noise=0.0))

    def test_interception_over_plain_gateway(self):
        """Plain gateway 10,000 requests/s × drift, tproxy-nft 9,000 × the same drift: 0.90 in every pair."""
        D = self.D
        pairs = dict(interception_pairs(D))
        plain = pairs[_cell("tproxy-nft")]
        self.assertEqual(plain, _cell("proxy-plain"))
        r = D.ratio(_cell("tproxy-nft"), plain, "transactions_per_s")
        self.assertAlmostEqual(r.value, 0.90, places=9)
        self.assertEqual((r.n, r.method), (6, "paired"))
        self.assertAlmostEqual(r.lo, 0.90, places=9)     # paired: the drift cancels, the interval is a point
        self.assertAlmostEqual(D.ratio(_cell("tproxy-nft"), plain, "cpu_ns_per_transaction").value, 1.10, places=9)
        self.assertAlmostEqual(D.ratio(_cell("tproxy-nft"), plain, "latency_ns.p99").value, 1 / 0.90, places=9)
        self.assertAlmostEqual(D.ratio(_cell("sk-lookup", "http_crr"), _cell("proxy-plain", "http_crr"),
                                       "transactions_per_s").value, 0.95, places=9)
        self.assertEqual(sorted(a.path for a, _ in pairs.items() if a.workload == "http_rr"),
                         ["sk-lookup", "tc-sk-assign", "tproxy-ipt", "tproxy-nft"])

    def test_table_cells(self):
        self.assertTrue("| `tproxy-nft` | tproxy | 0.90× [0.900–0.900] (worse) |" in self.md, "| `tproxy-nft` | tproxy | 0.90× [0.900–0.900] (worse) |")
        self.assertTrue("the plain gateway `proxy-plain` ran at 10,050" in self.md, "the plain gateway `proxy-plain` ran at 10,050")
        self.assertTrue("requests/s" in self.md, "requests/s")
        self.assertTrue("µs/request" in self.md, "µs/request")

    def test_gateway_over_l4_proxy(self):
        r = self.D.ratio(_cell("tproxy-ipt"), _cell("tproxy-ipt", gw=""), "transactions_per_s")
        self.assertAlmostEqual(r.value, 1 / 1.5, places=9)
        r = self.D.ratio(_cell("proxy-plain"), _cell("proxy-plain", gw=""), "cpu_ns_per_transaction")
        self.assertAlmostEqual(r.value, 1 / 0.6, places=9)
        self.assertTrue("| `tproxy-ipt` | tproxy | 8,844 / 13,266 | 0.67×" in self.md, "| `tproxy-ipt` | tproxy | 8,844 / 13,266 | 0.67×")

    def test_no_l4_rows_no_l4_table(self):
        md, _, _ = _section(http_gateway_run(l4=False))
        self.assertNotIn("What the L7 gateway costs over pathbench's L4 proxy", md)
        self.assertTrue("What an interception costs behind the gateway" in md, "What an interception costs behind the gateway")

    def test_too_few_repetitions_say_so(self):
        md, claims, _ = _section(http_gateway_run(reps=3))
        self.assertTrue("0.90× (no 95% CI)" in md, "0.90× (no 95% CI)")
        self.assertTrue("too few paired repetitions (n=3)" in md, "too few paired repetitions (n=3)")
        self.assertTrue("95% CI needs n ≥ 6" in md, "95% CI needs n ≥ 6")
        self.assertEqual(_words(claims)[2], "Not decided")


class Reference(unittest.TestCase):
    def test_paired_with_wrk_by_repetition(self):
        md, _, D = _section(http_gateway_run(noise=0.0))
        r = D.ratio(_cell("tc-sk-assign"), _cell("tc-sk-assign"), "transactions_per_s", "wrk")
        # Paired by repetition the ±3% drift between repetitions cancels: every pair is exactly 0.97.
        self.assertEqual((r.n, r.method), (6, "paired"))
        self.assertAlmostEqual(r.lo, WRK_AGREEMENT, places=9)
        self.assertAlmostEqual(r.hi, WRK_AGREEMENT, places=9)
        self.assertTrue("| `tc-sk-assign` | haproxy | http_rr | wrk | 0.97× [0.970–0.970] | 6 | within ±10% |" in md, "| `tc-sk-assign` | haproxy | http_rr | wrk | 0.97× [0.970–0.970] | 6 | within ±10% |")
        self.assertTrue("pathbench beside reference tools" in md, "pathbench beside reference tools")

    def test_outside_the_target(self):
        doc = http_gateway_run(noise=0.0)
        for r in doc["results"]:
            if r.get("reference") and r["path"] == "tproxy-nft":
                r["metrics"]["transactions_per_s"] *= 0.8
        md, _, _ = _section(doc)
        row = [line for line in md.splitlines() if line.startswith("| `tproxy-nft` | haproxy | http_rr | wrk |")]
        self.assertEqual(len(row), 1)
        self.assertTrue(row[0].endswith("| 6 | outside ±10% |") and "| 1.21× [1.21" in row[0], row[0])

    def test_agreement_words(self):
        self.assertEqual(agreement_word(Ratio(1.02, 0.99, 1.05, 0.97, 6, "paired")), "within ±10%")
        self.assertEqual(agreement_word(Ratio(1.30, 1.2, 1.4, 0.97, 6, "paired")), "outside ±10%")
        self.assertTrue(agreement_word(Ratio(1.08, 1.0, 1.15, 0.97, 6, "paired")).startswith("not decided"))
        self.assertEqual(agreement_word(Ratio(1.02, n=3, method="paired")),
                         "point estimate within ±10% (CI unavailable at 95% with n=3)")


class Claims(unittest.TestCase):
    def test_default_verdicts(self):
        md, claims, _ = _section(http_gateway_run())
        self.assertEqual(_words(claims), ["Supported", "Not measured in this run", "Supported"])
        self.assertTrue("TPROXY facilitates the distribution of API traffic" in md, "TPROXY facilitates the distribution of API traffic")
        self.assertTrue("no result ran with the eBPF API observer" in md, "no eBPF API observer")
        self.assertIn("`tproxy-nft` ÷ `proxy-plain` on http_rr (CPU per request): 1.10×", claims[0].sentence)

    def test_failed_proof_not_supported_and_left_out(self):
        doc = http_gateway_run(noise=0.0)
        r = _result(doc, "tproxy-nft", "http_rr", 2)
        r["proof"] = {"ok": False, "reason": "the gateway accepted 3 connections, the generator made 5: traffic bypassed it"}
        r["metrics"]["transactions_per_s"] *= 0.5      # would move the ratio if it were kept
        md, claims, D = _section(doc)
        self.assertEqual(claims[0].word, "Not supported")
        self.assertIn("traffic bypassed it", claims[0].sentence)
        ratio = D.ratio(_cell("tproxy-nft"), _cell("proxy-plain"), "transactions_per_s")
        self.assertEqual(ratio.n, 5)
        self.assertAlmostEqual(ratio.value, 0.90, places=9)
        self.assertTrue("`tproxy-nft` / http_rr rep 2" in md, "`tproxy-nft` / http_rr rep 2")      # said to be left out

    def test_proof_without_gateway_counters_not_decided(self):
        doc = http_gateway_run()
        _result(doc, "tproxy-ipt", "http_crr", 0)["proof"] = {"ok": True}
        _, claims, _ = _section(doc)
        self.assertEqual(claims[0].word, "Not decided")
        self.assertIn("1 of 24 repetitions", claims[0].sentence)

    def test_skipped_and_failed_rows_are_not_numbers(self):
        doc = http_gateway_run(noise=0.0)
        doc["results"].append({"path": "tproxy-nft", "workload": "http_rr", "repetition": 6, "status": "skipped",
                               "path_options": {"gateway": GW}, "reason": "HAProxy not installed"})
        doc["results"].append({"path": "sk-lookup", "workload": "http_rr", "repetition": 6, "status": "failed",
                               "path_options": {"gateway": GW}, "reason": "setup failed"})
        _, claims, D = _section(doc)
        r = D.ratio(_cell("tproxy-nft"), _cell("proxy-plain"), "transactions_per_s")
        self.assertEqual((r.n, round(r.value, 9)), (6, 0.9))
        self.assertEqual(claims[0].word, "Supported")     # a skipped repetition proves nothing either way
        self.assertEqual(D.ratio(_cell("sk-lookup"), _cell("proxy-plain"), "transactions_per_s").n, 6)

    def test_no_tproxy_behind_the_gateway(self):
        doc = http_gateway_run()
        doc["results"] = [r for r in doc["results"] if not (r["path"].startswith("tproxy") and r["path_options"].get("gateway"))]
        _, claims, _ = _section(doc)
        self.assertEqual(claims[0].word, "Could not be checked")
        self.assertEqual(claims[2].word, "Could not be checked")

    def test_ebpf_efficiency_verdicts(self):
        same = {"sk-lookup": (0.90, 1.10), "tc-sk-assign": (0.90, 1.10), "tproxy-ipt": (0.90, 1.10)}
        _, claims, D = _section(http_gateway_run(noise=0.0, factors=same))
        self.assertEqual(len(ebpf_pairs(D)), 2 * 2 * 2)
        self.assertEqual(claims[2].word, "Not supported, not contradicted")
        worse = {"sk-lookup": (0.80, 1.30), "tc-sk-assign": (0.82, 1.25)}
        _, claims, _ = _section(http_gateway_run(factors=worse))
        self.assertEqual(claims[2].word, "Contradicted")
        mixed = {"sk-lookup": (0.80, 1.30)}
        _, claims, _ = _section(http_gateway_run(factors=mixed))
        self.assertEqual(claims[2].word, "Mixed")

    def test_services_variants_kept_apart(self):
        """An interception with services=N is its own row, set against the plain gateway (which takes no services)."""
        doc = http_gateway_run(noise=0.0)
        extra = []
        for r in doc["results"]:
            if r["path"] == "tproxy-nft" and r["path_options"].get("gateway") and "reference" not in r \
                    and r["status"] == "ok":
                c = copy.deepcopy(r)
                c["path_options"]["services"] = 100
                c["metrics"]["transactions_per_s"] *= 0.5
                extra.append(c)
        doc["results"] += extra
        md, _, D = _section(doc)
        nft100 = _cell("tproxy-nft", options="services=100")
        self.assertEqual(dict(interception_pairs(D))[nft100], _cell("proxy-plain"))
        self.assertAlmostEqual(D.ratio(nft100, _cell("proxy-plain"), "transactions_per_s").value, 0.45, places=9)
        self.assertAlmostEqual(D.ratio(_cell("tproxy-nft"), _cell("proxy-plain"), "transactions_per_s").value, 0.90,
                               places=9)
        self.assertTrue("`tproxy-nft (services=100)`" in md, "`tproxy-nft (services=100)`")


class InTheReport(TempDirTest):
    def test_report_has_the_section_before_the_reference_tools(self):
        from analysis.report import build
        path = write_run(os.path.join(self.tmp, "run"), http_gateway_run(reps=6))
        md_path, _, _ = build(load_run(path), self.tmp)
        with open(md_path, encoding="utf-8") as f:
            md = f.read()
        self.assertTrue(f"## {TITLE}" in md, f"## {TITLE}")
        self.assertLess(md.index(TITLE), md.index("## pathbench beside reference tools"))
        self.assertTrue('| tproxy-nft (gateway="haproxy") | http_rr | wrk 4.1.0 |' in md, '| tproxy-nft (gateway="haproxy") | http_rr | wrk 4.1.0 |')


class Observation(unittest.TestCase):
    """--observe: the observation table (each observer ÷ none on the same path and gateway, with the
    observer's own cost per request) and the verdict on "eBPF can monitor API calls in real time"."""

    def test_table_has_every_observer_against_none(self):
        from analysis.tests.fixtures import http_observe_run
        md, claims, D = _section(http_observe_run())
        self.assertIn("What observing the API calls costs", md)
        from analysis.report_api import observation_rows
        rows = observation_rows(D)
        seen = {(r.a.path, r.a.workload, r.a.observe) for r in rows}
        for path in ("proxy-plain", "tproxy-nft"):
            for obs in ("ebpf-empty", "ebpf-http", "gateway-log"):
                self.assertIn((path, "http_rr", obs), seen)
        self.assertIn(("baseline", "http_rr", "ebpf-http"), seen)
        self.assertNotIn(("baseline", "http_rr", "gateway-log"), seen, "no gateway, no gateway log")
        for r in rows:
            self.assertEqual(r.b.observe, "")
            self.assertEqual((r.a.path, r.a.gateway, r.a.workload), (r.b.path, r.b.gateway, r.b.workload))
            self.assertEqual(r.proved, "6/6")
        by = {(r.a.path, r.a.workload, r.a.observe): r for r in rows}
        # The fixture's observer factors come back as paired ratios: requests/s 0.95 with the gateway log.
        log = by[("proxy-plain", "http_rr", "gateway-log")]
        self.assertAlmostEqual(log.comps[0].r.value, 0.95, delta=0.01)
        # Own costs: BPF ns per request as recorded; the log's = gateway CPU with − without, paired.
        self.assertAlmostEqual(by[("tproxy-nft", "http_rr", "ebpf-http")].own.median, 1202.5, delta=1)
        self.assertAlmostEqual(log.own.median, 3025.0, delta=1)
        # The empty hook: ns per run x the parsing observer's runs per request (2.0).
        self.assertAlmostEqual(by[("proxy-plain", "http_rr", "ebpf-empty")].own.median, 2 * 72.5, delta=0.5)
        # Observed rows stay out of the interception and gateway sections.
        for a, b in interception_pairs(D):
            self.assertEqual((a.observe, b.observe), ("", ""))

    def test_ebpf_monitors_supported_when_every_count_matches(self):
        from analysis.tests.fixtures import http_observe_run
        _, claims, _ = _section(http_observe_run())
        cl = claims[1]
        self.assertEqual(cl.word, "Supported", cl.sentence)
        self.assertIn("counted every request under its route", cl.sentence)
        self.assertIn("ns (median over", cl.sentence)
        self.assertIn("the gateway's own log costs the gateway", cl.sentence)

    def test_ebpf_monitors_not_supported_when_one_count_missed(self):
        from analysis.tests.fixtures import http_observe_run
        md, claims, D = _section(http_observe_run(fail=("tproxy-nft", "ebpf-http", 2)))
        self.assertEqual(claims[1].word, "Not supported", claims[1].sentence)
        self.assertIn("repetition 2", claims[1].sentence)
        from analysis.report_api import observation_rows
        row = [r for r in observation_rows(D) if (r.a.path, r.a.workload, r.a.observe) == ("tproxy-nft", "http_rr", "ebpf-http")]
        self.assertEqual(row[0].proved, "5/5", "the failed repetition is not a usable one")

    def test_not_measured_without_observer(self):
        _, claims, _ = _section(http_gateway_run())
        self.assertEqual(claims[1].word, "Not measured in this run")
