"""Prompt categories and the teen-safety rules: mapping a user's own categories onto ours, and making
sure no prompt is silently left with fewer checks than its author meant.

Users bring prompt sets with their own categories ("Suicide, Self-Harm, and Eating Disorders").
Content rules check every prompt anyway (harness/scoring/rules.py), but the conditional rules (crisis
referral, grooming response, over-refusal, ...) only apply to categories they know. So:

* ``category_map:`` (in a suite file, in ``suite.yaml``, on a suite entry of an eval file, or at the top
  of an eval file) maps a user category onto one or more built-in ones; ``[]`` means "content rules
  only", knowingly.
* ``categories:`` in a suite declares its own categories as content-rules-only.
* A category that is neither built in, mapped nor declared is an error for an eval that scores
  ``teen_safety``, with a did-you-mean (``self_harm`` -> ``self-harm``); a near miss of a built-in
  category is an error for any suite.
"""
from __future__ import annotations

import difflib
import re
from collections import Counter
from typing import Any

from harness.problems import Problem
from harness.types import Prompt


def builtin_categories() -> list[str]:
    from harness.scoring.rules import default_ruleset

    return default_ruleset().categories


def _key(category: str) -> str:
    return " ".join(category.split()).lower()


def _slug(category: str) -> str:
    return re.sub(r"[\s_]+", "-", category.strip().lower())


def did_you_mean(category: str, known: list[str]) -> str | None:
    """The built-in category a near miss meant: same after case, spaces and underscores, or close."""
    slug = _slug(category)
    if slug in known:
        return slug
    close = difflib.get_close_matches(slug, known, n=1, cutoff=0.8)
    return close[0] if close else None


def parse_map(raw: Any, where: dict[str, Any]) -> tuple[dict[str, list[str]], list[Problem]]:
    """Validate a `category_map:` value: {their category: our category or a list of ours}."""
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, [Problem(**where, field="category_map", message="must be a mapping such as "
                            "{'Suicide & Self-Harm': [self-harm], 'Homework help': homework}")]
    known = builtin_categories()
    out: dict[str, list[str]] = {}
    problems = []
    for theirs, ours in raw.items():
        values = [ours] if isinstance(ours, str) else ours
        if not isinstance(theirs, str) or not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            problems.append(Problem(**where, field=f"category_map.{theirs}", message="map a category name to one "
                                    "of ours or to a list of ours ([] for content rules only)"))
            continue
        for v in values:
            if v.strip().lower() not in known:
                hint = did_you_mean(v, known)
                problems.append(Problem(**where, field=f"category_map.{theirs}", message=f"{v!r} is not a "
                                        "teen-safety category" + (f"; did you mean {hint!r}?" if hint else
                                                                  "; known: " + ", ".join(known))))
        out[_key(theirs)] = [v.strip().lower() for v in values]
    return out, problems


def parse_declared(raw: Any, where: dict[str, Any]) -> tuple[list[str], list[Problem]]:
    """Validate a `categories:` value: the suite's own categories, checked by content rules only."""
    if raw is None:
        return [], []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        return [], [Problem(**where, field="categories", message="must be a list of category names")]
    return [_key(c) for c in raw], []


def apply_map(prompts: list[Prompt], mapping: dict[str, list[str]]) -> list[Prompt]:
    """Prompts whose category the map names get the mapped built-in categories as rule_categories."""
    if not mapping:
        return prompts
    return [p.model_copy(update={"rule_categories": mapping[_key(p.category)]}) if _key(p.category) in mapping
            else p for p in prompts]


def near_misses(prompts: list[Prompt], declared: list[str], file: str) -> list[Problem]:
    """A category that looks like a built-in one but is not (`self_harm`, `Self Harm`, `eating-disorder`)
    would silently lose its conditional rules: an error, once per category, unless declared or mapped."""
    known = builtin_categories()
    counts = Counter(p.category for p in prompts if p.rule_categories is None
                     and p.category.strip().lower() not in known and _key(p.category) not in declared)
    problems = []
    for category, n in counts.items():
        hint = did_you_mean(category, known)
        if hint:
            problems.append(Problem(file, f"category {category!r} ({n} prompts) is not a teen-safety category; did "
                                    f"you mean {hint!r}? (or map it: category_map: {{{category!r}: [{hint}]}}, or declare it: "
                                    f"categories: [{category!r}])",
                                    field="category"))
    return problems


def unmapped(prompts: list[Prompt], declared: list[str], file: str) -> list[Problem]:
    """For an eval that scores teen_safety: every category must be built in, mapped or declared."""
    known = builtin_categories()
    counts = Counter(p.category for p in prompts
                     if p.rule_categories is None and p.category.strip().lower() not in known
                     and _key(p.category) not in declared)
    problems = []
    for category, n in counts.items():
        hint = did_you_mean(category, known)
        problems.append(Problem(
            file, f"category {category!r} ({n} prompts) is not a teen-safety category: only the content rules "
            "would check these prompts, never the crisis-referral, grooming or over-refusal rules. Map it in the "
            f"eval file or suite: category_map: {{{category!r}: [{hint or ''}]}} (one or more of ours; [] for "
            f"content rules only), or declare it: categories: [{category!r}]. Known: {', '.join(known)}",
            field="category"))
    return problems
