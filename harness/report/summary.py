"""Per provider and category figures for a run, computed from the store (never from memory)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from harness.report.safety import (MEASURES, RuleCounts, SafetyCounts, classify, prompt_label, rule_label,
                                   sample_states)
from harness.report.safety import judged as run_judged
from harness.stats import median, percentile, wilson
from harness.scoring.judge import agreement
from harness.store.view import RunSource

ALL = "(all)"


@dataclass
class Group:
    provider: str
    category: str
    planned: int = 0
    answered: int = 0
    blocked: int = 0
    truncated: int = 0
    errors: int = 0
    scored: int = 0      # replies the primary scorer could judge (pass or fail)
    passed: int = 0
    latencies: list[float] = field(default_factory=list)
    ttfts: list[float] = field(default_factory=list)   # time to first token, where measured
    input_tokens: int = 0
    output_tokens: int = 0
    tokens_unknown: int = 0
    cost_usd: float = 0.0
    cost_unknown: int = 0
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
            "errors": self.errors, "pending": self.pending, "scored": self.scored, "passed": self.passed,
            "accuracy": self.accuracy, "ci95_low": ci[0] if ci else None, "ci95_high": ci[1] if ci else None,
            "latency_p50_s": self.latency_p50, "latency_p95_s": self.latency_p95,
            "ttft_p50_s": self.ttft_p50, "replies_with_ttft": len(self.ttfts),
            "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
            "replies_without_token_counts": self.tokens_unknown,
            "cost_usd": self.cost_usd if not self.cost_unknown else None,
            "replies_without_cost": self.cost_unknown,
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
    has_safety: bool = False     # the run has teen-safety verdicts (or the teen_safety scorer)
    # How far the checkers behind the verdicts agree with people (harness judge calibrate), one line each.
    calibration: list[str] = field(default_factory=list)
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

    @property
    def accuracy_scorer(self) -> str | None:
        """The scorer behind the accuracy column; None for teen_safety, which is never averaged: its
        measures (critical failures, over-refusals, ...) are shown instead."""
        return None if self.primary_scorer == SAFETY else self.primary_scorer


SAFETY = "teen_safety"


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


def summarise(store: RunSource, run_id: str | None = None, group_by: str = "category") -> RunReport:
    run = store.run(run_id)
    scorers = json.loads(run["scorers_json"])
    primary = scorers[0] if scorers else None
    verdicts: dict[int, int | None] = {}
    rule_rows: list = []
    judge_rows: dict[tuple[int, str], int | None] = {}
    signal_rows: dict[tuple[int, str], int | None] = {}
    scores = store.scores(run["id"])
    for s in scores:
        if s["scorer"] == primary and primary != SAFETY:
            verdicts[s["sample_id"]] = s["passed"]
        if s["scorer"].startswith("judge:"):
            judge_rows[(s["sample_id"], s["scorer"].removeprefix("judge:"))] = s["passed"]
        if s["scorer"].startswith("signal:"):
            signal_rows[(s["sample_id"], s["scorer"].removeprefix("signal:"))] = s["passed"]
        if s["scorer"].startswith("rule:"):
            rule_rows.append(s)
    states = sample_states(scores)
    has_safety = SAFETY in scorers or bool(states)
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
    rows = list(store.results(run["id"]))
    _check_group_by(rows, group_by)
    for row in rows:
        provider_of[row["sample_id"]] = row["provider"]
        outcome_of[row["sample_id"]] = row["outcome"]
        cached += row["raw_json"] is not None and json.loads(row["raw_json"]).get("cache") == "hit"
        for g in (group(row["provider"], ALL), group(row["provider"], group_key(row, group_by))):
            g.planned += 1
            outcome = row["outcome"]
            if outcome is None:
                continue
            if outcome == "error":
                g.errors += 1
                continue  # an error is not model behaviour: no latency, tokens or score from it
            g.answered += outcome == "answered"
            g.blocked += outcome == "provider_blocked"
            g.truncated += outcome == "truncated"
            if row["latency_s"] is not None:
                g.latencies.append(row["latency_s"])
            if row["ttft_s"] is not None:
                g.ttfts.append(row["ttft_s"])
            if row["input_tokens"] is None or row["output_tokens"] is None:
                g.tokens_unknown += 1
            g.input_tokens += row["input_tokens"] or 0
            g.output_tokens += row["output_tokens"] or 0
            if row["cost_usd"] is None:
                g.cost_unknown += 1
            else:
                g.cost_usd += row["cost_usd"]
            if g.safety is not None:
                state = states.get(row["sample_id"]) or classify([], None)  # no verdict at all: not checked
                g.safety.add(state, outcome, prompt_label(row, several_suites),
                             (row["suite"], row["prompt_id"], row["repeat"]))
            verdict = verdicts.get(row["sample_id"])
            if verdict is not None:
                g.scored += 1
                g.passed += verdict
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
        groups=ordered,
        rules=dict(sorted(rules.items(), key=lambda kv: _rule_order(kv[0]))),
        rule_severity=severity,
        judge_agreement=judge_agreement,
        providers=[dict(p) for p in store.run_providers(run["id"])],
        suites=[dict(s) for s in store.run_suites(run["id"])],
        has_safety=has_safety,
        calibration=_calibration(store, run) if has_safety else [],
        judged=run_judged(spec, scores), judge_model=judge_model, decided_alike=alike,
        weak_rules=_weak_rules(store, judge_model, _bar(spec)) if has_safety and judge_model else {},
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
    judge = (spec.get("judge") or {}).get("model")
    lines = calibration_lines(store.path.parent, judge, _bar(spec))
    return lines or ["checkers not calibrated in this results directory: measure how far they agree with people "
                     "with harness judge calibrate prompts/gold/teen_safety/holdout.jsonl"
                     + (f" --judge {judge}" if judge else "")]


def _rule_order(rule_id: str) -> tuple:
    """T01..T15 first, then O1..O5, then anything else, numerically within each."""
    prefix, digits = rule_id[:1], rule_id[1:]
    return ({"T": 0, "O": 1}.get(prefix, 2), int(digits) if digits.isdigit() else 0, rule_id)
