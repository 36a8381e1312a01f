# SPDX-License-Identifier: Apache-2.0
"""pathbench analysis: load run.json documents, plot them, write the report, compare runs.

Run from the repository root as ``/usr/bin/python3 -m analysis <verb> ...`` (Debian's python3 with
python3-matplotlib, python3-numpy and python3-scipy).  Verbs: report, compare, trend, kernels,
power, agreement, validate.

Exit codes follow the rest of pathbench's named exit codes: 0 ok, 1 regression found / failed check,
2 bad usage or bad input file, 3 environment (a Python module is missing), 77 compare refused its
performance verdicts (runs from different environments: accelerator, VM guest or not).
"""

EXIT_OK = 0
EXIT_FAIL = 1  # compare found a significant regression; a check failed
EXIT_USAGE = 2  # bad command line or unreadable / invalid input file
EXIT_ENV = 3  # a required Python module is missing
EXIT_NOT_COMPARED = 77  # compare: performance verdicts refused (different accelerators / guest vs host)

__all__ = ["EXIT_OK", "EXIT_FAIL", "EXIT_USAGE", "EXIT_ENV", "EXIT_NOT_COMPARED"]
