# SPDX-License-Identifier: Apache-2.0
"""CLI plumbing: help, usage errors, the shell wrapper, trend, and exit 3 on a missing module."""

import os
import subprocess
import unittest

from analysis.tests.common import PYTHON, REPO, SAMPLE, TempDirTest, cli, load_sample, scaled, write_run

WRAPPER = os.path.join(REPO, "analysis", "pathbench-analysis")


class Cli(TempDirTest):
    def test_help(self):
        p = cli("--help")
        self.assertEqual(p.returncode, 0)
        for verb in ("report", "compare", "trend", "kernels", "power", "validate"):
            self.assertIn(verb, p.stdout)

    def test_usage_errors(self):
        self.assertEqual(cli().returncode, 2)
        self.assertEqual(cli("frobnicate").returncode, 2)

    def test_wrapper_from_elsewhere(self):
        self.assertTrue(os.access(WRAPPER, os.X_OK))
        write_run(os.path.join(self.tmp, "r"), load_sample())
        p = subprocess.run([WRAPPER, "validate", "r"], cwd=self.tmp, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = subprocess.run([WRAPPER, "validate", "nonexistent.json"], cwd=self.tmp, capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)

    def test_missing_module_exit_3(self):
        for mod, argv in (("matplotlib", ["report", SAMPLE, "--out", self.tmp]),
                          ("numpy", ["trend", SAMPLE, "--out", self.tmp]),
                          ("matplotlib", ["kernels", SAMPLE, "--out", self.tmp])):
            code = ("import sys, runpy; sys.modules[%r] = None; sys.argv = ['analysis'] + %r; "
                    "runpy.run_module('analysis', run_name='__main__', alter_sys=True)" % (mod, argv))
            p = subprocess.run([PYTHON, "-c", code], cwd=REPO, capture_output=True, text=True)
            self.assertEqual(p.returncode, 3, p.stderr)
            lines = p.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, p.stderr)
            self.assertIn(mod, lines[0])
            self.assertIn("apt-get install python3-matplotlib python3-numpy python3-scipy", lines[0])

    def test_compare_needs_no_third_party_module(self):
        """compare's statistics are exact and written out: a CI gate runs it with the bare interpreter."""
        code = ("import sys, runpy; [sys.modules.__setitem__(m, None) for m in ('scipy', 'numpy', 'matplotlib')]; "
                "sys.argv = ['analysis', 'compare', %r, %r]; runpy.run_module('analysis', run_name='__main__', "
                "alter_sys=True)" % (SAMPLE, SAMPLE))
        p = subprocess.run([PYTHON, "-c", code], cwd=REPO, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("RESULT:", p.stdout)

    def test_validate_needs_no_third_party_module(self):
        code = ("import sys, runpy; [sys.modules.__setitem__(m, None) for m in ('scipy', 'numpy', 'matplotlib')]; "
                "sys.argv = ['analysis', 'validate', %r]; runpy.run_module('analysis', run_name='__main__', alter_sys=True)"
                % SAMPLE)
        p = subprocess.run([PYTHON, "-c", code], cwd=REPO, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)


class Trend(TempDirTest):
    def test_trend_orders_by_kernel(self):
        doc = load_sample()
        k = doc["environment"]["kernel_release"]
        a = write_run(os.path.join(self.tmp, "new"), scaled(doc, 0.9, 1.1, "zz-new", "99.1.0"))
        b = write_run(os.path.join(self.tmp, "old"), scaled(doc, 1.0, 1.0, "aa-old", "1.2.3"))
        c = write_run(os.path.join(self.tmp, "cur"), doc)
        out = os.path.join(self.tmp, "trend")
        p = cli("trend", a, c, b, "--out", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        header = p.stdout.splitlines()[0]
        self.assertLess(header.index("1.2.3"), header.index(k))
        self.assertLess(header.index(k), header.index("99.1.0"))
        for name in ("trend.png", "trend.svg", "trend.md"):
            self.assertTrue(os.path.getsize(os.path.join(out, name)) > 0, name)
        paths = {r["path"] for r in doc["results"] if r["status"] == "ok"}
        for pth in paths:
            self.assertIn(pth, p.stdout)

    def test_kernel_natural_order(self):
        from analysis.trend import kernel_key
        ks = ["6.12.1", "6.1.0-13-amd64", "6.6.9", "5.15.0", "6.18.44"]
        self.assertEqual(sorted(ks, key=kernel_key), ["5.15.0", "6.1.0-13-amd64", "6.6.9", "6.12.1", "6.18.44"])


if __name__ == "__main__":
    unittest.main()
