# SPDX-License-Identifier: Apache-2.0
"""Loader: the stored sample loads; broken, empty, truncated and newer-schema files give one-line
errors naming the file and exit 2 (no traceback); unknown fields are tolerated; upgrades chain."""

import copy
import json
import os
import unittest

from analysis import load
from analysis.load import InputError, load_run
from analysis.tests.common import SAMPLE, TempDirTest, cli, load_sample, sample_bytes, write_run


class SampleLoads(unittest.TestCase):
    def test_sample_validates(self):
        run = load_run(SAMPLE)
        self.assertEqual(run.doc["schema_version"], load.CURRENT_SCHEMA_VERSION)
        self.assertTrue(run.results, "sample has no results")
        self.assertTrue(run.kernel and run.kernel != "unknown")

    def test_validate_cli_exit_0(self):
        p = cli("validate", SAMPLE)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("ok (schema_version", p.stdout)

    def test_directory_argument(self):
        import tempfile
        for name in ("run.json", "run.json.gz"):
            with tempfile.TemporaryDirectory() as d:
                data = sample_bytes()
                if name.endswith(".gz"):
                    import gzip
                    data = gzip.compress(data)
                with open(os.path.join(d, name), "wb") as f:
                    f.write(data)
                self.assertEqual(load_run(d).run_id, load_run(SAMPLE).run_id)
                self.assertEqual(cli("validate", d).returncode, 0)


class BadFiles(TempDirTest):
    def _write_bytes(self, name, data: bytes) -> str:
        p = os.path.join(self.tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def assert_one_line_error(self, path, *needles):
        p = cli("validate", path)
        self.assertEqual(p.returncode, 2, f"stdout={p.stdout!r} stderr={p.stderr!r}")
        err = p.stderr.strip()
        self.assertNotIn("Traceback", p.stderr)
        self.assertEqual(len(err.splitlines()), 1, f"expected one line, got: {err!r}")
        self.assertIn(path, err)
        for n in needles:
            self.assertIn(n, err)
        return err

    def test_empty(self):
        self.assert_one_line_error(self._write_bytes("empty.json", b""), "empty file")

    def test_whitespace_only(self):
        self.assert_one_line_error(self._write_bytes("ws.json", b"  \n\n"), "empty file")

    def test_truncated(self):
        raw = sample_bytes()
        for cut in (len(raw) // 2, len(raw) - 5, 10):
            path = self._write_bytes(f"trunc{cut}.json", raw[:cut])
            self.assert_one_line_error(path, "truncated")

    def test_truncated_gzip(self):
        import gzip
        gz = gzip.compress(sample_bytes())
        path = self._write_bytes("trunc.json.gz", gz[: len(gz) // 2])
        self.assert_one_line_error(path, "truncated gzip")
        path = self._write_bytes("bad.json.gz", b"\x1f\x8b" + b"not gzip at all")
        self.assert_one_line_error(path, "gzip")

    def test_gzip_and_plain_agree(self):
        import gzip
        plain = self._write_bytes("run.json", sample_bytes())
        gz = self._write_bytes("run2.json.gz", gzip.compress(sample_bytes()))
        self.assertEqual(load_run(plain).doc, load_run(gz).doc)

    def test_malformed(self):
        self.assert_one_line_error(self._write_bytes("bad.json", b'{"schema_version": 1,, "results": []}'),
                                   "malformed JSON", "line 1")

    def test_not_utf8(self):
        self.assert_one_line_error(self._write_bytes("bin.json", b"\xff\xfe{}"), "UTF-8")

    def test_nan_rejected(self):
        self.assert_one_line_error(self._write_bytes("nan.json", b'{"schema_version": 1, "results": [], "x": NaN}'),
                                   "NaN")

    def test_top_level_array(self):
        self.assert_one_line_error(self._write_bytes("arr.json", b"[1, 2]"), "expected a JSON object")

    def test_no_schema_version(self):
        self.assert_one_line_error(write_run(self.tmp, {"results": []}, "nov.json"), "no schema_version")

    def test_newer_schema(self):
        doc = load_sample()
        doc["schema_version"] = load.CURRENT_SCHEMA_VERSION + 1
        err = self.assert_one_line_error(write_run(self.tmp, doc, "new.json"), "newer")
        self.assertIn(str(load.CURRENT_SCHEMA_VERSION + 1), err)

    def test_older_schema_without_upgrader(self):
        doc = {"schema_version": 0, "results": []}
        self.assert_one_line_error(write_run(self.tmp, doc, "old.json"), "older")

    def test_missing_file_and_dir_without_run_json(self):
        self.assert_one_line_error(os.path.join(self.tmp, "nope.json"), "no such file")
        p = cli("validate", self.tmp)
        self.assertEqual(p.returncode, 2)
        self.assertIn("no run.json", p.stderr)

    def test_bad_result_fields(self):
        base = load_sample()
        cases = [
            ("results", {"x": 1}, "results: expected an array"),
            ("status", "maybe", "results[0].status"),
            ("metrics", None, "results[0].metrics: missing"),
        ]
        for what, val, needle in cases:
            doc = copy.deepcopy(base)
            if what == "results":
                doc["results"] = val
            else:
                first_ok = next(r for r in doc["results"] if r["status"] == "ok")
                doc["results"].remove(first_ok)
                doc["results"].insert(0, first_ok)
                if val is None:
                    del first_ok[what]
                else:
                    first_ok[what] = val
            self.assert_one_line_error(write_run(self.tmp, doc, f"bad-{what}.json"), needle)

    def test_bad_histogram(self):
        doc = load_sample()
        r = next(r for r in doc["results"] if r["status"] == "ok" and "histogram" in r.get("metrics", {}))
        doc["results"] = [r]
        r["metrics"]["histogram"]["buckets"] = list(reversed(r["metrics"]["histogram"]["buckets"]))
        if len(r["metrics"]["histogram"]["buckets"]) > 1:
            self.assert_one_line_error(write_run(self.tmp, doc, "h1.json"), "ascending")
        r["metrics"]["histogram"]["buckets"] = [[1, 2]]
        self.assert_one_line_error(write_run(self.tmp, doc, "h2.json"), "lower_ns, width_ns, count")

    def test_negative_metric(self):
        doc = load_sample()
        r = next(r for r in doc["results"] if r["status"] == "ok")
        doc["results"] = [r]
        key = next(k for k in ("throughput_bps", "transactions_per_s", "packets_per_s") if k in r["metrics"])
        r["metrics"][key] = -1
        self.assert_one_line_error(write_run(self.tmp, doc, "neg.json"), key)


class Tolerance(TempDirTest):
    def test_unknown_fields_ignored(self):
        doc = load_sample()
        doc["future_top_level"] = {"anything": [1, 2, 3]}
        doc["environment"]["future_env"] = "x"
        for r in doc["results"]:
            r["future_field"] = True
            if isinstance(r.get("metrics"), dict):
                r["metrics"]["future_metric_per_s"] = 1.5
        run = load_run(write_run(self.tmp, doc))
        self.assertEqual(len(run.results), len(doc["results"]))

    def test_upgrade_chain(self):
        """A made-up schema 0 upgrades through a temporary UPGRADERS[0] and then the real 1 -> 2."""
        doc = load_sample()
        doc["schema_version"] = 0
        doc["results_v0"] = doc.pop("results")  # a made-up older layout

        def up(d):
            d = dict(d)
            d["results"] = d.pop("results_v0")
            d["schema_version"] = 1
            return d

        saved = dict(load.UPGRADERS)
        load.UPGRADERS[0] = up
        try:
            run = load_run(write_run(self.tmp, doc))
        finally:
            load.UPGRADERS.clear()
            load.UPGRADERS.update(saved)
        self.assertEqual(run.upgraded_from, 0)
        self.assertEqual(run.doc["schema_version"], load.CURRENT_SCHEMA_VERSION)
        self.assertTrue(run.results)
        self.assertIn("catalogue", run.doc)

    def test_error_is_input_error(self):
        with self.assertRaises(InputError) as cm:
            load_run(os.path.join(self.tmp, "missing.json"))
        self.assertNotIn("\n", str(cm.exception))


if __name__ == "__main__":
    unittest.main()


class SchemaTwo(TempDirTest):
    """Schema 1 is upgraded (catalogue from the one table of v1 names); schema 2 loads as written;
    a newer schema is refused."""

    def test_v1_upgrade_synthesizes_catalogue(self):
        run = load_run(SAMPLE)
        self.assertEqual(run.upgraded_from, 1)
        names = {p["name"] for p in run.doc["catalogue"]["paths"]}
        for r in run.results:
            self.assertIn(r["path"], names)
            self.assertEqual(r["path_options"], {})
            self.assertIsInstance(r["instance"], int)
        inst = run.doc["path_instances"]
        self.assertEqual(len(inst), len({(r["path"], r.get("repetition", 0)) for r in run.results}))
        cat = run.catalogue
        self.assertEqual(cat.reference_path, next(p["name"] for p in load.V1_CATALOGUE["paths"]
                                                   if p["kind"] == "kernel-routed"))
        for w in {r["workload"] for r in run.results}:
            self.assertIn(cat.workload(w).primary_metric, ("throughput_bps", "transactions_per_s", "packets_per_s"))

    def test_upgrade_does_not_modify_the_input(self):
        doc = load_sample()
        before = json.dumps(doc, sort_keys=True)
        load.check_document("x.json", doc)
        self.assertEqual(json.dumps(doc, sort_keys=True), before)

    def test_v1_diagnostic_state_renamed(self):
        """Pre-release system_state names of the schema-1 diagnostic runs read as schema 2's."""
        from analysis.tests.fixtures import DATA
        run = load_run(os.path.join(DATA, "aa-suite-1.json.gz"))
        s = next(r for r in run.results if r["status"] == "ok")["metrics"]["system_state"]
        self.assertEqual(set(s["cpu_speed_ns_per_mop"]), {"before", "after"})
        self.assertEqual(s["workload_cpus"], [0])
        self.assertIn("other_cpus_busy_ns", s)
        tcp = next(r for r in run.results if r["status"] == "ok" and "tcp_info" in r["metrics"]["system_state"])
        self.assertEqual(tcp["metrics"]["system_state"]["tcp_cc"], tcp["metrics"]["system_state"]["tcp_info"]["cc"])

    def test_v2_loads_natively(self):
        from analysis.tests.fixtures import v2_sample
        doc = v2_sample()
        run = load_run(write_run(self.tmp, doc))
        self.assertIsNone(run.upgraded_from)
        self.assertEqual(run.doc["catalogue"], doc["catalogue"])
        self.assertEqual(cli("validate", os.path.join(self.tmp, "run.json")).returncode, 0)

    def test_v2_without_catalogue_refused(self):
        from analysis.tests.fixtures import v2_sample
        doc = v2_sample()
        del doc["catalogue"]
        p = cli("validate", write_run(self.tmp, doc))
        self.assertEqual(p.returncode, 2)
        self.assertIn("catalogue", p.stderr)

    def test_v2_bad_shapes(self):
        from analysis.tests.fixtures import v2_sample
        base = v2_sample()
        for mutate, needle in ((lambda d: d["results"][0].__setitem__("path_options", [1]), "path_options"),
                               (lambda d: d["catalogue"]["paths"].append({"kind": "x"}), "catalogue.paths"),
                               (lambda d: d["environment"].__setitem__("virtualization", "kvm"), "virtualization"),
                               (lambda d: d["path_instances"].__setitem__(0, 3), "path_instances[0]")):
            doc = copy.deepcopy(base)
            mutate(doc)
            with self.assertRaises(InputError) as cm:
                load.check_document("bad.json", doc)
            self.assertIn(needle, str(cm.exception))

    def test_schema_3_refused(self):
        doc = load_sample()
        doc["schema_version"] = 3
        p = cli("validate", write_run(self.tmp, doc))
        self.assertEqual(p.returncode, 2)
        self.assertIn("newer", p.stderr)
