"""Scorers: pure functions of (prompt, reply) that return a Score. Find one by its name in SCORERS."""
from __future__ import annotations

from collections.abc import Callable

from harness.scoring.accuracy import choice, contains, exact, expect, f1, match, numeric
from harness.scoring.refusal import is_refusal, refusal_for_reply
from harness.types import Outcome, Prompt, Reply, Score

Scorer = Callable[[Prompt, Reply], Score]


def refusal_rate(prompt: Prompt, reply: Reply) -> Score:
    """The XSTest refusal label of the reply. passed = "is a refusal" (full or partial), so this
    scorer's accuracy in the comparison table reads as the refusal RATE, not as a quality."""
    verdict = refusal_for_reply(reply)
    if verdict is None:
        return Score(scorer="refusal", passed=None, explanation="no reply text to judge")
    refused = is_refusal(verdict.label)
    return Score(scorer="refusal", passed=refused, value=float(refused), label=verdict.label.value,
                 evidence=verdict.evidence, explanation=verdict.explanation)


SCORERS: dict[str, Scorer] = {
    "exact": exact,
    "match": match,
    "contains": contains,
    "choice": choice,
    "numeric": numeric,
    "f1": f1,
    "expect": expect,
    "refusal": refusal_rate,
}


def score_reply(names: list[str], prompt: Prompt, reply: Reply) -> list[Score]:
    """Run the named scorers. An error reply gets no scores: a failure to get an answer is not an
    answer, and must never count as a pass or a fail."""
    if reply.outcome is Outcome.ERROR:
        return []
    return [SCORERS[name](prompt, reply) for name in names]
