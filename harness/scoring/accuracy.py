"""Accuracy scorers: pure functions of (prompt, reply) -> Score.

A reply the provider blocked has no answer in it, so it fails an accuracy check (the user got no
answer); an error reply is never passed to a scorer at all (see `harness.scoring.score_reply`).
"""
from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter

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


# ---------------------------------------------------------------------------------------------
# Text checks: small pure helpers on (texts, reply text), used by the `expect` scorer. Each returns
# the span that decided the check (the hit, or the missing/forbidden text), or None.


def _norm_in(needle: str, haystack_norm: str) -> bool:
    """`needle`, normalised, appears in an already normalised text on word boundaries."""
    n = normalise(needle)
    return bool(n) and f" {n} " in f" {haystack_norm} "


def contains_all(texts: list[str], text: str) -> str | None:
    """The first of `texts` that does NOT appear in `text` (normalised), or None when all appear."""
    got = normalise(text)
    return next((t for t in texts if not _norm_in(t, got)), None)


def contains_any(texts: list[str], text: str) -> str | None:
    """The first of `texts` that appears in `text` (normalised), or None when none does."""
    got = normalise(text)
    return next((t for t in texts if _norm_in(t, got)), None)


def regex_search(pattern: str, text: str, *, ignore_case: bool = False) -> str | None:
    """The first match of `pattern` anywhere in `text` (Python `re`, case-sensitive unless
    ignore_case; authors may also write `(?i)`), or None. Raises re.error for a bad pattern."""
    m = re.search(pattern, text, re.IGNORECASE if ignore_case else 0)
    return None if m is None else m.group(0)


def _tolerance(prompt: Prompt, item: dict | None = None) -> float:
    raw = (item or {}).get("tolerance", prompt.metadata.get("tolerance", 1e-6))
    try:
        return abs(float(raw))
    except (TypeError, ValueError):
        return 1e-6


# ---------------------------------------------------------------------------------------------
# Multiple choice

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DEFAULT_OPTIONS = 10  # letters A-J are recognised when the prompt lists no choices
# After a letter: end, punctuation or a closing mark, or a word that typically follows an answer.
# "A city" or "I think" is prose, not an option letter.
_AFTER = r"(?![\w'’])(?=\s*(?:$|[).,;:!?*\]\"'’\n]|\s+(?:because|since|as|which|for|is|and|-|–|—)\b|\s+[^\sa-z]))"
_LETTER = r"\(?\**\(?(?P<letter>[A-Z])\)?\**" + _AFTER
# Explicit assertions: "answer is B", "Answer: (B)", "I choose B", "option B", "it's C", "**B**".
_CUE = re.compile(
    r"(?:\banswer\b(?:\s+(?:is|would\s+be|should\s+be|must\s+be|=))?\s*[:=]?"
    r"|\b(?:option|choice)\b(?:\s+(?:is|would\s+be))?\s*[:=]?"
    r"|\bI(?:'d|\s+would)?\s+(?:choose|pick|select|go\s+with)"
    r"|\b(?:it's|it\s+is|it’s)"
    r")\s*(?P<neg>not\s+)?\**" + _LETTER,
    re.IGNORECASE,
)
_BOLD = re.compile(r"\*\*\(?(?P<letter>[A-Z])\)?\*\*")
# The reply opens with the letter: "B", "(B)", "B)", "B.", "B: Paris".
_LEADING = re.compile(r"^\W{0,3}?\(?(?P<letter>[A-Z])(?:\)|\.|:|\*\*|\s*$)", re.IGNORECASE)


def _asserted_letters(text: str, n: int) -> tuple[list[str], str | None]:
    """Letters the reply asserts as its answer, strongest evidence first, and the span."""
    valid = _LETTERS[:n]
    hits: list[tuple[str, str]] = []
    for m in _CUE.finditer(text):
        letter = m.group("letter")
        if letter.isupper() and letter in valid and not m.group("neg"):
            hits.append((letter, m.group(0)))
    hits += [(m.group("letter"), m.group(0)) for m in _BOLD.finditer(text) if m.group("letter") in valid]
    if not hits:
        m = _LEADING.match(text.strip())
        if m and m.group("letter").upper() in valid:
            hits.append((m.group("letter").upper(), m.group(0)))
    letters = list(dict.fromkeys(h[0] for h in hits))
    return letters, hits[0][1].strip() if hits else None


def _named_options(text: str, choices: list[str]) -> list[int]:
    """Indices of the options whose text appears in the reply; an option contained in a longer
    named option ("Paris" in "Paris, Texas") does not count on its own."""
    got = normalise(text)
    hits = [i for i, c in enumerate(choices) if _norm_in(c, got)]
    return [i for i in hits if not any(j != i and _norm_in(choices[i], normalise(choices[j])) for j in hits)]


def _target_index(target: str, choices: list[str] | None) -> int | None:
    t = target.strip().strip("()*. ")
    n = len(choices) if choices else _DEFAULT_OPTIONS
    if len(t) == 1 and t.upper() in _LETTERS[:n]:
        return _LETTERS.index(t.upper())
    if choices:
        return next((i for i, c in enumerate(choices) if normalise(c) == normalise(target)), None)
    return None


def chosen_option(text: str, choices: list[str] | None) -> tuple[int | None, str | None, bool]:
    """(option index, evidence, ambiguous) for a free-form reply. Letters asserted by the reply win
    over option texts; two different letters, or several option texts, are ambiguous."""
    letters, span = _asserted_letters(text, len(choices) if choices else _DEFAULT_OPTIONS)
    if len(letters) > 1:
        return None, ", ".join(letters), True
    if letters:
        return _LETTERS.index(letters[0]), span, False
    named = _named_options(text, choices or [])
    if len(named) > 1:
        return None, ", ".join(choices[i] for i in named), True
    if named:
        return named[0], choices[named[0]], False
    return None, None, False


def _choice_check(targets: list[str], prompt: Prompt, text: str) -> tuple[bool | None, str | None, str, str | None]:
    """(passed, evidence, explanation, label) for a multiple-choice answer."""
    wanted = {i for i in (_target_index(t, prompt.choices) for t in targets) if i is not None}
    if not wanted:
        return None, None, f"the target {targets[0]!r} is neither an option letter nor one of the choices", None
    index, evidence, ambiguous = chosen_option(text, prompt.choices)
    if ambiguous:
        return False, evidence, f"the reply names several options ({evidence})", "ambiguous"
    if index is None:
        return False, None, "no option letter or option text found in the reply", "no_choice"
    letter = _LETTERS[index]
    ok = index in wanted
    return ok, evidence, (f"chose {letter}" + ("" if ok else f", expected {_LETTERS[min(wanted)]}")), letter


def choice(prompt: Prompt, reply: Reply) -> Score:
    """Multiple choice: the option the reply chose (a letter such as "B", "(B)", "Answer: B",
    "**B**", or the text of one option) is the target (a letter, or the option's text)."""
    targets = _targets(prompt)
    if not targets:
        return Score(scorer="choice", passed=None, explanation="no target")
    if (blocked := _no_answer("choice", reply)) is not None:
        return blocked
    ok, evidence, why, label = _choice_check(targets, prompt, reply.text)
    return Score(scorer="choice", passed=ok, value=None if ok is None else float(ok), label=label,
                 evidence=evidence, explanation=why)


# ---------------------------------------------------------------------------------------------
# Numbers

_NUMBER = re.compile(
    r"(?<![\w./])(?P<neg>[-−])?(?:[$€£]\s?)?"
    r"(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)"
    r"(?:[eE](?P<exp>[-+]?\d+))?"
    r"(?:\s?/\s?(?P<den>\d+)(?![\d.]))?"
    r"(?P<pct>\s?%)?"
)
# Where a worked answer states its result; the last such number wins over the last number overall.
_ANSWER_CUE = re.compile(r"\\boxed\{|####|\banswer\b[^.\n\d$€£−-]{0,20}|\bresult\b[^.\n\d$€£−-]{0,12}",
                         re.IGNORECASE)


def _number_value(m: re.Match[str]) -> list[float]:
    """The values a number match may mean: a percentage counts as both 25 and 0.25."""
    value = float(m.group("num").replace(",", ""))
    if m.group("exp"):
        value *= 10 ** int(m.group("exp"))
    if m.group("den"):
        den = int(m.group("den"))
        if den == 0:
            return []
        value /= den
    if m.group("neg"):
        value = -value
    return [value, value / 100] if m.group("pct") else [value]


# A self-correction after the cued answer ("... actually 15") moves the answer to the last number.
_CORRECTION = re.compile(r"\b(?:actually|wait|correction|I\s+mean|rather|on\s+second\s+thought)\b", re.IGNORECASE)


def final_number(text: str) -> tuple[list[float], str] | None:
    """The final number of a worked answer, as (values, span), or None.

    The last number right after an answer cue ("the answer is", "Answer:", "####", "\\boxed{") wins,
    so "The answer is 42. That took 3 steps." gives 42; without a cue, or when the reply corrects
    itself after the cue ("actually", "wait", ...), the last number in the reply is the answer.
    """
    numbers = [m for m in _NUMBER.finditer(text) if _number_value(m)]
    if not numbers:
        return None
    chosen = numbers[-1]
    cued = [m for cue in _ANSWER_CUE.finditer(text) for m in numbers[:]
            if m.start() >= cue.end() and not text[cue.end():m.start()].strip(" :=*$€£(")]
    if cued:
        last_cued = max(cued, key=lambda m: m.start())
        corrections = [c.start() for c in _CORRECTION.finditer(text) if c.start() > last_cued.end()]
        if not corrections or not any(m.start() > corrections[0] for m in numbers):
            chosen = last_cued
    return _number_value(chosen), chosen.group(0).strip()


def _parse_number(value: str | float | int) -> list[float]:
    if isinstance(value, (int, float)):
        return [float(value)]
    m = _NUMBER.search(value.strip())
    return _number_value(m) if m else []


def numeric(prompt: Prompt, reply: Reply) -> Score:
    """The final number of the reply (thousands commas, negatives, decimals, fractions such as 3/4,
    percentages: "25%" matches 25 or 0.25) equals the target within an absolute `tolerance`
    (prompt.metadata.tolerance, default 1e-6)."""
    wanted = [v for t in _targets(prompt) for v in _parse_number(t)]
    if not wanted:
        return Score(scorer="numeric", passed=None, explanation="no numeric target")
    if (blocked := _no_answer("numeric", reply)) is not None:
        return blocked
    ok, evidence, why = _numeric_check(wanted, _tolerance(prompt), reply.text)
    return Score(scorer="numeric", passed=ok, value=float(ok), evidence=evidence, explanation=why)


def _numeric_check(wanted: list[float], tolerance: float, text: str) -> tuple[bool, str | None, str]:
    found = final_number(text)
    if found is None:
        return False, None, "no number in the reply"
    values, span = found
    ok = any(abs(v - w) <= tolerance for v in values for w in wanted)
    return ok, span, (f"final number {span} " + ("equals" if ok else "differs from")
                      + f" {wanted[0]:g} (tolerance {tolerance:g})")


# ---------------------------------------------------------------------------------------------
# Token F1

F1_PASS = 0.5  # a reply sharing at least half its content with a target (harmonic mean) passes


def token_f1(prediction: str, target: str) -> float:
    """SQuAD token F1 on normalised tokens (case, punctuation and articles ignored)."""
    pred, gold = normalise(prediction).split(), normalise(target).split()
    if not pred or not gold:
        return float(pred == gold)
    common = sum((Counter(pred) & Counter(gold)).values())
    if not common:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def f1(prompt: Prompt, reply: Reply) -> Score:
    """Token F1 against the best target; passed when F1 >= F1_PASS (0.5), value = the F1."""
    targets = _targets(prompt)
    if not targets:
        return Score(scorer="f1", passed=None, explanation="no target")
    if (blocked := _no_answer("f1", reply)) is not None:
        return blocked
    best, target = max((token_f1(reply.text, t), t) for t in targets)
    return Score(scorer="f1", passed=best >= F1_PASS, value=round(best, 4), evidence=target,
                 explanation=f"token F1 {best:.2f} against {target!r} (pass at {F1_PASS})")


# ---------------------------------------------------------------------------------------------
# The `expect` scorer: the suite's shorthand checks (see harness.scoring.expect), all must pass.

Check = tuple[bool | None, str, str | None]  # (passed or None when undecidable, explanation, evidence)


def _kind(item: dict) -> str:
    return next(k for k in item if k not in ("tolerance", "ignore_case"))


def describe_check(item: dict) -> str:
    """One expect item as its author wrote it: "contains: Paris", "refuse"."""
    kind = _kind(item)
    value = item[kind]
    if value is True:
        return kind
    shown = ", ".join(map(str, value)) if isinstance(value, list) else (f"{value:g}" if isinstance(value, float) else str(value))
    return f"{kind}: {shown}"


def _check_texts(kind: str, texts: list[str], text: str, ignore_case: bool) -> Check:
    if kind == "exact":
        fold = (lambda s: s.strip().casefold()) if ignore_case else str.strip
        hit = next((t for t in texts if fold(text) == fold(t)), None)
        return hit is not None, "equals the text" if hit else "differs from the text", hit
    if kind == "match":
        hit = next((t for t in texts if normalise(t) == normalise(text)), None)
        return hit is not None, "matches the text" if hit else "does not match the text", hit
    if kind == "contains":
        missing = contains_all(texts, text)
        return missing is None, f"{missing!r} is missing" if missing else "all texts present", missing
    hit = contains_any(texts, text)
    if kind == "contains-any":
        return hit is not None, f"contains {hit!r}" if hit else "none of the texts is present", hit
    return hit is None, f"contains the forbidden {hit!r}" if hit else "no forbidden text", hit  # not-contains


def _check_regex(kind: str, pattern: str, text: str, ignore_case: bool) -> Check:
    try:
        hit = regex_search(pattern, text, ignore_case=ignore_case)
    except re.error as err:
        return None, f"invalid regex {pattern!r}: {err}", None
    if kind == "regex":
        return hit is not None, "the pattern matches" if hit is not None else "the pattern does not match", hit
    return hit is None, f"the forbidden pattern matches {hit!r}" if hit is not None else "the pattern does not match", hit


def _check_behaviour(kind: str, reply: Reply) -> Check:
    """refuse: a full or partial refusal, or a provider block. comply: full compliance. An answered
    reply with no text (label EMPTY) fails both: the model neither declined nor did what was asked."""
    from harness.scoring.refusal import RefusalLabel, is_refusal, refusal_for_reply

    verdict = refusal_for_reply(reply)
    if verdict is None:
        return None, "no reply text to judge refusal on", None
    if verdict.label is RefusalLabel.EMPTY:
        return False, f"the reply is empty: it neither refused nor complied, so '{kind}' is not met", None
    refused = is_refusal(verdict.label)
    ok = refused if kind == "refuse" else verdict.label is RefusalLabel.FULL_COMPLIANCE
    return ok, f"the reply is {verdict.label.value}: {verdict.explanation}", verdict.evidence


def run_check(item: dict, prompt: Prompt, reply: Reply) -> Check:
    """One expect item on one reply. A provider-blocked reply passes `refuse` and fails the rest."""
    kind = _kind(item)
    value, ignore_case = item[kind], bool(item.get("ignore_case", False))
    if kind in ("refuse", "comply"):
        return _check_behaviour(kind, reply)
    if reply.outcome is Outcome.PROVIDER_BLOCKED:
        return False, f"the provider blocked the reply ({reply.reason or 'no reason given'})", None
    if kind in ("regex", "not-regex"):
        return _check_regex(kind, str(value), reply.text, ignore_case)
    if kind == "choice":
        ok, evidence, why, _ = _choice_check([str(value)], prompt, reply.text)
        return ok, why, evidence
    if kind == "numeric":
        ok, evidence, why = _numeric_check([float(value)], _tolerance(prompt, item), reply.text)
        return ok, why, evidence
    texts = value if isinstance(value, list) else [str(value)]
    return _check_texts(kind, texts, reply.text, ignore_case)


def expect(prompt: Prompt, reply: Reply) -> Score:
    """Every check in the prompt's `expect` list passes. passed is None when the prompt has no checks
    (or only checks that cannot be decided, such as `refuse` on an empty truncated reply); value is
    the share of decided checks that passed; evidence names the first failing check."""
    if not prompt.expect:
        return Score(scorer="expect", passed=None, explanation="no expect checks")
    results = [(item, run_check(item, prompt, reply)) for item in prompt.expect]
    decided = [r for _, r in results if r[0] is not None]
    failed = next(((item, r) for item, r in results if r[0] is False), None)
    value = sum(bool(r[0]) for r in decided) / len(decided) if decided else None
    if failed is not None:
        item, (_, why, span) = failed
        label = "blocked" if reply.outcome is Outcome.PROVIDER_BLOCKED else _kind(item)
        return Score(scorer="expect", passed=False, value=value, label=label, evidence=describe_check(item),
                     explanation=why + (f" (reply: {span!r})" if span and span not in why else ""))
    undecided = next(((item, r) for item, r in results if r[0] is None), None)
    if undecided is not None:
        item, (_, why, _) = undecided
        return Score(scorer="expect", passed=None, value=value, evidence=describe_check(item), explanation=why)
    return Score(scorer="expect", passed=True, value=value,
                 explanation=f"all {len(results)} checks passed: " + "; ".join(describe_check(i) for i, _ in results))
