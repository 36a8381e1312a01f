# SPDX-License-Identifier: Apache-2.0
"""Command line: /usr/bin/python3 -m analysis {report,compare,trend,kernels,power,validate} ...
(run from the repo root)

Exit codes: 0 ok, 1 regression found / failed check, 2 bad usage or bad input, 3 missing module,
77 compare refused performance verdicts across environments.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import EXIT_ENV, EXIT_OK, EXIT_USAGE

PROG = "pathbench-analysis"
APT_HINT = "apt-get install python3-matplotlib python3-numpy python3-scipy"

# Which third-party modules each verb needs.  validate, compare and power need none (their statistics
# are exact and written out in stats.py), so C++ tests and CI gates can always use them.
NEEDS = {
    "report": ("matplotlib", "numpy"),
    "compare": (),
    "trend": ("matplotlib", "numpy"),
    "kernels": ("matplotlib", "numpy"),
    "power": (),
    "validate": (),
}


def check_modules(verb: str) -> None:
    for mod in NEEDS.get(verb, ()):
        try:
            importlib.import_module(mod)
        except ImportError:
            hint = "" if sys.executable == "/usr/bin/python3" else " and run /usr/bin/python3 -m analysis"
            print(f"{PROG}: error: Python module '{mod}' is missing for {sys.executable}; "
                  f"install it with: {APT_HINT}{hint}", file=sys.stderr)
            sys.exit(EXIT_ENV)


def percentage(text: str) -> float:
    """A percentage target: a number > 0 (argparse turns the ValueError into "invalid percentage value", exit 2)."""
    v = float(text)
    if not (0 < v < 1e6):
        raise ValueError(text)
    return v


def rate(text: str) -> float:
    """A rate strictly between 0 and 1 (--fdr; argparse turns the ValueError into "invalid rate value", exit 2)."""
    v = float(text)
    if not (0 < v < 1):
        raise ValueError(text)
    return v


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, like the harness's (argparse prints the whole usage first)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (--help for usage)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Analyse pathbench results (run.json): plots and report, compare two runs, trend "
                    "over runs, validate a file. RUN is a run directory or a run.json path.",
        epilog="Exit codes: 0 ok, 1 regression found, 2 bad usage or bad input file, 3 missing Python module, "
               "77 compare refused performance verdicts across environments.")
    sub = p.add_subparsers(dest="verb", metavar="VERB")
    sub.required = True

    r = sub.add_parser("report", help="write report.md, report.html and plots/ for one run",
                       description="Write report.md, a self-contained report.html and plots/*.png|svg "
                                   "into the run directory (or --out DIR).")
    r.add_argument("run", metavar="RUN")
    r.add_argument("--out", metavar="DIR", help="output directory (default: the run's directory)")
    r.add_argument("--exclude-flagged", action="store_true",
                   help="leave repetitions flagged abnormal (steal, foreign load, slow CPU, packet batching, "
                        "congestion control) out of every number; by default they are kept and shown")
    r.add_argument("--native", metavar="RUN",
                   help="cost-mode runs: a time-based run of the same paths to set the instruction ratios beside "
                        "(section \"Instructions beside time\")")

    from .compare import DEFAULT_FDR, DEFAULT_STREAM_THRESHOLD_PCT, DEFAULT_TAIL_THRESHOLD_PCT, DEFAULT_THRESHOLD_PCT

    def compare_options(c):
        c.add_argument("--threshold-pct", type=float, default=DEFAULT_THRESHOLD_PCT, metavar="PCT",
                       help=f"smallest relative change that counts as a regression (default {DEFAULT_THRESHOLD_PCT:g}, "
                            f"from the A/A movement measured on the development VM; see analysis/README.md)")
        c.add_argument("--tail-threshold-pct", type=float, default=DEFAULT_TAIL_THRESHOLD_PCT, metavar="PCT",
                       help=f"the same for latency p99.9 (default {DEFAULT_TAIL_THRESHOLD_PCT:g})")
        c.add_argument("--stream-threshold-pct", type=float, default=DEFAULT_STREAM_THRESHOLD_PCT, metavar="PCT",
                       help=f"the same for stream workloads, which move more between runs (default "
                            f"{DEFAULT_STREAM_THRESHOLD_PCT:g})")
        c.add_argument("--gate", default="rate,cpu,cost", metavar="KINDS",
                       help="which metric kinds can fail the gate: rate, cpu, cost (instructions per unit, cost "
                            "mode), latency (default rate,cpu,cost; latency percentiles move with the host on shared "
                            "VMs)")
        c.add_argument("--fdr", type=rate, default=DEFAULT_FDR, metavar="Q",
                       help=f"false discovery rate over all gated rows of the compare (Benjamini-Hochberg; default "
                            f"{DEFAULT_FDR:g}): a row is flagged only if significant among them all, so an A/A pair "
                            f"flags anything in at most this share of pairs")
        c.add_argument("--per-row", action="store_true",
                       help="judge every row on its own 95%% interval, with no control over the family (an A/A default "
                            "suite then flags a few rows by chance)")
        c.add_argument("--no-speed-adjust", action="store_true",
                       help="compare raw numbers, not per cycle of the machine's measured CPU speed")
        c.add_argument("--exclude-flagged", action="store_true",
                       help="leave repetitions flagged abnormal out of both runs")

    c = sub.add_parser("compare", help="compare run B against run A and flag regressions",
                       description="Compare B (new, e.g. new kernel) against A (old), configuration by configuration "
                                   "(path, workload, reference tool, path and workload options). Per metric: "
                                   "Hodges-Lehmann relative change over the two runs' repetitions with its "
                                   "distribution-free 95%% interval. A regression is an interval entirely on the bad "
                                   "side and a change beyond --threshold-pct. Runs from different accelerators, or a "
                                   "VM guest against a non-guest, get no performance verdict (exit 77) unless "
                                   "--allow-cross-environment.",
                       epilog="Exit: 0 no regression, 1 regression (or a configuration ok in A failed in B), "
                              "2 bad input, 77 performance verdicts refused (different environments).")
    c.add_argument("a", metavar="A", help="the reference run (before)")
    c.add_argument("b", metavar="B", help="the run under test (after)")
    compare_options(c)
    c.add_argument("--allow-cross-environment", action="store_true",
                   help="compare performance even across accelerators (kvm/tcg) or guest vs host")
    c.add_argument("--json", metavar="FILE", help="also write the comparison as JSON")
    c.add_argument("--markdown", metavar="FILE", help="also write the comparison as a Markdown table")
    c.add_argument("--all", action="store_true", help="print every row, not only changes and problems")

    pw = sub.add_parser("power", help="detection power: which configurations compare flags for an injected cost",
                        description="A and A' are an A/A pair (no injected cost), B is A's configuration with "
                                    "options.inject_cost_ns_per_packet > 0. Prints, per configuration and metric, "
                                    "whether compare flags A vs A' (a false positive) and A vs B (a detection).")
    pw.add_argument("a", metavar="A")
    pw.add_argument("a_prime", metavar="A_PRIME")
    pw.add_argument("b", metavar="B")
    compare_options(pw)
    pw.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    pw.add_argument("--all", action="store_true", help="print every metric, not only primary metrics and flags")

    t = sub.add_parser("trend", help="primary metric per path across several runs (e.g. one per kernel)",
                       description="One line per path across runs for each workload's primary metric: trend.png, "
                                   "trend.svg and trend.md in --out, and a table on stdout. Runs are placed on an "
                                   "axis: kernel release (default; natural version order, then start time) or start "
                                   "time.")
    t.add_argument("runs", metavar="RUN", nargs="+")
    t.add_argument("--out", metavar="DIR", default=".", help="output directory (default: .)")
    t.add_argument("--axis", choices=("kernel", "time"), default="kernel",
                   help="order and label runs by kernel release (default) or by start time")

    k = sub.add_parser("kernels", help="cross-kernel report: metric per kernel, and what each kernel lacks",
                       description="From runs on several kernels (one or more runs each), write kernels.md and a "
                                   "self-contained kernels.html into --out: per path x workload the primary metric "
                                   "per kernel with 95% intervals, and which paths and features each kernel lacks "
                                   "(skipped results' reasons, environment.features, attach modes in the proofs). "
                                   "Cost-mode runs (make bench-cost): instructions per unit on each kernel and the "
                                   "change between neighbours against the cost bound; with --profiles, the kernel "
                                   "functions the instructions go to.")
    k.add_argument("runs", metavar="RUN", nargs="+")
    k.add_argument("--profiles", metavar="RUN", nargs="+", default=[],
                   help="profiled runs (pathbench run --kernel-profile-ns N), matched to RUNs by kernel release")
    k.add_argument("--out", metavar="DIR", default=".", help="output directory (default: .)")
    k.add_argument("--exclude-flagged", action="store_true", help="leave repetitions flagged abnormal out")

    ag = sub.add_parser("agreement", help="do repeated runs of one suite give the same ratios to the reference?",
                        description="For every pair of runs: how much each path's paired primary ratio to the "
                                    "reference path differs (max/min - 1), as median, p90 and max over the "
                                    "configurations. Exit 0 when every pair meets --p90-pct and --max-pct, 1 "
                                    "when one does not (the criterion of docs/noise.md).")
    ag.add_argument("runs", metavar="RUN", nargs="+")
    ag.add_argument("--p90-pct", type=percentage, default=5.0, help="target for the p90 disagreement (default 5)")
    ag.add_argument("--max-pct", type=percentage, default=10.0, help="target for the worst disagreement (default 10)")
    ag.add_argument("--exclude-flagged", action="store_true", help="leave repetitions flagged abnormal out")
    ag.add_argument("--steal-adjust", action="store_true",
                    help="rates of CPU-saturated repetitions per CPU time the guest got, not as measured (docs/noise.md)")
    ag.add_argument("--json", metavar="FILE", help="also write the result as JSON")

    pe = sub.add_parser("peers", help="does pathbench agree with its reference tools, run after run? (--peers runs)",
                        description="Per path and workload: pathbench's figure ÷ its reference tool's (rr: latency "
                                    "p50, target ±5%%; tcp_stream, tcp_crr: rate, target ±10%%), medians of each "
                                    "run's repetitions, then over the runs the median, the worst and whether every "
                                    "run met the target (make bench-peers; docs/peers.md). A benchmark: exit 0 "
                                    "either way, 2 for bad input.")
    pe.add_argument("runs", metavar="RUN", nargs="+")
    pe.add_argument("--json", metavar="FILE", help="also write the table as JSON")

    v = sub.add_parser("validate", help="check that a file is a readable run.json (exit 0 or 2)")
    v.add_argument("files", metavar="FILE", nargs="+")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    check_modules(args.verb)
    from .load import InputError
    try:
        if args.verb == "validate":
            return _validate(args)
        if args.verb == "report":
            return _report(args)
        if args.verb == "compare":
            from .compare_cli import main as compare_main
            return compare_main(args)
        if args.verb == "trend":
            from .trend import main as trend_main
            return trend_main(args)
        if args.verb == "kernels":
            from .kernels import main as kernels_main
            return kernels_main(args)
        if args.verb == "peers":
            from .peers import main as peers_main
            return peers_main(args)
        if args.verb == "agreement":
            from .agreement import main as agreement_main
            return agreement_main(args)
        if args.verb == "power":
            from .power import power_main
            return power_main(args)
    except InputError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    return EXIT_USAGE


def _validate(args) -> int:
    from .load import load_run
    for f in args.files:
        run = load_run(f)  # raises InputError -> exit 2
        n = len(run.results)
        ok = sum(1 for r in run.results if r.get("status") == "ok")
        extra = f", upgraded from schema_version {run.upgraded_from}" if run.upgraded_from is not None else ""
        print(f"{run.filename}: ok (schema_version {run.doc['schema_version']}{extra}, run {run.run_id}, "
              f"{n} results, {ok} ok)")
    return EXIT_OK


def _report(args) -> int:
    from .load import load_run
    from .report import build
    run = load_run(args.run)
    native = load_run(args.native) if getattr(args, "native", None) else None
    if native is not None and not run.cost_mode:
        print(f"{PROG}: error: --native goes with a cost-mode run; {run.filename} is time-based", file=sys.stderr)
        return EXIT_USAGE
    outdir = args.out or run.directory
    try:
        os.makedirs(outdir, exist_ok=True)
        md, html, figs = build(run, outdir, exclude_flagged=args.exclude_flagged, native=native)
    except OSError as e:
        print(f"{PROG}: error: cannot write report into {outdir}: {e.strerror or e}", file=sys.stderr)
        return EXIT_USAGE
    print(f"report: {html}")
    print(f"        {md} ({len(figs)} plots in {os.path.join(outdir, 'plots')})")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
