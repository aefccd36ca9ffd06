"""Scorers: pure functions of (prompt, reply) that return a Score. Find one by its name with get_scorer:
the built-in ones are in SCORERS; installed packages add more (entry points `harness.scorers`), and an
eval file may name any importable function as `module:function`."""
from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable
from typing import Any

from harness.scoring.accuracy import choice, contains, exact, expect, f1, match, numeric
from harness.scoring.refusal import RefusalLabel, is_refusal, refusal_for_reply
from harness.scoring.rules import default_ruleset
from harness.scoring.verdicts import teen_safety_scores
from harness.scoring.traits import scorer
from harness.types import REASONING_EXHAUSTED, Outcome, Prompt, Reply, Score

# A scorer returns one Score, or several (a summary first, then its parts).
Scorer = Callable[[Prompt, Reply], "Score | list[Score]"]


# passed reads "is a refusal": a conversation "refused" if any turn did (harness/scoring/conversation.py).
@scorer(aggregate="any")
def refusal_rate(prompt: Prompt, reply: Reply) -> Score:
    """The XSTest refusal label of the reply. passed = "is a refusal" (full or partial), so this
    scorer's accuracy in the comparison table reads as the refusal RATE, not as a quality."""
    verdict = refusal_for_reply(reply)
    if verdict is None:
        return Score(scorer="refusal", passed=None, explanation="no reply text to judge")
    if verdict.label is RefusalLabel.EMPTY:  # an empty reply is neither a refusal nor a compliance
        return Score(scorer="refusal", passed=None, label=verdict.label.value, explanation=verdict.explanation)
    refused = is_refusal(verdict.label)
    return Score(scorer="refusal", passed=refused, value=float(refused), label=verdict.label.value,
                 evidence=verdict.evidence, explanation=verdict.explanation)


def _teen_safety_conversation(prompt: Prompt, turns: list, aggregated: list[Score]):
    """Over a live conversation: the session rules (T14) and the summary of every rule's worst turn
    (harness/scoring/session_rules.py)."""
    from harness.scoring.session_rules import teen_safety_conversation

    return teen_safety_conversation(prompt, turns, aggregated, default_ruleset())


# Per-rule verdicts (the safety tables read them, never an average); it also scores the conversation
# itself for its session rules.
@scorer(rule_verdicts=True, conversation=_teen_safety_conversation)
def teen_safety(prompt: Prompt, reply: Reply) -> list[Score]:
    """The teen-safety summary for the table, then per applicable rule the signal verdict
    (`signal:T01`) and the verdict tables use (`rule:T01`): pass only where confirmed, otherwise
    fail, unverified, needs_review or blocked_no_resource (harness/scoring/verdicts.py). A judge,
    where the eval has one, refines the `rule:` verdicts after this pure first pass."""
    return teen_safety_scores(prompt, reply, default_ruleset())


def graded(prompt: Prompt, reply: Reply) -> Score:
    """Model-graded match against the reference answer. It needs the eval's `judge:`; the runner
    replaces this placeholder with the judge's verdict. Without a judge it stays undecided (never a pass)."""
    return Score(scorer="graded", passed=None, label="needs_judge",
                 explanation="the graded scorer needs a judge: add judge: to the eval file")


SCORERS: dict[str, Scorer] = {
    "exact": exact,
    "match": match,
    "contains": contains,
    "choice": choice,
    "numeric": numeric,
    "f1": f1,
    "expect": expect,
    "refusal": refusal_rate,
    "teen_safety": teen_safety,
    "graded": graded,
}


# ---------------------------------------------------------------------------------------------
# Finding a scorer: a built-in name, a name that an installed package adds through the
# `harness.scorers` entry point group, or `module:function` written in the eval file.

ENTRY_POINT_GROUP = "harness.scorers"
_resolved: dict[str, Scorer] = {}


class UnknownScorer(ValueError):
    pass


def plugin_scorers() -> dict[str, Any]:
    """{name: entry point} of the scorers installed packages add (built-in names win)."""
    from importlib.metadata import entry_points

    found = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in SCORERS and ep.name not in found:
            found[ep.name] = ep
    return found


def known_scorers() -> list[str]:
    return sorted(SCORERS) + sorted(plugin_scorers())


def _check_callable(fn: Any, name: str) -> Scorer:
    if not callable(fn):
        raise UnknownScorer(f"scorer {name!r} is not a function")
    try:
        inspect.signature(fn).bind(None, None)
    except TypeError:
        raise UnknownScorer(f"scorer {name!r} must take two arguments (prompt, reply) and return a Score") from None
    except ValueError:  # no signature (a builtin): trust it
        pass
    return fn


def get_scorer(name: str) -> Scorer:
    """The scorer function for a name; raises UnknownScorer with a did-you-mean or the import error."""
    if name in SCORERS:
        return SCORERS[name]
    if name in _resolved:
        return _resolved[name]
    plugins = plugin_scorers()
    if name in plugins:
        ep = plugins[name]
        try:
            fn = ep.load()
        except Exception as err:  # a broken package must not crash the harness
            raise UnknownScorer(f"scorer {name!r} from package {getattr(ep.dist, 'name', '?')} cannot be loaded "
                                f"({ep.value}): {type(err).__name__}: {err}") from None
    elif ":" in name:
        module_name, _, attr = name.partition(":")
        if not module_name or not attr:
            raise UnknownScorer(f"scorer {name!r}: write module:function, e.g. my_checks.scorers:polite")
        try:
            module = importlib.import_module(module_name)
        except Exception as err:
            raise UnknownScorer(f"scorer {name!r}: cannot import module {module_name!r} ({type(err).__name__}: "
                                f"{err}); is it installed, or on PYTHONPATH?") from None
        fn = module
        for part in attr.split("."):
            fn = getattr(fn, part, None)
        if fn is None:
            raise UnknownScorer(f"scorer {name!r}: module {module_name!r} has no {attr!r}")
    else:
        known = known_scorers()
        close = difflib.get_close_matches(name, known, n=1)
        raise UnknownScorer(f"unknown scorer {name!r}" + (f"; did you mean {close[0]!r}?" if close else "")
                            + f" (known: {', '.join(known)}; or module:function)")
    _resolved[name] = _check_callable(fn, name)
    return _resolved[name]


def scorer_problem(name: str) -> str | None:
    """Why `name` cannot be used as a scorer, or None."""
    try:
        get_scorer(name)
    except UnknownScorer as err:
        return str(err)
    return None


def score_reply(names: list[str], prompt: Prompt, reply: Reply) -> list[Score]:
    """Run the named scorers. An error reply gets no scores: a failure to get an answer is not an
    answer, and must never count as a pass or a fail."""
    if reply.outcome is Outcome.ERROR:
        return []
    scores: list[Score] = []
    for name in names:
        try:
            result = get_scorer(name)(prompt, reply)
            items = result if isinstance(result, list) else [result]
            if not items or not all(isinstance(s, Score) for s in items):
                raise TypeError(f"returned {type(result).__name__}, not a Score")
            if name not in SCORERS:  # a user's scorer: its first score is filed under the name the eval used
                items[0] = items[0].model_copy(update={"scorer": name})
        except Exception as err:  # a scorer bug must not lose the reply: record it, undecided, visibly
            items = [Score(scorer=name, passed=None, label="scorer_error",
                           explanation=f"the scorer failed: {type(err).__name__}: {err}")]
        if _reasoning_exhausted(reply):
            # No visible text: the budget went to hidden reasoning. Not a wrong answer, not scored.
            items = [i if i.passed is None else i.model_copy(update={
                "passed": None, "value": None, "label": "reasoning_exhausted",
                "explanation": "no visible text: the token budget went to hidden reasoning (not scored)"})
                for i in items]
        scores += items
    return scores


def _reasoning_exhausted(reply: Reply) -> bool:
    return reply.outcome is Outcome.TRUNCATED and reply.reason == REASONING_EXHAUSTED
