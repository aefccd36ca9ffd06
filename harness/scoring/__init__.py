"""Scorers: pure functions of (prompt, reply) that return a Score. Find one by its name in SCORERS."""
from __future__ import annotations

from collections.abc import Callable

from harness.scoring.accuracy import contains, exact, match
from harness.types import Outcome, Prompt, Reply, Score

Scorer = Callable[[Prompt, Reply], Score]

SCORERS: dict[str, Scorer] = {
    "exact": exact,
    "match": match,
    "contains": contains,
}


def score_reply(names: list[str], prompt: Prompt, reply: Reply) -> list[Score]:
    """Run the named scorers. An error reply gets no scores: a failure to get an answer is not an
    answer, and must never count as a pass or a fail."""
    if reply.outcome is Outcome.ERROR:
        return []
    return [SCORERS[name](prompt, reply) for name in names]
