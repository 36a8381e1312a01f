"""Loader: the stored sample loads; broken, empty, truncated and newer-schema files give one-line
errors naming the file and exit 2 (no traceback); unknown fields are tolerated; upgrades chain."""

import copy
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
        doc = load_sample()
        cur = load.CURRENT_SCHEMA_VERSION
        doc["schema_version"] = cur - 1
        doc["results_v0"] = doc.pop("results")  # a made-up older layout

        def up(d):
            d = dict(d)
            d["results"] = d.pop("results_v0")
            d["schema_version"] = cur
            return d

        load.UPGRADERS[cur - 1] = up
        try:
            run = load_run(write_run(self.tmp, doc))
        finally:
            del load.UPGRADERS[cur - 1]
        self.assertEqual(run.upgraded_from, cur - 1)
        self.assertEqual(run.doc["schema_version"], cur)
        self.assertTrue(run.results)

    def test_error_is_input_error(self):
        with self.assertRaises(InputError) as cm:
            load_run(os.path.join(self.tmp, "missing.json"))
        self.assertNotIn("\n", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
