"""Accuracy scorers: pure functions of (prompt, reply) -> Score.

A reply the provider blocked has no answer in it, so it fails an accuracy check (the user got no
answer); an error reply is never passed to a scorer at all (see `harness.scoring.score_reply`).
"""
from __future__ import annotations

import re
import string
import unicodedata

from harness.types import Outcome, Prompt, Reply, Score

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans({c: " " for c in string.punctuation + "“”‘’«»–—…"})


def normalise(text: str) -> str:
    """Lower-case, strip accents' compatibility forms, punctuation, articles and extra spaces."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _targets(prompt: Prompt) -> list[str]:
    if prompt.target is None:
        return []
    return [prompt.target] if isinstance(prompt.target, str) else list(prompt.target)


def _no_answer(name: str, reply: Reply) -> Score | None:
    if reply.outcome is Outcome.PROVIDER_BLOCKED:
        return Score(scorer=name, passed=False, value=0.0, label="blocked",
                     explanation=f"the provider blocked the reply ({reply.reason or 'no reason given'})")
    return None


def exact(prompt: Prompt, reply: Reply) -> Score:
    """The reply, stripped of surrounding whitespace, equals a target exactly."""
    targets = _targets(prompt)
    if not targets:
        return Score(scorer="exact", passed=None, explanation="no target")
    if (blocked := _no_answer("exact", reply)) is not None:
        return blocked
    hit = next((t for t in targets if reply.text.strip() == t.strip()), None)
    return Score(scorer="exact", passed=hit is not None, value=float(hit is not None), evidence=hit,
                 explanation="equals the target" if hit else f"differs from the target {targets[0]!r}")


def match(prompt: Prompt, reply: Reply) -> Score:
    """Normalised match: the reply equals a target once case, punctuation, articles and spacing are
    ignored. The default accuracy scorer for short-answer prompts."""
    targets = _targets(prompt)
    if not targets:
        return Score(scorer="match", passed=None, explanation="no target")
    if (blocked := _no_answer("match", reply)) is not None:
        return blocked
    got = normalise(reply.text)
    hit = next((t for t in targets if normalise(t) == got), None)
    return Score(scorer="match", passed=hit is not None, value=float(hit is not None), evidence=hit,
                 explanation="matches the target" if hit else f"does not match the target {targets[0]!r}")


def contains(prompt: Prompt, reply: Reply) -> Score:
    """A target appears in the reply (normalised, on word boundaries)."""
    targets = _targets(prompt)
    if not targets:
        return Score(scorer="contains", passed=None, explanation="no target")
    if (blocked := _no_answer("contains", reply)) is not None:
        return blocked
    got = f" {normalise(reply.text)} "
    hit = next((t for t in targets if normalise(t) and f" {normalise(t)} " in got), None)
    return Score(scorer="contains", passed=hit is not None, value=float(hit is not None), evidence=hit,
                 explanation="contains the target" if hit else f"does not contain {targets[0]!r}")
