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
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from harness.problems import Problem
from harness.types import Prompt


def builtin_categories() -> list[str]:
    from harness.scoring.rules import default_ruleset

    return default_ruleset().categories


# A user category whose name says it holds prompts about self-harm, suicide, eating disorders, grooming
# or sex: a suggested fix never maps it to `[]` (content rules only), which would switch off the crisis
# referral (T02), the grooming response (T11) and the like for exactly the prompts that need them.
SENSITIVE = re.compile(r"self[\s_-]*harm|suicid|kill\s*(?:my|one)sel|overdos|eating|anorex|bulimi|purg|starv|"
                       r"groom|predator|sextort|exploit|abuse|\bsex|sexual|csam|nud(?:e|ity)|explicit|porn|minors?\b|child",
                       re.IGNORECASE)


@lru_cache(maxsize=1)
def category_info() -> dict[str, dict[str, Any]]:
    """Our categories' meanings (harness/suites/categories.yaml), in the file's order."""
    data = yaml.safe_load((Path(__file__).with_name("categories.yaml")).read_text(encoding="utf-8"))
    return {name: {"meaning": entry["meaning"], "not_for": entry.get("not_for"),
                   "keywords": [k.lower() for k in entry.get("keywords", [])], "protects": bool(entry.get("protects"))}
            for name, entry in data["categories"].items()}


def rules_for(category: str, *, content: bool = False) -> list[tuple[str, str]]:
    """(rule id, title) of the conditional rules a prompt of this category of ours brings (`content`:
    the content rules, which check every prompt anyway, whose signals read this category as context)."""
    from harness.scoring.rules import default_ruleset

    return [(r.id, r.title) for r in default_ruleset().rules
            if category in r.applies_to and (r.scope == "content") == content]


def is_sensitive(category: str) -> bool:
    return bool(SENSITIVE.search(category))


def suggest(category: str) -> list[str]:
    """Our categories a user's category most likely means, best first: a near miss of the name, else every
    category whose keywords its name contains ("Suicide, Self-Harm, and Eating Disorders" -> self-harm,
    eating-disorders), else the closest name. Empty when nothing is close."""
    known = builtin_categories()
    hint = did_you_mean(category, known)
    if hint:
        return [hint]
    name = " " + re.sub(r"[^a-z0-9]+", " ", category.lower()).strip() + " "
    found = []
    for ours, info in category_info().items():
        if ours not in known:
            continue
        words = [ours.replace("-", " ")] + info["keywords"]
        if any(" " + re.sub(r"[^a-z0-9]+", " ", w).strip() + " " in name for w in words):
            found.append(ours)
    if found:
        return found
    close = difflib.get_close_matches(_slug(category), known, n=1, cutoff=0.6)
    return close


def meaning_line(category: str) -> str:
    info = category_info().get(category)
    if not info:
        return category
    rules = ", ".join(r for r, _ in rules_for(category) + rules_for(category, content=True))
    return f"{category} = {info['meaning'].rstrip('.')}" + (f" (brings {rules})" if rules else "") + (
        f"; not for: {info['not_for'].rstrip('.')}" if info.get("not_for") else "")


def suggested_fix(category: str) -> str:
    """A ready-to-paste `category_map:` entry. Never `[]` for a category whose name signals self-harm,
    suicide, eating disorders, grooming or sex: then the protective categories are named instead."""
    ours = suggest(category)
    if not ours and is_sensitive(category):
        ours = [c for c, info in category_info().items() if info["protects"] and c in builtin_categories()]
        return (f"category_map: {{{category!r}: [<one or more of {', '.join(ours)}>]}} (never [] for it: its name "
                "says its prompts need the protective rules)")
    return f"category_map: {{{category!r}: [{', '.join(ours)}]}}"


def unused_map_keys(mapping: dict[str, list[str]], categories: list[str], where: str) -> list[str]:
    """Warnings for `category_map:` keys that match no prompt's category (a typo, a missing comma, a
    map written for another suite): each with the closest category of the prompts, when one is close."""
    present = {_key(c): c for c in categories}
    out = []
    for key in mapping:
        if key in present:
            continue
        close = difflib.get_close_matches(key, list(present), n=1, cutoff=0.75)
        hint = f"; did you mean {present[close[0]]!r}? (a missing comma, a typo)" if close else ""
        out.append(f"warning: {where}: category_map key {key!r} matches no prompt's category{hint}")
    return out


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


def unmapped(prompts: list[Prompt], declared: list[str], file: str, map_keys=()) -> list[Problem]:
    """For an eval that scores teen_safety: every category must be built in, mapped or declared. A map
    key close to an unmapped category (`map_keys`: the keys in force) is pointed at."""
    known = builtin_categories()
    counts = Counter(p.category for p in prompts
                     if p.rule_categories is None and p.category.strip().lower() not in known
                     and _key(p.category) not in declared)
    problems = []
    for category, n in counts.items():
        close = difflib.get_close_matches(_key(category), list(map_keys), n=1, cutoff=0.75)
        near = (f" Your category_map key {close[0]!r} is close to it: a missing comma or a typo? Keys must match "
                "the category exactly (case and spacing aside).") if close else ""
        ours = suggest(category)
        meaning = (" Closest of ours: " + "; ".join(meaning_line(c) for c in ours) + ".") if ours else ""
        declare = "" if is_sensitive(category) else f", or declare it: categories: [{category!r}]"
        problems.append(Problem(
            file, f"category {category!r} ({n} prompts) is not a teen-safety category: only the content rules "
            "would check these prompts, never the crisis-referral, grooming or over-refusal rules." + near + meaning
            + f" Map it in the eval file or suite: {suggested_fix(category)}"
            + ("" if is_sensitive(category) else " (one or more of ours; [] for content rules only)") + f"{declare}. `harness categories` lists ours with what each means. Known: {', '.join(known)}",
            field="category"))
    return problems
