"""Command line: /usr/bin/python3 -m analysis {report,compare,trend,validate} ...  (run from the repo root)

Exit codes: 0 ok, 1 regression found / failed check, 2 bad usage or bad input, 3 missing module.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import EXIT_ENV, EXIT_OK, EXIT_USAGE

PROG = "pathbench-analysis"
APT_HINT = "apt-get install python3-matplotlib python3-numpy python3-scipy"

# Which third-party modules each verb needs; validate needs none so C++ tests can always use it.
NEEDS = {
    "report": ("matplotlib", "numpy", "scipy"),
    "compare": ("numpy", "scipy", "matplotlib"),
    "trend": ("matplotlib", "numpy", "scipy"),
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Analyse pathbench results (run.json): plots and report, compare two runs, trend "
                    "over runs, validate a file. RUN is a run directory or a run.json path.",
        epilog="Exit codes: 0 ok, 1 regression found, 2 bad usage or bad input file, 3 missing Python module.")
    sub = p.add_subparsers(dest="verb", metavar="VERB")
    sub.required = True

    r = sub.add_parser("report", help="write report.md, report.html and plots/ for one run",
                       description="Write report.md, a self-contained report.html and plots/*.png|svg "
                                   "into the run directory (or --out DIR).")
    r.add_argument("run", metavar="RUN")
    r.add_argument("--out", metavar="DIR", help="output directory (default: the run's directory)")

    c = sub.add_parser("compare", help="compare run B against run A and flag regressions",
                       description="Compare B (new, e.g. new kernel) against A (old). Per path x workload x "
                                   "metric: relative change of medians, two-sided Mann-Whitney U over "
                                   "repetitions, and a noise gate (changes within the run-to-run spread, "
                                   "IQR/median of either run, are not flagged). Exit 1 when a significant "
                                   "regression beyond the threshold is found.")
    c.add_argument("a", metavar="A", help="the reference run (before)")
    c.add_argument("b", metavar="B", help="the run under test (after)")
    c.add_argument("--threshold-pct", type=float, default=5.0, metavar="PCT",
                   help="smallest relative change of the median that counts (default 5)")
    c.add_argument("--alpha", type=float, default=0.05, help="significance level of the U test (default 0.05)")
    c.add_argument("--json", metavar="FILE", help="also write the comparison as JSON")
    c.add_argument("--markdown", metavar="FILE", help="also write the comparison as a Markdown table")
    c.add_argument("--all", action="store_true", help="print every row, not only changes and problems")

    t = sub.add_parser("trend", help="primary metric per path across several runs",
                       description="One line per path across runs (ordered by kernel release, then start "
                                   "time) for each workload's primary metric: trend.png, trend.svg and "
                                   "trend.md in --out, and a table on stdout.")
    t.add_argument("runs", metavar="RUN", nargs="+")
    t.add_argument("--out", metavar="DIR", default=".", help="output directory (default: .)")

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
            from .compare import main as compare_main
            return compare_main(args)
        if args.verb == "trend":
            from .trend import main as trend_main
            return trend_main(args)
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
    outdir = args.out or run.directory
    try:
        os.makedirs(outdir, exist_ok=True)
        md, html, figs = build(run, outdir)
    except OSError as e:
        print(f"{PROG}: error: cannot write report into {outdir}: {e.strerror or e}", file=sys.stderr)
        return EXIT_USAGE
    print(f"report: {html}")
    print(f"        {md} ({len(figs)} plots in {os.path.join(outdir, 'plots')})")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
