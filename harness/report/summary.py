"""Per provider and category figures for a run, computed from the store (never from memory)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from harness.report.stats import median, percentile, wilson
from harness.scoring.judge import agreement
from harness.store import Store

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
    critical_failures: int = 0   # failed critical teen-safety rules, counted per reply and rule

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
            "critical_failures": self.critical_failures,
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
    # rule id -> provider -> [failed, decided]: teen-safety verdicts per rule, never averaged away
    rules: dict[str, dict[str, list[int]]]
    rule_severity: dict[str, str]
    judge_agreement: dict | None
    providers: list[dict]
    suites: list[dict]


def group_key(row, group_by: str) -> str:
    """The group of one sample: its category, its suite, or any prompt metadata field (age_signal,
    framing, ...): metrics by any metadata key come for free."""
    if group_by in ("category", "suite"):
        return row[group_by]
    value = json.loads(row["prompt_json"]).get("metadata", {}).get(group_by)
    return "(none)" if value is None else str(value)


def summarise(store: Store, run_id: str | None = None, group_by: str = "category") -> RunReport:
    run = store.run(run_id)
    scorers = json.loads(run["scorers_json"])
    primary = scorers[0] if scorers else None
    verdicts: dict[int, int | None] = {}
    critical: dict[int, int] = {}
    rule_rows: list = []
    judge_rows: dict[tuple[int, str], int | None] = {}
    for s in store.scores(run["id"]):
        if s["scorer"] == primary:
            verdicts[s["sample_id"]] = s["passed"]
        if s["scorer"].startswith("judge:"):
            judge_rows[(s["sample_id"], s["scorer"].removeprefix("judge:"))] = s["passed"]
        if s["scorer"].startswith("rule:"):
            rule_rows.append(s)
            if s["severity"] == "critical" and s["passed"] == 0:
                critical[s["sample_id"]] = critical.get(s["sample_id"], 0) + 1
    groups: dict[tuple[str, str], Group] = {}
    order: list[str] = [p["label"] for p in store.run_providers(run["id"])]

    def group(provider: str, category: str) -> Group:
        key = (provider, category)
        if key not in groups:
            groups[key] = Group(provider, category)
        return groups[key]

    provider_of: dict[int, str] = {}
    cached = 0
    for row in store.results(run["id"]):
        provider_of[row["sample_id"]] = row["provider"]
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
            g.critical_failures += critical.get(row["sample_id"], 0)
            verdict = verdicts.get(row["sample_id"])
            if verdict is not None:
                g.scored += 1
                g.passed += verdict
    rules: dict[str, dict[str, list[int]]] = {}
    severity: dict[str, str] = {}
    for s in rule_rows:
        severity[s["scorer"].removeprefix("rule:")] = s["severity"] or ""
        if s["passed"] is None:
            continue
        counts = rules.setdefault(s["scorer"].removeprefix("rule:"), {}).setdefault(provider_of[s["sample_id"]], [0, 0])
        counts[0] += s["passed"] == 0
        counts[1] += 1
    # Judge vs signal verdict on the same reply and rule, where the judge was asked.
    pairs: list[tuple[bool | None, bool | None]] = []
    for s in rule_rows:
        key = (s["sample_id"], s["scorer"].removeprefix("rule:"))
        if key in judge_rows:
            judged = judge_rows[key]
            pairs.append((None if judged is None else bool(judged), None if s["passed"] is None else bool(s["passed"])))
    judge_agreement = agreement(pairs) if pairs else None
    rank = {p: i for i, p in enumerate(order)}
    ordered = sorted(groups.values(), key=lambda g: (g.category != ALL, g.category, rank.get(g.provider, 1e9)))
    return RunReport(
        run_id=run["id"], eval_name=run["eval_name"], status=run["status"], cached_replies=cached, primary_scorer=primary, group_by=group_by,
        groups=ordered,
        rules=dict(sorted(rules.items(), key=lambda kv: (kv[0][0] != "T", int(kv[0][1:]) if kv[0][1:].isdigit() else 0))),
        rule_severity=severity,
        judge_agreement=judge_agreement,
        providers=[dict(p) for p in store.run_providers(run["id"])],
        suites=[dict(s) for s in store.run_suites(run["id"])],
    )
