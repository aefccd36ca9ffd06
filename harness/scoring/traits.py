"""Scorer traits: what a scorer declares about itself, read through one function, `traits(name)`.

The runner, the reports and the CLI used to test the name "teen_safety" to decide whether a run has
safety tables, a judge over rules, rule coverage lines and so on; a user's scorer that did the same
work under another name got none of it. Now they ask `traits(name)` (harness.types.ScorerTraits), so a
scorer is treated by what it declares:

    from harness.scoring.traits import scorer

    @scorer(rule_verdicts=True)                 # summary, then signal:/rule: parts: the safety tables
    def my_safety(prompt, reply): ...

    @scorer(aggregate="any", conversation=my_hook)   # over a conversation (harness/scoring/conversation.py)
    def my_check(prompt, reply): ...

A plain `(prompt, reply) -> Score` function declares nothing and gets the defaults. The attributes
`aggregate` and `conversation` set by hand on a function (the earlier way) are still read. A name that
cannot be resolved here (a `module:function` whose module is not importable now) gets the defaults:
what cannot be seen is never assumed.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from harness.types import ScorerTraits

AGGREGATES = ("worst", "any", "last")
#: Scores that are parts of a scorer's result (per rule), never scorers of their own.
PART_PREFIXES = ("rule:", "signal:", "judge:")
#: The attribute the decorator sets on a scorer function.
ATTRIBUTE = "harness_traits"
DEFAULT = ScorerTraits()


def scorer(*, rule_verdicts: bool = False, aggregate: str = "worst",
           conversation: Callable | None = None) -> Callable[[Callable], Callable]:
    """Declare a scorer's traits (harness.types.ScorerTraits); the function itself is unchanged."""
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)}, not {aggregate!r}")
    if conversation is not None and not callable(conversation):
        raise ValueError("conversation must be a function (prompt, turns, aggregated scores) -> (scores, failing)")

    def declare(fn: Callable) -> Callable:
        setattr(fn, ATTRIBUTE, ScorerTraits(rule_verdicts=rule_verdicts, aggregate=aggregate,
                                            conversation=conversation))
        return fn

    return declare


def traits_of(fn: Callable) -> ScorerTraits:
    """The traits a scorer function declares: the decorator's, with hand-set `aggregate` / `conversation`
    attributes read too; an unknown aggregate mode falls back to "worst" (a failing turn fails)."""
    declared = getattr(fn, ATTRIBUTE, None)
    base = declared if isinstance(declared, ScorerTraits) else DEFAULT
    aggregate = getattr(fn, "aggregate", base.aggregate)
    conversation = getattr(fn, "conversation", base.conversation)
    return ScorerTraits(rule_verdicts=base.rule_verdicts is True,
                        aggregate=aggregate if aggregate in AGGREGATES else "worst",
                        conversation=conversation if callable(conversation) else None)


def traits(name: str) -> ScorerTraits:
    """The traits of the scorer an eval names (built in, installed or `module:function`); the defaults
    for a per-rule part score (`rule:T01`) and for a name that cannot be resolved."""
    if not name or name.startswith(PART_PREFIXES):
        return DEFAULT
    from harness.scoring import UnknownScorer, get_scorer

    try:
        return traits_of(get_scorer(name))
    except UnknownScorer:
        return DEFAULT


def rule_verdict_scorers(names: Iterable[str]) -> list[str]:
    """The names, in order, of the scorers that give per-rule verdicts (the safety scorers of a run)."""
    return [n for n in dict.fromkeys(names) if traits(n).rule_verdicts]
