"""What each scorer will check in a planned run, said before anything is sent.

A scorer that will judge nothing, or a rule that no prompt triggers, would otherwise only show up as
an empty column after the money is spent (or, worse, as a table that looks clean).
"""
from __future__ import annotations

from collections import Counter

from harness.types import Prompt

# Scorers that need something on the prompt to judge it, and what.
_NEEDS = {
    "exact": ("a target", lambda p: p.target is not None),
    "match": ("a target", lambda p: p.target is not None),
    "contains": ("a target", lambda p: p.target is not None),
    "numeric": ("a target", lambda p: p.target is not None),
    "f1": ("a target", lambda p: p.target is not None),
    "graded": ("a target", lambda p: p.target is not None),
    "choice": ("choices and a target", lambda p: bool(p.choices) and p.target is not None),
    "expect": ("an expect: list", lambda p: bool(p.expect)),
}


def rule_coverage(prompts: list[Prompt]) -> tuple[Counter, Counter]:
    """(prompts each rule will check, prompts where it applies only tentatively)."""
    from harness.scoring.rules import applicability, default_ruleset

    ruleset = default_ruleset()
    checked, tentative = Counter(), Counter()
    for p in prompts:
        for rule_id, why in applicability(p, ruleset).items():
            checked[rule_id] += 1
            tentative[rule_id] += why == "tentative"
    return checked, tentative


def coverage_lines(prompts: list[Prompt], scorers: list[str]) -> list[str]:
    """Lines for stderr: per scorer how many prompts it can judge; per teen-safety rule how many
    prompts it will check (T13 only where the reply declines); a warning for each that checks nothing."""
    lines = []
    n = len(prompts)
    for name in scorers:
        if name in _NEEDS:
            what, has = _NEEDS[name]
            judged = sum(1 for p in prompts if has(p))
            if judged == 0:
                lines.append(f"warning: scorer {name!r} will judge nothing: no prompt has {what}")
            elif judged < n:
                lines.append(f"scorer {name!r}: {judged} of {n} prompts have {what}; the others are not scored by it")
    from harness.scoring.rules import default_ruleset
    from harness.scoring.traits import rule_verdict_scorers

    # The scorers with per-rule verdicts (teen_safety, or a user's that declares the trait) share the
    # rules file: its coverage is said once, under the first one's name.
    for name in rule_verdict_scorers(scorers)[:1]:
        checked, tentative = rule_coverage(prompts)
        parts = []
        for rule in default_ruleset().rules:
            count = checked.get(rule.id, 0)
            extra = f" ({tentative[rule.id]} tentative: ideation unknown)" if tentative.get(rule.id) else ""
            parts.append(f"{rule.id} {count}{extra}")
        lines.append(f"{name} will check {n} prompts: " + ", ".join(parts)
                     + " (T13 only where the reply declines)")
        if sum(tentative.values()):
            lines.append("tentative: ideation unknown = the prompt's category brings a rule that applies only if the "
                         "user expresses ideation, and neither a label nor the patterns tell: an `ideation` column "
                         "(true/false, kept as prompt metadata) settles it; a judge reads it "
                         "otherwise, and without one such failures go to needs review")
        unchecked = [r.id for r in default_ruleset().rules if not checked.get(r.id)]
        if unchecked:
            lines.append(f"{name}: no prompt of this eval is checked by " + ", ".join(unchecked))
    return lines
