# SPDX-License-Identifier: Apache-2.0
"""`compare A B`: did B (e.g. a new kernel) get worse than A?

Configurations are matched on path, workload, reference tool, path options and workload options
(a sweep is compared point by point).  For every matched configuration and metric (primary, CPU per
unit of work, latency percentiles, connect latency):

* change = Hodges-Lehmann estimate of the relative change B vs A over the two runs' repetitions
  (the median of all log(b_j / a_i)), with its distribution-free 95% interval from the exact
  Mann-Whitney distribution (stats.shift).  95% needs at least 4 vs 4 repetitions (or 3 vs 5);
* **regression** = the 95% interval lies entirely on the bad side of 0 (a metric's direction decides
  which side is bad) AND the change is beyond --threshold-pct.  "improvement" likewise on the good
  side.  A significant change within the threshold is reported as such, never flagged.  A
  configuration ok in A and failed in B is a regression too.

* **among all rows**: a verdict is drawn from many rows at once (a default suite compares 98 gated
  configuration rows), and at 95% each an A/A pair "finds" about five by chance.  So a row is only
  flagged when it is also significant with the false discovery rate over all gated rows held at
  --fdr (5%, Benjamini-Hochberg over the rows' exact Mann-Whitney p-values); under no change at all
  that is the chance that the pair flags anything.  A row significant alone but not among all is
  "not significant among all rows", with its p and q.  On three back-to-back default suites of a
  noisy host day (tests/data/aa-noisy-*, docs/noise.md) the per-row rule flagged A/A "regressions"
  in two of three pairs (baseline tcp_crr -17.0% [-32.9, -1.8]); with the rate held, none.
  --per-row restores the per-row rule;
* **all paths**: per workload and gated metric, one more row pools every configuration (every path,
  every path option) of the workload into one index per repetition: the geometric mean over the
  configurations of value ÷ the configuration's median over both runs (pooled_index), compared like
  any row (exact test, same thresholds, in the same family).  The repetition is the unit because the
  paths of one repetition share its host state: pooling results as independent (a stratified test)
  flagged an A/A pair's tcp_crr CPU per transaction +12.7% on every path.  A change shared by every
  path — what a kernel or a driver does to the stack under all of them — is seen there far smaller
  than on any one path: on the noisy A/A pair, udp_pps made 15% slower on every path is flagged,
  where a single path's row needs about 50%;
* **detectable**: compare prints, per workload, the smallest change of the primary metric it would
  flag with 80% power at these two runs' own repetition-to-repetition noise, alone in one row and
  shared by all paths (stats.detectable_change on the rows' or the pooled indices' deviations): what a
  pass means.

Why a threshold at all, and why 8% by default: two back-to-back default suites on the development
VM (tests/data/aa-suite-1/2, an A/A pair: same binary, same machine, minutes apart) moved the
medians of rate and CPU metrics by a median 1.7%, 95th percentile 4.8%, at most 6.2% (97 rows); at
the widest interval 3 vs 3 repetitions give (90%), 12 of those 97 rows excluded 0 — run-level shifts
(xdp-redirect tcp_stream: -5.1% with every repetition of B below every one of A) that no
within-run interval can see.  A threshold of 7% or more flags none of them; 8% keeps a margin for
a machine with a little more drift.  Latency p50/p90/p99 moved at most 8.3% (p90), with intervals
excluding 0 up to 7.5%: the same 8% applies.  p99.9 moved up to 26% with its interval excluding 0,
so it has its own --tail-threshold-pct, 30% by default.  On three A/A pairs of 8-repetition runs no
95% interval excluded 0 at all.

What gates (exit 1): the rate and CPU-per-unit metrics. Latency percentiles and connect latency
are compared the same way and shown, but a change beyond their threshold is "changed (not gated)"
unless --gate latency: on a shared VM the tail moves with the host (an A/A pair of default suites
moved tcp_rr p99 by +61% with every interval excluding 0, docs/noise.md), so gating on it would make
every CI run a coin toss.

Machine speed: the harness times a fixed integer loop before and after every window
(metrics.system_state.cpu_speed_ns_per_mop). When the two runs' medians differ, B's machine
delivered more or fewer cycles per CPU-second than A's, and with the workload's CPU saturated (the
one-cpu default) every rate moves by that factor: in A/A pairs of default suites a run whose probe
was 4.9% slower measured every rate 3.8-7.0% lower. Rates and CPU per unit of work are therefore
compared per cycle — B's values scaled by the speed factor — whenever both runs saturated the
workload's CPU; the factor is printed, and --no-speed-adjust compares raw numbers. An injected or
kernel cost is not in the probe (it runs no packets), so adjusting keeps it.

Environment guard: performance numbers from different accelerators are not comparable (under TCG
tc-redirect came out 1.35x baseline against 1.07x natively), nor those of a `pathbench vm` guest and
of a run outside one.  Unless --allow-cross-environment is given, such a compare reports every
performance row as "not compared: ..." and exits 77 (the skip code of the project's conventions), so
that automation cannot take it for "no regression"; a configuration that stopped working is still a
regression (exit 1): functional truth holds across environments.  Under TCG compare says its
numbers are functional truth, not performance truth.

Exit: 1 regression, 0 none, 77 performance verdicts refused by the guard, 2 unreadable input.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass, field

from . import EXIT_FAIL, EXIT_NOT_COMPARED, EXIT_OK
from . import metrics as M
from .load import Run, load_run
from .stats import LEVEL_TEXT, bh_adjust, detectable_change, min_reps_for_shift, shift, shift_p_value
from .summary import GroupSummary, RunSummary, summarize

DEFAULT_THRESHOLD_PCT = 8.0
# The false discovery rate over the gated rows of one compare (Benjamini-Hochberg).  Each row's own
# 95% interval is shown, but a verdict is drawn among many: a default suite compares 86 gated rows,
# and at 5% each an A/A pair "finds" about four.  On three back-to-back default suites of a noisy
# host day (docs/noise.md) per-row 95% plus the threshold flagged A/A regressions in two of three
# pairs; with the rate controlled over the family, none.
DEFAULT_FDR = 0.05
GATED_DEFAULT = ("rate", "cpu")
NOT_GATED = "changed (not gated)"
DEFAULT_TAIL_THRESHOLD_PCT = 30.0
# Bulk streams move more between runs than request/response and packet rates: over six A/A pairs
# of default suites (8 x 0.3 s and 6 x 0.4 s, per-cycle adjusted) stream rates and CPU per byte
# moved up to 9.2% where every other workload stayed within 5.5% (docs/noise.md).
DEFAULT_STREAM_THRESHOLD_PCT = 12.0
TAIL_METRICS = ("latency_ns.p999",)
# The row that pools every configuration of a workload (all paths, all path options) for one metric:
# a change they share (a kernel slowing the stack under every path) is tested on one index per
# repetition (pooled_index), where each path's own row is too noisy to see it.
POOLED_PATH = "all paths"

# Statuses, in the order rows are sorted when printed (worst first).
REGRESSION = "REGRESSION"
NOW_FAILING = "REGRESSION (now failing)"
NOT_COMPARED = "not compared"
UNTESTABLE = "untestable"
NOW_SKIPPED = "not measured in B"
IMPROVEMENT = "improvement"
SMALL = "significant but within threshold"
NOT_SIG_FAMILY = "not significant among all rows"
NOT_SIG = "no significant change"
NEW_IN_B = "new in B"
ONLY_A = "only in A"
ONLY_B = "only in B"
NO_DATA = "no data"
STATUS_ORDER = [REGRESSION, NOW_FAILING, NOT_GATED, NOT_COMPARED, UNTESTABLE, NOW_SKIPPED, IMPROVEMENT, SMALL,
                NOT_SIG_FAMILY, NOT_SIG,
                NEW_IN_B, ONLY_A, ONLY_B, NO_DATA]
REGRESSIONS = (REGRESSION, NOW_FAILING)


@dataclass
class Row:
    workload: str
    path: str
    variant: str          # options that vary (path and workload), "" for none
    reference: str
    metric: str
    unit: str
    higher_is_better: bool
    n_a: int
    n_b: int
    median_a: float | None
    median_b: float | None
    change_pct: float | None       # Hodges-Lehmann relative change, %
    ci_lo_pct: float | None
    ci_hi_pct: float | None
    ci_level: float | None
    threshold_pct: float | None
    status: str
    note: str = ""
    signature: str = ""
    p_value: float | None = None      # exact two-sided Mann-Whitney p of this row alone
    q_value: float | None = None      # Benjamini-Hochberg adjusted over the gated rows (None: not in the family)

    @property
    def config(self) -> str:
        s = self.path if not self.reference else f"{self.path} [{self.reference}]"
        return s if not self.variant else f"{s} ({self.variant})"

    @property
    def key(self) -> tuple:
        """Identity of the configuration and metric across compares (detection power)."""
        return (self.workload, self.path, self.reference, self.signature or self.variant, self.metric)


@dataclass
class Comparison:
    a: Run
    b: Run
    rows: list[Row]
    warnings: list[str]
    guard: str | None               # why performance verdicts were refused, or None
    threshold_pct: float
    tail_threshold_pct: float
    notes: list[str] = field(default_factory=list)
    fdr: float | None = DEFAULT_FDR     # None: per-row verdicts (--per-row)
    family: int = 0                     # gated rows the rate is controlled over
    # workload -> {"one_row": %, "all_paths": %, "configurations": k}: smallest change flagged with 80% power
    detectable: dict = field(default_factory=dict)

    @property
    def regressions(self) -> list[Row]:
        return [r for r in self.rows if r.status in REGRESSIONS]

    @property
    def exit_code(self) -> int:
        if self.regressions:
            return EXIT_FAIL
        if self.guard:
            return EXIT_NOT_COMPARED
        return EXIT_OK


# ---- environment guard ----------------------------------------------------------------------------

def environment_guard(a: Run, b: Run) -> str | None:
    """Why A and B must not be compared for performance, or None."""
    why = []
    if a.accelerator != b.accelerator:
        why.append(f"the runs used different accelerators (A: {a.accelerator or 'none, ' + a.where}, "
                   f"B: {b.accelerator or 'none, ' + b.where}), and path-vs-path costs differ between them (under "
                   f"TCG tc-redirect came out 1.35× baseline against 1.07× natively)")
    if a.is_guest != b.is_guest:
        g = "A" if a.is_guest else "B"
        why.append(f"only {g} ran inside a pathbench VM guest: a guest's paths cost differently from the host's")
    return "; ".join(why) or None


def tcg_note(a: Run, b: Run) -> str | None:
    tcg = [t for t, r in (("A", a), ("B", b)) if r.accelerator == "tcg"]
    if not tcg:
        return None
    return (f"{' and '.join(tcg)} ran under TCG (software CPU emulation): its numbers are functional truth "
            f"(which paths work, their proofs), not performance truth")


# ---- matching ------------------------------------------------------------------------------------

def _metrics_of(g: GroupSummary) -> list[str]:
    ks = [k for k in (g.primary, g.cpu) if k] + list(M.LATENCY_KEYS) + list(M.CONNECT_KEYS)
    return [k for k in dict.fromkeys(ks) if k in g.values]


def _match(sa: RunSummary, sb: RunSummary) -> tuple[list[tuple], list[str]]:
    """Pairs (key_a, key_b) plus notes.  Same path, workload and reference tool, then in order: the
    same full set of path and workload options; the same varying-options label; and where each side
    has exactly one configuration left, those two, with a note that their options differ."""
    notes = []
    pairs = []
    rest_a = list(sa)
    rest_b = list(sb)
    base = lambda k: (k.workload, k.path, k.reference)
    for same in (lambda ka, kb: sa[ka].signature == sb[kb].signature,
                 lambda ka, kb: ka.options_label == kb.options_label):
        for ka in list(rest_a):
            kb = next((kb for kb in rest_b if base(kb) == base(ka) and same(ka, kb)), None)
            if kb is not None:
                pairs.append((ka, kb))
                rest_a.remove(ka)
                rest_b.remove(kb)
    ga: dict[tuple, list] = {}
    gb: dict[tuple, list] = {}
    for k in rest_a:
        ga.setdefault(base(k), []).append(k)
    for k in rest_b:
        gb.setdefault(base(k), []).append(k)
    for t in sorted(set(ga) & set(gb)):
        if len(ga[t]) == 1 and len(gb[t]) == 1:
            ka, kb = ga[t][0], gb[t][0]
            pairs.append((ka, kb))
            notes.append(f"{t[1]} / {t[0]}: options differ ({sa[ka].signature or 'none'} vs "
                         f"{sb[kb].signature or 'none'}); compared anyway")
            rest_a.remove(ka)
            rest_b.remove(kb)
    pairs += [(k, None) for k in rest_a] + [(None, k) for k in rest_b]
    return pairs, notes


def _classify(s, hib: bool, threshold: float) -> tuple[str, str]:
    if s.change is None:
        return NO_DATA, ""
    pct = s.change * 100
    worse = (pct < 0) if hib else (pct > 0)
    if not s.has_ci:
        note = s.reason
        if abs(pct) > threshold:
            note += f"; {'possible regression' if worse else 'possible improvement'} of {pct:+.1f}%"
        return UNTESTABLE, note
    lo, hi = s.lo * 100, s.hi * 100
    excludes = lo > 0 or hi < 0
    if not excludes:
        return NOT_SIG, ""
    if abs(pct) <= threshold:
        return SMALL, ""
    return (REGRESSION if worse else IMPROVEMENT), ""


def _speed_probe_median(run: Run) -> float | None:
    vals = []
    for r in run.results:
        st = (r.get("metrics") or {}).get("system_state") or {}
        p = st.get("cpu_speed_ns_per_mop") if isinstance(st, dict) else None
        if r.get("status") == "ok" and isinstance(p, dict) and M.is_num(p.get("before")) and M.is_num(p.get("after")):
            vals.append((p["before"] + p["after"]) / 2)
    if len(vals) < 6:
        return None
    vals.sort()
    return vals[len(vals) // 2]


def _cpu_saturated(run: Run) -> bool:
    """Did the workloads' CPUs stay busy through their windows (>= 95% in nine of ten results)?"""
    fracs = []
    for r in run.results:
        m = r.get("metrics") or {}
        st = m.get("system_state") if isinstance(m, dict) else None
        if not isinstance(st, dict):
            continue
        cpus, per, dur = st.get("workload_cpus"), st.get("per_cpu"), m.get("duration_ns")
        if r.get("status") != "ok" or not isinstance(cpus, list) or not cpus or not isinstance(per, list) \
                or not M.is_num(dur) or dur <= 0:
            continue
        busy = [c["busy_ns"] for c in per if isinstance(c, dict) and c.get("cpu") in cpus and M.is_num(c.get("busy_ns"))]
        if busy:
            fracs.append(sum(busy) / (len(busy) * dur))
    return len(fracs) >= 6 and sum(f >= 0.95 for f in fracs) >= 0.9 * len(fracs)


def speed_factor(a: Run, b: Run) -> tuple[float | None, str]:
    """(f, why): B's machine was f times as slow as A's (f > 1: slower), or None with the reason it
    is not used."""
    pa, pb = _speed_probe_median(a), _speed_probe_median(b)
    if pa is None or pb is None:
        return None, "a run has no CPU speed probe (older pathbench)"
    if not (_cpu_saturated(a) and _cpu_saturated(b)):
        return None, "the workloads' CPUs were not saturated in both runs, so rates do not scale with CPU speed"
    return pb / pa, ""


def compare_runs(a: Run, b: Run, threshold_pct: float = DEFAULT_THRESHOLD_PCT,
                 tail_threshold_pct: float = DEFAULT_TAIL_THRESHOLD_PCT, exclude_flagged: bool = False,
                 allow_cross_environment: bool = False, gate: tuple = GATED_DEFAULT,
                 speed_adjust: bool = True, stream_threshold_pct: float = DEFAULT_STREAM_THRESHOLD_PCT,
                 fdr: float | None = DEFAULT_FDR) -> Comparison:
    sa, sb = summarize(a, exclude_flagged), summarize(b, exclude_flagged)
    factor, factor_why = speed_factor(a, b) if speed_adjust else (None, "--no-speed-adjust")
    guard = None if allow_cross_environment else environment_guard(a, b)
    pairs, notes = _match(sa, sb)
    cat = b.catalogue
    rows: list[Row] = []
    strata: dict[tuple, list] = {}      # (workload, variant, metric) -> [(reps_a, reps_b), ...] of our own rows
    for ka, kb in pairs:
        ga, gb = sa.get(ka) if ka else None, sb.get(kb) if kb else None
        key = kb if ka is None else ka
        label = (kb or ka).options_label
        base = dict(workload=key.workload, path=key.path, variant=label, reference=key.reference,
                    signature=(ga or gb).signature)
        empty = dict(median_a=None, median_b=None, change_pct=None, ci_lo_pct=None, ci_hi_pct=None,
                     ci_level=None, threshold_pct=None)
        if ga is None or gb is None:
            g = ga or gb
            mk = g.primary or "-"
            met = M.METRICS.get(mk)
            rows.append(Row(**base, metric=mk, unit=met.unit if met else "", higher_is_better=True,
                            n_a=len(ga.ok) if ga else 0, n_b=len(gb.ok) if gb else 0, **empty,
                            status=ONLY_A if gb is None else ONLY_B, note="configuration not run in the other run"))
            continue
        if not ga.ok or not gb.ok:
            if ga.ok and not gb.ok:
                failed = any(r.get("status") == "failed" for r in gb.results)
                reason = next((str(r.get("reason")) for r in gb.results if r.get("reason")), "no reason recorded")
                status = NOW_FAILING if failed else NOW_SKIPPED
            elif gb.ok and not ga.ok:
                status, reason = NEW_IN_B, "had no successful result in A"
            else:
                status, reason = NO_DATA, "no successful result in either run"
            mk = ga.primary or gb.primary or "-"
            met = M.METRICS.get(mk)
            rows.append(Row(**base, metric=mk, unit=met.unit if met else "", higher_is_better=True,
                            n_a=len(ga.ok), n_b=len(gb.ok), **empty, status=status, note=reason))
            continue
        for mk in _metrics_of(ga):
            if mk not in gb.values:
                continue
            met = M.METRICS[mk]
            va, vb = ga.values[mk], gb.values[mk]
            kind = "rate" if mk in M.RATE_KEYS else "cpu" if mk in M.CPU_KEYS else "latency"
            if factor and kind == "rate":
                vb = [v * factor for v in vb]     # per cycle: B's slower machine did less per second
            elif factor and kind == "cpu":
                vb = [v / factor for v in vb]     # ... and spent more CPU time per unit
            stream = cat.workload(key.workload).pattern == "stream"
            thr = tail_threshold_pct if mk in TAIL_METRICS else stream_threshold_pct if stream else threshold_pct
            s = shift(va, vb)
            status, note = _classify(s, met.higher_is_better, thr)
            pv = shift_p_value(va, vb) if s.has_ci else None
            if not key.reference and kind in ("rate", "cpu") and not guard and s.has_ci:
                f = 1.0 if not factor else factor if kind == "rate" else 1 / factor
                strata.setdefault((key.workload, key.variant, mk), []).append(
                    (_by_repetition(ga, mk), _by_repetition(gb, mk, f)))
            if status == REGRESSION and kind not in gate:
                status, note = NOT_GATED, f"{kind} metrics are not gated (--gate to include them)"
            if guard and status not in (NO_DATA,):
                status, note = NOT_COMPARED, guard
            pct = lambda x: None if x is None else x * 100
            rows.append(Row(**base, metric=mk, unit=met.unit, higher_is_better=met.higher_is_better,
                            n_a=len(va), n_b=len(vb), median_a=ga.estimate(mk).median, median_b=gb.estimate(mk).median,
                            change_pct=pct(s.change), ci_lo_pct=pct(s.lo), ci_hi_pct=pct(s.hi), ci_level=s.level,
                            threshold_pct=thr, status=status, note=note, p_value=pv))
    for (wl, variant, mk), st in strata.items():
        if len(st) < 2:
            continue
        met = M.METRICS[mk]
        stream = cat.workload(wl).pattern == "stream"
        thr = stream_threshold_pct if stream else threshold_pct
        xa, xb = pooled_index(st)
        sh = shift(xa, xb)
        pv = shift_p_value(xa, xb)
        status, note = _classify(sh, met.higher_is_better, thr)
        if status == REGRESSION and _kind(mk) not in gate:
            status, note = NOT_GATED, f"{_kind(mk)} metrics are not gated (--gate to include them)"
        pct = lambda x: None if x is None else x * 100
        rows.append(Row(workload=wl, path=POOLED_PATH, variant=variant, reference="", signature=f"pooled {variant}",
                        metric=mk, unit=met.unit, higher_is_better=met.higher_is_better, n_a=sh.n_a, n_b=sh.n_b,
                        median_a=None, median_b=None, change_pct=pct(sh.change), ci_lo_pct=pct(sh.lo),
                        ci_hi_pct=pct(sh.hi), ci_level=sh.level, threshold_pct=thr, status=status,
                        note=(note + "; " if note else "") + f"{len(st)} configurations pooled per repetition",
                        p_value=pv if sh.has_ci else None))
    testable = [r for r in rows if r.p_value is not None and r.status not in (NOT_COMPARED, UNTESTABLE, NO_DATA)]
    family = [r for r in testable if _kind(r.metric) in gate]
    shown_only = [r for r in testable if _kind(r.metric) not in gate]   # their own family: shown, never gating
    for fam, what in ((family, "gated rows"), (shown_only, "rows not gated")):
        if fdr is None or not fam:
            continue
        for r, q in zip(fam, bh_adjust([r.p_value for r in fam])):
            r.q_value = q
            if r.status in (REGRESSION, IMPROVEMENT, SMALL, NOT_GATED) and q >= fdr:
                was = {REGRESSION: "a regression", IMPROVEMENT: "an improvement",
                       NOT_GATED: "a change"}.get(r.status, "")
                r.status = NOT_SIG_FAMILY
                r.note = ("pooled; " if r.path == POOLED_PATH else "") + (f"p = {r.p_value:.3g} alone, q = {q:.2g} among {len(fam)} {what} (FDR {fdr:g})"
                          + (f": {was} on its own interval" if was else ""))
    detectable = _detectable(sa, sb, pairs, factor, len(family), fdr, threshold_pct, stream_threshold_pct, cat) \
        if fdr is not None and not guard else {}
    rows.sort(key=lambda r: (cat.workload_sort_key(r.workload), r.variant, r.path != POOLED_PATH,
                             cat.path_sort_key(r.path), r.reference, _metric_rank(r.metric)))
    warnings = []
    if factor and abs(factor - 1) >= 0.005:
        warnings.append(f"machine speed: B's CPU speed probe was {(factor - 1) * 100:+.1f}% vs A's (median over all "
                        f"repetitions; + = slower); rate and CPU changes are per cycle, B scaled by it "
                        f"(--no-speed-adjust for raw numbers)")
    elif factor is None and speed_adjust:
        warnings.append(f"no machine-speed adjustment: {factor_why}")
    if guard:
        warnings.append(f"performance verdicts refused: {guard}. Every performance row is \"not compared\"; "
                        f"pass --allow-cross-environment to compare anyway (exit 77 otherwise).")
    note = tcg_note(a, b)
    if note:
        warnings.append(note)
    if fdr is not None and family:
        # The smallest p the exact test can give is complete separation, 2 / C(m+n, m); an isolated
        # regression needs p < fdr / family.
        own = [r for r in family if r.path != POOLED_PATH]
        floor = min((_best_p(r.n_a, r.n_b) for r in own), default=0.0)
        if floor >= fdr / len(family):
            n = next(n for n in range(2, 200) if _best_p(n, n) < fdr / len(family))
            warnings.append(f"with {own[0].n_a} vs {own[0].n_b} repetitions even complete separation (p = "
                            f"{floor:.2g}) cannot flag a regression confined to one row among {len(family)} gated rows at "
                            f"false discovery rate {fdr:g}; only changes across many rows can be flagged. "
                            f"{n} repetitions per run would do (or compare fewer configurations, or --per-row)")
    untestable = [r for r in rows if r.status == UNTESTABLE]
    if untestable:
        ns = sorted({(r.n_a, r.n_b) for r in untestable})
        warnings.append(f"{len(untestable)} rows have too few repetitions for a {LEVEL_TEXT} interval of the change "
                        f"(repetitions A vs B: {', '.join(f'{x} vs {y}' for x, y in ns)}; needs at least "
                        f"{min_reps_for_shift()} vs {min_reps_for_shift()}): they are reported as \"untestable\", never "
                        f"as regressions. Run pathbench with --repetitions 6 for a usable compare.")
    return Comparison(a, b, rows, warnings + notes, guard, threshold_pct, tail_threshold_pct, notes, fdr, len(family),
                      detectable)


def _best_p(m: int, n: int) -> float:
    return 2 / math.comb(m + n, m) if m and n else 1.0


def _by_repetition(g: GroupSummary, mk: str, factor: float = 1.0) -> dict[int, float]:
    out = {}
    for r in g.ok:
        v = M.value(r, mk)
        if M.is_num(v) and v > 0 and M.is_num(r.get("repetition")):
            out[int(r["repetition"])] = v * factor
    return out


def pooled_index(strata: list[tuple[dict, dict]]) -> tuple[list[float], list[float]]:
    """One number per repetition of each run for a set of configurations (the paths of a workload):
    the geometric mean over the configurations of value ÷ that configuration's median over both runs.
    The repetition, not the result, is the unit: the paths measured in one repetition share its
    state (on a noisy host whole repetitions run 20-40% fast or slow), so pooling results as if
    independent would call that state a change.  A change every path shares moves every index; a
    per-path difference in scale cancels in value ÷ median."""
    def index(side: int) -> list[float]:
        logs: dict[int, list[float]] = {}
        for st in strata:
            both = sorted(list(st[0].values()) + list(st[1].values()))
            if not both:
                continue
            n = len(both)
            med = both[n // 2] if n % 2 else math.sqrt(both[n // 2 - 1] * both[n // 2])
            for rep, v in st[side].items():
                logs.setdefault(rep, []).append(math.log(v / med))
        return [math.exp(sum(v) / len(v)) for _, v in sorted(logs.items())]
    return index(0), index(1)


def _kind(mk: str) -> str:
    return "rate" if mk in M.RATE_KEYS else "cpu" if mk in M.CPU_KEYS else "latency"


def _detectable(sa: RunSummary, sb: RunSummary, pairs, factor, family: int, fdr: float, threshold_pct: float,
                stream_threshold_pct: float, cat) -> dict:
    """Per workload: the smallest change of its primary metric this compare flags with 80% power when
    it is the only regression among `family` gated rows (Benjamini-Hochberg then needs p < fdr/family),
    at the repetition-to-repetition noise of these two runs: every configuration's log deviations from
    its own median, pooled over the workload's configurations and both runs (stats.detectable_change).
    A change spread over many rows is caught smaller."""
    pooled: dict[str, list[float]] = {}
    reps: dict[str, tuple[int, int]] = {}
    configs: dict[str, int] = {}
    per_rep: dict[str, list] = {}
    for ka, kb in pairs:
        if ka is None or kb is None:
            continue
        ga, gb = sa.get(ka), sb.get(kb)
        if not ga or not gb or not ga.ok or not gb.ok or not ga.primary or ga.primary not in gb.values \
                or ga.primary not in ga.values:
            continue
        for vals in (ga.values[ga.primary], gb.values[ga.primary]):
            vs = [v for v in vals if M.is_num(v) and v > 0]
            if len(vs) < 2:
                continue
            med = sorted(vs)[len(vs) // 2]
            pooled.setdefault(ka.workload, []).extend(math.log(v / med) for v in vs)
        reps.setdefault(ka.workload, (len(ga.values[ga.primary]), len(gb.values[ga.primary])))
        if not ka.reference and not ka.variant:
            configs[ka.workload] = configs.get(ka.workload, 0) + 1
            f = factor or 1.0
            per_rep.setdefault(ka.workload, []).append((_by_repetition(ga, ga.primary),
                                                        _by_repetition(gb, ga.primary, f)))
    out = {}
    for wl in sorted(pooled, key=cat.workload_sort_key):
        stream = cat.workload(wl).pattern == "stream"
        thr = (stream_threshold_pct if stream else threshold_pct) / 100
        n_a, n_b = reps[wl]
        d = detectable_change(pooled[wl], n_a, n_b, fdr / max(1, family), thr)
        k = configs.get(wl, 0)
        shared = None
        if k >= 2:
            xa, xb = pooled_index(per_rep[wl])
            res = [math.log(x / sorted(xs)[len(xs) // 2]) for xs in (xa, xb) for x in xs]
            shared = detectable_change(res, len(xa), len(xb), fdr / max(1, family), thr)
        out[wl] = {"one_row": None if d is None else round(d * 100, 1),
                   "all_paths": None if shared is None else round(shared * 100, 1), "configurations": k}
    return out


def _metric_rank(mk: str) -> int:
    order = list(M.RATE_KEYS) + list(M.CPU_KEYS) + list(M.LATENCY_KEYS) + list(M.CONNECT_KEYS)
    return order.index(mk) if mk in order else len(order)


# ---- detection power (the lead's calibrated-slowdown benchmark) ----------------------------------

@dataclass
class PowerRow:
    workload: str
    path: str
    variant: str
    reference: str
    metric: str
    aa_status: str
    ab_status: str
    aa_change_pct: float | None
    ab_change_pct: float | None
    ab_ci_lo_pct: float | None
    ab_ci_hi_pct: float | None
    false_positive: bool       # flagged as a regression between A and A' (no change was made)
    detected: bool             # flagged as a regression between A and B (cost injected)


def detection_power(a: Run, a_prime: Run, b: Run, threshold_pct: float = DEFAULT_THRESHOLD_PCT,
                    tail_threshold_pct: float = DEFAULT_TAIL_THRESHOLD_PCT, exclude_flagged: bool = False,
                    fdr: float | None = DEFAULT_FDR) -> dict:
    """Which configurations compare flags when a known cost was injected.

    a, a_prime: an A/A pair (same build, same machine, no injected cost); b: like A with
    options.inject_cost_ns_per_packet > 0.  Returns {"injected_cost_ns_per_packet", "threshold_pct",
    "rows": [PowerRow ...], "summary": {...}, "warnings": [...]}: per configuration and metric whether
    A vs A' flagged it (a false positive) and whether A vs B did (a detection)."""
    aa = compare_runs(a, a_prime, threshold_pct, tail_threshold_pct, exclude_flagged, allow_cross_environment=False,
                      fdr=fdr)
    ab = compare_runs(a, b, threshold_pct, tail_threshold_pct, exclude_flagged, allow_cross_environment=False, fdr=fdr)
    warnings = []
    inj = b.options.get("inject_cost_ns_per_packet")
    if not (M.is_num(inj) and inj > 0):
        warnings.append("B records no options.inject_cost_ns_per_packet > 0: detections cannot be attributed to an "
                        "injected cost")
    for r, name in ((a, "A"), (a_prime, "A'")):
        v = r.options.get("inject_cost_ns_per_packet")
        if M.is_num(v) and v > 0:
            warnings.append(f"{name} has an injected cost ({v} ns/packet): it is not a clean A/A reference")
    if aa.guard or ab.guard:
        warnings.append(f"environment guard: {aa.guard or ab.guard}")
    by_aa = {r.key: r for r in aa.rows}
    rows = []
    for r in ab.rows:
        if r.median_a is None and r.status not in REGRESSIONS:
            continue
        q = by_aa.get(r.key)
        rows.append(PowerRow(r.workload, r.path, r.variant, r.reference, r.metric,
                             q.status if q else "not in A'", r.status,
                             q.change_pct if q else None, r.change_pct, r.ci_lo_pct, r.ci_hi_pct,
                             bool(q and q.status in REGRESSIONS), r.status in REGRESSIONS))
    primary = {(r.workload, r.path, r.variant, r.reference): r.metric for r in ab.rows if r.metric in M.RATE_KEYS}
    prim_rows = [p for p in rows if primary.get((p.workload, p.path, p.variant, p.reference)) == p.metric]
    summary = {
        "configurations": len(prim_rows),
        "detected_primary": sum(p.detected for p in prim_rows),
        "false_positive_primary": sum(p.false_positive for p in prim_rows),
        "rows": len(rows),
        "detected_rows": sum(p.detected for p in rows),
        "false_positive_rows": sum(p.false_positive for p in rows),
        "untestable_rows": sum(1 for p in rows if p.ab_status == UNTESTABLE),
    }
    return {"injected_cost_ns_per_packet": inj if M.is_num(inj) else None, "threshold_pct": threshold_pct,
            "tail_threshold_pct": tail_threshold_pct, "rows": rows, "summary": summary, "fdr": fdr,
            "family": ab.family, "detectable_pct": ab.detectable,
            "warnings": warnings + aa.warnings[:1] + ab.warnings[:1]}


# ---- output -------------------------------------------------------------------------------------------

def _num(met_key: str, v: float | None) -> str:
    if v is None:
        return "–"
    met = M.METRICS.get(met_key)
    return M.fmt(met.display(v)) if met else M.fmt(v)


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:+.1f}%"


def _table(rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    header = ["workload", "path", "metric", "A", "B", "unit", "change", "95% CI", "n A/B", "verdict"]
    out = []
    for r in rows:
        met = M.METRICS.get(r.metric)
        arrow = "" if met is None else ("↑ better" if met.higher_is_better else "↓ better")
        ci = "–" if r.ci_lo_pct is None else f"[{r.ci_lo_pct:+.1f}%, {r.ci_hi_pct:+.1f}%]"
        out.append([r.workload + (f" ({r.variant})" if r.variant else ""),
                    r.path + (f" [{r.reference}]" if r.reference else ""),
                    f"{met.label} ({arrow})" if met else r.metric,
                    _num(r.metric, r.median_a), _num(r.metric, r.median_b), r.unit,
                    _pct(r.change_pct), ci, f"{r.n_a}/{r.n_b}",
                    r.status + (f": {r.note}" if r.note and r.status != NOT_COMPARED else "")])
    return header, out


def _text_table(header, rows) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _md_table(header, rows) -> str:
    esc = lambda s: str(s).replace("|", "\\|")
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
                     + ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows])


def run_line(tag: str, run: Run) -> str:
    return (f"{tag}: run {run.run_id}, Linux {run.kernel}, {run.where}, started {run.started or '?'} "
            f"({run.filename})")


ENV_KEYS = ("kernel_release", "cpu_model", "nproc", "cpu_pinning", "offloads")


def env_differences(a: Run, b: Run) -> list[str]:
    diffs = []
    for k in ENV_KEYS:
        va, vb = a.environment.get(k), b.environment.get(k)
        if json.dumps(va, sort_keys=True) != json.dumps(vb, sort_keys=True):
            diffs.append(k)
    oa, ob = a.options, b.options
    for k in ("duration_s", "repetitions", "tcp_cc", "pinning"):
        if oa.get(k) != ob.get(k):
            diffs.append(f"options.{k}")
    return diffs


def _summary(rows: list[Row]) -> dict:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    return {s: counts[s] for s in STATUS_ORDER if s in counts}


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def rule_text(c: Comparison) -> str:
    fam = (f" AND significant among all {c.family} gated rows (Benjamini-Hochberg, false discovery rate "
           f"{c.fdr:g}: q < {c.fdr:g})" if c.fdr is not None else " (each row on its own: --per-row)")
    return (f"regression = the {LEVEL_TEXT} interval of the change (Hodges-Lehmann, distribution-free) entirely on the "
            f"bad side{fam} AND the change beyond {c.threshold_pct:g}% ({c.tail_threshold_pct:g}% for p99.9); "
            f"change = B vs A")


def detectable_text(c: Comparison) -> str | None:
    if not c.detectable:
        return None
    pct = lambda d: "over 100%" if d is None else f"{d:.0f}%"
    parts = [f"{wl} {pct(d['one_row'])}" + (f" (on all {d['configurations']} paths: {pct(d['all_paths'])})"
                                            if d["configurations"] >= 2 else "")
             for wl, d in c.detectable.items()]
    return ("detectable at these runs' noise (smallest change of the primary metric flagged with 80% power, at a "
            f"false discovery rate of {c.fdr:g} over {c.family} gated rows: in one configuration alone; in parentheses "
            "shared by every path, as a kernel change would be, through the pooled row): " + ", ".join(parts))


def main(args) -> int:
    a, b = load_run(args.a), load_run(args.b)
    if args.threshold_pct < 0 or args.tail_threshold_pct < 0:
        print("pathbench-analysis: error: --threshold-pct and --tail-threshold-pct must be >= 0", file=sys.stderr)
        return 2
    gate = tuple(g.strip() for g in getattr(args, "gate", "rate,cpu").split(",") if g.strip())
    bad = [g for g in gate if g not in ("rate", "cpu", "latency")]
    if bad:
        print(f"pathbench-analysis: error: --gate {','.join(bad)}: want rate, cpu, latency", file=sys.stderr)
        return 2
    fdr = None if getattr(args, "per_row", False) else getattr(args, "fdr", DEFAULT_FDR)
    c = compare_runs(a, b, args.threshold_pct, args.tail_threshold_pct, args.exclude_flagged,
                     args.allow_cross_environment, gate, not getattr(args, "no_speed_adjust", False),
                     getattr(args, "stream_threshold_pct", DEFAULT_STREAM_THRESHOLD_PCT), fdr)
    rows, regressions, code = c.rows, c.regressions, c.exit_code
    diffs = env_differences(a, b)

    collapsed = (ONLY_A, ONLY_B, NO_DATA)
    quiet = (NOT_SIG, SMALL, NOT_COMPARED)
    # Untestable rows are shown for the primary metrics and where the point estimate is beyond the
    # threshold (a possible regression); the rest would repeat the same warning dozens of times.
    shown = rows if args.all else [r for r in rows if r.status not in collapsed and (
        r.metric in M.RATE_KEYS or (r.status not in quiet and (r.status != UNTESTABLE or "possible" in r.note)))]
    header, table = _table(shown)
    summary = _summary(rows)
    print(run_line("A (before)", a))
    print(run_line("B (after) ", b))
    if a.kernel != b.kernel:
        print(f"kernel: A Linux {a.kernel} -> B Linux {b.kernel}")
    if diffs:
        print(f"note: the runs differ in {', '.join(diffs)}")
    print(f"rule: {rule_text(c)}")
    print()
    print(_text_table(header, table))
    if not args.all:
        for st, what in ((ONLY_A, "only in A (not compared)"), (ONLY_B, "only in B (not compared)"),
                         (NO_DATA, "no successful result in either run")):
            by_path: dict[str, list[str]] = {}
            for r in rows:
                if r.status == st:
                    by_path.setdefault(r.config, []).append(r.workload)
            if by_path:
                print(f"{what}: " + "; ".join(f"{p} ({', '.join(w)})" for p, w in sorted(by_path.items())))
        hidden = len(rows) - len(shown) - sum(1 for r in rows if r.status in collapsed)
        if hidden:
            print(f"({hidden} rows without a verdict of interest hidden: no significant change, within threshold, "
                  f"untestable without a possible regression{', not compared' if c.guard else ''}; --all shows every row)")
    print()
    dt = detectable_text(c)
    if dt:
        print(dt)
    for w in c.warnings:
        print(f"warning: {w}")
    if not any(r.median_a is not None and r.median_b is not None for r in rows):
        print("warning: the two runs have no successful path x workload in common: nothing was compared")
    print("summary: " + (", ".join(f"{n} {s}" for s, n in summary.items()) or "no rows"))
    if regressions:
        names = [f"{r.config} / {r.workload} {M.METRICS[r.metric].label if r.metric in M.METRICS else r.metric}"
                 f"{'' if r.change_pct is None else f' {r.change_pct:+.1f}%'}" for r in regressions]
        more = f"; and {len(names) - 8} more" if len(names) > 8 else ""
        print(f"RESULT: {len(regressions)} regression(s) in B: " + "; ".join(names[:8]) + more)
    elif c.guard:
        print("RESULT: not compared (different environments; exit 77): no performance verdict")
    else:
        n_un = sum(1 for r in rows if r.status == UNTESTABLE)
        print("RESULT: no significant regression" + (f" ({n_un} row(s) untestable at {LEVEL_TEXT}; see the warning)"
                                                      if n_un else ""))

    meta = lambda r: {"file": r.filename, "run_id": r.run_id, "kernel_release": r.kernel, "started_utc": r.started,
                      "where": r.where, "virtualization": r.virtualization or None}
    if args.json:
        doc = {"a": meta(a), "b": meta(b), "threshold_pct": c.threshold_pct,
               "tail_threshold_pct": c.tail_threshold_pct, "level": 0.95, "rule": rule_text(c),
               "fdr": c.fdr, "family": c.family, "detectable_pct": c.detectable,
               "environment_guard": c.guard, "environment_differs_in": diffs, "warnings": c.warnings,
               "summary": summary, "exit_code": code,
               "rows": [{k: _clean(v) for k, v in asdict(r).items()} for r in rows]}
        _write(args.json, json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n")
    if args.markdown:
        h, t = _table(rows)
        result = ('%d regression(s)' % len(regressions) if regressions else
                  ('not compared (different environments)' if c.guard else 'no significant regression'))
        md = [f"# pathbench compare: {b.run_id} (Linux {b.kernel}) against {a.run_id} (Linux {a.kernel})", "",
              f"- A (before): run {a.run_id}, Linux {a.kernel}, {a.where}, started {a.started}",
              f"- B (after): run {b.run_id}, Linux {b.kernel}, {b.where}, started {b.started}",
              f"- rule: {rule_text(c)}",
              f"- result: **{result}**"]
        md += [f"- note: the runs differ in {', '.join(diffs)}"] if diffs else []
        md += [f"- {detectable_text(c)}"] if detectable_text(c) else []
        md += [f"- warning: {w}" for w in c.warnings]
        md += ["", _md_table(h, t), ""]
        _write(args.markdown, "\n".join(md))
    return code


def power_main(args) -> int:
    a, a2, b = load_run(args.a), load_run(args.a_prime), load_run(args.b)
    fdr = None if getattr(args, "per_row", False) else getattr(args, "fdr", DEFAULT_FDR)
    res = detection_power(a, a2, b, args.threshold_pct, args.tail_threshold_pct, args.exclude_flagged, fdr)
    s = res["summary"]
    print(run_line("A  ", a))
    print(run_line("A' ", a2))
    print(run_line("B  ", b))
    print(f"injected cost in B: {res['injected_cost_ns_per_packet']} ns/packet; threshold {res['threshold_pct']:g}%"
          + (f"; false discovery rate {fdr:g} over {res['family']} gated rows" if fdr is not None else "; per row"))
    header = ["workload", "path", "metric", "A vs A'", "A vs B", "change A->B", "95% CI"]
    rows = [[p.workload + (f" ({p.variant})" if p.variant else ""), p.path + (f" [{p.reference}]" if p.reference else ""),
             M.METRICS[p.metric].label if p.metric in M.METRICS else p.metric, p.aa_status, p.ab_status,
             _pct(p.ab_change_pct),
             "–" if p.ab_ci_lo_pct is None else f"[{p.ab_ci_lo_pct:+.1f}%, {p.ab_ci_hi_pct:+.1f}%]"]
            for p in res["rows"] if args.all or p.metric in M.RATE_KEYS or p.detected or p.false_positive]
    print()
    print(_text_table(header, rows))
    print()
    for w in res["warnings"]:
        print(f"warning: {w}")
    print(f"summary: primary metric flagged in {s['detected_primary']} of {s['configurations']} configurations "
          f"(false positives A vs A': {s['false_positive_primary']}); all metrics: {s['detected_rows']} of "
          f"{s['rows']} rows flagged, {s['false_positive_rows']} false positives, {s['untestable_rows']} untestable")
    if args.json:
        doc = dict(res, rows=[{k: _clean(v) for k, v in asdict(p).items()} for p in res["rows"]])
        _write(args.json, json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n")
    return EXIT_OK


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
