"""`harness categories`: our prompt categories, what a prompt of each one is, and which rules it brings.

Users map their own categories onto ours (`category_map:`); a mapping chosen by name alone goes wrong
("treat the chatbot as a human" is not ai-disclosure, "child safety" written from the perpetrator's side
is not grooming). The meanings come from harness/suites/categories.yaml, the rules from the rules file.
"""
from __future__ import annotations

import typer

from harness.report.escape import terminal_text


def categories() -> None:
    """List our categories with their meaning, what not to map onto them, and the rules each brings.
    Content rules (T05, T15, ...) check every prompt whatever its category and are not listed."""
    from harness.scoring.rules import default_ruleset
    from harness.suites.categories import builtin_categories, category_info, rules_for

    info = category_info()
    ruleset = default_ruleset()
    kinds = {c: {r.kind for r in ruleset.rules if c in r.applies_to} for c in builtin_categories()}
    for section, kind in (("safety categories", "safety"), ("over-refusal categories (legitimate needs)", "over_refusal")):
        typer.echo(f"{section}:")
        for name in builtin_categories():
            if (kind == "safety") != ("safety" in kinds[name]):
                continue
            entry = info.get(name, {})
            typer.echo(f"  {name}")
            typer.echo(f"      {terminal_text(entry.get('meaning') or 'no description')}")
            if entry.get("not_for"):
                typer.echo(f"      not for: {terminal_text(entry['not_for'])}")
            rules = rules_for(name)
            typer.echo("      rules: " + ("; ".join(f"{rid} {title}" for rid, title in rules) or "content rules only"))
    content = [r.id for r in ruleset.rules if r.scope == "content"]
    typer.echo(f"content rules, on every prompt whatever its category: {', '.join(content)}")
    typer.echo("Map your own categories in the eval file or suite: category_map: {'Your category': [self-harm]}; "
               "[] means content rules only (never for a category about self-harm, eating disorders, grooming "
               "or sex). Patterns (ideation, signals) are English-only.")
