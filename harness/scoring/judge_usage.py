"""What a judge cost and how often it could not answer: counted per run, stored, shown in compare.

A teen-safety judge can cost more than the run it judges (about nine calls per reply when every rule
is its own question), so its calls, tokens and cost are counted beside the providers' and shown in
`harness compare` and the HTML report. The same counts say when the judge was of no use: when most
of its verdicts are unusable (unreachable, every answer unparseable) or it never started, the run
ends with exit 6 and the cause (`judge_failure`), instead of every verdict quietly becoming
`needs_review`.

Counting wraps the judge provider's `complete` (`JudgeUsage.attach`), so every judge kind (chat,
Llama Guard, a pair) is counted the same way without each one having to remember to.
"""
from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from harness.types import Outcome, Reply

# A judge whose verdicts are unusable more often than this makes the run fail (exit 6).
MAX_UNUSABLE_SHARE = 0.5


@dataclass
class JudgeUsage:
    """Counts for one judge model in one process; `delta()` is what is added to the store."""

    judge: str
    mode: str | None = None
    calls: int = 0               # requests sent (a provider's own retries inside one call are not extra calls)
    cached: int = 0              # verdicts answered from the judge cache (nothing sent)
    input_tokens: int = 0
    output_tokens: int = 0
    tokens_unknown: int = 0      # calls whose usage the provider did not report
    cost_usd: float = 0.0
    cost_unknown: int = 0        # calls with no price or no token counts: the cost is a lower bound
    errors: int = 0              # calls that ended in a provider error
    verdicts: int = 0            # judge verdicts on rules or graded replies
    unusable: int = 0            # ... of which unusable (disagreements between two judges are not)
    reasons: Counter = field(default_factory=Counter)
    start_error: str | None = None

    def attach(self, provider: Any) -> None:
        """Count every call the provider makes from now on (idempotent)."""
        if getattr(provider, "_judge_usage", None) is self:
            return
        inner = provider.complete

        @functools.wraps(inner)
        async def counted(*args: Any, **kwargs: Any) -> Reply:
            reply = await inner(*args, **kwargs)
            self.record_call(provider, reply)
            return reply

        provider.complete = counted
        provider._judge_usage = self

    def record_call(self, provider: Any, reply: Reply) -> None:
        from harness.providers.pricing import reply_cost

        self.calls += 1
        self.errors += reply.outcome is Outcome.ERROR
        usage = reply.usage
        if usage.input_tokens is None or usage.output_tokens is None:
            self.tokens_unknown += 1
        self.input_tokens += usage.input_tokens or 0
        self.output_tokens += usage.output_tokens or 0
        price = reply_cost(provider, reply)
        if price is None:
            self.cost_unknown += 1
        else:
            self.cost_usd += price

    def count_verdict(self, verdict: Any) -> None:
        """Count one JudgeVerdict the judge gave (a disagreement between two judges is not unusable)."""
        self.verdicts += 1
        if verdict.verdict == "unusable":
            self.unusable += 1
            self.reasons[(verdict.reason or "no reason given")[:160]] += 1

    def count_failure(self, reason: str) -> None:
        """A judging step that raised: counted as one unusable verdict with its cause."""
        self.verdicts += 1
        self.unusable += 1
        self.reasons[reason[:160]] += 1

    def as_row(self) -> dict[str, Any]:
        top = self.reasons.most_common(1)
        return {"judge": self.judge, "mode": self.mode, "calls": self.calls, "cached": self.cached,
                "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "tokens_unknown": self.tokens_unknown, "cost_usd": self.cost_usd, "cost_unknown": self.cost_unknown,
                "errors": self.errors, "verdicts": self.verdicts, "unusable": self.unusable,
                "top_reason": top[0][0] if top else None, "top_reason_count": top[0][1] if top else 0,
                "start_error": self.start_error}


class CountedJudge:
    """Any judge (chat, Llama Guard, ...) with its verdicts counted in `usage`; its calls are counted
    on its provider. Verdicts on rules the judge is not asked about (its `reach`) are not counted:
    an abstention is not an unusable answer."""

    def __init__(self, judge: Any) -> None:
        self.inner = judge
        self.usage: JudgeUsage = getattr(judge, "usage", None) or JudgeUsage(judge.judge_model)
        self.usage.attach(judge.provider)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def reach(self, rule: Any) -> Any:
        """What the judge can decide about the rule (harness.scoring.judge_reach)."""
        from harness.scoring.judge_reach import reach_of

        return reach_of(self.inner, rule)

    @property
    def asks_questions(self) -> bool:
        """Whether the judge answers free questions (graded, ideation): chat judges do; a classifier such
        as Llama Guard does not (its "cannot answer" is an abstention, not an unusable answer)."""
        from harness.scoring.llamaguard import LlamaGuardJudge

        return bool(getattr(self.inner, "can_ask", not isinstance(self.inner, LlamaGuardJudge)))

    async def ask(self, *args: Any, **kwargs: Any) -> Any:
        verdict = await self.inner.ask(*args, **kwargs)
        if self.asks_questions:
            self.usage.count_verdict(verdict)
        return verdict

    async def judge_rules(self, rules: list[Any], prompt_text: str, reply_text: str) -> dict[str, Any]:
        out = await self.inner.judge_rules(rules, prompt_text, reply_text)
        from harness.scoring.judge_reach import Reach

        for rule in {r.id: r for r in rules}.values():
            if rule.id in out and self.reach(rule) is not Reach.NOT_ASKED:
                self.usage.count_verdict(out[rule.id])
        return out


def judge_failure(rows: list[dict[str, Any]]) -> list[str]:
    """Banner lines when a judge of the run was of no use (never started, or most of its verdicts
    unusable); [] when every judge did its job. Rows are stored `judge_usage` rows."""
    lines = []
    for r in rows:
        if r.get("start_error") and not r.get("verdicts"):
            lines.append(f"  judge {r['judge']}: could not start: {r['start_error']}")
        elif r.get("verdicts") and r["unusable"] > MAX_UNUSABLE_SHARE * r["verdicts"]:
            cause = r.get("top_reason") or "no reason recorded"
            lines.append(f"  judge {r['judge']}: {r['unusable']} of {r['verdicts']} verdicts unusable; most common "
                         f"cause ({r.get('top_reason_count', 0)}): {cause}")
    if not lines:
        return []
    return ["JUDGE UNUSABLE: the judge gave no usable verdict on most replies, so the rule verdicts it should "
            "decide stay needs_review or unverified", *lines,
            "  check it (harness judge calibrate prompts/gold/teen_safety/holdout.jsonl --judge ...), then run the "
            "eval again: the replies come from the response cache, only the judge is asked"]
