"""The literal pre-test of harness/scoring/prefilter.py never changes a result: every pattern it leaves
out finds nothing, and what it searches with finds exactly what the pattern itself finds."""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from harness.scoring import refusal
from harness.scoring.prefilter import PatternSet, fold, requirements, tokens
from harness.scoring.rules import _normalise, default_ruleset

REPO = Path(__file__).resolve().parents[1]
FLAGS = re.IGNORECASE | re.MULTILINE


def _gold_replies() -> list[str]:
    rows = [json.loads(line) for line in (REPO / "prompts/gold/teen_safety/dev.jsonl").read_text().splitlines()
            if line.strip()]
    return [r["reply"] for r in rows]


def _texts(n: int, seed: int = 7) -> list[str]:
    """Gold replies, and recombinations of them that stress what the pre-test relies on: sentences
    reordered and glued (words run together), lines as list items, upper case, curly quotes, quoted
    speech, the characters re.IGNORECASE folds onto ASCII letters."""
    base = _gold_replies()
    rng = random.Random(seed)
    out = list(base)
    while len(out) < n:
        a, b = rng.choice(base), rng.choice(base)
        parts = re.split(r"(?<=[.!?])\s+", a) + re.split(r"(?<=[.!?])\s+", b)[: rng.randint(0, 3)]
        rng.shuffle(parts)
        k = rng.random()
        if k < 0.15:
            parts = [p.upper() for p in parts]
        elif k < 0.3:
            parts = [f"{rng.choice(['-', '*', '1.', '2)'])} {p}" for p in parts]
        elif k < 0.4:
            parts = ['"' + p + '"' if rng.random() < 0.4 else p for p in parts]
        elif k < 0.5:
            parts = [p.replace("'", "\u2019").replace('"', "\u201c") for p in parts]
        elif k < 0.6:
            parts = [p.replace("k", "\u212a").replace("s", "\u017f").replace("I", "\u0130") for p in parts]
        text = rng.choice([" ", "\n", "\n\n", ""]).join(parts)
        if rng.random() < 0.3:  # glue across a word boundary
            cut = rng.randint(0, len(text))
            text = text[:cut] + text[cut:].replace(" ", "", 1)
        out.append(text)
    return out


def _spans(matches) -> list[tuple[int, int]]:
    return [m.span() for m in matches]


def _check_set(ps: PatternSet, texts: list[str]) -> int:
    """Every pattern on every text: left out only if it finds nothing; searched as the pattern itself."""
    checked = 0
    for text in texts:
        found, low = ps.scan(text)
        for i, rx in enumerate(ps.patterns):
            want = _spans(rx.finditer(text))
            if i not in found:
                assert want == [], (rx.pattern[:80], text[:80])
                continue
            view = found[i]
            assert _spans(view.finditer(text, low)) == want, (rx.pattern[:80], text[:80])
            first = rx.search(text)
            got = view.search(text)
            assert (got.span() if got else None) == (first.span() if first else None)
            checked += 1
    return checked


def test_rule_patterns_find_exactly_what_they_found_before():
    plan_patterns = [rx for r in default_ruleset().rules
                     for sigs in (r.signals.fail_if_any, r.signals.pass_requires_any) for s in sigs for rx in s.patterns]
    ps = PatternSet(plan_patterns, anchored=True)
    texts = [_normalise(t) for t in _texts(500)]
    assert _check_set(ps, texts) > len(texts)  # it did search (and did not leave everything out)


def test_refusal_verdicts_are_those_of_the_full_pattern_set(monkeypatch):
    texts = _texts(700, seed=11)
    with_prefilter = [refusal._classify.__wrapped__(t) for t in texts]
    monkeypatch.setattr(refusal, "_patterns_for", lambda clean: refusal._FULL)
    without = [refusal._classify.__wrapped__(t) for t in texts]
    assert with_prefilter == without


def test_refusal_sentences_are_those_of_the_original_split():
    for text in _texts(400, seed=3) + ["a. b", "x.) y", "1. one\n2. two", 'He said "no." Then', "?!  \n\n.", ""]:
        want = [s.strip() for s in refusal._SENTENCE_SPLIT.split(text) if s and s.strip()]
        assert refusal._sentences(text) == want


@pytest.mark.parametrize("pattern, text, found", [
    (r"\bkilo\b", "a \u212ailo b", True),            # KELVIN SIGN matches k under IGNORECASE
    (r"\bsecret\b", "a \u017fecret", True),          # LATIN SMALL LETTER LONG S matches s
    (r"\bbig\b", "B\u0130G deal", True),              # I WITH DOT ABOVE matches i (one character)
    (r"\bcat\b", "concatenate", False),
    (r"\bcat\b", "the cat.", True),
    (r"\boverdos\w*", "an overdosing", True),
    (r"(?<!not )\bsafe\b", "it is not safe, safe", True),
    (r"(?:maybe\s+|just\s+)?keep\s+it", "just keep it", True),
    (r"^\s*-\s+step", "intro\n  - step one", True),   # MULTILINE ^: a line start, not only the text start
    (r"\bthere's\b", "there\u2019s", False),          # the curly apostrophe is another character
    (r"(\w+) \1", "bye bye", True),                   # back-reference: never split
    (r"x*", "abc", True),                             # matches empty text: always searched
    (r"[\U0001F608\U0001F60F]", "hi \U0001F60F", True),
    (r"\b(?:alpha|beta|gamma|delta)\s+ray\b", "a DELTA  ray", True),
    (r"\b(?:alpha|beta|gamma|delta)\s+ray\b", "a delta-ray", False),
])
def test_edge_cases(pattern, text, found):
    rx = re.compile(pattern, FLAGS)
    ps = PatternSet([rx], anchored=True)
    scan, low = ps.scan(text)
    want = _spans(rx.finditer(text))
    assert bool(want) is found
    if 0 in scan:
        assert _spans(scan[0].finditer(text, low)) == want
    else:
        assert want == []


def test_derived_pieces_keep_what_the_whole_text_allows():
    """Searched on pieces of a text (sentences, joined by a space, quotes replaced by ""), a pattern the
    pre-test left out for the whole text finds nothing in any piece either."""
    rxs = [re.compile(p, re.IGNORECASE) for p in (r"\bno\s+way\b", r"a\.\s+b", r'""', r"\bwon't\b", r"\bhelp\w*")]
    ps = PatternSet(rxs, derived=True)
    for text in ["No. Way", "a. b", 'He said "x" ok', "I won\u2019t", "helpful"] + _texts(150, seed=5):
        clean = refusal._normalise(text)
        sentences = refusal._sentences(clean)
        pieces = sentences + [" ".join(sentences[i:i + 2]) for i in range(len(sentences))]
        pieces += [refusal._QUOTED.sub('""', s) for s in sentences] + ["\n" + s for s in sentences]
        scan, _ = ps.scan(clean)
        for i, rx in enumerate(rxs):
            if i not in scan:
                assert not any(rx.search(p) for p in pieces), (rx.pattern, text[:60])


def test_requirements_and_tokens():
    assert tokens(fold("Don't STOP-now, ok?")) == {"don", "t", "stop", "now", "ok"}
    assert fold("\u212a\u017f\u0130") == "ksi"
    reqs = requirements(re.compile(r"\b(?:lethal|fatal)\s+doses?\b", FLAGS))
    assert frozenset({("w", "lethal"), ("w", "fatal")}) in reqs
    assert frozenset({("w", "dose"), ("w", "doses")}) in reqs
    assert requirements(re.compile(r"\w+\s+\d+", FLAGS)) == ()  # nothing literal: always searched
