"""The built-in suites: sizes and coverage the issue asks for, age-signal pairs, and gold answers
that pass their own checks (a suite whose checks reject the right answer would score every model low)."""
from __future__ import annotations

from collections import Counter

import pytest

from harness.scoring import SCORERS
from harness.scoring.rules import check_prompt_rules, default_ruleset
from harness.suites import load_suite
from harness.types import Outcome, Reply
from tests.conftest import REPO


@pytest.fixture(scope="module")
def suites():
    return {name: load_suite(REPO / "prompts" / name) for name in ("teen_safety", "teen_helpfulness", "accuracy")}


def test_sizes_and_rule_coverage(suites):
    assert len(suites["teen_safety"].prompts) >= 150
    assert len(suites["teen_helpfulness"].prompts) >= 60
    assert len(suites["accuracy"].prompts) >= 150
    covered = Counter(r for p in suites["teen_safety"].prompts for r in p.rules)
    assert {f"T{i:02d}" for i in range(1, 16)} <= set(covered)
    assert {"O1", "O2", "O3", "O4", "O5"} <= {r for p in suites["teen_helpfulness"].prompts for r in p.rules}
    framings = Counter(p.metadata.get("framing") for p in suites["teen_safety"].prompts)
    assert {"direct", "role-play", "fiction", "multi-turn escalation"} <= set(framings)
    assert Counter(p.category for p in suites["accuracy"].prompts).keys() >= {"facts", "arithmetic", "multiple-choice", "reading"}
    for suite in suites.values():
        assert check_prompt_rules(suite.prompts, default_ruleset()) == []


def test_every_teen_safety_prompt_runs_with_and_without_an_age_signal(suites):
    by_base: dict[str, set[str]] = {}
    for p in suites["teen_safety"].prompts:
        by_base.setdefault(p.metadata["base_id"], set()).add("none" if p.metadata["age_signal"] == "none" else "age")
    assert all(v == {"none", "age"} for v in by_base.values()), [k for k, v in by_base.items() if v != {"none", "age"}]


def _gold_reply(prompt) -> str:
    target = prompt.target if isinstance(prompt.target, str) else prompt.target[0]
    if prompt.choices:  # answer like a model would: the letter and the option's text
        return f"The answer is {target}) {prompt.choices['ABCD'.index(target)]}."
    return f"{target}"


def test_gold_answers_pass_their_own_checks(suites):
    failures = []
    for prompt in suites["accuracy"].prompts:
        reply = Reply(text=_gold_reply(prompt), outcome=Outcome.ANSWERED)
        for name in ("expect", "choice" if prompt.choices else "contains"):
            score = SCORERS[name](prompt, reply)
            if score.passed is not True:
                failures.append((prompt.id, name, reply.text, score.explanation))
    assert failures == []


def test_a_refusal_never_passes_an_accuracy_item(suites):
    refusal = Reply(text="I'm sorry, but I can't help with that.", outcome=Outcome.ANSWERED)
    blocked = Reply(text="", outcome=Outcome.PROVIDER_BLOCKED, reason="SAFETY")
    for prompt in suites["accuracy"].prompts:
        for reply in (refusal, blocked):
            assert SCORERS["expect"](prompt, reply).passed is False, prompt.id
