# SPDX-License-Identifier: Apache-2.0
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

CURRENT_SCHEMA_VERSION = 2

# UPGRADERS[v] turns a schema v document into a schema v+1 document (defined below, after the
# table of schema-1 names they need).
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
    _catalogue: Any = field(default=None, repr=False, compare=False)

    @property
    def catalogue(self):
        """Traits of every path and workload (analysis.catalogue.Catalogue), read once."""
        if self._catalogue is None:
            from .catalogue import Catalogue
            self._catalogue = Catalogue.of(self.doc)
        return self._catalogue

    @property
    def options(self) -> dict:
        o = self.doc.get("options")
        return o if isinstance(o, dict) else {}

    @property
    def virtualization(self) -> dict:
        """environment.virtualization, {} when not recorded (schema 1: a run on the host)."""
        v = self.environment.get("virtualization")
        return v if isinstance(v, dict) else {}

    @property
    def is_guest(self) -> bool:
        return self.virtualization.get("pathbench_guest") is True

    @property
    def accelerator(self) -> str | None:
        """"kvm", "tcg" or "tcg-icount" (cost mode) for a run inside `pathbench vm`; None on the host or when not recorded."""
        a = self.virtualization.get("accelerator")
        return a if isinstance(a, str) and a else None

    @property
    def cost_mode(self) -> bool:
        """A cost-mode run (`pathbench vm --accel tcg-icount`): its figures are instructions."""
        from .cost import is_cost_doc
        return is_cost_doc(self.doc)

    @property
    def where(self) -> str:
        """One phrase saying where the run ran: 'host', 'pathbench VM guest (kvm)', ..."""
        if self.is_guest:
            if self.cost_mode:
                return "pathbench VM guest in cost mode (tcg-icount: 1 guest ns = 1 instruction)"
            return f"pathbench VM guest ({self.accelerator or 'accelerator not recorded'})"
        hv = self.virtualization.get("hypervisor")
        return f"{hv} virtual machine (not a pathbench guest)" if isinstance(hv, str) and hv else "host"

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
    from .cost import convert, is_cost_doc
    if is_cost_doc(doc):
        convert(doc)    # instructions, not seconds (analysis/cost.py); the file itself is unchanged
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
    _validate_v2_top(doc, fail)
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
        for key in ("path_options", "workload_options"):
            if key in r and not isinstance(r[key], dict):
                fail(f"{where}.{key}", f"expected an object, got {_type_name(r[key])}")
        if "instance" in r and (not isinstance(r["instance"], int) or isinstance(r["instance"], bool)):
            fail(f"{where}.instance", f"expected an integer, got {json.dumps(r['instance'])}")
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
    for lk in ("latency_ns", "connect_latency_ns"):
        lat = m.get(lk)
        if lat is None:
            continue
        if not isinstance(lat, dict):
            fail(f"{where}.{lk}", f"expected an object, got {_type_name(lat)}")
        for k, v in lat.items():
            if not is_number(v) or v < 0:
                fail(f"{where}.{lk}.{k}", f"expected a non-negative number, got {json.dumps(v)}")
    for hk in ("histogram", "connect_histogram"):
        hist = m.get(hk)
        if hist is None:
            continue
        if not isinstance(hist, dict):
            fail(f"{where}.{hk}", f"expected an object, got {_type_name(hist)}")
        unit = hist.get("unit", "ns")
        if unit != "ns":
            fail(f"{where}.{hk}.unit", f"expected \"ns\", got {json.dumps(unit)}")
        buckets = hist.get("buckets")
        if not isinstance(buckets, list):
            fail(f"{where}.{hk}.buckets", f"expected an array, got {_type_name(buckets)}")
        prev = -1
        for j, b in enumerate(buckets):
            if (not isinstance(b, list) or len(b) < 3
                    or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in b[:3])):
                fail(f"{where}.{hk}.buckets[{j}]",
                     f"expected [lower_ns, width_ns, count] of non-negative integers, got {json.dumps(b)[:60]}")
            if b[1] < 1:
                fail(f"{where}.{hk}.buckets[{j}]", "width_ns must be at least 1")
            if b[0] <= prev:
                fail(f"{where}.{hk}.buckets[{j}]", "buckets must be in ascending order of lower_ns")
            prev = b[0]
    for key in ("cpu", "system_state"):
        v = m.get(key)
        if v is not None and not isinstance(v, dict):
            fail(f"{where}.{key}", f"expected an object, got {_type_name(v)}")


def _validate_v2_top(doc: dict, fail) -> None:
    """The schema-2 additions the analysis relies on: the catalogue's shape (traits themselves are
    read tolerantly: an unknown kind is treated as no kind), path_instances, virtualization."""
    cat = doc.get("catalogue")
    if cat is None:
        fail("catalogue", "missing (a schema-2 run.json describes its paths and workloads there)")
    if not isinstance(cat, dict):
        fail("catalogue", f"expected an object, got {_type_name(cat)}")
    for part in ("paths", "workloads"):
        entries = cat.get(part, [])
        if not isinstance(entries, list):
            fail(f"catalogue.{part}", f"expected an array, got {_type_name(entries)}")
        for i, e in enumerate(entries):
            if not isinstance(e, dict) or not isinstance(e.get("name"), str) or not e["name"]:
                fail(f"catalogue.{part}[{i}]", "expected an object with a non-empty string \"name\"")
    inst = doc.get("path_instances", [])
    if not isinstance(inst, list):
        fail("path_instances", f"expected an array, got {_type_name(inst)}")
    for i, e in enumerate(inst):
        if not isinstance(e, dict):
            fail(f"path_instances[{i}]", f"expected an object, got {_type_name(e)}")
        for key in ("configuration", "scale", "path_options"):
            if e.get(key) is not None and not isinstance(e[key], dict):
                fail(f"path_instances[{i}].{key}", f"expected an object, got {_type_name(e[key])}")
    env = doc.get("environment")
    if isinstance(env, dict):
        for key in ("virtualization", "features"):
            if env.get(key) is not None and not isinstance(env[key], dict):
                fail(f"environment.{key}", f"expected an object, got {_type_name(env[key])}")
    if doc.get("options") is not None and not isinstance(doc["options"], dict):
        fail("options", f"expected an object, got {_type_name(doc['options'])}")


# ---- schema 1 -> 2 ---------------------------------------------------------------------------------
#
# Schema 2 carries a catalogue of traits (what kind of path, which technology, which metric is a
# workload's primary one ...) so the analysis never decides anything from a path's or workload's name.
# A schema-1 file has no catalogue: the table below is what the schema-1 harness (git fd8fed9 and
# earlier) registered, with the traits schema 2 gives those names.  **This is the only place in the
# analysis that may know path or workload names**; everything else reads traits from the run's catalogue.

V1_CATALOGUE: dict = {
    "paths": [
        {"name": "baseline", "order": 0, "kind": "kernel-routed", "technology": "none",
         "via_proxy": False, "routes": True, "compare_against": None, "control_for": None,
         "description": "kernel IPv4 forwarding in the DUT (no interception)"},
        {"name": "proxy-plain", "order": 1, "kind": "control", "technology": "none",
         "via_proxy": True, "routes": False, "compare_against": "baseline",
         "control_for": "the cost of a user-space proxy without interception: intercepted paths ÷ "
                        "proxy-plain isolates the interception mechanism",
         "description": "user-space proxy at the DUT's own address, no interception (control)"},
        {"name": "tproxy-nft", "order": 2, "kind": "intercepted", "technology": "tproxy",
         "via_proxy": True, "routes": False, "compare_against": "proxy-plain", "control_for": None,
         "description": "nft tproxy rule + fwmark policy route -> transparent proxy"},
        {"name": "tproxy-ipt", "order": 3, "kind": "intercepted", "technology": "tproxy",
         "via_proxy": True, "routes": False, "compare_against": "proxy-plain", "control_for": None,
         "description": "iptables -j TPROXY (xt_TPROXY) + fwmark policy route -> transparent proxy"},
        {"name": "sk-lookup", "order": 4, "kind": "intercepted", "technology": "ebpf",
         "via_proxy": True, "routes": False, "compare_against": "proxy-plain", "control_for": None,
         "description": "BPF sk_lookup (netns link) assigns the proxy socket; policy route local, no netfilter"},
        {"name": "tc-sk-assign", "order": 5, "kind": "intercepted", "technology": "ebpf",
         "via_proxy": True, "routes": False, "compare_against": "proxy-plain", "control_for": None,
         "description": "TC ingress BPF bpf_sk_assign to the proxy socket (Cilium's way); policy route local"},
        {"name": "tc-redirect", "order": 6, "kind": "bpf-forwarded", "technology": "ebpf",
         "via_proxy": False, "routes": True, "compare_against": "baseline", "control_for": None,
         "description": "TC ingress BPF on the DUT veths: bpf_fib_lookup + redirect (TCX link, or clsact "
                        "on kernels before 6.6)"},
        {"name": "xdp-redirect", "order": 7, "kind": "bpf-forwarded", "technology": "ebpf",
         "via_proxy": False, "routes": True, "compare_against": "baseline", "control_for": None,
         "description": "native XDP on the DUT veths: bpf_fib_lookup + devmap redirect (xdp_pass on the "
                        "peers, tx checksum offload off on cli0/srv0)"},
        {"name": "tproxy-nft-transparent", "order": 8, "kind": "intercepted", "technology": "tproxy",
         "via_proxy": True, "routes": False, "compare_against": "proxy-plain", "control_for": None,
         "in_default_suite": False,
         "description": "tproxy-nft with full transparency: upstream connections keep the client's source address"},
    ],
    "workloads": [
        {"name": "tcp_stream", "order": 0, "protocol": "tcp", "transport": "socket", "pattern": "stream",
         "primary_metric": "throughput_bps", "cpu_metric": "cpu_ns_per_byte", "latency": False,
         "default_payload_bytes": 131072,
         "description": "one TCP flow per --flows, bulk send; Gbit/s at the receiver"},
        {"name": "tcp_rr", "order": 1, "protocol": "tcp", "transport": "socket", "pattern": "rr",
         "primary_metric": "transactions_per_s", "cpu_metric": "cpu_ns_per_transaction", "latency": True,
         "default_payload_bytes": 64,
         "description": "TCP request/response on open connections; transactions/s, RTT"},
        {"name": "tcp_crr", "order": 2, "protocol": "tcp", "transport": "socket", "pattern": "crr",
         "primary_metric": "transactions_per_s", "cpu_metric": "cpu_ns_per_transaction", "latency": True,
         "default_payload_bytes": 64,
         "description": "TCP connect, request, response, close; connections/s, latency"},
        {"name": "udp_rr", "order": 3, "protocol": "udp", "transport": "socket", "pattern": "rr",
         "primary_metric": "transactions_per_s", "cpu_metric": "cpu_ns_per_transaction", "latency": True,
         "default_payload_bytes": 64, "description": "UDP request/response; transactions/s, RTT, loss"},
        {"name": "udp_pps", "order": 4, "protocol": "udp", "transport": "socket", "pattern": "pps",
         "primary_metric": "packets_per_s", "cpu_metric": "cpu_ns_per_packet", "latency": False,
         "default_payload_bytes": 18,
         "description": "small UDP datagrams from sockets (sendmmsg); packets/s received, loss"},
        {"name": "xdp_pps", "order": 5, "protocol": "udp", "transport": "frames", "pattern": "pps",
         "primary_metric": "packets_per_s", "cpu_metric": "cpu_ns_per_packet", "latency": False,
         "default_payload_bytes": 18,
         "description": "small UDP frames injected in the kernel (BPF_PROG_RUN live frames) into cli0, "
                        "counted and dropped by XDP on srv0; forwarded packets/s"},
    ],
}
for _p in V1_CATALOGUE["paths"]:
    _p.setdefault("in_default_suite", True)
    _p.setdefault("parameters", [])
for _w in V1_CATALOGUE["workloads"]:
    _w.setdefault("in_default_suite", True)


def _v1_system_state(state: dict, result: dict, env: dict) -> dict:
    """Pre-release `system_state` (diagnostic runs made with the schema-1 harness) in schema-2 names:
    cpu_speed_probe_ns_per_m [before, after] -> cpu_speed_ns_per_mop {before, after};
    tcp_info.cc -> tcp_cc; workload_cpus and other_cpus_busy_ns derived from per_cpu and the CPUs the
    run pinned its threads to (workload_options client_cpu/server_cpu, cpu_pinning proxy_cpu)."""
    s = dict(state)
    probe = s.get("cpu_speed_probe_ns_per_m")
    if "cpu_speed_ns_per_mop" not in s and isinstance(probe, list) and len(probe) == 2 and all(map(is_number, probe)):
        s["cpu_speed_ns_per_mop"] = {"before": probe[0], "after": probe[1]}
    ti = s.get("tcp_info")
    if "tcp_cc" not in s and isinstance(ti, dict) and isinstance(ti.get("cc"), str):
        s["tcp_cc"] = ti["cc"]
    per_cpu = s.get("per_cpu")
    if "workload_cpus" not in s and isinstance(per_cpu, list):
        wo = result.get("workload_options") if isinstance(result.get("workload_options"), dict) else {}
        pin = env.get("cpu_pinning") if isinstance(env.get("cpu_pinning"), dict) else {}
        cpus = {v for v in (wo.get("client_cpu"), wo.get("server_cpu"), pin.get("proxy_cpu"))
                if isinstance(v, int) and not isinstance(v, bool) and v >= 0}
        if cpus:
            s["workload_cpus"] = sorted(cpus)
            if "other_cpus_busy_ns" not in s:
                busy = [c.get("busy_ns") for i, c in enumerate(per_cpu) if isinstance(c, dict)
                        and c.get("cpu", i) not in cpus]
                if all(map(is_number, busy)):
                    s["other_cpus_busy_ns"] = float(sum(busy))
    return s


def upgrade_v1(doc: dict) -> dict:
    """Schema 1 -> 2: the catalogue from V1_CATALOGUE (a name the table does not know gets neutral
    traits when the catalogue is read), path_options {} and an instance index per result (one
    instance per path x repetition, as the schema-1 harness built them), and pre-release
    system_state names.  The document is copied where it changes, never modified in place."""
    d = dict(doc)
    d["schema_version"] = 2
    results = d.get("results")
    if not isinstance(results, list):
        return d  # _validate reports it
    if not isinstance(d.get("catalogue"), dict):
        import copy
        d["catalogue"] = copy.deepcopy(V1_CATALOGUE)
    env = d.get("environment") if isinstance(d.get("environment"), dict) else {}
    instances: dict[tuple, dict] = {}
    out = []
    for r in results:
        if not isinstance(r, dict):
            out.append(r)
            continue
        r = dict(r)
        r.setdefault("path_options", {})
        key = (r.get("path"), r.get("repetition", 0))
        try:
            hash(key)
        except TypeError:
            out.append(r)
            continue
        inst = instances.get(key)
        if inst is None:
            inst = instances[key] = {"index": len(instances), "path": r.get("path"), "path_options": {},
                                     "repetition": r.get("repetition", 0), "status": "skipped", "reason": None}
        if r.get("status") == "ok":
            inst["status"] = "ok"
        elif r.get("status") == "failed" and inst["status"] != "ok":
            inst["status"], inst["reason"] = "failed", r.get("reason")
        elif inst["status"] == "skipped" and inst["reason"] is None:
            inst["reason"] = r.get("reason")
        r.setdefault("instance", inst["index"])
        m = r.get("metrics")
        if isinstance(m, dict) and isinstance(m.get("system_state"), dict):
            m = dict(m)
            m["system_state"] = _v1_system_state(m["system_state"], r, env)
            r["metrics"] = m
        out.append(r)
    d["results"] = out
    d.setdefault("path_instances", list(instances.values()))
    return d


UPGRADERS[1] = upgrade_v1
