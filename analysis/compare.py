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

What gates (exit 1): the rate and CPU-per-unit metrics, and in cost mode instructions per unit.
Latency percentiles and connect latency are compared the same way and shown, but a change beyond their threshold is "changed (not gated)"
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

from dataclasses import dataclass, field, replace

from . import EXIT_FAIL, EXIT_NOT_COMPARED, EXIT_OK
from . import metrics as M
from .cost import change as cost_change
from .load import Run
from .compare_noise import _best_p, _by_repetition, _detectable, pooled_index, speed_factor  # noqa: F401
from .stats import LEVEL_TEXT, bh_adjust, min_reps_for_shift, shift, shift_p_value
from .summary import GroupSummary, RunSummary, summarize

DEFAULT_THRESHOLD_PCT = 8.0
# The false discovery rate over the gated rows of one compare (Benjamini-Hochberg).  Each row's own
# 95% interval is shown, but a verdict is drawn among many: a default suite compares 86 gated rows,
# and at 5% each an A/A pair "finds" about four.  On three back-to-back default suites of a noisy
# host day (docs/noise.md) per-row 95% plus the threshold flagged A/A regressions in two of three
# pairs; with the rate controlled over the family, none.
DEFAULT_FDR = 0.05
GATED_DEFAULT = ("rate", "cpu", "cost")
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
    # (cost mode: the rows' cost bounds, median and widest)
    detectable: dict = field(default_factory=dict)
    cost: bool = False                  # both runs in cost mode: instructions, gated at their own bound

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
    if a.cost_mode != b.cost_mode:
        c, t = ("A", "B") if a.cost_mode else ("B", "A")
        why.append(f"{c} is a cost-mode run (instructions: `pathbench vm --accel tcg-icount`) and {t} a time-based "
                   f"one (nanoseconds): their figures are in different units")
    elif a.accelerator != b.accelerator:
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
    ks = [k for k in (g.primary, g.cpu) if k] + list(M.LATENCY_KEYS) + list(M.CONNECT_KEYS) \
        + list(M.COST_LATENCY_KEYS) + list(M.COST_CONNECT_KEYS)
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


@dataclass(frozen=True)
class CompareOptions:
    """Everything a compare is asked to do, in one place (the CLI fills it; tests set fields)."""
    threshold_pct: float = DEFAULT_THRESHOLD_PCT
    tail_threshold_pct: float = DEFAULT_TAIL_THRESHOLD_PCT
    stream_threshold_pct: float = DEFAULT_STREAM_THRESHOLD_PCT
    exclude_flagged: bool = False
    allow_cross_environment: bool = False
    gate: tuple = GATED_DEFAULT
    speed_adjust: bool = True
    fdr: float | None = DEFAULT_FDR      # None: each row on its own (--per-row)


@dataclass
class Context:
    """What every step of the pipeline reads: the runs, their summaries and what was decided about
    them before any row is tested (speed factor, environment guard, cost mode)."""
    a: Run
    b: Run
    sa: RunSummary
    sb: RunSummary
    opts: CompareOptions
    factor: float | None
    factor_why: str
    guard: str | None
    cost: bool                 # both runs in cost mode: instructions, gated at their own bound

    def threshold(self, workload: str, metric: str) -> float:
        if metric in TAIL_METRICS:
            return self.opts.tail_threshold_pct
        stream = self.b.catalogue.workload(workload).pattern == "stream"
        return self.opts.stream_threshold_pct if stream else self.opts.threshold_pct


def prepare(a: Run, b: Run, opts: CompareOptions) -> Context:
    """Step 0: summaries, the machine-speed factor and the environment guard."""
    sa, sb = summarize(a, opts.exclude_flagged), summarize(b, opts.exclude_flagged)
    cost = a.cost_mode and b.cost_mode
    if cost:
        factor, why = None, "cost mode counts instructions, which do not depend on the machine's speed"
    else:
        factor, why = speed_factor(a, b) if opts.speed_adjust else (None, "--no-speed-adjust")
    guard = None if opts.allow_cross_environment else environment_guard(a, b)
    return Context(a, b, sa, sb, opts, factor, why, guard, cost)


def _pct(x):
    return None if x is None else x * 100


def _unmatched_row(ga: GroupSummary | None, gb: GroupSummary | None, base: dict) -> Row:
    """A configuration that is in one run only, or failed or was skipped in one of them."""
    empty = dict(median_a=None, median_b=None, change_pct=None, ci_lo_pct=None, ci_hi_pct=None,
                 ci_level=None, threshold_pct=None)
    if ga is None or gb is None:
        g = ga or gb
        mk = g.primary or "-"
        met = M.METRICS.get(mk)
        return Row(**base, metric=mk, unit=met.unit if met else "", higher_is_better=True,
                   n_a=len(ga.ok) if ga else 0, n_b=len(gb.ok) if gb else 0, **empty,
                   status=ONLY_A if gb is None else ONLY_B, note="configuration not run in the other run")
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
    return Row(**base, metric=mk, unit=met.unit if met else "", higher_is_better=True,
               n_a=len(ga.ok), n_b=len(gb.ok), **empty, status=status, note=reason)


def _cost_row(ctx: Context, base: dict, mk: str, va: list, vb: list, ga: GroupSummary, gb: GroupSummary) -> Row:
    """Cost mode: the change of the medians against the cost bound of both runs' repetitions
    (analysis/cost.py) instead of an interval and a fixed threshold: instructions repeat, so the
    gate is as fine as the runs' own spread allows."""
    met = M.METRICS[mk]
    # the workload's typical spread over both runs' configurations (cost.typical_spread)
    from .cost import typical_spread
    typical = typical_spread([list(g.values[mk]) for S in (ctx.sa, ctx.sb) for g in S.own(base["workload"])
                              if g.ok and mk in g.values])
    c = cost_change(va, vb, typical, latency=M.kind(mk) == "latency")
    if c.change is None:
        status, note = NO_DATA, ""
    elif not c.beyond:
        status, note = NOT_SIG, f"within the cost bound ±{c.bound * 100:.2g}%"
    else:
        worse = (c.change < 0) if met.higher_is_better else (c.change > 0)
        status, note = (REGRESSION if worse else IMPROVEMENT), f"beyond the cost bound ±{c.bound * 100:.2g}%"
    if status == REGRESSION and M.kind(mk) not in ctx.opts.gate:
        status, note = NOT_GATED, f"{M.kind(mk)} metrics are not gated (--gate to include them)"
    if ctx.guard and status != NO_DATA:
        status, note = NOT_COMPARED, ctx.guard
    return Row(**base, metric=mk, unit=met.unit, higher_is_better=met.higher_is_better, n_a=len(va), n_b=len(vb),
               median_a=ga.estimate(mk).median, median_b=gb.estimate(mk).median, change_pct=_pct(c.change),
               ci_lo_pct=_pct(c.lo), ci_hi_pct=_pct(c.hi), ci_level=None, threshold_pct=c.bound * 100,
               status=status, note=note)


def tested_rows(ctx: Context, pairs) -> tuple[list[Row], dict]:
    """Step 1: one row per matched configuration and metric (primary, CPU, latency, connect
    latency), tested alone; and the strata the pooled rows are built from."""
    rows: list[Row] = []
    strata: dict[tuple, list] = {}      # (workload, variant, metric) -> [(reps_a, reps_b), ...] of our own rows
    factor, guard, opts = ctx.factor, ctx.guard, ctx.opts
    for ka, kb in pairs:
        ga, gb = ctx.sa.get(ka) if ka else None, ctx.sb.get(kb) if kb else None
        key = kb if ka is None else ka
        base = dict(workload=key.workload, path=key.path, variant=(kb or ka).options_label, reference=key.reference,
                    signature=(ga or gb).signature)
        if ga is None or gb is None or not ga.ok or not gb.ok:
            rows.append(_unmatched_row(ga, gb, base))
            continue
        for mk in _metrics_of(ga):
            if mk not in gb.values:
                continue
            va, vb = ga.values[mk], gb.values[mk]
            if ctx.cost:
                rows.append(_cost_row(ctx, base, mk, va, vb, ga, gb))
                continue
            met = M.METRICS[mk]
            kind = M.kind(mk)
            if factor and kind == "rate":
                vb = [v * factor for v in vb]     # per cycle: B's slower machine did less per second
            elif factor and kind == "cpu":
                vb = [v / factor for v in vb]     # ... and spent more CPU time per unit
            thr = ctx.threshold(key.workload, mk)
            s = shift(va, vb)
            status, note = _classify(s, met.higher_is_better, thr)
            pv = shift_p_value(va, vb) if s.has_ci else None
            if not key.reference and kind in ("rate", "cpu") and not guard and s.has_ci:
                f = 1.0 if not factor else factor if kind == "rate" else 1 / factor
                strata.setdefault((key.workload, key.variant, mk), []).append(
                    (_by_repetition(ga, mk), _by_repetition(gb, mk, f)))
            if status == REGRESSION and kind not in opts.gate:
                status, note = NOT_GATED, f"{kind} metrics are not gated (--gate to include them)"
            if guard and status not in (NO_DATA,):
                status, note = NOT_COMPARED, guard
            rows.append(Row(**base, metric=mk, unit=met.unit, higher_is_better=met.higher_is_better,
                            n_a=len(va), n_b=len(vb), median_a=ga.estimate(mk).median, median_b=gb.estimate(mk).median,
                            change_pct=_pct(s.change), ci_lo_pct=_pct(s.lo), ci_hi_pct=_pct(s.hi), ci_level=s.level,
                            threshold_pct=thr, status=status, note=note, p_value=pv))
    return rows, strata


def pooled_rows(ctx: Context, strata: dict) -> list[Row]:
    """Step 2: per workload and gated metric, one row over every configuration (pooled_index)."""
    rows = []
    for (wl, variant, mk), st in strata.items():
        if len(st) < 2:
            continue
        met = M.METRICS[mk]
        thr = ctx.threshold(wl, mk)
        xa, xb = pooled_index(st)
        sh = shift(xa, xb)
        pv = shift_p_value(xa, xb)
        status, note = _classify(sh, met.higher_is_better, thr)
        if status == REGRESSION and M.kind(mk) not in ctx.opts.gate:
            status, note = NOT_GATED, f"{M.kind(mk)} metrics are not gated (--gate to include them)"
        rows.append(Row(workload=wl, path=POOLED_PATH, variant=variant, reference="", signature=f"pooled {variant}",
                        metric=mk, unit=met.unit, higher_is_better=met.higher_is_better, n_a=sh.n_a, n_b=sh.n_b,
                        median_a=None, median_b=None, change_pct=_pct(sh.change), ci_lo_pct=_pct(sh.lo),
                        ci_hi_pct=_pct(sh.hi), ci_level=sh.level, threshold_pct=thr, status=status,
                        note=(note + "; " if note else "") + f"{len(st)} configurations pooled per repetition",
                        p_value=pv if sh.has_ci else None))
    return rows


def control_fdr(rows: list[Row], gate: tuple, fdr: float | None) -> int:
    """Step 3: hold the false discovery rate over the gated rows (and, apart, over the rows shown
    but not gated): a row significant alone but not among all becomes NOT_SIG_FAMILY.  Returns the
    size of the gated family (0 in cost mode, whose rows carry no p-value)."""
    testable = [r for r in rows if r.p_value is not None and r.status not in (NOT_COMPARED, UNTESTABLE, NO_DATA)]
    family = [r for r in testable if M.kind(r.metric) in gate]
    shown_only = [r for r in testable if M.kind(r.metric) not in gate]   # their own family: shown, never gating
    for fam, what in ((family, "gated rows"), (shown_only, "rows not gated")):
        if fdr is None or not fam:
            continue
        for r, q in zip(fam, bh_adjust([r.p_value for r in fam])):
            r.q_value = q
            if r.status in (REGRESSION, IMPROVEMENT, SMALL, NOT_GATED) and q >= fdr:
                was = {REGRESSION: "a regression", IMPROVEMENT: "an improvement",
                       NOT_GATED: "a change"}.get(r.status, "")
                r.status = NOT_SIG_FAMILY
                r.note = ("pooled; " if r.path == POOLED_PATH else "") + (
                    f"p = {r.p_value:.3g} alone, q = {q:.2g} among {len(fam)} {what} (FDR {fdr:g})"
                    + (f": {was} on its own interval" if was else ""))
    return len(family)


def make_warnings(ctx: Context, rows: list[Row], family: int) -> list[str]:
    """Step 5: what the reader must know to read the rows."""
    factor, opts = ctx.factor, ctx.opts
    warnings = []
    if factor and abs(factor - 1) >= 0.005:
        warnings.append(f"machine speed: B's CPU speed probe was {(factor - 1) * 100:+.1f}% vs A's (median over all "
                        f"repetitions; + = slower); rate and CPU changes are per cycle, B scaled by it "
                        f"(--no-speed-adjust for raw numbers)")
    elif factor is None and opts.speed_adjust and not ctx.cost:
        warnings.append(f"no machine-speed adjustment: {ctx.factor_why}")
    if ctx.guard:
        warnings.append(f"performance verdicts refused: {ctx.guard}. Every performance row is \"not compared\"; "
                        f"pass --allow-cross-environment to compare anyway (exit 77 otherwise).")
    note = tcg_note(ctx.a, ctx.b)
    if note:
        warnings.append(note)
    if ctx.cost:
        qa, qb = ctx.a.virtualization.get("qemu_version"), ctx.b.virtualization.get("qemu_version")
        if qa != qb:
            warnings.append(f"cost mode under two qemu versions (A: {qa}; B: {qb}): `-cpu max` may offer the guest "
                            f"other CPU features, and the kernel then runs other code; a change may be qemu's")
        return warnings
    if opts.fdr is not None and family:
        # The smallest p the exact test can give is complete separation, 2 / C(m+n, m); an isolated
        # regression needs p < fdr / family.
        gated = [r for r in rows if r.q_value is not None and M.kind(r.metric) in opts.gate]
        own = [r for r in gated if r.path != POOLED_PATH]
        floor = min((_best_p(r.n_a, r.n_b) for r in own), default=0.0)
        if own and floor >= opts.fdr / family:
            n = next(n for n in range(2, 200) if _best_p(n, n) < opts.fdr / family)
            warnings.append(f"with {own[0].n_a} vs {own[0].n_b} repetitions even complete separation (p = "
                            f"{floor:.2g}) cannot flag a regression confined to one row among {family} gated rows at "
                            f"false discovery rate {opts.fdr:g}; only changes across many rows can be flagged. "
                            f"{n} repetitions per run would do (or compare fewer configurations, or --per-row)")
    untestable = [r for r in rows if r.status == UNTESTABLE]
    if untestable:
        ns = sorted({(r.n_a, r.n_b) for r in untestable})
        warnings.append(f"{len(untestable)} rows have too few repetitions for a {LEVEL_TEXT} interval of the change "
                        f"(repetitions A vs B: {', '.join(f'{x} vs {y}' for x, y in ns)}; needs at least "
                        f"{min_reps_for_shift()} vs {min_reps_for_shift()}): they are reported as \"untestable\", never "
                        f"as regressions. Run pathbench with --repetitions 6 for a usable compare.")
    return warnings


def compare_runs(a: Run, b: Run, opts: CompareOptions | None = None, **overrides) -> Comparison:
    """The pipeline: prepare → match → test rows → pooled rows → false discovery control →
    detectable sizes → warnings.  `overrides` set CompareOptions fields (compare_runs(a, b, fdr=None))."""
    opts = replace(opts or CompareOptions(), **overrides)
    ctx = prepare(a, b, opts)
    pairs, notes = _match(ctx.sa, ctx.sb)
    rows, strata = tested_rows(ctx, pairs)
    if not ctx.cost:
        rows += pooled_rows(ctx, strata)
    family = control_fdr(rows, opts.gate, None if ctx.cost else opts.fdr)
    cat = b.catalogue
    if ctx.cost:
        detectable = _cost_detectable(rows)
    else:
        detectable = _detectable(ctx.sa, ctx.sb, pairs, ctx.factor, family, opts.fdr, opts.threshold_pct,
                                 opts.stream_threshold_pct, cat) if opts.fdr is not None and not ctx.guard else {}
    rows.sort(key=lambda r: (cat.workload_sort_key(r.workload), r.variant, r.path != POOLED_PATH,
                             cat.path_sort_key(r.path), r.reference, _metric_rank(r.metric)))
    warnings = make_warnings(ctx, rows, family)
    return Comparison(a, b, rows, warnings + notes, ctx.guard, opts.threshold_pct, opts.tail_threshold_pct, notes,
                      None if ctx.cost else opts.fdr, family, detectable, cost=ctx.cost)


def _cost_detectable(rows: list[Row]) -> dict:
    """Cost mode: per workload, the bound of its primary metric's rows, median and widest (a change
    beyond a row's bound is flagged; nothing smaller is)."""
    out: dict[str, dict] = {}
    for r in rows:
        if r.path == POOLED_PATH or r.threshold_pct is None or M.kind(r.metric) != "cost":
            continue
        out.setdefault(r.workload, []).append(r.threshold_pct)
    res = {}
    for wl, bs in out.items():
        bs.sort()
        res[wl] = {"one_row": round(bs[len(bs) // 2], 3), "widest": round(bs[-1], 3), "configurations": len(bs),
                   "all_paths": None}
    return res


def _metric_rank(mk: str) -> int:
    order = list(M.RATE_KEYS) + list(M.CPU_KEYS) + list(M.COST_KEYS) + list(M.LATENCY_KEYS) + list(M.CONNECT_KEYS) \
        + list(M.COST_LATENCY_KEYS) + list(M.COST_CONNECT_KEYS)
    return order.index(mk) if mk in order else len(order)


