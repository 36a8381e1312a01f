# SPDX-License-Identifier: Apache-2.0
"""`kernels`: runs from several kernels side by side, with what each kernel lacks (skipped paths and
their reasons, features, attach modes) and the TCG caveat; `trend` orders by kernel."""

import copy
import os
import unittest

from analysis.tests.common import TempDirTest, cli, write_run
from analysis.tests.fixtures import v2_sample


def _runs():
    new = v2_sample()
    new["results"] = [r for r in new["results"] if r["workload"] in ("tcp_rr", "udp_rr")]
    old = copy.deepcopy(new)
    old["run_id"] = "oldk"
    old["started_utc"] = "2026-12-02T00:00:00Z"
    old["environment"]["kernel_release"] = "6.1.0-30-amd64"
    old["environment"]["virtualization"] = {"pathbench_guest": True, "hypervisor": None, "accelerator": "tcg",
                                            "vcpus": 2, "memory_mib": 2048, "qemu_version": "7.2.19",
                                            "guest_kernel": "6.1.0-30-amd64", "host_kernel": "6.18.44"}
    old["environment"]["features"] = {"tcx": {"available": False, "reason": "needs Linux 6.6"},
                                      "xdp_live_frames": {"available": True}}
    forwarder = next(p["name"] for p in old["catalogue"]["paths"] if p["kind"] == "bpf-forwarded")
    skipped = next(p["name"] for p in old["catalogue"]["paths"] if p["technology"] == "ebpf" and p["kind"] == "intercepted")
    for r in old["results"]:
        if r["path"] == skipped:
            r["status"], r["reason"] = "skipped", "test: BPF_PROG_TYPE_SK_LOOKUP unsupported by this kernel"
            r.pop("metrics", None)
        if r["path"] == forwarder and isinstance(r.get("proof"), dict):
            r["proof"]["attach_mode"] = "clsact"
    for r in new["results"]:
        if r["path"] == forwarder and isinstance(r.get("proof"), dict):
            r["proof"]["attach_mode"] = "tcx"
    return new, old, forwarder, skipped


class Kernels(TempDirTest):
    def test_cross_kernel_report(self):
        new, old, forwarder, skipped = _runs()
        a = write_run(os.path.join(self.tmp, "new"), new)
        b = write_run(os.path.join(self.tmp, "old"), old)
        out = os.path.join(self.tmp, "k")
        p = cli("kernels", a, b, "--out", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("functional truth", p.stdout)
        with open(os.path.join(out, "kernels.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertLess(md.index("Linux 6.1.0-30-amd64, tcg (oldk)"), md.index(f"Linux {new['environment']['kernel_release']} ({new['run_id']})"))
        self.assertIn("functional truth, not performance truth", md)
        self.assertIn("BPF_PROG_TYPE_SK_LOOKUP unsupported", md)
        self.assertIn("no: needs Linux 6.6", md)
        lack = md.split("## What each kernel lacks", 1)[1]
        self.assertRegex(lack, rf"`{forwarder}` \| (clsact \| tcx|tcx \| clsact)")
        self.assertIn(f"`{skipped}`", lack)
        self.assertRegex(md, r"\d[\d,]* \[[\d,]+–[\d,]+\] \(\d\.\d\d× \[")      # metric, 95% CI, paired ratio
        self.assertTrue(os.path.getsize(os.path.join(out, "plots", "kernels-ratios.png")) > 5000)
        with open(os.path.join(out, "kernels.html"), encoding="utf-8") as f:
            self.assertIn("data:image/png;base64,", f.read())

    def test_trend_by_kernel_with_accelerator(self):
        new, old, _, _ = _runs()
        a = write_run(os.path.join(self.tmp, "new"), new)
        b = write_run(os.path.join(self.tmp, "old"), old)
        p = cli("trend", a, b, "--out", os.path.join(self.tmp, "t"))
        self.assertEqual(p.returncode, 0, p.stderr)
        header = p.stdout.splitlines()[0]
        self.assertLess(header.index("6.1.0-30-amd64 (tcg)"), header.index(new["environment"]["kernel_release"]))
        self.assertIn("warning: the runs come from different environments", p.stdout)
        p = cli("trend", a, b, "--out", os.path.join(self.tmp, "t2"), "--axis", "time")
        self.assertEqual(p.returncode, 0, p.stderr)
        header = p.stdout.splitlines()[0]
        self.assertLess(header.index(new["environment"]["kernel_release"]), header.index("6.1.0-30-amd64"))


if __name__ == "__main__":
    unittest.main()
