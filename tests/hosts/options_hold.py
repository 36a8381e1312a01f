#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""options_hold.py CHECK RUN [ARG]: does a --hosts run do what its options say (issue 24: run.json
recorded --tcp-buffer-bytes while the agents ran under autotuning)? Exit 1 with one line per
problem, 0 with a summary line.

  buffers RUN N     N bytes (0: autotuning): options and every row's workload_options say N; every TCP
                    row's generator socket (metrics.system_state.tcp_buffers, read back on the client
                    host) has 2N send and receive buffers (the kernel doubles SO_SNDBUF/SO_RCVBUF), or
                    autotuning; every proxy proof's proxy_tcp_buffer_bytes is N (the DUT host's proxy)
  adaptive RUN      --until-ci-pct: options.adaptive set, stop.reason one of the adaptive ones, the
                    repetitions run at least the minimum and stop.detail the last interval check
  injected RUN NS   --inject-cost-ns-per-packet NS: every ok path instance records its injected cost
"""
import json
import sys


def load(p):
    with open(p) as f:
        return json.load(f)


def rows_ok(doc, problems):
    rows = [r for r in doc["results"]]
    for r in rows:
        if r.get("status") != "ok":
            problems.append(f"{r['path']} {r['workload']}: {r.get('status')}: {r.get('reason')}")
    if not rows:
        problems.append("no results")
    return [r for r in rows if r.get("status") == "ok"]


def buffers(doc, n, problems):
    want_opt = n if n else "autotuning"
    if doc["options"].get("tcp_buffer_bytes") != want_opt:
        problems.append(f"options.tcp_buffer_bytes {doc['options'].get('tcp_buffer_bytes')!r}, want {want_opt!r}")
    tcp = {w["name"] for w in doc["catalogue"]["workloads"] if w["protocol"] == "tcp" and w["transport"] == "socket"}
    seen = 0
    for r in rows_ok(doc, problems):
        where = f"{r['path']} {r['workload']}"
        if r["workload_options"].get("tcp_buffer_bytes") != n:
            problems.append(f"{where}: workload_options.tcp_buffer_bytes {r['workload_options'].get('tcp_buffer_bytes')}")
        if r["workload"] in tcp:
            b = (r["metrics"].get("system_state") or {}).get("tcp_buffers")
            if not isinstance(b, dict):
                problems.append(f"{where}: no system_state.tcp_buffers")
                continue
            seen += 1
            if b.get("autotuning") != (n == 0):
                problems.append(f"{where}: tcp_buffers.autotuning {b.get('autotuning')}, want {n == 0}")
            if n and (b.get("sndbuf") != 2 * n or b.get("rcvbuf") != 2 * n):
                problems.append(f"{where}: the generator's socket has sndbuf {b.get('sndbuf')} rcvbuf {b.get('rcvbuf')}, "
                                f"want {2 * n} (2 x {n})")
            if not n and b.get("sndbuf", 0) >= 2 * 1048576:
                problems.append(f"{where}: sndbuf {b.get('sndbuf')} under autotuning: not the kernel's tcp_wmem default")
        proof = r.get("proof") or {}
        if "proxy_tcp_buffer_bytes" in proof and proof["proxy_tcp_buffer_bytes"] != n:
            problems.append(f"{where}: the proxy's buffers {proof['proxy_tcp_buffer_bytes']}, want {n}")
    if not seen:
        problems.append("no TCP row to check the buffers of")
    return f"{seen} TCP rows with {'autotuning' if not n else f'{n}-byte buffers'} on the client host"


def adaptive(doc, problems):
    a = doc["options"].get("adaptive")
    stop = doc.get("stop") or {}
    if not isinstance(a, dict):
        problems.append("options.adaptive is not set")
        return ""
    if stop.get("reason") not in ("target interval reached", "time budget exhausted", "max repetitions reached"):
        problems.append(f"stop.reason {stop.get('reason')!r} is not an adaptive stop")
    if stop.get("repetitions", 0) < a["min_repetitions"]:
        problems.append(f"stopped after {stop.get('repetitions')} repetitions, below the minimum {a['min_repetitions']}")
    if not (stop.get("detail") or {}).get("configurations"):
        problems.append(f"stop.detail has no interval check: {stop.get('detail')}")
    rows_ok(doc, problems)
    return f"stopped: {stop.get('reason')} after {stop.get('repetitions')} repetitions"


def injected(doc, ns, problems):
    n = 0
    for pi in doc["path_instances"]:
        if pi.get("status") != "ok":
            continue
        c = pi.get("injected_cost")
        if not isinstance(c, dict) or c.get("target_ns_per_packet") != ns:
            problems.append(f"instance {pi['index']} ({pi['path']}): injected_cost {c}")
        n += 1
    if not n:
        problems.append("no path instance ran")
    rows_ok(doc, problems)
    return f"{n} instances with the injected cost recorded"


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    check, doc = argv[1], load(argv[2])
    problems = []
    if check == "buffers":
        summary = buffers(doc, int(argv[3]), problems)
    elif check == "adaptive":
        summary = adaptive(doc, problems)
    elif check == "injected":
        summary = injected(doc, float(argv[3]), problems)
    else:
        print(f"unknown check {check}")
        return 2
    for p in problems:
        print(f"FAIL {check}: {p}")
    if not problems:
        print(f"{check}: {summary}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
