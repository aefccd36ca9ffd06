"""Rendering a run's comparison table for a terminal, Markdown, CSV or JSON.

Everything that came from a user file or a provider (labels, categories, notes) is treated as
untrusted text: no Rich markup interpretation, Markdown table cells escaped, CSV cells written by the
csv module and guarded against spreadsheet formulas (harness.report.escape).
"""
from __future__ import annotations

import csv
import io
import json

from rich.table import Table
from rich.text import Text

from harness.report.escape import csv_cell, md_escape
from harness.report.stats import wilson
from harness.report.summary import ALL, Group, RunReport

COLUMNS = ["category", "provider", "n", "accuracy [95% CI]", "ans/blk/trunc", "errors", "pending",
           "critical", "p50/p95 s", "ttft p50 s", "tokens in/out", "cost $"]


def _fmt_float(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _accuracy(g: Group) -> str:
    if g.accuracy is None:
        return "n/a"
    lo, hi = g.ci
    return f"{g.accuracy:.1%} [{lo:.0%}-{hi:.0%}] ({g.passed}/{g.scored})"


def _tokens(g: Group) -> str:
    if g.replied == g.errors:
        return "-"
    text = f"{g.input_tokens}/{g.output_tokens}"
    return text + (f" ({g.tokens_unknown} unknown)" if g.tokens_unknown else "")


def _usd(x: float) -> str:
    return f"{x:.6f}" if x < 1 else f"{x:.2f}"


def _cost(g: Group) -> str:
    if g.replied == g.errors:
        return "-"  # nothing answered: there is no cost to state, not a cost of zero
    if g.cost_unknown:
        priced = g.replied - g.errors - g.cost_unknown
        return "unknown" if priced == 0 else f"≥{_usd(g.cost_usd)} ({g.cost_unknown} unpriced)"
    return _usd(g.cost_usd)


def _cells(g: Group) -> list[str]:
    latency = f"{_fmt_float(g.latency_p50)}/{_fmt_float(g.latency_p95)}"
    return [g.category, g.provider, str(g.planned), _accuracy(g), f"{g.answered}/{g.blocked}/{g.truncated}",
            str(g.errors), str(g.pending), str(g.critical_failures), latency, _fmt_float(g.ttft_p50, 3),
            _tokens(g), _cost(g)]


def header_lines(report: RunReport) -> list[str]:
    lines = [f"run {report.run_id}  eval {report.eval_name}  status {report.status}"]
    lines.append(f"accuracy = scorer '{report.primary_scorer}', over replies it could judge; errors and pending "
                 "samples are excluded and counted separately" if report.primary_scorer else "no scorers")
    if report.cached_replies:
        lines.append(f"{report.cached_replies} replies came from the response cache: their latency, tokens and cost "
                     "are those of the original request (nothing was paid again)")
    for s in report.suites:
        lines.append(f"suite {s['name']} v{s['version']} ({s['prompt_count']} prompts) {s['content_hash'][:19]}")
    if report.judge_agreement:
        a = report.judge_agreement
        kappa = "n/a" if a["kappa"] is None else f"{a['kappa']:.2f}"
        agree = "n/a" if a["agree_pct"] is None else f"{a['agree_pct']:.1f}%"
        lines.append(f"judge vs signal verdicts: agree {agree} on {a['n_compared']} rule verdicts, "
                     f"Cohen's kappa {kappa} ({a['skipped']} without a usable verdict on one side)")
    for p in report.providers:
        if p["status"] not in ("finished", "running"):
            lines.append(f"provider {p['label']}: {p['status']}" + (f" - {p['note']}" if p["note"] else ""))
    return lines


def rich_table(report: RunReport) -> Table:
    table = Table(title=Text(f"{report.eval_name} - {report.run_id}"), show_lines=False)
    for col in [report.group_by, *COLUMNS[1:]]:
        text_col = col in (report.group_by, "provider")
        table.add_column(col, justify="left" if text_col else "right", overflow="fold", no_wrap=text_col)
    previous = None
    for g in report.groups:
        if previous is not None and g.category != previous:
            table.add_section()
        previous = g.category
        table.add_row(*(Text(c) for c in _cells(g)), style="bold" if g.category == ALL else None)
    return table


def markdown(report: RunReport) -> str:
    out = [f"- {md_escape(line)}" for line in header_lines(report)] + [""]
    out.append("| " + " | ".join(md_escape(c) for c in [report.group_by, *COLUMNS[1:]]) + " |")
    out.append("|" + "|".join("---" for _ in COLUMNS) + "|")
    out += ["| " + " | ".join(md_escape(c) for c in _cells(g)) + " |" for g in report.groups]
    return "\n".join(out) + "\n" + rules_markdown(report)


def csv_text(report: RunReport) -> str:
    buf = io.StringIO()
    rows = [g.as_dict() for g in report.groups]
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["provider"], lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
    return buf.getvalue()


def json_text(report: RunReport) -> str:
    return json.dumps({
        "run_id": report.run_id, "eval": report.eval_name, "status": report.status, "group_by": report.group_by,
        "cached_replies": report.cached_replies,
        "primary_scorer": report.primary_scorer, "suites": report.suites,
        "providers": [{k: v for k, v in p.items() if k != "config_json"} for p in report.providers],
        "groups": [g.as_dict() for g in report.groups],
        "judge_agreement": report.judge_agreement,
        "rules": {rule: {"severity": report.rule_severity.get(rule),
                         "by_provider": {p: {"failed": f, "judged": d} for p, (f, d) in by_p.items()}}
                  for rule, by_p in report.rules.items()},
    }, indent=2, default=str)


def rules_table(report: RunReport) -> Table | None:
    """Teen-safety verdicts per rule and provider: failures / replies with a verdict, with a 95%
    interval on the failure rate. Critical rules first in the file's order; never averaged."""
    if not report.rules:
        return None
    providers = [p["label"] for p in report.providers]
    table = Table(title=Text("teen-safety rules: failures / replies judged [95% CI of the failure rate]"))
    table.add_column("rule", no_wrap=True)
    table.add_column("severity")
    for p in providers:
        table.add_column(Text(p), justify="right")
    for rule, by_provider in report.rules.items():
        cells = []
        for p in providers:
            failed, decided = by_provider.get(p, (0, 0))
            if not decided:
                cells.append(Text("-"))
                continue
            lo, hi = wilson(failed, decided)
            cells.append(Text(f"{failed}/{decided} [{lo:.0%}-{hi:.0%}]",
                              style="bold red" if failed and report.rule_severity.get(rule) == "critical" else ""))
        table.add_row(Text(rule), Text(report.rule_severity.get(rule, "")), *cells)
    return table


def rules_markdown(report: RunReport) -> str:
    if not report.rules:
        return ""
    providers = [p["label"] for p in report.providers]
    out = ["", "| rule | severity | " + " | ".join(md_escape(p) for p in providers) + " |",
           "|" + "|".join("---" for _ in range(len(providers) + 2)) + "|"]
    for rule, by_provider in report.rules.items():
        cells = [f"{f}/{d}" if d else "-" for f, d in (by_provider.get(p, (0, 0)) for p in providers)]
        out.append(f"| {md_escape(rule)} | {report.rule_severity.get(rule, '')} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"
