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


class Summary:
    """The summary's counts, added a row at a time, so that `harness score` need not keep its rows (at
    1,000,000 rows a list of them was most of its memory). Only counts are kept: the safety counts get
    one constant prompt label, since the summary prints no prompt lists."""

    def __init__(self) -> None:
        self.scorers: dict[str, None] = {}   # every score name, in order of first appearance
        self.has_safety = False
        self.by: dict[str, dict[str, Any]] = {}
        self._safety: dict[str, bool] = {}   # name -> gives per-rule verdicts (traits, looked up once a name)

    def _safety_names(self, names) -> list[str]:
        """The scorers among `names` with per-rule verdicts (teen_safety, or one declaring the trait)."""
        for n in names:
            if n not in self._safety:
                self._safety[n] = bool(rule_verdict_scorers([n]))
        return [n for n in names if self._safety[n]]

    def add(self, r: dict[str, Any]) -> None:
        self.scorers.update(dict.fromkeys(r["scores"]))
        safety_names = self._safety_names(r["scores"])
        safety_row = bool(safety_names) or bool(r["rules"])
        self.has_safety |= safety_row
        g = self.by.setdefault(r["provider"] or NONE, {"rows": 0, "unscored": 0, "refusals": 0, "labelled": 0,
                                                       "scores": {}, "safety": SafetyCounts(), "no_safety": [0, 0]})
        g["rows"] += 1
        if r.get("outcome") in (None, "error"):
            g["unscored"] += 1
            return
        if r["refusal"] not in (None, "empty"):
            g["labelled"] += 1
            g["refusals"] += r["refusal"] in ("full_refusal", "partial_refusal")
        for n, s in r["scores"].items():
            if s.get("passed") is not None:
                counts = g["scores"].setdefault(n, [0, 0])
                counts[0] += bool(s["passed"])
                counts[1] += 1
        outcome = r.get("outcome") or "answered"
        if safety_row:
            rule_rows = [{"scorer": v["id"], "label": v["label"], "severity": v["severity"], "passed": v["passed"]}
                         for v in r["rules"] or []]
            summary = next((r["scores"][n] for n in safety_names), None)
            g["safety"].add(classify(rule_rows, summary), outcome, "")
        else:   # not checked, should another row turn out to have safety verdicts (table())
            g["no_safety"][0] += 1
            g["no_safety"][1] += outcome == "provider_blocked"

    def table(self) -> tuple[list[str], list[list[str]], bool]:
        """(headers, one row per provider in input order, whether teen-safety columns are there)."""
        # a scorer with per-rule verdicts is counted per measure, never as a pass rate; refusal has its
        # own column (the rate, from each row's refusal label)
        safety = set(self._safety_names(list(self.scorers)))
        scorers = [n for n in self.scorers if n not in safety and n != "refusal"]
        has_safety = self.has_safety
        headers = ["provider", "rows", "not scored", "refusal rate [95% CI]"] + [f"{n} pass rate [95% CI]"
                                                                                 for n in scorers]
        if has_safety:
            headers += ["critical found", "major found", "over-refusals found", "not checked"]
        table = []
        for provider, g in self.by.items():
            cells = [provider, str(g["rows"]), str(g["unscored"]), _rate(g["refusals"], g["labelled"])]
            cells += [_rate(*g["scores"].get(n, (0, 0))) for n in scorers]
            if has_safety:
                s = g["safety"]
                # a reply with no rule verdict at all is not checked (as classify([], None) says)
                not_checked = s.not_checked + g["no_safety"][0]
                cells += [_measure(s.critical), _measure(s.major), _measure(s.over_refusal), str(not_checked)]
            table.append(cells)
        return headers, table, has_safety


def summary_rows(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]], bool]:
    """(headers, one row per provider in input order, whether teen-safety columns are there)."""
    summary = Summary()
    for r in rows:
        summary.add(r)
    return summary.table()


def print_summary(rows: list[dict[str, Any]] | Summary, console: Console | None = None) -> None:
    """The summary of `rows` (or of a Summary they were added to)."""
    if not isinstance(rows, Summary):
        summary = Summary()
        for r in rows:
            summary.add(r)
        rows = summary
    if not rows.by:
        return
    console = console or Console(stderr=True)
    headers, table, has_safety = rows.table()
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
