# SPDX-License-Identifier: Apache-2.0
"""The cross-kernel report's cost-mode sections (docs/cost.md), used by `kernels` when its runs
were made in cost mode (`make bench-cost KERNELS="A B ..."`):

* instructions per unit of work per path x workload on each kernel, and the change from the
  kernel before it (columns ordered by release) against the cost bound of the two runs
  (analysis/cost.py: the same rule `compare` gates with), with a list of every change beyond it and,
  where none is, "no change larger than X%";
* where the instructions go, from profiled runs (`pathbench run --kernel-profile-ns N`, the second
  pass of bench-cost): per path x workload the top kernel functions in instructions per unit on
  each kernel; per path, what it adds over the reference path; per pair of neighbouring kernels,
  the functions whose instructions per unit moved most; and the profiler's own cost (the profiled
  run against the unprofiled one on the same kernel).

A function's instructions per unit are its share of the window's samples times the profiled run's
instructions per unit (the one vCPU is saturated, so samples cover the whole window).  The sampling
error of a share is binomial; a move is called out only beyond two of its standard errors.
"""

from __future__ import annotations

import math

from . import cost as C
from . import metrics as M
from .load import Run
from .summary import RunSummary

USER = "[user space]"
TOP = 8           # functions per path x workload table
MOVED = 5         # functions per change
ADDED = 5         # functions a path adds over the reference


def _pct(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x * 100:+.{digits}f}%"


def _default_groups(S: RunSummary, w: str):
    return [g for g in S.own(w) if not g.key.variant and not g.key.pvariant]


def cost_changes(runs: list[Run], sums: list[RunSummary], cat) -> tuple[dict, list]:
    """(workload, path) -> per run (median, change vs previous run or None), and every change
    (w, path, i, Change) between neighbouring runs."""
    table: dict[tuple[str, str], list] = {}
    changes = []
    wls = sorted({w for S in sums for w in S.workloads()}, key=cat.workload_sort_key)
    for w in wls:
        ps = sorted({g.key.path for S in sums for g in _default_groups(S, w)}, key=cat.path_sort_key)
        for p in ps:
            cells = []
            for i, S in enumerate(sums):
                g = S.get(M.GroupKey(w, p))
                if g is None or not g.ok or g.primary not in g.values:
                    cells.append((None, None))
                    continue
                med = g.estimate(g.primary).median
                ch = None
                if i > 0:
                    prev = sums[i - 1].get(M.GroupKey(w, p))
                    if prev is not None and prev.ok and g.primary in prev.values:
                        typical = max(sums[i - 1].typical_spread(w, g.primary), S.typical_spread(w, g.primary))
                        ch = C.change(prev.values[g.primary], g.values[g.primary], typical)
                        changes.append((w, p, i, ch))
                cells.append((med, ch))
            table[(w, p)] = cells
    return table, changes


def section_cost(doc, runs: list[Run], sums: list[RunSummary], cat, cols: list[str]) -> None:
    doc.h2("Instructions per unit of work, per kernel")
    doc.p("Cost mode: every figure is an instruction count (a qemu guest with -icount shift=0, one vCPU; "
          "docs/cost.md). Median over each run's repetitions; from the second kernel on, in parentheses, the "
          f"change from the kernel before it and its bound ({C.RULE}). **Bold**: beyond the bound.")
    table, changes = cost_changes(runs, sums, cat)
    for w in sorted({k[0] for k in table}, key=cat.workload_sort_key):
        unit = ""
        rows = []
        for (ww, p), cells in table.items():
            if ww != w:
                continue
            g = next((S.get(M.GroupKey(w, p)) for S in sums if S.get(M.GroupKey(w, p)) is not None), None)
            met = M.METRICS.get(g.primary) if g is not None and g.primary else None
            unit = met.unit if met else unit
            row = [f"`{p}`"]
            for med, ch in cells:
                if med is None:
                    row.append("not run / failed")
                    continue
                txt = M.fmt(med)
                if ch is not None and ch.change is not None:
                    c = f"{_pct(ch.change)} ±{ch.bound * 100:.2g}%"
                    txt += f" (**{c}**)" if ch.beyond else f" ({c})"
                row.append(txt)
            rows.append(row)
        doc.h3(f"{w} [{unit}]" if unit else w)
        doc.table(["path"] + cols, rows)
    if len(runs) < 2:
        return
    doc.h3("Changes between neighbouring kernels")
    items = []
    for i in range(1, len(runs)):
        pair = [c for c in changes if c[2] == i and c[3].change is not None]
        beyond = sorted([c for c in pair if c[3].beyond], key=lambda c: -abs(c[3].change))
        head = f"{cols[i - 1]} → {cols[i]}"
        if beyond:
            items.append(head + f": {len(beyond)} of {len(pair)} path x workload rows changed beyond their bound: " +
                         "; ".join(f"{w} `{p}` {_pct(ch.change)} (±{ch.bound * 100:.2g}%)" for w, p, _, ch in beyond))
        elif pair:
            worst = max(pair, key=lambda c: abs(c[3].change))
            items.append(head + f": no change beyond its bound among {len(pair)} rows; no change larger than "
                         f"{abs(worst[3].change) * 100:.2g}% (the largest: {worst[0]} `{worst[1]}` "
                         f"{_pct(worst[3].change)}, bound ±{worst[3].bound * 100:.2g}%)")
    doc.ul(items)


# ---- profiles ------------------------------------------------------------------------------------

class Profile:
    """One configuration's summed profile over its repetitions in a profiled run."""

    def __init__(self, results: list[dict], ipu: float | None):
        self.samples = 0
        self.fn: dict[str, int] = {}
        self.period = None
        for r in results:
            kp = (r.get("metrics") or {}).get("kernel_profile")
            if not isinstance(kp, dict):
                continue
            self.period = kp.get("period_ns")
            self.samples += int(kp.get("samples") or 0)
            self.fn[USER] = self.fn.get(USER, 0) + int(kp.get("user_samples") or 0)
            for f in kp.get("functions") or []:
                name = f["function"] + (f" [{f['module']}]" if f.get("module") else "")
                self.fn[name] = self.fn.get(name, 0) + int(f.get("samples") or 0)
        self.ipu = ipu

    def __bool__(self):
        return self.samples > 0 and bool(self.ipu)

    def share(self, name: str) -> float:
        return self.fn.get(name, 0) / self.samples if self.samples else 0.0

    def per_unit(self, name: str) -> float:
        return self.share(name) * (self.ipu or 0.0)

    def se_per_unit(self, name: str) -> float:
        """Binomial standard error of per_unit."""
        if not self.samples:
            return 0.0
        s = self.share(name)
        return math.sqrt(max(s * (1 - s), 0.0) / self.samples) * (self.ipu or 0.0)

    def top(self, n: int) -> list[str]:
        return [k for k, _ in sorted(self.fn.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def profiles_of(run: Run, S: RunSummary) -> dict[tuple[str, str], Profile]:
    out = {}
    for k, g in S.items():
        if k.reference or k.variant or k.pvariant or not g.ok or g.primary not in g.values:
            continue
        p = Profile(g.ok, g.estimate(g.primary).median)
        if p:
            out[(k.workload, k.path)] = p
    return out


def match_profiles(runs: list[Run], prof_runs: list[Run]) -> list[Run | None]:
    """The profiled run of each run's kernel (by kernel release), or None."""
    by_kernel = {}
    for pr in prof_runs:
        by_kernel.setdefault(pr.kernel, pr)
    return [by_kernel.get(r.kernel) for r in runs]


def _moved(a: Profile, b: Profile, n: int) -> list[tuple[str, float, float]]:
    """Functions by |instructions per unit in b − in a|, beyond two standard errors: (name, delta, se)."""
    names = set(a.fn) | set(b.fn)
    out = []
    for f in names:
        d = b.per_unit(f) - a.per_unit(f)
        se = math.sqrt(a.se_per_unit(f) ** 2 + b.se_per_unit(f) ** 2)
        if abs(d) > 2 * se and d != 0:
            out.append((f, d, se))
    out.sort(key=lambda t: -abs(t[1]))
    return out[:n]


def section_profiles(doc, runs: list[Run], sums: list[RunSummary], prof_runs: list[Run], prof_sums: list[RunSummary],
                     cat, cols: list[str]) -> None:
    matched = match_profiles(runs, prof_runs)
    psum_of = {id(r): S for r, S in zip(prof_runs, prof_sums)}
    profs = [profiles_of(pr, psum_of[id(pr)]) if pr is not None else {} for pr in matched]
    doc.h2("Where the instructions go")
    if not any(profs):
        doc.p("No profiled run was given (`kernels --profiles DIR...`, or `make bench-cost` with PROFILE=1): "
              "no attribution to kernel functions.")
        return
    period = next((p.period for d in profs for p in d.values() if p.period), None)
    doc.p(f"From a second, profiled run per kernel (`--kernel-profile-ns {period}`: a BPF program on the "
          f"cpu-clock event counts where every {M.fmt(period)}th instruction falls, symbolized with /proc/kallsyms). "
          "A function's instructions per unit = its share of the window's samples × the profiled run's "
          "instructions per unit; the profile's whole machine is one guest, so the generator, the responder and "
          "the path are all in it. `[user space]` is every sample in user mode. Shares are exact up to sampling "
          "error (a share s of N samples: ±√(s(1−s)/N)).")
    # The profiler's own cost.
    rows = []
    for run, S, pr, c in zip(runs, sums, matched, cols):
        if pr is None:
            continue
        ps = psum_of[id(pr)]
        rs = []
        for k, g in S.items():
            if k.reference or k.variant or k.pvariant or not g.ok or g.primary not in g.values:
                continue
            h = ps.get(M.GroupKey(k.workload, k.path))
            if h is None or not h.ok or h.primary not in h.values:
                continue
            rs.append(h.estimate(h.primary).median / g.estimate(g.primary).median - 1)
        if rs:
            rs.sort()
            rows.append([c, str(len(rs)), _pct(rs[len(rs) // 2], 1), _pct(rs[0], 1), _pct(rs[-1], 1)])
    if rows:
        doc.h3("The profiler's own cost")
        doc.p("Instructions per unit of the profiled run ÷ the unprofiled run of the same kernel, over its "
              "path x workload rows: what sampling adds (an interrupt, the perf and BPF handlers per sample). "
              "The attribution below is of the profiled run; read its shares, and its absolute figures with this "
              "overhead in mind (the sampling handlers show up as functions of their own).")
        doc.table(["kernel", "rows", "median", "min", "max"], rows)

    keys = sorted({k for d in profs for k in d}, key=lambda k: (cat.workload_sort_key(k[0]), cat.path_sort_key(k[1])))
    doc.h3("Top functions per path, in instructions per unit of work")
    for w, p in keys:
        ps = [d.get((w, p)) for d in profs]
        names = []
        for pf in ps:
            for f in (pf.top(TOP) if pf else []):
                if f not in names:
                    names.append(f)
        names = sorted(names, key=lambda f: -max((pf.per_unit(f) if pf else 0.0) for pf in ps))[:TOP + 2]
        rows = [[f"`{f}`"] + [f"{M.fmt(pf.per_unit(f))} ({pf.share(f) * 100:.1f}%)" if pf else "–" for pf in ps]
                for f in names]
        rows.append(["all (instructions per unit)"] + [M.fmt(pf.ipu) if pf else "–" for pf in ps])
        doc.p(f"**{w}, `{p}`**")
        doc.table(["function"] + cols, rows)

    ref = cat.reference_path
    added_rows = []
    for i, (d, c) in enumerate(zip(profs, cols)):
        for w, p in keys:
            a, b = d.get((w, ref)), d.get((w, p))
            if p == ref or not a or not b:
                continue
            mv = [m for m in _moved(a, b, ADDED) if m[1] > 0]
            added_rows.append([c, w, f"`{p}`", _pct(b.ipu / a.ipu - 1, 1),
                               "; ".join(f"`{f}` +{M.fmt(dv)} (±{M.fmt(se)})" for f, dv, se in mv) or
                               "nothing beyond sampling error"])
    if added_rows:
        doc.h3(f"What each path adds over `{ref}`")
        doc.p(f"The functions whose instructions per unit grew most from `{ref}` to the path, within each kernel's "
              "profiled run (beyond two standard errors).")
        doc.table(["kernel", "workload", "path", "all (profiled)", "functions that add the most"], added_rows)

    if len(runs) < 2:
        return
    table, changes = cost_changes(runs, sums, cat)
    doc.h3("Functions behind each change between kernels")
    doc.p("For every path x workload whose instructions per unit changed beyond its bound, or by more than 2%, "
          "between neighbouring kernels: the functions whose instructions per unit moved most (beyond two "
          "standard errors of sampling).")
    rows = []
    for w, p, i, ch in changes:
        if ch.change is None or not (ch.beyond or abs(ch.change) > 0.02):
            continue
        a, b = profs[i - 1].get((w, p)), profs[i].get((w, p))
        if not a or not b:
            rows.append([f"{cols[i - 1]} → {cols[i]}", w, f"`{p}`", _pct(ch.change), "no profile on both kernels"])
            continue
        mv = _moved(a, b, MOVED)
        rows.append([f"{cols[i - 1]} → {cols[i]}", w, f"`{p}`", _pct(ch.change),
                     "; ".join(f"`{f}` {'+' if dv > 0 else '−'}{M.fmt(abs(dv))} ({a.share(f) * 100:.1f}% → "
                               f"{b.share(f) * 100:.1f}%)" for f, dv, _ in mv) or "nothing beyond sampling error"])
    if rows:
        doc.table(["kernels", "workload", "path", "change", "functions (instructions per unit; share a → b)"], rows)
    else:
        doc.p("No change beyond its bound or above 2%.")
