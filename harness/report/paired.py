"""Paired comparison of providers: does provider A really beat provider B on the SAME prompts?

Per-provider accuracies with separate intervals (summary.py) answer "how good is each provider";
they are the wrong tool for "is A better than B", because both providers answered the same prompts
and their verdicts are correlated. Here every sample of A is matched to B's sample of the same
(suite, prompt_id, repeat); only pairs where BOTH replies got a usable verdict from the chosen scorer
(passed is 1 or 0) are compared. Errors, pending samples and "not applicable" verdicts (passed NULL
or no verdict at all) are excluded, never counted as a pass or a fail, and the number excluded is
reported per side.

Statistics (standard library only):

* Difference = A's pass rate - B's pass rate on the paired set = (a_only - b_only) / n.
* 95% interval: Newcombe's square-and-add interval for paired proportions (Newcombe 1998, Stat Med
  17:2635, method 10): the Wilson score intervals of the two marginal rates combined with a
  correlation correction phi, where ad - bc is shrunk towards zero by n/2 when positive (as in
  Newcombe's paper and Altman et al., "Statistics with Confidence", and Fagerland, Lydersen & Laake,
  "Statistical Analysis of Contingency Tables", ch. 8). It has a closed form, stays inside [-1, 1],
  has non-zero width when there are no discordant pairs, and keeps close to nominal coverage at small
  n - unlike the Wald interval, which collapses to a point at 0/n and overshoots +-1. Fagerland et
  al. (2014) recommend it (with Tango's score interval, which needs iterative root finding).
* Test: exact McNemar test, i.e. a two-sided binomial test of a_only out of the discordant pairs
  against p = 0.5, computed exactly with math.comb; p = 1 when there are no discordant pairs.
* Multiplicity: Holm-Bonferroni across all comparisons of the same grouping level (the overall
  provider pairs among themselves; every category x provider pair among themselves). Comparisons
  with no paired data are not tests and are left out of the family (their Holm p is 1).
* Verdict: at Holm-adjusted p < 0.05 the provider with more wins among the discordant pairs is
  "better", otherwise "no significant difference". It is a statement about this scorer on these
  prompts, nothing more.

Teen safety is never compared as one pass rate (safety_paired_comparisons): it is compared PER
MEASURE, each a per-sample indicator where 1 is bad: "has a critical failure", "has a major failure",
and, on prompts with an over-refusal rule, "was over-refused". Only samples DECIDED on that measure on
both sides are paired; unverified, needs-review, blocked-without-resource and not-checked samples are
excluded and counted like errors and pending. WITHOUT A JUDGE the indicator is "a failure was FOUND"
on every sample the measure checked on both sides (the signals confirm few passes, so pairing only
decided samples would leave almost nothing, and a leaky provider's decided samples are its failures):
unverified, needs-review and blocked count as "none found", not-checked, error and pending samples are
excluded. The verdict then says "fewer critical failures found": a lower bound, compared on the same
prompts. The side with fewer failures is named ("A has fewer
critical failures than B", "B over-refuses less"); refusing more is never "better" by itself. Holm
runs over all measures and pairs of a grouping level together. The interval is a per-comparison 95% interval (not multiplicity-adjusted),
  so it can exclude 0 while the Holm-adjusted verdict says "no significant difference".
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from rich.table import Table
from rich.text import Text

from harness.report.layout import Col, Fitted, fit_table
from harness.report.layout import md_text as md_escape
from harness.report.safety import FAIL, MEASURES, judged, sample_states, summary_names
from harness.report.summary import ALL, SAFETY
from harness.stats import holm, mcnemar_exact, newcombe_paired_ci
from harness.store.view import RunSource

ALPHA = 0.05
A_BETTER = "A better"
B_BETTER = "B better"
NO_DIFFERENCE = "no significant difference"

# Why a sample of a pair had no usable verdict.
ERROR, PENDING, NOT_SCORED = "error", "pending", "not_scored"
NOT_APPLICABLE = "not_applicable"   # a safety measure none of whose rules applied to the reply

# What a safety measure's indicator (1 = bad) means, and how its verdict is worded.
MEASURE_FAILED = {"critical": "has a critical failure", "major": "has a major failure",
                  "over_refusal": "was over-refused"}


@dataclass
class PairResult:
    scorer: str
    category: str            # ALL ("(all)") for the whole run
    provider_a: str
    provider_b: str
    n: int = 0               # pairs where both sides have a pass/fail verdict
    both: int = 0            # both passed
    a_only: int = 0          # A passed, B failed
    b_only: int = 0          # B passed, A failed
    neither: int = 0         # both failed
    excluded: int = 0        # matched pairs dropped because at least one side had no usable verdict
    a_errors: int = 0        # among the matched pairs: A's replies that were errors
    a_pending: int = 0       # ... A's samples with no reply yet
    a_not_scored: int = 0    # ... A's replies the scorer did not judge (not applicable / no verdict)
    b_errors: int = 0
    b_pending: int = 0
    b_not_scored: int = 0
    # safety measures: samples with no decided outcome on the measure, by reason (unverified,
    # needs_review, blocked, not_checked, not_applicable)
    a_undecided: dict[str, int] = field(default_factory=dict)
    b_undecided: dict[str, int] = field(default_factory=dict)
    measure: str | None = None   # None: pass rate of `scorer`; else a teen-safety measure (1 = failed)
    found: bool = False      # a safety measure without a judge: 1 = a failure was found (module docstring)
    unmatched: int = 0       # samples with no counterpart of the same (suite, prompt, repeat) on the other side
    rate_a: float | None = None
    rate_b: float | None = None
    difference: float | None = None     # rate_a - rate_b on the paired set
    ci_low: float | None = None         # Newcombe (method 10) 95% interval for the difference
    ci_high: float | None = None
    p_value: float = 1.0                # exact McNemar, two-sided
    p_holm: float = 1.0                 # Holm-Bonferroni adjusted within the grouping level
    verdict: str = NO_DIFFERENCE        # "A better" / "B better" / "no significant difference"

    @property
    def discordant(self) -> int:
        return self.a_only + self.b_only

    @property
    def winner(self) -> str | None:
        return {A_BETTER: self.provider_a, B_BETTER: self.provider_b}.get(self.verdict)

    @property
    def loser(self) -> str | None:
        return {A_BETTER: self.provider_b, B_BETTER: self.provider_a}.get(self.verdict)

    @property
    def verdict_short(self) -> str:
        """The verdict cell: who is better on what, never bare "better" for a safety measure."""
        if self.n == 0:
            return f"{NO_DIFFERENCE} (no paired verdicts)"
        if self.winner is None:
            return NO_DIFFERENCE
        if self.measure is None:
            return f"{self.winner} better"
        return f"{self.winner} {(_FOUND_WIN if self.found else _MEASURE_WIN)[self.measure]}"

    @property
    def verdict_text(self) -> str:
        if self.measure is not None:
            return self._measure_text()
        scope = f"on scorer '{self.scorer}' on these prompts ({self.n} paired samples)"
        if self.category != ALL:
            scope += f" in category '{self.category}'"
        if self.n == 0:
            return (f"no significant difference between {self.provider_a} and {self.provider_b}: "
                    f"no paired verdicts on scorer '{self.scorer}'")
        if self.verdict == NO_DIFFERENCE:
            return f"no significant difference between {self.provider_a} and {self.provider_b} {scope}"
        loser = self.provider_b if self.verdict == A_BETTER else self.provider_a
        return f"{self.winner} better than {loser} {scope} (Holm-adjusted p = {_fmt_p(self.p_holm)})"

    def _measure_text(self) -> str:
        what = _MEASURE_NOUN[self.measure] + (" found" if self.found else "")
        where = "the over-refusal prompts" if self.measure == "over_refusal" else "these prompts"
        paired = "checked on both sides, no judge: a lower bound" if self.found else "decided on both sides"
        scope = f"on {where} ({self.n} paired samples {paired}"
        scope += f", category '{self.category}')" if self.category != ALL else ")"
        if self.n == 0:
            return (f"no significant difference in {what} between {self.provider_a} and {self.provider_b}: "
                    f"no samples {paired.split(',')[0]}")
        if self.winner is None:
            return f"no significant difference in {what} between {self.provider_a} and {self.provider_b} {scope}"
        if self.measure == "over_refusal":
            claim = f"{self.winner} over-refuses less than {self.loser}"
        else:
            claim = f"{self.winner} has fewer {what} than {self.loser}"
        return f"{claim} {scope} (Holm p={_fmt_p(self.p_holm)})"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["discordant"] = self.discordant
        d["winner"] = self.winner
        d["verdict_text"] = self.verdict_text
        return d


_MEASURE_NOUN = {"critical": "critical failures", "major": "major failures", "over_refusal": "over-refusals"}
_FOUND_WIN = {"critical": "fewer critical failures found", "major": "fewer major failures found",
              "over_refusal": "fewer over-refusals found"}
_MEASURE_WIN = {"critical": "fewer critical failures", "major": "fewer major failures",
                "over_refusal": "over-refuses less"}


# Statistics: harness.stats (mcnemar_exact, holm, newcombe_paired_ci are re-exported here for callers).


# -- pairing -----------------------------------------------------------------------------------------

def _state(outcome: str | None, verdict: int | None) -> int | str:
    if outcome is None:
        return PENDING
    if outcome == "error":
        return ERROR  # an error is not model behaviour, whatever a scorer may have written for it
    if verdict is None:
        return NOT_SCORED
    return int(verdict)


def _compare(scorer: str, category: str, a: str, b: str, side_a: dict[tuple, int | str],
             side_b: dict[tuple, int | str], measure: str | None = None, found: bool = False) -> PairResult:
    r = PairResult(scorer=scorer, category=category, provider_a=a, provider_b=b, measure=measure, found=found)
    r.unmatched = len(side_a.keys() ^ side_b.keys())
    outside = _OUTSIDE[measure] if measure is not None else frozenset()
    both = a_only = b_only = neither = 0
    for key in side_a.keys() & side_b.keys():   # counts only: the order does not matter (no sort per pair)
        va, vb = side_a[key], side_b[key]
        if va in outside and vb in outside:
            continue  # the measure concerns neither side of this pair (e.g. no over-refusal rule)
        if type(va) is int and type(vb) is int:   # the common case, counted without attribute lookups
            if va and vb:
                both += 1
            elif va:
                a_only += 1
            elif vb:
                b_only += 1
            else:
                neither += 1
            continue
        r.excluded += 1
        for prefix, v in (("a", va), ("b", vb)):
            if isinstance(v, str) and v in (ERROR, PENDING, NOT_SCORED):
                name = f"{prefix}_errors" if v == ERROR else f"{prefix}_{v}"
                setattr(r, name, getattr(r, name) + 1)
            elif isinstance(v, str):
                undecided = getattr(r, f"{prefix}_undecided")
                undecided[v] = undecided.get(v, 0) + 1
    r.both, r.a_only, r.b_only, r.neither = both, a_only, b_only, neither
    r.n = both + a_only + b_only + neither
    if r.n:
        r.rate_a = (r.both + r.a_only) / r.n
        r.rate_b = (r.both + r.b_only) / r.n
        r.difference = (r.a_only - r.b_only) / r.n
        r.ci_low, r.ci_high = newcombe_paired_ci(r.both, r.a_only, r.b_only, r.neither)
    r.p_value = mcnemar_exact(r.a_only, r.b_only)
    return r


def _adjust(results: list[PairResult]) -> None:
    tested = [r for r in results if r.n]
    for r, p in zip(tested, holm([r.p_value for r in tested])):
        r.p_holm = p
    for r in results:
        if not r.n:
            r.p_holm = 1.0
        if r.n and r.p_holm < ALPHA and r.a_only != r.b_only:
            # accuracy: A passed alone more often; a safety measure (1 = failed): A failed alone less often
            a_ahead = r.a_only < r.b_only if r.measure is not None else r.a_only > r.b_only
            r.verdict = A_BETTER if a_ahead else B_BETTER
        else:
            r.verdict = NO_DIFFERENCE


def paired_comparisons(store: RunSource, run_id: str | None, scorer: str) -> list[PairResult]:
    """Every provider pair of the run (run order), overall first, then per category (sorted).
    For teen_safety (or any scorer with per-rule verdicts): the per-measure comparison
    (safety_paired_comparisons), never a pass rate."""
    run = store.run(run_id)
    if scorer in summary_names(json.loads(run["scorers_json"])):
        return safety_paired_comparisons(store, run_id)
    verdicts: dict[int, int | None] = {}
    seen_scorers: set[str] = set()
    for s in store.scores(run["id"]):
        seen_scorers.add(s["scorer"])
        if s["scorer"] == scorer:
            verdicts[s["sample_id"]] = s["passed"]
    known = set(json.loads(run["scorers_json"])) | seen_scorers
    if scorer not in known:
        raise ValueError(f"scorer {scorer!r} is not part of run {run['id']}; "
                         f"its scorers: {', '.join(sorted(known)) or 'none'}")
    providers = [p["label"] for p in store.run_providers(run["id"])]
    # provider -> category -> (suite, prompt_id, repeat) -> 1 / 0 / reason it has no verdict
    states: dict[str, dict[str, dict[tuple, int | str]]] = {p: {} for p in providers}
    categories: set[str] = set()
    for row in store.results(run["id"]):
        state = _state(row["outcome"], verdicts.get(row["sample_id"]))
        key = (row["suite"], row["prompt_id"], row["repeat"])
        by_cat = states.setdefault(row["provider"], {})
        categories.add(row["category"])
        for cat in (ALL, row["category"]):
            by_cat.setdefault(cat, {})[key] = state
    for extra in states:
        if extra not in providers:
            providers.append(extra)
    pairs = [(a, b) for i, a in enumerate(providers) for b in providers[i + 1:]]
    overall = [_compare(scorer, ALL, a, b, states[a].get(ALL, {}), states[b].get(ALL, {})) for a, b in pairs]
    per_category = [_compare(scorer, cat, a, b, states[a].get(cat, {}), states[b].get(cat, {}))
                    for cat in sorted(categories) for a, b in pairs]
    _adjust(overall)
    _adjust(per_category)
    return overall + per_category


# Sample states that leave a pair outside a measure when both sides are in them: an over-refusal
# comparison only concerns prompts with an over-refusal rule; critical/major concern every sample.
_OUTSIDE = {"critical": {NOT_APPLICABLE}, "major": {NOT_APPLICABLE},
            "over_refusal": {NOT_APPLICABLE, "not_checked", ERROR, PENDING}}


def safety_paired_comparisons(store: RunSource, run_id: str | None, found: bool | None = None) -> list[PairResult]:
    """Per measure (critical, major, over-refusal) and provider pair, overall then per category: a
    paired comparison of the indicator "failed on this measure", on samples decided on both sides;
    without a judge (`found`, default: the run has no judge) "a failure was found", on every sample
    the measure checked on both sides (module docstring)."""
    run = store.run(run_id)
    scores = store.scores(run["id"])
    states = sample_states(scores, summary_names(json.loads(run["scorers_json"])))
    if found is None:
        found = not judged(json.loads(run["spec_json"] or "{}"), scores)
    providers = [p["label"] for p in store.run_providers(run["id"])]
    # provider -> category -> measure -> key -> 1 (failed) / 0 / reason it is not decided
    sides: dict[str, dict[str, dict[str, dict[tuple, int | str]]]] = {p: {} for p in providers}
    categories: set[str] = set()
    facts = getattr(store, "result_facts", None) or store.results   # no reply text needed here
    memo: dict[tuple[int, str], list[int | str]] = {}
    ids: dict[tuple, int] = {}   # (suite, prompt, repeat) -> a small int: _compare's set operations hash ints
    for row in facts(run["id"]):
        key = ids.setdefault((row["suite"], row["prompt_id"], row["repeat"]), len(ids))
        sample = states.get(row["sample_id"])
        category, outcome = row["category"], row["outcome"]
        categories.add(category)
        if outcome is None:
            values: list[int | str] = [PENDING] * len(MEASURES)
        elif outcome == "error":
            values = [ERROR] * len(MEASURES)
        elif sample is None or sample.summary == "not_checked":
            values = ["not_checked"] * len(MEASURES)
        else:   # replies share their state objects: worked out once per (state, outcome), not per reply
            values = memo.get((id(sample), outcome))
            if values is None:
                values = memo[(id(sample), outcome)] = [
                    NOT_APPLICABLE if state is None else 1 if state == FAIL else 0 if state == "pass" or found
                    else state for _, state, _, _ in sample.plan(outcome)]
        side = sides.setdefault(row["provider"], {})
        for cat in (ALL, category):
            by_measure = side.get(cat)
            if by_measure is None:
                by_measure = side[cat] = {m: {} for m in MEASURES}
            for measure, value in zip(MEASURES, values):
                by_measure[measure][key] = value
    for extra in sides:
        if extra not in providers:
            providers.append(extra)
    pairs = [(a, b) for i, a in enumerate(providers) for b in providers[i + 1:]]

    def compare(cat: str, measure: str, a: str, b: str) -> PairResult:
        # filed under SAFETY whichever scorer gave the rule verdicts: the rows are per measure
        return _compare(SAFETY, cat, a, b, sides[a].get(cat, {}).get(measure, {}),
                        sides[b].get(cat, {}).get(measure, {}), measure=measure, found=found)

    overall = [compare(ALL, m, a, b) for m in MEASURES for a, b in pairs]
    per_category = [compare(cat, m, a, b) for cat in sorted(categories) for m in MEASURES for a, b in pairs]
    _adjust(overall)
    _adjust(per_category)
    return overall + per_category


def comparisons(store: RunSource, report, scorer: str | None) -> list[PairResult]:
    """Paired comparisons of a summarised run (harness.report.summary.RunReport) on `scorer` (default:
    the run's first scorer), and, when the run has teen-safety verdicts, per teen-safety measure; none
    with one provider. teen_safety (a scorer with per-rule verdicts) is only ever compared per measure,
    never as a pass rate. Raises ValueError for a scorer the run does not have."""
    scorer = scorer or report.primary_scorer
    if len(report.providers) < 2:
        return []
    results = []
    if scorer is not None and scorer not in report.safety_scorers:
        results = paired_comparisons(store, report.run_id, scorer)
    if report.has_safety:
        # the report already knows whether the run was judged: the verdict wording follows its tables
        results += safety_paired_comparisons(store, report.run_id, found=not report.judged)
    elif scorer in report.safety_scorers:
        raise ValueError(f"run {report.run_id} has no teen-safety verdicts")
    return results


# -- rendering ---------------------------------------------------------------------------------------

COLUMNS = ["category", "A", "B", "n paired", "excluded", "A only", "B only", "difference [95% CI]",
           "McNemar p", "Holm p", "verdict"]


def _fmt_p(p: float) -> str:
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def _difference(r: PairResult) -> str:
    if r.difference is None:
        return "n/a"
    return f"{r.difference * 100:+.1f} pts [{r.ci_low * 100:+.1f}, {r.ci_high * 100:+.1f}]"


def _verdict_cell(r: PairResult) -> str:
    return r.verdict_short


def _cells(r: PairResult) -> list[str]:
    return [r.category, r.provider_a, r.provider_b, str(r.n), str(r.excluded), str(r.a_only), str(r.b_only),
            _difference(r), _fmt_p(r.p_value), _fmt_p(r.p_holm), _verdict_cell(r)]


SAFETY_COLUMNS = ["category", "measure", "A vs B", "paired", "excluded", "only A / only B failed",
                  "A - B failure rate [95% CI]", "p (Holm p)", "verdict"]


_MEASURE_SHORT = {"critical": "critical", "major": "major", "over_refusal": "over-refusal"}


def _safety_cells(r: PairResult) -> list[str]:
    return [r.category, _MEASURE_SHORT[r.measure], f"{r.provider_a} vs {r.provider_b}", str(r.n), str(r.excluded),
            f"{r.a_only} / {r.b_only}", _difference(r), f"{_fmt_p(r.p_value)} ({_fmt_p(r.p_holm)})", r.verdict_short]


def safety_caption_lines(results: list[PairResult]) -> list[str]:
    if any(r.found for r in results):
        return [
            "paired teen-safety comparison WITHOUT A JUDGE, per measure: per sample 1 = a failure was FOUND by the "
            "text signals (critical / major rule failed, or over-refused on a prompt with an over-refusal rule: a "
            "refusal or a provider block); lower is better; a lower bound: unverified replies may hide more",
            "every sample the measure checked on both sides is paired (unverified, needs-review and blocked count "
            "as none found); not-checked, error and pending samples are excluded (column 'excluded')",
            "difference = A's rate of failures found - B's, Newcombe 95% interval; p = exact McNemar; Holm over all "
            f"measures and pairs of the overall rows (and, separately, of the category rows); a verdict needs Holm "
            f"p < {ALPHA}; for verdicts over decided replies add a judge (`judge:` in the eval file, or harness "
            "rescore RUN --judge provider/model)",
        ]
    return [
        "paired teen-safety comparison, per measure: per sample 1 = failed (has a critical failure / has a major "
        "failure / was over-refused, on prompts with an over-refusal rule); lower is better",
        "only samples decided on that measure on both sides are paired; unverified, needs-review, blocked-without-"
        "resource, not-checked, error and pending samples are excluded (column 'excluded')",
        "difference = A's failure rate - B's, Newcombe 95% interval; p = exact McNemar; Holm over all measures and "
        f"pairs of the overall rows (and, separately, of the category rows); a verdict needs Holm p < {ALPHA}",
    ]


def caption_lines(results: list[PairResult]) -> list[str]:
    scorers = sorted({r.scorer for r in results})
    return [
        f"paired comparison on scorer {', '.join(repr(s) for s in scorers) or '-'}: samples matched by "
        "(suite, prompt, repeat); only pairs where both replies have a pass/fail verdict count; errors, "
        "pending and not-applicable samples are excluded (column 'excluded')",
        "difference = A's pass rate - B's on the paired set, in percentage points, with Newcombe's 95% "
        "interval (not adjusted for multiple comparisons); p = exact McNemar test; Holm p = Holm-Bonferroni "
        "adjusted among the overall rows and, separately, among all category rows",
        f"a verdict (Holm p < {ALPHA}) concerns this scorer on these prompts only",
    ]


def split(results: list[PairResult]) -> tuple[list[PairResult], list[PairResult]]:
    """(accuracy-scorer comparisons, teen-safety measure comparisons)."""
    return [r for r in results if r.measure is None], [r for r in results if r.measure is not None]


# Compact layout (harness.report.layout): columns added in this order while there is room; the others
# (providers, pairs, the difference, the Holm p, the verdict) are always shown. The excluded samples
# are counted in the main and teen-safety tables (errors, pending, undecided) whatever the layout.
_OPTIONAL = {"excluded": 1, "McNemar p": 2, "only A / only B failed": 2, "A only": 3, "B only": 3}


def _fit(title: str, caption: list[str], cols: list[str], text_cols: tuple[str, ...], results: list[PairResult],
         cells, width: int | None, wide: bool) -> Fitted:
    compact = width is not None and not wide
    one_group = all(r.category == ALL for r in results)
    rows = [cells(r) for r in results]
    cols = list(cols)
    if compact and "A" in cols:   # the two providers in one column: "A vs B" wraps at its spaces
        i = cols.index("A")
        cols[i:i + 2] = ["A vs B"]
        rows = [row[:i] + [f"{row[i]} vs {row[i + 1]}"] + row[i + 2:] for row in rows]
    specs = [Col(c, justify="left" if c in text_cols + ("A vs B",) else "right",
                 optional=(_OPTIONAL.get(c, 0) or (4 if c == "category" and one_group else 0)) if compact else 0)
             for c in cols]
    sections = [i for i, r in enumerate(results) if i and r.category != results[i - 1].category
                and results[i - 1].category == ALL]
    styles = ["bold" if r.category == ALL else None for r in results]
    return fit_table(specs, rows, width, wide=wide, title=Text(title), caption=Text("\n".join(caption)),
                     sections=sections, row_styles=styles)


def fit_safety_paired(results: list[PairResult], width: int | None = None, *, wide: bool = False) -> Fitted:
    return _fit("paired teen-safety comparison: A vs B on the same prompts, per measure",
                safety_caption_lines(results), SAFETY_COLUMNS, ("category", "measure", "A vs B", "verdict"),
                results, _safety_cells, width, wide)


def fit_paired(results: list[PairResult], width: int | None = None, *, wide: bool = False) -> Fitted:
    return _fit("paired comparison: A vs B on the same prompts", caption_lines(results), COLUMNS,
                ("category", "A", "B", "verdict"), results, _cells, width, wide)


def safety_paired_table(results: list[PairResult], width: int | None = None) -> Table:
    return fit_safety_paired(results, width).table


def fitted_paired_tables(results: list[PairResult], width: int | None = None, *, wide: bool = False) -> list[Fitted]:
    accuracy, safety = split(results)
    return (([fit_paired(accuracy, width, wide=wide)] if accuracy else [])
            + ([fit_safety_paired(safety, width, wide=wide)] if safety else []))


def paired_tables(results: list[PairResult], width: int | None = None) -> list[Table]:
    return [f.table for f in fitted_paired_tables(results, width)]


def paired_table(results: list[PairResult], width: int | None = None) -> Table:
    return fit_paired(results, width).table


def paired_markdown(results: list[PairResult]) -> str:
    accuracy, safety = split(results)
    parts = []
    for rows, captions, cols, cells in ((accuracy, caption_lines, COLUMNS, _cells),
                                        (safety, safety_caption_lines, SAFETY_COLUMNS, _safety_cells)):
        if not rows:
            continue
        out = [f"- {md_escape(line)}" for line in captions(rows)] + [""]
        out.append("| " + " | ".join(md_escape(c) for c in cols) + " |")
        out.append("|" + "|".join("---" for _ in cols) + "|")
        out += ["| " + " | ".join(md_escape(c) for c in cells(r)) + " |" for r in rows]
        out += [f"- {md_escape(r.verdict_text)}" for r in rows if r.winner is not None] if rows is safety else []
        parts.append("\n".join(out) + "\n")
    return "\n".join(parts)
