# SPDX-License-Identifier: Apache-2.0
"""Fixture builders: schema-2 documents made from real runs, exactly in the shape of the contract
(results/README.md, schema 2), for features no stored real schema-2 file has yet.

Real data (tests/data, see its README):
* aa-suite-1 / aa-suite-2: two back-to-back default suites (8 paths x 6 workloads x 3 repetitions)
  on the development VM, with per-repetition system_state: the A/A pair.
* state-*: tcp_stream with bbr and with cubic (8 repetitions), baseline with a CPU spinner on the
  other vCPU (foreign load), 30 repetitions of baseline tcp_stream.

What is synthesized here, and only here, is marked as such: the catalogue's schema-2 extras
(parameters lists, the xdp-pass control), path_instances[].configuration, connect latency (a fixed
fraction of the measured transaction latency), a services sweep with a *made-up* cost model, and
environment.virtualization / features.  When the harness writes real schema-2 files, point
PATHBENCH_ANALYSIS_SAMPLE_V2 at one (or store it as tests/data/sample-run-v2.json.gz) and
`v2_sample()` returns it instead of the stitched one; the tests that need a synthetic feature
(a services sweep with a known crossover) keep building it from whatever v2_sample() returns.
"""

from __future__ import annotations

import copy
import gzip
import json
import os

from analysis.load import V1_CATALOGUE
from analysis.tests.common import REPO

DATA = os.path.join(REPO, "tests", "data")
V2_SAMPLE = os.environ.get("PATHBENCH_ANALYSIS_SAMPLE_V2", os.path.join(DATA, "sample-run-v2.json.gz"))


def read(name: str) -> dict:
    path = name if os.path.isabs(name) else os.path.join(DATA, name)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return json.loads(raw)


def aa_pair() -> tuple[dict, dict]:
    return read("aa-suite-1.json.gz"), read("aa-suite-2.json.gz")


def stitch(first: dict, second: dict, run_id: str = "aa6rep") -> dict:
    """One run of 2n repetitions from two back-to-back n-repetition runs of the same suite:
    repetitions 0..n-1 from the first, n..2n-1 from the second (renumbered; schedule order
    continued).  Pairing by repetition index stays within one original run."""
    d = copy.deepcopy(first)
    d["run_id"] = run_id
    n = 1 + max(r.get("repetition", 0) for r in first["results"])
    last = 1 + max(r.get("order", 0) for r in first["results"])
    for r in copy.deepcopy(second["results"]):
        r["repetition"] = r.get("repetition", 0) + n
        r["order"] = r.get("order", 0) + last
        d["results"].append(r)
    d["probes"] = list(first.get("probes", [])) + list(second.get("probes", []))
    d["finished_utc"] = second.get("finished_utc", d.get("finished_utc"))
    d.setdefault("options", {})["repetitions"] = 2 * n
    return d


# Schema-2 traits the v1 table does not carry.  Parameters as the contract's example.
PARAMETERS = {"intercepted": ["services", "match_position"]}
XDP_PASS = {"name": "xdp-pass", "order": 9, "kind": "control", "technology": "ebpf", "via_proxy": False,
            "routes": True, "compare_against": "baseline", "parameters": [], "in_default_suite": False,
            "control_for": "the cost of native XDP mode on veth itself (xdp_pass on the DUT): "
                           "xdp-redirect ÷ xdp-pass isolates the redirect program",
            "description": "kernel forwarding with an XDP_PASS program on the DUT veths (control)"}


def catalogue() -> dict:
    c = copy.deepcopy(V1_CATALOGUE)
    for p in c["paths"]:
        p["parameters"] = list(PARAMETERS.get(p["kind"], []))
        if p["name"] == "xdp-redirect":
            p["compare_against"] = "xdp-pass"
        if p["name"] == "baseline":
            p["compare_against"] = "baseline"      # the contract's example: a path may name itself
    c["paths"].append(copy.deepcopy(XDP_PASS))
    return c


# What each kind of path installs (synthetic counts in the contract's shape, per path trait).
CONFIG_BY_PATH = {
    "baseline": ({"routes": 2, "sysctls": 1}, 2, 0, 9e6, 3e6),
    "proxy-plain": ({"routes": 2, "sysctls": 1}, 2, 4, 31e6, 12e6),
    "tproxy-nft": ({"nft_tables": 1, "nft_rules": 2, "routes": 3, "policy_rules": 1, "sysctls": 1}, 5, 6, 41e6, 12e6),
    "tproxy-nft-transparent": ({"nft_tables": 1, "nft_rules": 2, "routes": 3, "policy_rules": 1, "sysctls": 1},
                               5, 6, 42e6, 12e6),
    "tproxy-ipt": ({"iptables_rules": 3, "routes": 3, "policy_rules": 1, "sysctls": 1}, 6, 6, 55e6, 18e6),
    "sk-lookup": ({"bpf_programs": 1, "bpf_maps": 2, "bpf_map_entries": 1, "bpf_links": 1, "routes": 3,
                   "policy_rules": 1, "sysctls": 1}, 3, 14, 36e6, 10e6),
    "tc-sk-assign": ({"bpf_programs": 1, "bpf_maps": 2, "bpf_map_entries": 1, "bpf_links": 1, "tc_hooks": 1,
                      "routes": 3, "policy_rules": 1, "sysctls": 1}, 3, 16, 38e6, 10e6),
    "tc-redirect": ({"bpf_programs": 1, "bpf_links": 2, "tc_hooks": 2, "routes": 2, "sysctls": 1}, 2, 9, 14e6, 4e6),
    "xdp-redirect": ({"bpf_programs": 2, "bpf_maps": 1, "bpf_map_entries": 2, "xdp_attachments": 4,
                      "ethtool_changes": 2, "routes": 2, "sysctls": 1}, 4, 15, 22e6, 9e6),
}


def configuration(path: str, services: int = 0) -> dict:
    counts, commands, syscalls, setup, teardown = CONFIG_BY_PATH.get(path, ({}, 0, 0, 1e6, 1e6))
    counts = dict(counts)
    if services:
        if "nft_rules" in counts:
            counts["nft_rules"] += services
        elif "iptables_rules" in counts:
            counts["iptables_rules"] += services
        elif "bpf_map_entries" in counts:
            counts["bpf_map_entries"] += services
    steps = [{"what": f"{k} x{v}", "kind": k, "how": "command" if i < commands else "syscall"}
             for i, (k, v) in enumerate(sorted(counts.items()))]
    return {"counts": counts, "commands": commands, "syscalls": syscalls, "setup_ns": int(setup),
            "teardown_ns": int(teardown), "steps": steps}


def _v2_state(state: dict, result: dict) -> dict:
    """Diagnostic (pre-release) system_state -> the contract's names, old names removed."""
    s = copy.deepcopy(state)
    probe = s.pop("cpu_speed_probe_ns_per_m", None)
    if isinstance(probe, list) and len(probe) == 2:
        s["cpu_speed_ns_per_mop"] = {"before": probe[0], "after": probe[1]}
    ti = s.get("tcp_info")
    if isinstance(ti, dict) and "cc" in ti:
        s["tcp_cc"] = ti["cc"]
    wo = result.get("workload_options", {})
    cpus = sorted({c for c in (wo.get("client_cpu"), wo.get("server_cpu")) if isinstance(c, int)}) or [0]
    per = s.get("per_cpu", [])
    for i, c in enumerate(per):
        c.setdefault("cpu", i)
    s["workload_cpus"] = cpus
    s["other_cpus_busy_ns"] = float(sum(c.get("busy_ns", 0) for c in per if c.get("cpu") not in cpus))
    return s


CONNECT_FRACTION = 0.35   # synthetic: connect latency as this fraction of the transaction latency


def to_v2(doc: dict, *, tcp_cc: str | None = "bbr", virtualization: dict | None = None,
          features: dict | None = None, connect_latency: bool = True, inject_cost_ns_per_packet: int = 0) -> dict:
    """A schema-1 document (real) as the schema-2 harness would write it."""
    d = copy.deepcopy(doc)
    if d.get("schema_version") == 2:
        return d
    d["schema_version"] = 2
    d["catalogue"] = catalogue()
    env = d.setdefault("environment", {})
    env["virtualization"] = virtualization if virtualization is not None else {
        "pathbench_guest": False, "hypervisor": "kvm", "accelerator": None, "vcpus": env.get("nproc", 2),
        "memory_mib": None, "qemu_version": None, "guest_kernel": None, "host_kernel": env.get("kernel_release")}
    env["features"] = features if features is not None else {
        "tcx": {"available": True}, "xdp_live_frames": {"available": True}, "bpf_sk_lookup": {"available": True}}
    opts = d.setdefault("options", {})
    opts.update({"order": "interleaved", "seed": 1, "adaptive": None, "inject_cost_ns_per_packet": inject_cost_ns_per_packet})
    if tcp_cc:
        opts["tcp_cc"] = tcp_cc
    pattern = {w["name"]: w["pattern"] for w in d["catalogue"]["workloads"]}
    instances: dict[tuple, dict] = {}
    for r in d["results"]:
        r.setdefault("path_options", {})
        key = (r["path"], json.dumps(r["path_options"], sort_keys=True), r.get("repetition", 0))
        inst = instances.get(key)
        if inst is None:
            services = r["path_options"].get("services", 0)
            inst = instances[key] = {
                "index": len(instances), "path": r["path"], "path_options": r["path_options"],
                "repetition": r.get("repetition", 0), "status": "ok", "reason": None,
                "configuration": configuration(r["path"], services)}
        r["instance"] = inst["index"]
        m = r.get("metrics")
        if not isinstance(m, dict):
            continue
        if isinstance(m.get("system_state"), dict):
            m["system_state"] = _v2_state(m["system_state"], r)
        if connect_latency and pattern.get(r["workload"]) == "crr" and isinstance(m.get("latency_ns"), dict):
            m["connect_latency_ns"] = {k: v * CONNECT_FRACTION for k, v in m["latency_ns"].items()}
            h = m.get("histogram")
            if isinstance(h, dict):
                m["connect_histogram"] = dict(h, buckets=_scale_buckets(h["buckets"], CONNECT_FRACTION))
    d["path_instances"] = list(instances.values())
    d["stop"] = {"reason": "repetitions done", "repetitions": opts.get("repetitions"), "elapsed_s": 300.0}
    return d


def _scale_buckets(buckets, f: float, add: float = 0.0):
    out, prev = [], -1
    for lo, w, c in buckets:
        nlo = max(prev + 1, int(lo * f + add))
        out.append([nlo, max(1, int(w * f)), c])
        prev = nlo
    return out


def v2_sample() -> dict:
    """A schema-2 run with 6 repetitions: the real one if stored, else the A/A pair stitched and
    converted (real measurements, synthetic schema-2 extras)."""
    if os.path.exists(V2_SAMPLE):
        return read(V2_SAMPLE)
    a, b = aa_pair()
    return to_v2(stitch(a, b))


# ---- a services sweep with a known (synthetic) cost model ----------------------------------------
#
# Each intercepting path's tcp_crr results are repeated at every N with a cost added to connect
# latency and to each transaction: TPROXY rules are scanned linearly (match_position "last"), eBPF
# paths look N up in a hash map (flat).  tc-sk-assign is given a flat 2.5 µs so that it starts
# behind tproxy-nft and overtakes it between N=100 and N=1000: the crossover the report must find.
SCALE_NS_PER_SERVICE = {"tproxy-nft": 4.0, "tproxy-nft-transparent": 4.0, "tproxy-ipt": 6.0}
SCALE_FLAT_NS = {"sk-lookup": 300.0, "tc-sk-assign": 2500.0}
SERVICES = (1, 10, 100, 1000, 10000)


def services_sweep(doc: dict, services=SERVICES, workloads=("tcp_crr",)) -> dict:
    """doc (schema 2) restricted to `workloads`, every intercepting path measured at each N."""
    d = copy.deepcopy(doc)
    kinds = {p["name"]: p["kind"] for p in d["catalogue"]["paths"]}
    base = [r for r in d["results"] if r["workload"] in workloads]
    out, instances = [], []
    inst_of: dict[tuple, int] = {}
    order = 0

    def instance(path, popts, rep, status="ok"):
        key = (path, json.dumps(popts, sort_keys=True), rep)
        if key not in inst_of:
            inst_of[key] = len(instances)
            n = popts.get("services", 0)
            rec = {"index": len(instances), "path": path, "path_options": popts, "repetition": rep,
                   "status": status, "reason": None, "configuration": configuration(path, n)}
            if "services" in popts:
                per = SCALE_NS_PER_SERVICE.get(path)
                rec["scale"] = {
                    "services": n, "match_position": popts.get("match_position"),
                    "install_ns": int((2e5 * n if per else 3e4 * n) + 5e6),
                    "update": {"add_ns": {"p50": int(900e3 if per else 40e3), "p90": int(1.4e6 if per else 60e3), "n": 50},
                               "remove_ns": {"p50": int(850e3 if per else 35e3), "p90": int(1.3e6 if per else 55e3), "n": 50}},
                    "memory_bytes": None if per else 4096 + 64 * n,
                    "memory_source": "nft (not reported)" if per else "bpf map memlock"}
            instances.append(rec)
        return inst_of[key]

    for r in sorted(base, key=lambda r: (r.get("repetition", 0), r.get("order", 0))):
        if kinds.get(r["path"]) != "intercepted":
            c = copy.deepcopy(r)
            c["order"] = order
            order += 1
            c["instance"] = instance(c["path"], c.get("path_options", {}), c.get("repetition", 0), c["status"])
            out.append(c)
            continue
        for n in services:
            c = copy.deepcopy(r)
            c["path_options"] = {"services": n, "match_position": "last"}
            c["order"] = order
            order += 1
            c["instance"] = instance(c["path"], c["path_options"], c.get("repetition", 0), c["status"])
            m = c.get("metrics")
            if c["status"] == "ok" and isinstance(m, dict):
                add = SCALE_NS_PER_SERVICE.get(c["path"], 0.0) * n + SCALE_FLAT_NS.get(c["path"], 0.0)
                _add_cost(m, add)
            out.append(c)
    d["results"] = out
    d["path_instances"] = instances
    d["options"]["services"] = list(services)
    d["options"]["workloads"] = list(workloads)
    return d


def _add_cost(m: dict, add_ns: float) -> None:
    """Add add_ns to every connect and to every transaction (rate, CPU and latency follow)."""
    if "transactions_per_s" in m and m["transactions_per_s"] > 0:
        m["transactions_per_s"] = 1.0 / (1.0 / m["transactions_per_s"] + add_ns * 1e-9)
    if "cpu_ns_per_transaction" in m:
        m["cpu_ns_per_transaction"] += 0.8 * add_ns
    for key in ("latency_ns", "connect_latency_ns"):
        if isinstance(m.get(key), dict):
            m[key] = {k: v + add_ns for k, v in m[key].items()}
    for key in ("histogram", "connect_histogram"):
        h = m.get(key)
        if isinstance(h, dict):
            h["buckets"] = _scale_buckets(h["buckets"], 1.0, add_ns)


def write_gz(path: str, doc: dict) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(doc, f)
    return path


# ---- API traffic: HTTP workloads behind an L7 gateway (synthetic) -----------------------------------
#
# Every number is made up, in the contract's shape (results/README.md: `application`, the `gateway`
# path option and parameter, proof.gateway, wrk reference rows): the plain gateway runs at
# HTTP_PLAIN_RPS, each interception at a fixed factor of it in every repetition (times a drift shared
# by all paths of a repetition, so the paired ratio is exactly the factor), pathbench's L4 proxy at
# L4_FACTOR of the gateway, and wrk at 1 / WRK_AGREEMENT of pathbench.
HTTP_WORKLOADS = [
    {"name": "http_rr", "order": 6, "protocol": "tcp", "transport": "socket", "pattern": "rr", "application": "http",
     "primary_metric": "transactions_per_s", "cpu_metric": "cpu_ns_per_transaction", "latency": True,
     "description": "keep-alive HTTP/1.1 request/response"},
    {"name": "http_crr", "order": 7, "protocol": "tcp", "transport": "socket", "pattern": "crr", "application": "http",
     "primary_metric": "transactions_per_s", "cpu_metric": "cpu_ns_per_transaction", "latency": True,
     "description": "one HTTP/1.1 request per new connection"},
]
GATEWAY_PATHS = ("proxy-plain", "tproxy-nft", "tproxy-ipt", "sk-lookup", "tc-sk-assign")
HTTP_PLAIN_RPS = {"http_rr": 10000.0, "http_crr": 4000.0}
# path -> (requests/s, CPU per request) as factors of the plain gateway's; latency follows 1 / rate.
HTTP_FACTORS = {"proxy-plain": (1.0, 1.0), "tproxy-nft": (0.90, 1.10), "tproxy-ipt": (0.88, 1.12),
                "sk-lookup": (0.95, 1.04), "tc-sk-assign": (0.96, 1.03), "baseline": (1.6, 0.5)}
L4_FACTOR = (1.5, 0.6)
WRK_AGREEMENT = 0.97     # pathbench ÷ wrk, requests/s


def _http_metrics(rps: float, cpu_ns: float) -> dict:
    return {"transactions_per_s": rps, "cpu_ns_per_transaction": cpu_ns, "duration_ns": 10_000_000_000,
            "latency_ns": {"p50": 1e9 / rps, "p90": 1.3e9 / rps, "p99": 2.2e9 / rps, "p999": 3e9 / rps}}


def http_gateway_run(reps: int = 6, l4: bool = True, wrk: bool = True, factors: dict | None = None,
                     noise: float = 0.002) -> dict:
    """A schema-2 run of http_rr and http_crr: every gateway path behind the gateway (haproxy) and, with l4,
    with pathbench's L4 proxy; baseline (no gateway); wrk rows beside the gateway rows; skipped tcp_rr rows
    behind the gateway (it carries HTTP only).  `noise` perturbs each value by up to ±noise (deterministic),
    so that intervals exist and are narrow."""
    factors = {**HTTP_FACTORS, **(factors or {})}
    cat = catalogue()
    for p in cat["paths"]:
        if p["name"] in GATEWAY_PATHS:
            p["parameters"] = list(p["parameters"]) + ["gateway"]
    cat["workloads"] += copy.deepcopy(HTTP_WORKLOADS)
    results, instances, order = [], [], 0

    def add(path, wl, rep, popts, metrics=None, status="ok", proof=None, reference=None, reason=None):
        nonlocal order
        r = {"path": path, "workload": wl, "repetition": rep, "order": order, "status": status,
             "path_options": dict(popts), "workload_options": {"flows": 1, "payload_bytes": 64, "duration_s": 10},
             "instance": len(instances), "reason": reason}
        instances.append({"index": len(instances), "path": path, "path_options": dict(popts), "repetition": rep,
                          "status": "ok", "reason": None, "configuration": configuration(path)})
        if metrics is not None:
            r["metrics"] = metrics
        if proof is not None:
            r["proof"] = proof
        if reference is not None:
            r["reference"] = reference
        order += 1
        results.append(r)
        return r

    for rep in range(reps):
        drift = 1 + 0.03 * ((rep * 5) % 7 - 3) / 3          # shared by every path of this repetition
        for wl in ("http_rr", "http_crr"):
            base_rps = HTTP_PLAIN_RPS[wl] * drift
            for path, (fr, fc) in factors.items():
                gws = [{}] if path == "baseline" else ([{"gateway": "haproxy"}] + ([{}] if l4 else []))
                for popts in gws:
                    k = (1.0, 1.0) if popts else L4_FACTOR
                    jit = 1 + noise * (((rep * 7 + sum(map(ord, path + wl + str(popts)))) % 5) - 2) / 2
                    rps, cpu = base_rps * fr * k[0] * jit, 40_000.0 * fc * k[1] / jit
                    n = int(rps * 10)
                    proof = {"ok": True}
                    if popts:
                        proof[("gateway")] = {"tool": "haproxy", "version": "2.6.12", "pid": 4242,
                                              "counters": {"connections": n if wl == "http_crr" else 1, "http_requests": n,
                                                           "http_2xx": n, "http_other": 0, "upstream_connects": n,
                                                           "upstream_reuses": 0, "tcp_sessions": 0}}
                    add(path, wl, rep, popts, _http_metrics(rps, cpu), proof=proof)
                    if wrk and popts:
                        add(path, wl, rep, popts, _http_metrics(rps / WRK_AGREEMENT, cpu * 0.9),
                            reference={"tool": "wrk", "version": "4.1.0", "command": "wrk -t 1 -c 1 -d 10 --latency"})
        for path in GATEWAY_PATHS:
            add(path, "tcp_rr", rep, {"gateway": "haproxy"}, status="skipped",
                reason="the L7 gateway (--gateway haproxy) carries HTTP workloads only")
    env = {"kernel_release": "6.12.0", "nproc": 2,
           "virtualization": {"pathbench_guest": False, "hypervisor": "kvm", "accelerator": None}}
    return {"schema_version": 2, "run_id": "api-gateway", "status": "complete", "started_utc": "2026-01-01T00:00:00Z",
            "catalogue": cat, "environment": env, "options": {"repetitions": reps, "gateway": "haproxy"},
            "results": results, "path_instances": instances}


OBSERVER_FACTORS = {"ebpf-empty": (0.99, 1.01), "ebpf-http": (0.98, 1.03), "gateway-log": (0.95, 1.08)}
OBSERVER_OWN_NS = {"ebpf-http": 1200.0, "gateway-log": 3000.0}


def http_observe_run(reps: int = 6, fail: tuple | None = None) -> dict:
    """A run of `make bench-api`'s observation step: http_rr and http_crr on baseline (no gateway) and on
    proxy-plain and tproxy-nft behind the gateway, each with --observe none, ebpf-empty, ebpf-http and (behind
    the gateway) gateway-log; proofs carry the observer's record (counts per route equal to the generator's,
    BPF program cost) and the gateway's CPU per request.  fail = (path, observe, rep): that repetition's
    observer missed requests (its proof failed, status failed)."""
    doc = http_gateway_run(reps=reps, l4=False, wrk=False,
                           factors={"proxy-plain": (1.0, 1.0), "tproxy-nft": (0.9, 1.1)})
    doc["results"] = [r for r in doc["results"] if r["path"] in ("baseline", "proxy-plain", "tproxy-nft")
                      and r["workload"] in ("http_rr", "http_crr")]
    for p in doc["catalogue"]["paths"]:
        if p["name"] in ("baseline", "proxy-plain", "tproxy-nft"):
            p["parameters"] = list(p["parameters"]) + ["observe"]
    routes = ["GET /api/v1/users", "GET /api/v1/orders/{id}", "POST /api/v1/orders"]
    extra, order = [], len(doc["results"])
    for base in list(doc["results"]):
        base["workload_options"]["http_routes"] = routes
        gw_proof = (base.get("proof") or {}).get("gateway")
        if gw_proof is not None:
            gw_proof["cpu_ns_per_request"] = 20_000.0 * (1 + 0.001 * base["repetition"])
        for obs, (fr, fc) in OBSERVER_FACTORS.items():
            if obs == "gateway-log" and "gateway" not in base["path_options"]:
                continue
            r = copy.deepcopy(base)
            r["path_options"]["observe"] = obs
            r["order"] = order
            order += 1
            m = r["metrics"]
            m["transactions_per_s"] *= fr
            m["cpu_ns_per_transaction"] *= fc
            for k in m["latency_ns"]:
                m["latency_ns"][k] /= fr
            n = int(m["transactions_per_s"] * 10)
            per = [n // 3, n // 3, n - 2 * (n // 3)]
            o = {"kind": obs, "ok": True, "hook": "tc ingress + egress of dut0 in the DUT, first on each (tcx)",
                 "programs": {h: {"run_cnt": 1000, "run_time_ns": 70_000, "ns_per_run": 70.0 + r["repetition"]}
                              for h in ("ingress", "egress")}}
            if obs != "ebpf-empty":
                o["routes"] = {rt: {"requests": c, "generator": c} for rt, c in zip(routes, per)}
            if obs == "ebpf-http":
                o["bpf_ns_per_request"] = OBSERVER_OWN_NS[obs] + r["repetition"]
                o["packets_per_request"] = 2.0
            if obs == "gateway-log":
                r["proof"]["gateway"]["cpu_ns_per_request"] += OBSERVER_OWN_NS[obs] + 10 * r["repetition"]
            if fail and (r["path"], obs, r["repetition"]) == fail:
                o["ok"] = False
                o["reason"] = "the eBPF observer counted 10 requests on 'GET /api/v1/users', the generator completed 12"
                r["status"] = "failed"
                r["reason"] = "proof of path failed: observer: " + o["reason"]
                r["proof"]["ok"] = False
            r["proof"] = {**(r.get("proof") or {"ok": True}), "observer": o}
            extra.append(r)
    doc["results"] += extra
    doc["options"]["observe"] = ["none", "ebpf-empty", "ebpf-http", "gateway-log"]
    return doc
