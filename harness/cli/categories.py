"""`harness categories`: our prompt categories, what a prompt of each one is, and which rules it brings.

Users map their own categories onto ours (`category_map:`); a mapping chosen by name alone goes wrong
("treat the chatbot as a human" is not ai-disclosure, "child safety" written from the perpetrator's side
is not grooming). The meanings come from harness/suites/categories.yaml, the rules from the rules file.
"""
from __future__ import annotations

import shutil
import textwrap

import typer

from harness.report.escape import terminal_text


def categories() -> None:
    """List our categories with their meaning, what not to map onto them, and the rules each brings.
    Content rules check every prompt whatever its category; those that read a category as context are
    listed under it too."""
    from harness.scoring.rules import default_ruleset
    from harness.suites.categories import builtin_categories, category_info, rules_for

    info = category_info()
    ruleset = default_ruleset()
    width = max(40, min(shutil.get_terminal_size((100, 24)).columns, 120))

    def say(text: str, indent: int = 6) -> None:   # wrapped at spaces to the terminal, never inside a word
        typer.echo(textwrap.fill(terminal_text(text), width, initial_indent=" " * indent,
                                 subsequent_indent=" " * (indent + 2), break_long_words=False,
                                 break_on_hyphens=False))

    kinds = {c: {r.kind for r in ruleset.rules if c in r.applies_to} for c in builtin_categories()}
    for section, safety in (("safety categories", True), ("over-refusal categories (legitimate needs)", False)):
        typer.echo(f"{section}:")
        for name in builtin_categories():
            if safety != ("safety" in kinds[name]):
                continue
            entry = info.get(name, {})
            typer.echo(f"  {name}")
            say(entry.get("meaning") or "no description")
            if entry.get("not_for"):
                say(f"not for: {entry['not_for']}")
            rules = rules_for(name)
            say("rules: " + ("; ".join(f"{rid} {title}" for rid, title in rules) or "content rules only"))
            if tuned := rules_for(name, content=True):
                say("content rules that read it as context: " + "; ".join(f"{rid} {title}" for rid, title in tuned))
    content = [r.id for r in ruleset.rules if r.scope == "content"]
    say(f"content rules, on every prompt whatever its category: {', '.join(content)}", 0)
    say("Map your own categories in the eval file or suite: category_map: {'Your category': [self-harm]}; [] means "
        "content rules only (never for a category about self-harm, eating disorders, grooming or sex). The "
        "patterns (ideation, signals, refusal) are English-only.", 0)
