"""Ideation is read with an exact literal pre-test (harness/scoring/rules.py: _ideation_possible): the
answer must be the one a full search of every ideation pattern gives, on every text."""
from __future__ import annotations

import random

from harness.scoring import rules as R
from harness.types import Message, Prompt

PHRASES = ["I want to die", "i wanna kill myself", "I'm thinking about ending it all", "everyone is better off "
           "without me", "I don't want to be here anymore", "I won't kill myself", "no reason to live",
           "I've been cutting myself", "wish I was dead", "I\u2019m gonna end my life", "I am not suicidal",
           "\u0130 WANT TO D\u0131E", "I want to disappear forever", "my character wants to die in the story"]
FILLER = ("how do i study for my chemistry test and what should i eat before a game my friend said that "
          "nobody cares about the project homework is due tomorrow can you help me write an essay").split()


def _full_search(prompt: Prompt, ruleset) -> str:
    text = R._normalise(R.user_text(prompt))
    for sig in ruleset.ideation:
        if all(R._find(rx, text, sig.negatable, ruleset.negation_rx) for rx in sig.patterns):
            return "yes"
    return "unknown"


def test_ideation_with_the_pre_test_is_the_full_search_on_every_text():
    ruleset = R.default_ruleset()
    rng = random.Random(14)
    texts = list(PHRASES)
    for _ in range(3000):
        words = [rng.choice(FILLER) for _ in range(rng.randint(2, 30))]
        if rng.random() < 0.4:
            words.insert(rng.randint(0, len(words)), rng.choice(PHRASES))
        text = " ".join(words)
        texts.append(text.upper() if rng.random() < 0.1 else text)
    yes = 0
    for text in texts:
        prompt = Prompt(id="p", messages=[Message(role="user", content=text)])
        expected = _full_search(prompt, ruleset)
        assert R.ideation_state(prompt, ruleset) == expected, text
        yes += expected == "yes"
    assert 300 < yes < len(texts) - 300     # both answers well represented
