"""Per provider and category figures for a run, computed from the store (never from memory)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from harness.served_model import served_counts
from harness.report.safety import (MEASURES, SAFETY, RuleCounts, SafetyCounts, classify, prompt_label, rule_label,
                                   sample_states, summary_names)
from harness.report.safety import judged as run_judged
from harness.stats import median, percentile, wilson
from harness.scoring.judge import agreement
from harness.store.judge_batches import PENDING_LABEL as JUDGE_PENDING
from harness.store.judge_usage import judge_usage
from harness.store.view import RunSource
from harness.types import REASONING_EXHAUSTED

ALL = "(all)"


@dataclass
class Group:
    provider: str
    category: str
    planned: int = 0
    answered: int = 0
    blocked: int = 0
    truncated: int = 0
    # Of the truncated: no visible text because the whole budget went to hidden reasoning.
    reasoning_exhausted: int = 0
    truncated_empty: int = 0   # truncated before any text (whitespace only): nothing a rule can check
    errors: int = 0
    scored: int = 0      # replies the primary scorer could judge (pass or fail)
    passed: int = 0
    latencies: list[float] = field(default_factory=list)
    ttfts: list[float] = field(default_factory=list)   # time to first token, where measured
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    tokens_unknown: int = 0
    cost_usd: float = 0.0
    cost_unknown: int = 0
    # Of those, the replies that came through a provider's batch API and their cost (at batch prices).
    batch_replies: int = 0
    batch_cost_usd: float = 0.0
    # Teen-safety measures (None when the run has no teen-safety verdicts): never averaged.
    safety: SafetyCounts | None = None

    @property
    def replied(self) -> int:
        return self.answered + self.blocked + self.truncated + self.errors

    @property
    def pending(self) -> int:
        return self.planned - self.replied

    @property
    def accuracy(self) -> float | None:
        return self.passed / self.scored if self.scored else None

    @property
    def ci(self) -> tuple[float, float] | None:
        return wilson(self.passed, self.scored)

    @property
    def critical_failures(self) -> int | None:
        """Replies with at least one failed critical rule (None without teen-safety verdicts)."""
        return None if self.safety is None else self.safety.critical.failed

    @property
    def latency_p50(self) -> float | None:
        return median(self.latencies)

    @property
    def latency_p95(self) -> float | None:
        return percentile(self.latencies, 95)

    @property
    def ttft_p50(self) -> float | None:
        return median(self.ttfts)

    def as_dict(self) -> dict:
        ci = self.ci
        return {
            "provider": self.provider, "category": self.category, "planned": self.planned,
            "answered": self.answered, "provider_blocked": self.blocked, "truncated": self.truncated,
            "reasoning_exhausted": self.reasoning_exhausted, "truncated_empty": self.truncated_empty,
            "errors": self.errors, "pending": self.pending, "scored": self.scored, "passed": self.passed,
            "accuracy": self.accuracy, "ci95_low": ci[0] if ci else None, "ci95_high": ci[1] if ci else None,
            "latency_p50_s": self.latency_p50, "latency_p95_s": self.latency_p95,
            "ttft_p50_s": self.ttft_p50, "replies_with_ttft": len(self.ttfts),
            "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "replies_without_token_counts": self.tokens_unknown,
            "cost_usd": self.cost_usd if not self.cost_unknown else None,
            "replies_without_cost": self.cost_unknown,
            "batch_replies": self.batch_replies, "batch_cost_usd": self.batch_cost_usd,
            **({"critical_failures": None} if self.safety is None else self.safety.as_dict()),
        }


@dataclass
class RunReport:
    run_id: str
    eval_name: str
    status: str
    cached_replies: int  # served from the response cache: latency and cost are the original request's
    primary_scorer: str | None
    group_by: str
    groups: list[Group]
    # rule id -> provider -> final verdict counts: teen-safety verdicts per rule, never averaged away
    rules: dict[str, dict[str, RuleCounts]]
    rule_severity: dict[str, str]
    judge_agreement: dict | None
    providers: list[dict]
    suites: list[dict]
    has_safety: bool = False     # the run has teen-safety verdicts (or a scorer that declares them)
    # How far the checkers behind the verdicts agree with people (harness judge calibrate), one line each.
    calibration: list[str] = field(default_factory=list)
    # provider label -> {model the provider reported: replies}, where it differs from the requested one.
    served_models: dict[str, dict[str, int]] = field(default_factory=dict)
    # provider -> {(suite, prompt id, repeat): why undecided} for replies with nothing to score (an error, or
    # truncated with no visible text, e.g. reasoning_exhausted): see subset_lines().
    undecided: dict[str, dict[tuple, str]] = field(default_factory=dict)
    # A judge took part (the run names one, or judge verdicts are stored): the safety measures are read
    # over decided replies. Without one they are read as failures FOUND over replies checked (a lower
    # bound), because the signals alone decide a different subset per provider (harness.report.safety).
    judged: bool = False
    judge_model: str | None = None
    # measure -> every provider was decided on the same samples, so rates over decided replies compare
    # like with like (without a judge they are shown only then, otherwise with a warning)
    decided_alike: dict[str, bool] = field(default_factory=dict)
    # Judge recall on failures per rule below the bar (harness.report.calibration): rule -> recall
    weak_rules: dict[str, float] = field(default_factory=dict)
    # Judge calls, tokens, cost and unusable verdicts, one row per judge model (store/judge_usage.py).
    judge_usage: list[dict] = field(default_factory=list)
    # Replies whose judge verdicts wait for a judge batch (harness/batch/judge.py): their rule verdicts are
    # the signals' alone until it is collected, so the safety measures are not final.
    judge_pending: int = 0
    # The names the run's safety summaries are stored under: teen_safety, and the run's scorers that
    # declare per-rule verdicts (harness/scoring/traits.py).
    safety_scorers: frozenset[str] = frozenset([SAFETY])

    @property
    def accuracy_scorer(self) -> str | None:
        """The scorer behind the accuracy column; None for a scorer with per-rule verdicts (teen_safety),
        which is never averaged: its measures (critical failures, over-refusals, ...) are shown instead."""
        return None if self.primary_scorer in self.safety_scorers else self.primary_scorer


def group_key(row, group_by: str) -> str:
    """The group of one sample: its category, its suite, or any prompt metadata field (age_signal,
    framing, ...): metrics by any metadata key come for free."""
    if group_by in ("category", "suite"):
        return row[group_by]
    value = json.loads(row["prompt_json"]).get("metadata", {}).get(group_by)
    return "(none)" if value is None else str(value)


def _check_group_by(rows, group_by: str) -> None:
    """A --group-by key that no prompt of the run has would put every sample under "(none)" and look
    like a real grouping: refuse it, naming the keys the run has."""
    if group_by in ("category", "suite") or not rows:
        return
    keys: set[str] = set()
    for row in rows:
        keys |= set(json.loads(row["prompt_json"]).get("metadata", {}))
        if group_by in keys:
            return
    from harness.problems import InputError, did_you_mean

    raise InputError.single("--group-by", f"no prompt of this run has the metadata field {group_by!r}"
                            + did_you_mean(group_by, keys | {"category", "suite"}))


def subset_lines(report: RunReport) -> list[str]:
    """A warning when the providers were decided on different prompt subsets: a provider whose replies ran
    out of budget in hidden reasoning (or failed) on some prompts is judged on the rest only, often the
    prompts where it thought briefly. Rates over different subsets are not comparable as they stand."""
    labels = [p["label"] for p in report.providers]
    sets = {label: set(report.undecided.get(label, {})) for label in labels}
    if len(labels) < 2 or len({frozenset(s) for s in sets.values()}) < 2:
        return []
    lines = ["WARNING: the providers were decided on different prompt subsets (replies with nothing to score "
             "are left out of each provider's rates): compare the rates with care; paired comparisons use "
             "only prompts decided on both sides"]
    for label in labels:
        whys = list(report.undecided.get(label, {}).values())
        if whys:
            counts = ", ".join(f"{whys.count(w)} {w}" for w in sorted(set(whys)))
            lines.append(f"  {label}: {len(whys)} samples undecided ({counts})")
        else:
            lines.append(f"  {label}: none undecided")
    return lines


def summarise(store: RunSource, run_id: str | None = None, group_by: str = "category") -> RunReport:
    run = store.run(run_id)
    scorers = json.loads(run["scorers_json"])
    primary = scorers[0] if scorers else None
    safety_scorers = summary_names(scorers)
    verdicts: dict[int, int | None] = {}
    rule_rows: list = []
    judge_rows: dict[tuple[int, str], int | None] = {}
    signal_rows: dict[tuple[int, str], int | None] = {}
    scores = store.scores(run["id"])
    judge_pending = 0
    for s in scores:
        name = s["scorer"]   # read once: a sqlite3.Row lookup by name, for each of 300,000+ scores
        if name == primary and primary not in safety_scorers:
            verdicts[s["sample_id"]] = s["passed"]
        if name.startswith("rule:"):
            rule_rows.append(s)
        elif name.startswith("judge:"):
            judge_rows[(s["sample_id"], name[6:])] = s["passed"]
        elif name.startswith("signal:"):
            signal_rows[(s["sample_id"], name[7:])] = s["passed"]
        elif name == "judge" and s["label"] == JUDGE_PENDING:
            judge_pending += 1
    states = sample_states(scores, safety_scorers)
    has_safety = bool(safety_scorers & set(scorers)) or bool(states)
    several_suites = len(store.run_suites(run["id"])) > 1
    groups: dict[tuple[str, str], Group] = {}
    order: list[str] = [p["label"] for p in store.run_providers(run["id"])]

    def group(provider: str, category: str) -> Group:
        key = (provider, category)
        if key not in groups:
            groups[key] = Group(provider, category, safety=SafetyCounts() if has_safety else None)
        return groups[key]

    provider_of: dict[int, str] = {}
    outcome_of: dict[int, str | None] = {}
    cached = 0
    undecided: dict[str, dict[tuple, str]] = {}
    facts = getattr(store, "result_facts", None)   # a store, or a view of one; else every column
    rows = list(facts(run["id"], prompts=group_by not in ("category", "suite")) if facts else store.results(run["id"]))
    _check_group_by(rows, group_by)
    blank_column = bool(rows) and "text_blank" in rows[0].keys()   # result_facts: no reply text read
    ids: dict[tuple, int] = {}
    for row in rows:
        # Each column read once per row (sqlite3.Row lookups by name are not free at 100,000 samples).
        sid, provider, outcome = row["sample_id"], row["provider"], row["outcome"]
        provider_of[sid] = provider
        outcome_of[sid] = outcome
        raw_text = row["raw_json"]   # parsed only when it can say something here: most replies' raw data never does
        raw = (json.loads(raw_text) if raw_text is not None and ('"cache"' in raw_text or '"reasoning_tokens"' in raw_text
                                                                  or '"batch"' in raw_text)
               else {})
        cached += raw.get("cache") == "hit"
        both = (group(provider, ALL), group(provider, group_key(row, group_by)))
        if outcome is None:
            for g in both:
                g.planned += 1
            continue
        # (suite, prompt, repeat) as a small int: hashed into sets and dicts for every reply and provider
        key = ids.setdefault((row["suite"], row["prompt_id"], row["repeat"]), len(ids))
        if outcome == "error":
            undecided.setdefault(provider, {})[key] = "error"
            for g in both:
                g.planned += 1
                g.errors += 1   # an error is not model behaviour: no latency, tokens or score from it
            continue
        empty = outcome == "truncated" and (row["text_blank"] if blank_column else not (row["text"] or "").strip())
        if empty:
            undecided.setdefault(provider, {})[key] = row["reason"] or "truncated"
        exhausted = outcome == "truncated" and row["reason"] == REASONING_EXHAUSTED
        latency, ttft, tokens_in, tokens_out, cost = (row["latency_s"], row["ttft_s"], row["input_tokens"],
                                                      row["output_tokens"], row["cost_usd"])
        state = label = None
        if has_safety:
            state = states.get(sid) or classify([], None)  # no verdict at all: not checked
            label = prompt_label(row, several_suites)
        verdict = verdicts.get(sid)
        reasoning_tokens = raw.get("reasoning_tokens") or 0   # part of output_tokens, billed as output
        for g in both:
            g.planned += 1
            g.answered += outcome == "answered"
            g.blocked += outcome == "provider_blocked"
            g.truncated += outcome == "truncated"
            g.reasoning_exhausted += exhausted
            g.truncated_empty += empty
            if latency is not None:
                g.latencies.append(latency)
            if ttft is not None:
                g.ttfts.append(ttft)
            if tokens_in is None or tokens_out is None:
                g.tokens_unknown += 1
            g.input_tokens += tokens_in or 0
            g.output_tokens += tokens_out or 0
            g.reasoning_tokens += reasoning_tokens
            if cost is None:
                g.cost_unknown += 1
            else:
                g.cost_usd += cost
            if raw.get("batch"):
                g.batch_replies += 1
                g.batch_cost_usd += cost or 0.0
            if g.safety is not None:
                g.safety.add(state, outcome, label, key)
            if verdict is not None:
                g.scored += 1
                g.passed += verdict
    models = {p["label"]: p["model"] for p in store.run_providers(run["id"])}
    served = served_counts((r["provider"], models.get(r["provider"], ""), r["model_reported"])
                           for r in rows if r["outcome"] not in (None, "error"))
    rules: dict[str, dict[str, RuleCounts]] = {}
    severity: dict[str, str] = {}
    for s in rule_rows:
        label = rule_label(s)
        if label is None or outcome_of.get(s["sample_id"]) in (None, "error"):
            continue  # a rule that did not apply, or a verdict stored beside an error: not a verdict
        rid = s["scorer"].removeprefix("rule:")
        severity[rid] = s["severity"] or ""
        rules.setdefault(rid, {}).setdefault(provider_of[s["sample_id"]], RuleCounts()).add(label)
    # Judge vs signal verdict on the same reply and rule, where the judge was asked. The final rule:
    # verdict already contains the judge's, so it is not the other side of this comparison.
    pairs: list[tuple[bool | None, bool | None]] = []
    for key, judged in judge_rows.items():
        if key in signal_rows:
            signal = signal_rows[key]
            pairs.append((None if judged is None else bool(judged), None if signal is None else bool(signal)))
    judge_agreement = agreement(pairs) if pairs else None
    rank = {p: i for i, p in enumerate(order)}
    ordered = sorted(groups.values(), key=lambda g: (g.category != ALL, g.category, rank.get(g.provider, 1e9)))
    spec = json.loads(run["spec_json"] or "{}")
    overall = [g.safety for g in ordered if g.category == ALL and g.safety is not None]
    alike = {m: len({frozenset(s.measure(m).decided_keys) for s in overall}) <= 1 for m in MEASURES}
    judge_model = (spec.get("judge") or {}).get("model")
    return RunReport(
        run_id=run["id"], eval_name=run["eval_name"], status=run["status"], cached_replies=cached, primary_scorer=primary, group_by=group_by,
        judge_pending=judge_pending,
        groups=ordered,
        rules=dict(sorted(rules.items(), key=lambda kv: _rule_order(kv[0]))),
        rule_severity=severity,
        judge_agreement=judge_agreement,
        providers=[dict(p) for p in store.run_providers(run["id"])],
        suites=[dict(s) for s in store.run_suites(run["id"])],
        has_safety=has_safety, undecided=undecided,
        calibration=_calibration(store, run) if has_safety else [],
        served_models=served,
        judged=run_judged(spec, scores), judge_model=judge_model, decided_alike=alike,
        weak_rules=_weak_rules(store, judge_model, _bar(spec)) if has_safety and judge_model else {},
        judge_usage=judge_usage(store, run["id"]), safety_scorers=safety_scorers,
    )


def _bar(spec: dict) -> float:
    from harness.report.calibration import RECALL_BAR

    bar = spec.get("judge_recall_bar")
    return bar if isinstance(bar, (int, float)) and 0 <= bar <= 1 else RECALL_BAR


def _weak_rules(store: RunSource, judge_model: str, bar: float) -> dict[str, float]:
    from harness.report.calibration import weak_rules

    return weak_rules(store.path.parent, judge_model, bar)


def _calibration(store: RunSource, run) -> list[str]:
    """The stored calibration figures for this run's judge (or the signals alone), or a line saying
    none were measured: every safety table says how well its checker agrees with people."""
    from harness.report.calibration import calibration_lines

    spec = json.loads(run["spec_json"] or "{}")
    judge = (spec.get("judge") or {}).get("model") or (
        " + ".join(j.get("model", "?") for j in spec["judges"]) if spec.get("judges") else None)  # two judges
    lines = calibration_lines(store.path.parent, judge, _bar(spec))
    return lines or ["checkers not calibrated in this results directory: measure how far they agree with people "
                     "with harness judge calibrate prompts/gold/teen_safety/holdout.jsonl"
                     + (f" --judge {judge}" if judge else "")]


def _rule_order(rule_id: str) -> tuple:
    """T01..T15 first, then O1..O5, then anything else, numerically within each."""
    prefix, digits = rule_id[:1], rule_id[1:]
    return ({"T": 0, "O": 1}.get(prefix, 2), int(digits) if digits.isdigit() else 0, rule_id)
