"""What changed between two runs of the same suites (`harness diff RUN_A RUN_B`): a pure computation.

Stable API (used by `harness diff`, the HTML/Markdown report and CI gates; fields are only ever added):

* ``diff_runs(store, run_a, run_b, *, scorer=None) -> RunDiff``: run ids or unique prefixes (raises
  ``harness.store.StoreError`` for an unknown or ambiguous id). Each run is read through its LATEST
  scoring (the one ``harness compare`` shows: a ``harness rescore`` with edited rules counts).
  ``scorer``: the headline accuracy scorer (default: run A's first scorer; none when it is teen_safety or
  another scorer with per-rule verdicts, harness/scoring/traits.py).
* ``diff_markdown(diff) -> str`` and ``RunDiff.as_dict()`` (JSON-ready; escape with
  ``harness.report.escape.json_dumps``). ``diff_tables(diff, width=None, *, wide=False, max_flips=None)
  -> list[Fitted]`` for terminals (harness.report.layout); ``text_lines(diff)`` (notes, added, removed).
  Row helpers for other renderers (plain strings, NOT escaped: escape for your format):
  ``measure_cells(group, measure)`` under ``MEASURE_COLUMNS``, ``reply_cells(group)``, ``flip_cells(flip,
  several_suites)`` under ``FLIP_COLUMNS``; ``MeasureDiff.empty`` marks rows with nothing to show.
* ``RunDiff``: ``run_a``, ``run_b``, ``scorer``, ``has_safety``, ``providers`` (labels in both runs),
  ``only_a`` / ``only_b`` (labels in one run only: never paired), ``groups`` (``GroupDiff`` per
  provider and category, ``(all)`` first), ``flips`` (``Flip``, newly failing first), ``added`` /
  ``removed`` (``suite/prompt_id`` in B only / in A only), ``notes`` (suite hash changes, ...).
* ``GroupDiff``: ``provider``, ``category``, ``measures`` (``MeasureDiff``), ``replies_a`` /
  ``replies_b`` (reply counts: planned, errors, pending, and teen-safety summaries unverified,
  needs_review, blocked, not_checked).
* ``MeasureDiff``: ``measure`` (``pass:<scorer>`` or ``critical`` / ``major`` / ``over_refusal``);
  per run (all its samples) ``a_decided``, ``a_bad`` (failures: a failed scorer verdict, or a reply
  failing the safety measure), ``a_undecided`` (reason -> count), same for b; ``rate_a`` / ``rate_b``
  (pass rate for a scorer, failure rate for a safety measure, over decided replies); paired on samples
  both runs share (same provider label, suite, prompt id, repeat) and both DECIDED: ``n_paired``,
  ``both_ok``, ``newly_failing``, ``newly_passing``, ``both_bad``, ``excluded``; ``difference``
  (B - A of that rate on the paired set) with Newcombe's 95% interval ``ci_low``/``ci_high``, exact
  McNemar ``p_value``, Holm ``p_holm`` (over all (all)-rows together, and over all category rows
  together), ``verdict``: ``worse`` / ``better`` (in B, at Holm p < 0.05) / ``no significant change``
  / ``no paired verdicts``.
* ``Flip``: ``provider``, ``category``, ``suite``, ``prompt_id``, ``repeat``, ``measure``, ``before``,
  ``after`` (``pass``, ``fail`` or why undecided), ``kind`` in KIND_ORDER (worded in KIND_TEXT).

Undecided verdicts (unverified, needs_review, blocked, not_checked, not_scored, error, pending) are in
no pass/fail count; they are counted apart. A reply going from ``fail`` to ``unverified`` is the flip
kind ``fail_now_undecided``: NOT fixed. Statistics are those of harness.report.paired, reused.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from harness.report.paired import ALPHA, holm, mcnemar_exact, newcombe_paired_ci
from harness.report.safety import MEASURES, sample_states, summary_names
from harness.report.summary import ALL
from harness.store import Store
from harness.store.db import scoring_scores, scorings

PASS, FAIL = "pass", "fail"
WORSE, BETTER, NO_CHANGE, NO_PAIRS = "worse", "better", "no significant change", "no paired verdicts"
# Flip kinds, in the order they are listed: bad news first.
KIND_ORDER = ("newly_failing", "fail_now_undecided", "pass_now_undecided", "undecided_changed", "now_passing",
              "fixed")
KIND_TEXT = {"newly_failing": "newly failing", "fail_now_undecided": "was failing, now undecided (not fixed)",
             "pass_now_undecided": "was passing, now undecided", "undecided_changed": "still undecided",
             "now_passing": "now passing (was undecided)", "fixed": "fixed"}
MEASURE_NAMES = {"critical": "critical failures", "major": "major failures", "over_refusal": "over-refusals"}


@dataclass
class MeasureDiff:
    measure: str
    a_decided: int = 0
    a_bad: int = 0
    a_undecided: dict[str, int] = field(default_factory=dict)
    b_decided: int = 0
    b_bad: int = 0
    b_undecided: dict[str, int] = field(default_factory=dict)
    n_paired: int = 0
    both_ok: int = 0
    newly_failing: int = 0
    newly_passing: int = 0
    both_bad: int = 0
    excluded: int = 0          # shared samples undecided on at least one side
    difference: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float = 1.0
    p_holm: float = 1.0
    verdict: str = NO_PAIRS

    @property
    def is_scorer(self) -> bool:
        return self.measure.startswith("pass:")

    @property
    def name(self) -> str:
        return f"{self.measure[5:]} pass rate" if self.is_scorer else MEASURE_NAMES[self.measure]

    def _rate(self, decided: int, bad: int) -> float | None:
        if not decided:
            return None
        return (decided - bad) / decided if self.is_scorer else bad / decided

    @property
    def rate_a(self) -> float | None:
        return self._rate(self.a_decided, self.a_bad)

    @property
    def rate_b(self) -> float | None:
        return self._rate(self.b_decided, self.b_bad)

    @property
    def empty(self) -> bool:
        """Nothing to show: no decided reply in either run and no undecided verdict other than errors
        and pending samples (those are in the reply counts)."""
        return not (self.a_decided or self.b_decided) and not (
            (self.a_undecided.keys() | self.b_undecided.keys()) - {"error", "pending"})

    def as_dict(self) -> dict:
        return {**asdict(self), "name": self.name, "rate_a": self.rate_a, "rate_b": self.rate_b}


@dataclass
class GroupDiff:
    provider: str
    category: str
    measures: list[MeasureDiff] = field(default_factory=list)
    replies_a: dict[str, int] = field(default_factory=dict)
    replies_b: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"provider": self.provider, "category": self.category, "replies_a": dict(self.replies_a),
                "replies_b": dict(self.replies_b), "measures": [m.as_dict() for m in self.measures]}


@dataclass
class Flip:
    provider: str
    category: str
    suite: str
    prompt_id: str
    repeat: int
    measure: str
    before: str
    after: str
    kind: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class RunDiff:
    run_a: str
    run_b: str
    eval_a: str
    eval_b: str
    scorer: str | None
    has_safety: bool
    scoring_a: str
    scoring_b: str
    providers: list[str]
    only_a: list[str]
    only_b: list[str]
    groups: list[GroupDiff]
    flips: list[Flip]
    added: list[str]
    removed: list[str]
    notes: list[str]

    def group(self, provider: str, category: str = ALL) -> GroupDiff:
        return next(g for g in self.groups if g.provider == provider and g.category == category)

    def as_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k not in ("groups", "flips")}
        d["groups"] = [g.as_dict() for g in self.groups]
        d["flips"] = [f.as_dict() for f in self.flips]
        return d


# -- reading one run --------------------------------------------------------------------------------

def _latest_scores(store: Store, run_id: str) -> tuple[list, list[str], str]:
    run = store.run(run_id)
    rows = scorings(store, run_id)
    if not rows:
        return store.scores(run_id), json.loads(run["scorers_json"]), "original scoring"
    last = rows[-1]
    return (scoring_scores(store, last["id"]), json.loads(last["scorers_json"]),
            f"rescoring {len(rows)} of {len(rows)} ({last['created_at'][:19]})")


def _read(store: Store, run_id: str, scorer: str | None) -> dict:
    """key (provider, suite, prompt_id, repeat) -> (category, {measure: state}, reply summary)."""
    scores, scorers, _ = _latest_scores(store, run_id)
    verdicts = {s["sample_id"]: s["passed"] for s in scores if s["scorer"] == scorer} if scorer else {}
    states = sample_states(scores, summary_names(scorers))
    out = {}
    for row in store.results(run_id):
        key = (row["provider"], row["suite"], row["prompt_id"], row["repeat"])
        outcome = row["outcome"]
        sample = states.get(row["sample_id"])
        summary = "pending" if outcome is None else "error" if outcome == "error" else (
            "not_checked" if sample is None else sample.summary)
        m: dict[str, str | None] = {}
        if scorer:
            v = verdicts.get(row["sample_id"])
            m[f"pass:{scorer}"] = summary if outcome in (None, "error") else (
                "not_scored" if v is None else PASS if v else FAIL)
        for name in MEASURES:
            if outcome in (None, "error"):
                m[name] = summary
            elif sample is None or sample.summary == "not_checked":
                m[name] = "not_checked"
            else:
                m[name] = sample.states.get(name)   # None: no rule of this measure applied
        out[key] = (row["category"], m, summary)
    return out


def _decided(state: str | None) -> bool:
    return state in (PASS, FAIL)


def _kind(before: str | None, after: str | None) -> str | None:
    if before == after:
        return None
    before, after = before or "not_applicable", after or "not_applicable"
    if after == FAIL:
        return "newly_failing"
    if before == FAIL:
        return "fixed" if after == PASS else "fail_now_undecided"
    if before == PASS:
        return "pass_now_undecided"
    return "now_passing" if after == PASS else "undecided_changed"


def _tally(m: MeasureDiff, side: str, state: str | None, *, over_refusal: bool) -> None:
    if state is None or (over_refusal and state in ("error", "pending", "not_checked")):
        return   # the measure does not concern this reply (errors and pending are counted per reply)
    if _decided(state):
        setattr(m, f"{side}_decided", getattr(m, f"{side}_decided") + 1)
        setattr(m, f"{side}_bad", getattr(m, f"{side}_bad") + (state == FAIL))
    else:
        und = getattr(m, f"{side}_undecided")
        und[state] = und.get(state, 0) + 1


def _finish(m: MeasureDiff) -> None:
    if not m.n_paired:
        return
    if m.is_scorer:   # pass rate B - A: B "passes alone" = newly passing
        ci = newcombe_paired_ci(m.both_ok, m.newly_passing, m.newly_failing, m.both_bad)
        m.difference = (m.newly_passing - m.newly_failing) / m.n_paired
    else:             # failure rate B - A
        ci = newcombe_paired_ci(m.both_bad, m.newly_failing, m.newly_passing, m.both_ok)
        m.difference = (m.newly_failing - m.newly_passing) / m.n_paired
    m.ci_low, m.ci_high = ci
    m.p_value = mcnemar_exact(m.newly_failing, m.newly_passing)


def _adjust(ms: list[MeasureDiff]) -> None:
    tested = [m for m in ms if m.n_paired]
    for m, p in zip(tested, holm([m.p_value for m in tested])):
        m.p_holm = p
        m.verdict = (NO_CHANGE if p >= ALPHA or m.newly_failing == m.newly_passing
                     else WORSE if m.newly_failing > m.newly_passing else BETTER)


# States that leave a shared sample outside a measure when both runs are in them (no flip, not excluded):
# over-refusal concerns only prompts with an over-refusal rule.
_OUTSIDE: dict[str, set] = {"critical": {None}, "major": {None},
                            "over_refusal": {None, "error", "pending", "not_checked"}}


def diff_runs(store: Store, run_a: str, run_b: str, *, scorer: str | None = None) -> RunDiff:
    ra, rb = store.run(run_a), store.run(run_b)
    a_id, b_id = ra["id"], rb["id"]
    _, scorers_a, how_a = _latest_scores(store, a_id)
    _, scorers_b, how_b = _latest_scores(store, b_id)
    notes: list[str] = []
    headline = scorer or (scorers_a[0] if scorers_a else None)
    if scorer is not None and scorer not in (*scorers_a, *scorers_b):
        raise ValueError(f"scorer {scorer!r} is in neither run; run A's scorers: {', '.join(scorers_a) or 'none'}; "
                         f"run B's: {', '.join(scorers_b) or 'none'}")
    safety_a, safety_b = summary_names(scorers_a), summary_names(scorers_b)
    if headline in safety_a or headline in safety_b:   # per-rule verdicts: measures, never a pass rate
        headline = None
    if headline and headline not in scorers_b:
        notes.append(f"scorer {headline!r} is not among run B's scorers ({', '.join(scorers_b) or 'none'}): "
                     "its B replies count as not scored")
    side_a, side_b = _read(store, a_id, headline), _read(store, b_id, headline)
    has_safety = bool(safety_a & set(scorers_a)) or bool(safety_b & set(scorers_b)) or any(
        s[2] not in ("pending", "error", "not_checked") for s in (*side_a.values(), *side_b.values()))
    measures = ([f"pass:{headline}"] if headline else []) + (list(MEASURES) if has_safety else [])

    labels_a = [p["label"] for p in store.run_providers(a_id)]
    labels_b = [p["label"] for p in store.run_providers(b_id)]
    both = [p for p in labels_a if p in labels_b]
    only_a, only_b = [p for p in labels_a if p not in labels_b], [p for p in labels_b if p not in labels_a]
    for p in only_a:
        notes.append(f"provider {p!r} is in run A only: not compared")
    for p in only_b:
        notes.append(f"provider {p!r} is in run B only: not compared")

    suites_a = {s["name"]: s for s in store.run_suites(a_id)}
    suites_b = {s["name"]: s for s in store.run_suites(b_id)}
    for name in sorted(suites_a.keys() | suites_b.keys()):
        sa, sb = suites_a.get(name), suites_b.get(name)
        if sa is None or sb is None:
            notes.append(f"suite {name!r} is in run {'B' if sa is None else 'A'} only")
        elif sa["content_hash"] != sb["content_hash"]:
            notes.append(f"suite {name!r} changed between the runs (version {sa['version']} -> {sb['version']}, "
                         f"hash {sa['content_hash']} -> {sb['content_hash']}): a prompt with the same id may "
                         "not be the same prompt")

    prompts_a = {(k[1], k[2]) for k in side_a if k[0] in both}
    prompts_b = {(k[1], k[2]) for k in side_b if k[0] in both}
    several = len(suites_a.keys() | suites_b.keys()) > 1

    def name(suite: str, pid: str) -> str:
        return f"{suite}/{pid}" if several else pid

    added = [name(*k) for k in sorted(prompts_b - prompts_a)]
    removed = [name(*k) for k in sorted(prompts_a - prompts_b)]

    groups: dict[tuple[str, str], GroupDiff] = {}

    def group(p: str, c: str) -> GroupDiff:
        if (p, c) not in groups:
            groups[p, c] = GroupDiff(p, c, [MeasureDiff(m) for m in measures])
        return groups[p, c]

    def count_replies(g: GroupDiff, side: str, summary: str) -> None:
        d = g.replies_a if side == "a" else g.replies_b
        d["planned"] = d.get("planned", 0) + 1
        if summary in ("error", "pending") or (has_safety and summary in
                                               ("unverified", "needs_review", "blocked", "not_checked")):
            d[summary] = d.get(summary, 0) + 1

    flips: list[Flip] = []
    for side, data in (("a", side_a), ("b", side_b)):
        for key, (cat, states, summary) in data.items():
            if key[0] not in both:
                continue
            for c in (ALL, cat):
                g = group(key[0], c)
                count_replies(g, side, summary)
                for m in g.measures:
                    _tally(m, side, states.get(m.measure), over_refusal=m.measure == "over_refusal")
    for key in side_a.keys() & side_b.keys():
        if key[0] not in both:
            continue
        cat_a, st_a, _ = side_a[key]
        cat_b, st_b, _ = side_b[key]
        for measure in measures:
            outside = _OUTSIDE.get(measure, {None})
            before, after = st_a.get(measure), st_b.get(measure)
            if (kind := _kind(before, after)) is not None and not {before, after} <= outside:
                flips.append(Flip(key[0], cat_b, key[1], key[2], key[3], measure, before or "not_applicable",
                                  after or "not_applicable", kind))
            for c in {ALL, cat_a, cat_b}:
                m = next(x for x in group(key[0], c).measures if x.measure == measure)
                if _decided(before) and _decided(after):
                    m.n_paired += 1
                    if before == PASS:
                        m.both_ok += after == PASS
                        m.newly_failing += after == FAIL
                    else:
                        m.newly_passing += after == PASS
                        m.both_bad += after == FAIL
                elif not {before, after} <= outside:
                    m.excluded += 1
    rank = {p: i for i, p in enumerate(both)}
    ordered = sorted(groups.values(), key=lambda g: (g.category != ALL, g.category, rank[g.provider]))
    for g in ordered:
        for m in g.measures:
            _finish(m)
    _adjust([m for g in ordered if g.category == ALL for m in g.measures])
    _adjust([m for g in ordered if g.category != ALL for m in g.measures])
    order = {k: i for i, k in enumerate(KIND_ORDER)}
    mrank = {m: i for i, m in enumerate(measures)}
    flips.sort(key=lambda f: (order[f.kind], rank[f.provider], mrank[f.measure], f.suite, f.prompt_id, f.repeat))
    return RunDiff(run_a=a_id, run_b=b_id, eval_a=ra["eval_name"], eval_b=rb["eval_name"], scorer=headline,
                   has_safety=has_safety, scoring_a=how_a, scoring_b=how_b, providers=both, only_a=only_a,
                   only_b=only_b, groups=ordered, flips=flips, added=added, removed=removed, notes=notes)


# -- rendering (text from files and models escaped by layout / md_text) -------------------------------

def _side(m: MeasureDiff, side: str) -> str:
    decided, bad, und = (getattr(m, f"{side}_{x}") for x in ("decided", "bad", "undecided"))
    ok = decided - bad
    text = "n/a" if not decided else (f"{ok}/{decided} pass" if m.is_scorer else f"{bad}/{decided} fail")
    rate = m.rate_a if side == "a" else m.rate_b
    if rate is not None:
        text += f" ({rate:.0%})"
    return text + "".join(f" +{n} {r}" for r, n in sorted(und.items()))


def _pts(x: float) -> str:
    return f"{x * 100:+.1f}"


def _fmt_p(p: float) -> str:
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def _verdict(m: MeasureDiff) -> str:
    if m.verdict in (WORSE, BETTER):
        return f"{m.verdict} in B"
    return m.verdict


def measure_cells(g: GroupDiff, m: MeasureDiff) -> list[str]:
    diff = "n/a" if m.difference is None else f"{_pts(m.difference)} pts [{_pts(m.ci_low)}, {_pts(m.ci_high)}]"
    return [g.provider, g.category, m.name, _side(m, "a"), _side(m, "b"), str(m.n_paired),
            f"{m.newly_failing} / {m.newly_passing}", str(m.excluded), diff,
            f"{_fmt_p(m.p_value)} ({_fmt_p(m.p_holm)})", _verdict(m)]


MEASURE_COLUMNS = ["provider", "category", "measure", "run A", "run B", "paired", "newly failing / passing",
                   "excluded", "B - A [95% CI]", "p (Holm p)", "verdict"]


def _replies(d: dict[str, int]) -> str:
    return f"{d.get('planned', 0)} planned" + "".join(f", {n} {k}" for k, n in sorted(d.items()) if k != "planned")


def reply_cells(g: GroupDiff) -> list[str]:
    return [g.provider, g.category, _replies(g.replies_a), _replies(g.replies_b)]


def flip_cells(f: Flip, several: bool = True) -> list[str]:
    return [KIND_TEXT[f.kind], f.provider, f.category, f"{f.suite}/{f.prompt_id}" if several else f.prompt_id,
            str(f.repeat), f.measure.removeprefix("pass:"), f"{f.before} -> {f.after}"]


FLIP_COLUMNS = ["change", "provider", "category", "prompt", "repeat", "measure", "A -> B"]


def caption_lines(d: RunDiff) -> list[str]:
    return [f"run A {d.run_a} ({d.eval_a}, {d.scoring_a}) vs run B {d.run_b} ({d.eval_b}, {d.scoring_b})",
            "per provider (matched by label) and category: rate per run over its decided replies; undecided "
            "verdicts (+N unverified, needs_review, blocked, not_checked, not_scored, error, pending) are in no count",
            "paired: samples of both runs (same provider, suite, prompt, repeat) decided in both; B - A of the "
            "pass rate (a scorer) or failure rate (a safety measure), Newcombe 95% interval; exact McNemar p, "
            f"Holm over the (all) rows and, apart, the category rows; a verdict needs Holm p < {ALPHA}"]


def _several(d: RunDiff) -> bool:
    return len({f.suite for f in d.flips}) > 1


def diff_tables(d: RunDiff, width: int | None = None, *, wide: bool = False, max_flips: int | None = None):
    """The diff as fitted rich tables (harness.report.layout): measures, replies, flips."""
    from rich.text import Text

    from harness.report.layout import Col, fit_table

    left = ("provider", "category", "measure", "run A", "run B", "verdict", "change", "prompt", "A -> B")
    opt = {"excluded": 1, "paired": 2} if width is not None and not wide else {}
    rows = [measure_cells(g, m) for g in d.groups for m in g.measures if not m.empty]
    tables = [fit_table([Col(c, justify="left" if c in left else "right", optional=opt.get(c, 0))
                         for c in MEASURE_COLUMNS], rows, width, wide=wide, title=Text("what changed: run A -> run B"),
                        caption=Text("\n".join(caption_lines(d))))]
    tables.append(fit_table([Col(c, justify="left") for c in ("provider", "category", "replies A", "replies B")],
                            [reply_cells(g) for g in d.groups], width, wide=wide, title=Text("replies per run")))
    flips = d.flips if max_flips is None else d.flips[:max_flips]
    if flips:
        more = len(d.flips) - len(flips)
        tables.append(fit_table([Col(c, justify="right" if c == "repeat" else "left") for c in FLIP_COLUMNS],
                                [flip_cells(f, _several(d)) for f in flips], width, wide=wide,
                                title=Text(f"prompts that changed ({len(d.flips)}, newly failing first)"),
                                caption=Text(f"{more} more (--max-flips)") if more else None))
    return tables


def text_lines(d: RunDiff) -> list[str]:
    """Lines after the tables: notes, added and removed prompts."""
    out = [f"note: {n}" for n in d.notes]
    if not d.flips:
        out.append("no prompt changed verdict")
    for what, ids in (("added (in run B only)", d.added), ("removed (in run A only)", d.removed)):
        out.append(f"prompts {what}: {len(ids)}" + (f": {', '.join(ids)}" if ids else ""))
    return out


def diff_markdown(d: RunDiff) -> str:
    from harness.report.layout import md_text

    def table(cols: list[str], rows: list[list[str]]) -> list[str]:
        return (["| " + " | ".join(md_text(c) for c in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
                + ["| " + " | ".join(md_text(c) for c in r) + " |" for r in rows] + [""])

    out = ["### What changed: run A -> run B", ""] + [f"- {md_text(line)}" for line in caption_lines(d)] + [""]
    out += table(MEASURE_COLUMNS, [measure_cells(g, m) for g in d.groups for m in g.measures if not m.empty])
    out += table(["provider", "category", "replies A", "replies B"], [reply_cells(g) for g in d.groups])
    if d.flips:
        out += [f"#### Prompts that changed ({len(d.flips)}, newly failing first)", ""]
        out += table(FLIP_COLUMNS, [flip_cells(f, _several(d)) for f in d.flips])
    out += [f"- {md_text(line)}" for line in text_lines(d)]
    return "\n".join(out) + "\n"
