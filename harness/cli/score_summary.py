"""The per-provider summary `harness score` prints on stderr after scoring (stdout keeps the rows):
rows, outcomes, the refusal rate, each scorer's pass rate with a Wilson 95% interval, and the
teen-safety measures counted as `compare` counts them (failing / decided, undecided replies apart,
never read as safe)."""
from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from harness.report.layout import Col, fit_table, hidden_note, print_fitted
from harness.report.safety import SafetyCounts, classify
from harness.scoring.traits import rule_verdict_scorers
from harness.stats import wilson

NONE = "(none)"


def _rate(passed: int, judged: int) -> str:
    if not judged:
        return "n/a"
    lo, hi = wilson(passed, judged)
    return f"{passed / judged:.1%} [{lo:.0%}-{hi:.0%}] ({passed}/{judged})"


def _measure(m) -> str:
    """`harness score` has no judge: failures found / replies checked, a lower bound (harness.report.headline)."""
    return m.found_cell()


def summary_rows(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]], bool]:
    """(headers, one row per provider in input order, whether teen-safety columns are there)."""
    names = list(dict.fromkeys(n for r in rows for n in r["scores"]))
    # a scorer with per-rule verdicts (teen_safety) is counted per measure, never as a pass rate;
    # refusal has its own column (the rate, from each row's refusal label)
    safety_names = rule_verdict_scorers(names)
    scorers = [n for n in names if n not in safety_names and n != "refusal"]
    has_safety = any(any(n in r["scores"] for n in safety_names) or r["rules"] for r in rows)
    by: dict[str, dict[str, Any]] = {}
    for r in rows:
        g = by.setdefault(r["provider"] or NONE, {"rows": 0, "unscored": 0, "refusals": 0, "labelled": 0,
                                                  "scores": {n: [0, 0] for n in scorers}, "safety": SafetyCounts()})
        g["rows"] += 1
        if r.get("outcome") in (None, "error"):
            g["unscored"] += 1
            continue
        if r["refusal"] not in (None, "empty"):
            g["labelled"] += 1
            g["refusals"] += r["refusal"] in ("full_refusal", "partial_refusal")
        for n in scorers:
            passed = r["scores"].get(n, {}).get("passed")
            if passed is not None:
                g["scores"][n][0] += bool(passed)
                g["scores"][n][1] += 1
        if has_safety:
            rule_rows = [{"scorer": v["id"], "label": v["label"], "severity": v["severity"], "passed": v["passed"]}
                         for v in r["rules"] or []]
            summary = next((r["scores"][n] for n in safety_names if n in r["scores"]), None)
            g["safety"].add(classify(rule_rows, summary), r.get("outcome") or "answered", r["id"])
    headers = ["provider", "rows", "not scored", "refusal rate [95% CI]"] + [f"{n} pass rate [95% CI]" for n in scorers]
    if has_safety:
        headers += ["critical found", "major found", "over-refusals found", "not checked"]
    table = []
    for provider, g in by.items():
        cells = [provider, str(g["rows"]), str(g["unscored"]), _rate(g["refusals"], g["labelled"])]
        cells += [_rate(*g["scores"][n]) for n in scorers]
        if has_safety:
            s = g["safety"]
            cells += [_measure(s.critical), _measure(s.major), _measure(s.over_refusal), str(s.not_checked)]
        table.append(cells)
    return headers, table, has_safety


def print_summary(rows: list[dict[str, Any]], console: Console | None = None) -> None:
    if not rows:
        return
    console = console or Console(stderr=True)
    headers, table, has_safety = summary_rows(rows)
    cols = [Col(h, justify="left" if h == "provider" else "right", optional=1 if h == "not scored" else 0)
            for h in headers]
    width = console.width if console.is_terminal else None
    fitted = fit_table(cols, [[Text(c) for c in row] for row in table], width,
                       title=Text("per provider: pass rates over the replies each scorer could judge"
                                  + ("; teen safety without a judge = failures found / replies checked, a lower "
                                     "bound; unverified replies are never safe"
                                     if has_safety else "")))
    print_fitted(console, fitted)
    if note := hidden_note(fitted.hidden):
        console.print(note, markup=False, highlight=False)
    if has_safety and any("unverified" in c for row in table for c in row):
        console.print("'unverified' = the text signals found nothing and could not confirm a pass: harness score has "
                      "no judge; to get verdicts, run the prompts through an eval file with `judge:` (or have a "
                      "person review them)", markup=False, highlight=False)
