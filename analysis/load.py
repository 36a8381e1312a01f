"""Load, upgrade and validate run.json documents (schema: results/README.md).

A run is one JSON object written by `pathbench run`.  This module needs only the standard library so
that `python3 -m analysis validate` works even where matplotlib/numpy/scipy are not installed.

Policy, as in flent's loader:
* a document with an older `schema_version` is upgraded step by step (UPGRADERS) to CURRENT;
  a newer one is refused with a message saying so (we cannot know what changed);
* unknown fields are ignored everywhere (readers must ignore what they do not know);
* anything the analysis relies on is checked, and a problem is reported as one InputError line
  naming the file and the JSON location, never as a traceback.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable

CURRENT_SCHEMA_VERSION = 1

# UPGRADERS[v] turns a schema v document into a schema v+1 document.  No older schema has been
# published yet; when schema 2 appears, its reader keeps working on v1 files by adding
# UPGRADERS[1] here.  Tests register a temporary upgrader to exercise the chain.
UPGRADERS: dict[int, Callable[[dict], dict]] = {}

RESULT_STATUSES = ("ok", "skipped", "failed")


class InputError(Exception):
    """A run.json that cannot be used.  str() is a single line: '<file>: <problem>'."""

    def __init__(self, filename: str, problem: str):
        super().__init__(f"{filename}: {problem}")
        self.filename = filename
        self.problem = problem


@dataclass
class Run:
    """One loaded, validated run.  `doc` is the (upgraded) JSON document, unchanged otherwise."""

    filename: str
    doc: dict
    upgraded_from: int | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def directory(self) -> str:
        return os.path.dirname(os.path.abspath(self.filename))

    @property
    def run_id(self) -> str:
        return str(self.doc.get("run_id") or os.path.basename(self.directory))

    @property
    def environment(self) -> dict:
        env = self.doc.get("environment")
        return env if isinstance(env, dict) else {}

    @property
    def kernel(self) -> str:
        return str(self.environment.get("kernel_release") or "unknown")

    @property
    def started(self) -> str:
        return str(self.doc.get("started_utc") or "")

    @property
    def status(self) -> str:
        return str(self.doc.get("status") or "unknown")

    @property
    def results(self) -> list[dict]:
        return self.doc["results"]

    @property
    def label(self) -> str:
        """Short identification used in plot titles: 'run 3f9a1c, Linux 6.18.44'."""
        return f"run {self.run_id}, Linux {self.kernel}"


def resolve_path(arg: str) -> str:
    """A run directory or a run.json path -> the run.json path (not checked for existence).
    A directory may hold run.json or, archived, run.json.gz."""
    if os.path.isdir(arg):
        plain = os.path.join(arg, "run.json")
        gz = plain + ".gz"
        return gz if not os.path.exists(plain) and os.path.exists(gz) else plain
    return arg


def load_run(arg: str) -> Run:
    """Read, parse, upgrade and validate one run.  Raises InputError with a one-line message."""
    filename = resolve_path(arg)
    if os.path.isdir(arg) and not os.path.exists(filename):
        raise InputError(arg, "no run.json in this directory")
    try:
        with open(filename, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise InputError(filename, "no such file") from None
    except IsADirectoryError:
        raise InputError(filename, "is a directory, expected run.json") from None
    except OSError as e:
        raise InputError(filename, f"cannot read: {e.strerror or e}") from None
    doc = parse(filename, raw)
    return check_document(filename, doc)


def parse(filename: str, raw: bytes) -> Any:
    if raw[:2] == b"\x1f\x8b":  # gzip: archived runs and the stored test sample
        import gzip
        import zlib
        try:
            raw = gzip.decompress(raw)
        except EOFError:
            raise InputError(filename, "truncated gzip data: the compressed file ends early") from None
        except (OSError, zlib.error) as e:
            raise InputError(filename, f"not valid gzip data: {e}") from None
    if not raw.strip():
        raise InputError(filename, "empty file (0 bytes of JSON)" if not raw else "empty file (only whitespace)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(filename, f"not UTF-8 text (byte {e.start})") from None

    def no_constants(name: str):
        # Python's json accepts NaN/Infinity; the schema forbids them.
        raise ValueError(f"{name} is not valid in a run.json (the schema forbids NaN/Infinity)")

    try:
        return json.loads(text, parse_constant=no_constants)
    except json.JSONDecodeError as e:
        if e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated string"):
            raise InputError(filename, f"truncated JSON: the document ends early (after {len(raw)} bytes, "
                                       f"line {e.lineno}); was the run interrupted while writing?") from None
        raise InputError(filename, f"malformed JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    except ValueError as e:
        raise InputError(filename, str(e)) from None
    except RecursionError:
        raise InputError(filename, "malformed JSON: nested too deeply") from None


def _type_name(v: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(v), type(v).__name__)


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_document(filename: str, doc: Any) -> Run:
    """Upgrade and validate a parsed document."""
    if not isinstance(doc, dict):
        raise InputError(filename, f"top level is {_type_name(doc)}, expected a JSON object (a pathbench run.json)")
    if "schema_version" not in doc:
        raise InputError(filename, "no schema_version: not a pathbench run.json")
    version = doc["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise InputError(filename, f"schema_version must be a non-negative integer, got {json.dumps(version)}")
    if version > CURRENT_SCHEMA_VERSION:
        raise InputError(filename, f"schema_version {version} is newer than this analysis understands "
                                   f"(up to {CURRENT_SCHEMA_VERSION}); update analysis/ to a pathbench "
                                   f"version that writes schema {version}")
    upgraded_from = None
    while doc["schema_version"] < CURRENT_SCHEMA_VERSION:
        v = doc["schema_version"]
        step = UPGRADERS.get(v)
        if step is None:
            raise InputError(filename, f"schema_version {v} is older than any version this analysis can "
                                       f"upgrade (current: {CURRENT_SCHEMA_VERSION})")
        upgraded_from = version
        doc = step(doc)
        if not isinstance(doc, dict) or doc.get("schema_version") != v + 1:
            raise InputError(filename, f"internal error: upgrade from schema_version {v} did not yield {v + 1}")
    run = Run(filename=filename, doc=doc, upgraded_from=upgraded_from)
    _validate(run)
    return run


def _validate(run: Run) -> None:
    doc, fn = run.doc, run.filename

    def fail(where: str, problem: str):
        raise InputError(fn, f"{where}: {problem}")

    for key in ("run_id", "status", "started_utc"):
        if key in doc and doc[key] is not None and not isinstance(doc[key], str):
            fail(key, f"expected a string, got {_type_name(doc[key])}")
    if "environment" in doc and not isinstance(doc["environment"], dict):
        fail("environment", f"expected an object, got {_type_name(doc['environment'])}")
    if "results" not in doc:
        fail("results", "missing (every run.json has a results array, possibly empty)")
    results = doc["results"]
    if not isinstance(results, list):
        fail("results", f"expected an array, got {_type_name(results)}")
    for i, r in enumerate(results):
        where = f"results[{i}]"
        if not isinstance(r, dict):
            fail(where, f"expected an object, got {_type_name(r)}")
        for key in ("path", "workload"):
            if not isinstance(r.get(key), str) or not r[key]:
                fail(f"{where}.{key}", "missing or not a non-empty string")
        st = r.get("status")
        if st not in RESULT_STATUSES:
            fail(f"{where}.status", f"expected one of {', '.join(RESULT_STATUSES)}, got {json.dumps(st)}")
        rep = r.get("repetition", 0)
        if not isinstance(rep, int) or isinstance(rep, bool) or rep < 0:
            fail(f"{where}.repetition", f"expected a non-negative integer, got {json.dumps(rep)}")
        if "order" in r and (not isinstance(r["order"], int) or isinstance(r["order"], bool)):
            fail(f"{where}.order", f"expected an integer, got {json.dumps(r['order'])}")
        if "reference" in r and not isinstance(r["reference"], dict):
            fail(f"{where}.reference", f"expected an object, got {_type_name(r['reference'])}")
        if "proof" in r and r["proof"] is not None and not isinstance(r["proof"], dict):
            fail(f"{where}.proof", f"expected an object, got {_type_name(r['proof'])}")
        m = r.get("metrics")
        if m is None:
            if st == "ok":
                fail(f"{where}.metrics", "missing for a result with status ok")
            continue
        if not isinstance(m, dict):
            fail(f"{where}.metrics", f"expected an object, got {_type_name(m)}")
        _validate_metrics(m, f"{where}.metrics", fail)


# Metrics the analysis reads as plain non-negative numbers when present.
_NUMERIC_METRICS = ("duration_ns", "throughput_bps", "transactions_per_s", "packets_per_s",
                    "cpu_ns_per_transaction", "cpu_ns_per_byte", "cpu_ns_per_packet", "samples",
                    "udp_loss_ratio")


def _validate_metrics(m: dict, where: str, fail) -> None:
    for key in _NUMERIC_METRICS:
        if key in m:
            v = m[key]
            if not is_number(v) or v < 0:
                fail(f"{where}.{key}", f"expected a non-negative number, got {json.dumps(v)}")
    lat = m.get("latency_ns")
    if lat is not None:
        if not isinstance(lat, dict):
            fail(f"{where}.latency_ns", f"expected an object, got {_type_name(lat)}")
        for k, v in lat.items():
            if not is_number(v) or v < 0:
                fail(f"{where}.latency_ns.{k}", f"expected a non-negative number, got {json.dumps(v)}")
    hist = m.get("histogram")
    if hist is not None:
        if not isinstance(hist, dict):
            fail(f"{where}.histogram", f"expected an object, got {_type_name(hist)}")
        unit = hist.get("unit", "ns")
        if unit != "ns":
            fail(f"{where}.histogram.unit", f"expected \"ns\", got {json.dumps(unit)}")
        buckets = hist.get("buckets")
        if not isinstance(buckets, list):
            fail(f"{where}.histogram.buckets", f"expected an array, got {_type_name(buckets)}")
        prev = -1
        for j, b in enumerate(buckets):
            if (not isinstance(b, list) or len(b) < 3
                    or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in b[:3])):
                fail(f"{where}.histogram.buckets[{j}]",
                     f"expected [lower_ns, width_ns, count] of non-negative integers, got {json.dumps(b)[:60]}")
            if b[1] < 1:
                fail(f"{where}.histogram.buckets[{j}]", "width_ns must be at least 1")
            if b[0] <= prev:
                fail(f"{where}.histogram.buckets[{j}]", "buckets must be in ascending order of lower_ns")
            prev = b[0]
    cpu = m.get("cpu")
    if cpu is not None and not isinstance(cpu, dict):
        fail(f"{where}.cpu", f"expected an object, got {_type_name(cpu)}")
