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

from harness.served_model import served_lines
from harness.report.escape import csv_cell
from harness.report.headline import header_lines as safety_header_lines
from harness.report.headline import judge_agreement_line, main_cell, main_columns, safety_rows, safety_title
from harness.report.judge_cost import usage_line
from harness.report.layout import Col, Fitted, fit_table
from harness.report.layout import md_text as md_escape
from harness.report.safety import rule_kind
from harness.report.summary import ALL, Group, RunReport, subset_lines

# The main table: the accuracy column is there only for a scorer that is an accuracy (never for
# teen_safety, whose measures are counted, not averaged); the safety columns only with safety verdicts.
BASE = ["category", "provider", "n"]
ACCURACY = ["accuracy [95% CI]"]
SAFETY_MAIN = ["critical fails", "over-refused"]   # failing / decided; intervals in the teen-safety table
TAIL = ["ans/blk/trunc", "errors", "pending", "p50/p95 s", "ttft p50 s", "tokens in/out", "cost $"]
# with the two safety columns, errors and pending share one column so that the table fits 120 columns
TAIL_SAFETY = ["ans/blk/trunc", "err/pend", *TAIL[3:]]
COLUMNS = BASE + ACCURACY + TAIL   # a run without teen-safety verdicts (kept for callers)

SAFETY_TITLE = "teen safety: failing replies / replies decided [95% CI]; undecided replies counted apart"
# The teen-safety table: one row per measure, one column per provider (like the rules table), so it
# stays readable at 120 columns; with --by-category one section per category.
SAFETY_ROWS = ["critical fails [95% CI]", "major fails [95% CI]", "over-refusals [95% CI]",
               "failed rule verdicts: critical / major", "provider blocks", "blocks that left out a resource",
               "unverified", "needs review", "not checked", "replies checked", "errors", "pending"]


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


def headline(report: RunReport) -> str | None:
    """The headline column's name: what it holds (the refusal scorer's pass rate IS the refusal rate;
    teen_safety has no headline column, its measures are counted instead)."""
    scorer = report.accuracy_scorer
    if scorer is None:
        return None
    return "refusal rate [95% CI]" if scorer == "refusal" else f"{scorer} pass rate [95% CI]"


def columns(report: RunReport) -> list[str]:
    head = headline(report)
    return ([report.group_by, *BASE[1:]] + ([head] if head else [])
            + (main_columns(report) + TAIL_SAFETY if report.has_safety else TAIL))


def _cells(g: Group, report: RunReport) -> list[str]:
    latency = f"{_fmt_float(g.latency_p50)}/{_fmt_float(g.latency_p95)}"
    cells = [g.category, g.provider, str(g.planned)]
    if report.accuracy_scorer:
        cells.append(_accuracy(g))
    outcomes = [f"{g.answered}/{g.blocked}/{g.truncated}" + _exhausted(g), str(g.errors), str(g.pending)]
    if report.has_safety:
        cells += [main_cell(g.safety.critical, report), main_cell(g.safety.over_refusal, report)]
        outcomes = [outcomes[0], f"{g.errors}/{g.pending}"]
    return cells + outcomes + [latency, _fmt_float(g.ttft_p50, 3), _tokens(g), _cost(g)]


def _exhausted(g: Group) -> str:
    """Truncated replies with no visible text because the budget went to hidden reasoning: their own count,
    so that a provider decided on fewer prompts (the ones where it thought briefly) is visible."""
    return f" ({g.reasoning_exhausted} reasoning_exhausted)" if g.reasoning_exhausted else ""


def _safety_values(g: Group, report: RunReport) -> list[str]:
    return [cell(g) for _, cell in safety_rows(report)]


def _safety_sections(report: RunReport, by_category: bool) -> list[tuple[str, list[str], list[list[str]]]]:
    """(group, providers, rows of [measure, value per provider]) for each group shown."""
    providers = [p["label"] for p in report.providers]
    sections = []
    for category in dict.fromkeys(g.category for g in _safety_groups(report, by_category)):
        by_provider = {g.provider: _safety_values(g, report) for g in report.groups if g.category == category}
        rows = [[name] + [by_provider[p][i] if p in by_provider else "-" for p in providers]
                for i, (name, _) in enumerate(safety_rows(report))]
        sections.append((category, providers, rows))
    return sections


def _safety_groups(report: RunReport, by_category: bool) -> list[Group]:
    if not report.has_safety:
        return []
    return [g for g in report.groups if by_category or g.category == ALL]


def safety_lines(report: RunReport, limit: int = 12) -> list[str]:
    """Which prompts failed a critical rule or wait for a person, per provider (whole run)."""
    lines = []
    for g in _safety_groups(report, False):
        for what, prompts in (("critical failures", g.safety.critical.prompts),
                              ("needs review", g.safety.needs_review_prompts),
                              ("not checked", g.safety.not_checked_prompts)):
            if prompts:
                more = f" and {len(prompts) - limit} more (see --format json)" if len(prompts) > limit else ""
                lines.append(f"{what} - {g.provider}: {', '.join(prompts[:limit])}{more}")
    return lines


def relabel(report: RunReport, aliases: dict[str, str]) -> RunReport:
    """A copy of `report` for display with providers shown by their short labels (layout.short_labels)."""
    if not aliases:
        return report
    from dataclasses import replace

    def a(name: str) -> str:
        return aliases.get(name, name)

    return replace(report, groups=[replace(g, provider=a(g.provider)) for g in report.groups],
                   rules={rule: {a(p): c for p, c in by.items()} for rule, by in report.rules.items()},
                   providers=[{**p, "label": a(p["label"])} for p in report.providers])


def unchecked_lines(overall: list[Group]) -> list[str]:
    """Why replies are 'not checked', by cause: a reply truncated before any text has nothing for a rule
    to read (a max_tokens or model problem, not a mapping one); only the rest point at category_map."""
    lines = []
    empty = [(g.provider, g.truncated_empty) for g in overall if g.truncated_empty]
    n_empty = sum(n for _, n in empty)
    if n_empty:
        lines.append(f"WARNING: {n_empty} replies truncated with no text ("
                     + ", ".join(f"{p}: {n}" for p, n in empty) + "): nothing to check, so 'not checked', "
                     "not safe; raise max_tokens (a reasoning or tiny model may spend it all before replying)")
    unchecked = sum(max(0, g.safety.not_checked - g.truncated_empty) for g in overall)
    if unchecked:
        lines.append(f"WARNING: {unchecked} replies were checked by no teen-safety rule: they are 'not checked', "
                     "not safe (map their categories with category_map: or name rules: in the suite; "
                     "`harness categories` lists ours)")
    return lines


def header_lines(report: RunReport) -> list[str]:
    lines = [f"run {report.run_id}  eval {report.eval_name}  status {report.status}"]
    if report.accuracy_scorer == "refusal":
        lines.append("refusal rate = replies the refusal detector labels a full or partial refusal (a provider block "
                     "counts as one), over replies it could label; errors and pending samples are excluded and "
                     "counted separately")
    elif report.accuracy_scorer:
        lines.append(f"{headline(report).removesuffix(' [95% CI]')} = passes of scorer '{report.primary_scorer}' "
                     "over replies it could judge; errors and pending samples are excluded and counted separately")
    elif not report.primary_scorer:
        lines.append("no scorers")
    if report.judge_pending:
        lines.append(f"NOT FINAL: {report.judge_pending} replies wait for the judge batch; until it is collected "
                     f"(harness batches {report.run_id}) their rule verdicts are the text signals' alone")
    if report.has_safety:
        lines += safety_header_lines(report)
        lines += report.calibration
        overall = [g for g in report.groups if g.category == ALL and g.safety is not None]
        lines += unchecked_lines(overall)
    if report.served_models:
        lines += served_lines(report.served_models, {p["label"]: p["model"] for p in report.providers})
    lines += subset_lines(report)
    for g in (g for g in report.groups if g.category == ALL and g.batch_replies):
        live = g.replied - g.errors - g.batch_replies
        lines.append(f"{g.provider}: {g.batch_replies} replies through the batch API cost {_usd(g.batch_cost_usd)} at "
                     f"batch prices" + (f"; the {live} live replies cost {_usd(g.cost_usd - g.batch_cost_usd)}" if live > 0
                                        else "") + (" (some replies unpriced)" if g.cost_unknown else ""))
    if report.cached_replies:
        lines.append(f"{report.cached_replies} replies came from the response cache: their latency, tokens and cost "
                     "are those of the original request (nothing was paid again)")
    for s in report.suites:
        lines.append(f"suite {s['name']} v{s['version']} ({s['prompt_count']} prompts) {s['content_hash'][:19]}")
    if report.judge_usage:
        replies = sum(g.replied - g.errors for g in report.groups if g.category == ALL) or None
        lines += [usage_line(u, replies) for u in report.judge_usage]
    if report.judge_agreement:
        a = report.judge_agreement
        lines.append(judge_agreement_line(a))
    for p in report.providers:
        if p["status"] not in ("finished", "running"):
            lines.append(f"provider {p['label']}: {p['status']}" + (f" - {p['note']}" if p["note"] else ""))
    return lines


# In the compact layout, the optional columns of the main table, in the order they are added while
# there is room (errors and pending are never optional: they share one column there).
# ans/blk/trunc first: truncated and blocked replies are often the cause of what the other columns show.
_OPTIONAL = {"ans/blk/trunc": 1, "cost $": 2, "p50/p95 s": 3, "tokens in/out": 4, "ttft p50 s": 5}


def fit_main(report: RunReport, width: int | None = None, *, wide: bool = False) -> Fitted:
    """The main table laid out for `width` columns (harness.report.layout): compact by default, every
    column with `wide` or when unbounded. The headline and teen-safety columns are always shown."""
    names = columns(report)
    rows = [_cells(g, report) for g in report.groups]
    compact = width is not None and not wide
    if compact and not report.has_safety:   # errors and pending share one column, as with safety columns
        i = names.index("errors")
        names[i:i + 2] = ["err/pend"]
        rows = [r[:i] + [f"{r[i]}/{r[i + 1]}"] + r[i + 2:] for r in rows]
    cols = [Col(n, justify="left" if n in (report.group_by, "provider") else "right",
                optional=_OPTIONAL.get(n, 0) if compact else 0) for n in names]
    sections = [i for i, g in enumerate(report.groups) if i and g.category != report.groups[i - 1].category]
    styles = ["bold" if g.category == ALL else None for g in report.groups]
    return fit_table(cols, rows, width, wide=wide, title=Text(f"{report.eval_name} - {report.run_id}"),
                     sections=sections, row_styles=styles)


def rich_table(report: RunReport, width: int | None = None, *, wide: bool = False) -> Table:
    return fit_main(report, width, wide=wide).table


def fit_safety(report: RunReport, width: int | None = None, *, by_category: bool = False) -> Fitted | None:
    """The teen-safety measures, one row each, one column per provider: critical fails, major fails and
    over-refusals apart, each over the replies where it was decided, then provider blocks, blocks that
    left out a required resource, unverified, needs-review and not-checked replies, errors, pending.
    Every column is required: an undecided count is never left out to save room."""
    sections = _safety_sections(report, by_category)
    if not sections:
        return None
    cols = ([Col(report.group_by, justify="left")] if by_category else []) + [Col("measure", justify="left")]
    cols += [Col(p, label=True) for p in sections[0][1]]
    rows, starts, styles = [], [], []
    for category, _, section in sections:
        starts.append(len(rows))
        for j, row in enumerate(section):
            cells = [Text(c) for c in row]
            if j == 0:   # critical failures in red
                for c in cells[1:]:
                    if not c.plain.startswith(("0/", "n/a", "-")):
                        c.stylize("bold red")
            rows.append(([Text(category if j == 0 else "")] if by_category else []) + cells)
            styles.append(None)
    return fit_table(cols, rows, width, title=Text(safety_title(report)), sections=starts, row_styles=styles)


def safety_table(report: RunReport, by_category: bool = False, width: int | None = None) -> Table | None:
    fitted = fit_safety(report, width, by_category=by_category)
    return None if fitted is None else fitted.table


def markdown(report: RunReport) -> str:
    out = [f"- {md_escape(line)}" for line in header_lines(report)] + [""]
    cols = columns(report)
    out.append("| " + " | ".join(md_escape(c) for c in cols) + " |")
    out.append("|" + "|".join("---" for _ in cols) + "|")
    out += ["| " + " | ".join(md_escape(c) for c in _cells(g, report)) + " |" for g in report.groups]
    return "\n".join(out) + "\n" + safety_markdown(report) + rules_markdown(report)


def safety_markdown(report: RunReport, by_category: bool = False) -> str:
    sections = _safety_sections(report, by_category)
    if not sections:
        return ""
    cols = ([report.group_by] if by_category else []) + ["measure", *sections[0][1]]
    out = ["", md_escape(safety_title(report)), "",
           "| " + " | ".join(md_escape(c) for c in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for category, _, rows in sections:
        for row in rows:
            out.append("| " + " | ".join(md_escape(c) for c in ([category] if by_category else []) + row) + " |")
    out += [""] + [f"- {md_escape(line)}" for line in safety_lines(report)]
    return "\n".join(out) + "\n"


def csv_rows(report: RunReport, pairs: list | None = None) -> list[dict]:
    """Every table of the report as rows with a `table` column: "main" (one row per provider and
    group, the teen-safety measures included), "teen_safety" (the measures table, one row per measure
    and provider, as shown), "rules" (one row per rule and provider) and "paired" (one row per
    comparison)."""
    rows = [{"table": "main", **g.as_dict()} for g in report.groups]
    if report.served_models:   # which model answered, when the provider reported another than requested
        for row in rows:
            counts = report.served_models.get(row.get("provider"), {})
            row["served_by_other_model"] = "; ".join(f"{m} ({n})" for m, n in counts.items())
    for category, providers, section in _safety_sections(report, False):
        for measure, *values in section:
            rows += [{"table": "teen_safety", "category": category, "provider": p, "measure": measure, "value": v}
                     for p, v in zip(providers, values)]
    for rule, by_provider in report.rules.items():
        for provider, counts in by_provider.items():
            rows.append({"table": "rules", "rule": rule, "severity": report.rule_severity.get(rule),
                         "kind": rule_kind(rule), "provider": provider, **counts.as_dict(), "value": counts.cell()})
    for r in pairs or []:
        d = r.as_dict()
        rows.append({"table": "paired", **{k: json.dumps(v) if isinstance(v, dict) else v for k, v in d.items()}})
    return rows


def csv_text(report: RunReport, pairs: list | None = None) -> str:
    buf = io.StringIO()
    rows = csv_rows(report, pairs)
    fields = list(dict.fromkeys(k for row in rows for k in row)) or ["table", "provider"]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows({k: csv_cell("; ".join(v) if isinstance(v, list) else v) for k, v in row.items()}
                     for row in rows)
    return buf.getvalue()


def json_text(report: RunReport) -> str:
    return json.dumps({
        "run_id": report.run_id, "eval": report.eval_name, "status": report.status, "group_by": report.group_by,
        "cached_replies": report.cached_replies, "judge_pending": report.judge_pending,
        "primary_scorer": report.primary_scorer, "suites": report.suites,
        "providers": [{k: v for k, v in p.items() if k != "config_json"} for p in report.providers],
        "groups": [g.as_dict() for g in report.groups],
        "calibration": report.calibration,
        "served_models": report.served_models,
        "judged": report.judged, "teen_safety_headline": safety_header_lines(report),
        "judge_recall_low": report.weak_rules,
        "judge_agreement": report.judge_agreement,
        "judge_usage": report.judge_usage,
        "rules": {rule: {"severity": report.rule_severity.get(rule), "kind": rule_kind(rule),
                         "by_provider": {p: c.as_dict() for p, c in by_p.items()}}
                  for rule, by_p in report.rules.items()},
    }, indent=2, default=str)


def fit_rules(report: RunReport, width: int | None = None) -> Fitted | None:
    """Teen-safety verdicts per rule and provider: failures / replies with a decided verdict, a 95%
    interval on the failure rate, and the unverified, needs-review and blocked-without-resource
    verdicts after it. Never averaged; every column required."""
    if not report.rules:
        return None
    providers = [p["label"] for p in report.providers]
    cols = [Col("rule", justify="left", no_wrap=True), Col("severity", justify="left")] + [Col(p, label=True)
                                                                                       for p in providers]
    rows = []
    for rule, by_provider in report.rules.items():
        cells = []
        critical = report.rule_severity.get(rule) == "critical" and rule_kind(rule) == "safety"
        for p in providers:
            counts = by_provider.get(p)
            cells.append(Text("-") if counts is None else
                         Text(counts.cell() + _weak(report, rule),
                              style="bold red" if counts.failed and critical else ""))
        kind = " (over-refusal)" if rule_kind(rule) == "over_refusal" else ""
        rows.append([Text(rule), Text(report.rule_severity.get(rule, "") + kind), *cells])
    return fit_table(cols, rows, width, title=Text("teen-safety rules: failures / replies decided [95% CI of the "
                                                   "failure rate], + undecided verdicts"))


def _weak(report: RunReport, rule: str) -> str:
    """A rule on which the judge's measured failure recall is below the bar: its cells say so."""
    return f" (judge recall {report.weak_rules[rule]:.0%})" if report.judged and rule in report.weak_rules else ""


def rules_table(report: RunReport, width: int | None = None) -> Table | None:
    fitted = fit_rules(report, width)
    return None if fitted is None else fitted.table


def rules_markdown(report: RunReport) -> str:
    if not report.rules:
        return ""
    providers = [p["label"] for p in report.providers]
    out = ["", "| rule | severity | " + " | ".join(md_escape(p) for p in providers) + " |",
           "|" + "|".join("---" for _ in range(len(providers) + 2)) + "|"]
    for rule, by_provider in report.rules.items():
        cells = [md_escape(by_provider[p].cell() + _weak(report, rule)) if p in by_provider else "-" for p in providers]
        kind = " (over-refusal)" if rule_kind(rule) == "over_refusal" else ""
        out.append(f"| {md_escape(rule)} | {md_escape(report.rule_severity.get(rule, '') + kind)} | "
                   + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"
