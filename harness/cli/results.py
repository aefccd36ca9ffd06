"""`harness compare`, `harness runs`, `harness export`: reading runs back out of the store."""
from __future__ import annotations

import contextlib
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.text import Text

from harness.served_model import served_by_other
from harness.atomic import atomic_open
from harness.cli.common import (ResultsOption, WideOption, WidthOption, enforce_thresholds, layout_width, open_store,
                                paired, print_lines, show_report, table_console)
from harness.report.escape import json_dumps
from harness.report.layout import Col, fit_table, hidden_note, print_fitted
from harness.report.summary import summarise
from harness.report.paired import paired_markdown
from harness.report.table import csv_text, json_text, markdown


class Format(str, Enum):
    table = "table"
    markdown = "markdown"
    csv = "csv"
    json = "json"


def compare(
    run_id: Optional[str] = typer.Argument(None, help="Run id or unique prefix; default: the latest run."),
    results_dir: Path = ResultsOption,
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, markdown, csv or json."),
    scorer: Optional[str] = typer.Option(None, "--scorer", "-s",
                                         help="Scorer for the headline column and the paired comparison "
                                              "(default: the run's first; -s refusal shows the refusal rate)."),
    by_category: bool = typer.Option(False, "--by-category", help="Paired comparisons per category too."),
    group_by: str = typer.Option("category", "--group-by", "-g",
                                 help="Group rows by category, suite, or any prompt metadata field (e.g. age_signal)."),
    scoring: Optional[str] = typer.Option(None, "--scoring",
                                          help="Which scoring to show: the latest (default), 'original' (made while "
                                               "the run executed) or N, the Nth harness rescore."),
    wide: bool = WideOption,
    width: Optional[int] = WidthOption,
    baseline: Optional[str] = typer.Option(None, "--baseline",
                                           help="Also gate on no significant regression against run BASELINE "
                                                "(paired exact McNemar on the shared prompts; exit 3)."),
    junit: Optional[Path] = typer.Option(None, "--junit", help="Write JUnit XML here: a test case per prompt x "
                                         "provider and per threshold."),
) -> None:
    """Compare providers in a run: per category, the headline scorer's pass rate with a 95% interval, outcomes,
    latency, tokens, cost; teen-safety measures; paired comparisons."""
    from harness.cli.rescore import scored_run

    store = open_store(results_dir, must_exist=True)
    view = scored_run(store, run_id, scoring, primary=scorer)
    report = summarise(view, run_id, group_by=group_by)
    which = view.describe()
    if fmt is Format.table:
        if view.scoring is not None or "rescoring" in which:
            print_lines(table_console(width), [which])
        show_report(view, report, scorer=scorer, pairs_by_category=by_category, wide=wide, width=width)
    elif fmt is Format.markdown:
        pairs = paired(view, report, scorer)
        sys.stdout.write(f"- {which}\n" + markdown(report) + (("\n" + paired_markdown(pairs)) if pairs else ""))
        from harness.report.html.conversations import conversation_view
        from harness.report.html.markdown import conversation_markdown

        if lines := conversation_markdown(conversation_view(view, report.run_id, charts=False)):
            sys.stdout.write("\n" + "\n".join(lines) + "\n")
    elif fmt is Format.json:
        data = json.loads(json_text(report))
        data["scoring"] = None if view.scoring is None else dict(view.scoring)
        data["scoring_text"] = which
        data["paired"] = [p.as_dict() for p in paired(view, report, scorer)]
        from harness.report.conversations import conversation_report

        if (conversations := conversation_report(view, report.run_id)) is not None:
            data["conversations"] = conversations.as_dict()
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(csv_text(report, paired(view, report, scorer)))
    enforce_thresholds(view, report, baseline=baseline, junit=junit)


def runs(results_dir: Path = ResultsOption, wide: bool = WideOption, width: Optional[int] = WidthOption) -> None:
    """List the runs in the results store, newest first. The run id is never shortened."""
    store = open_store(results_dir, must_exist=True)
    cols = [Col("run", justify="left", no_wrap=True), Col("eval", justify="left"), Col("status", justify="left"),
            Col("replies", no_wrap=True), Col("created (UTC)", justify="left", no_wrap=True, optional=1),
            Col("providers", justify="left", optional=2)]
    rows = [[Text(str(v)) for v in (r["id"], r["eval_name"], store.live_status(r), f"{r['n_replies']}/{r['n_samples']}",
                                    r["created_at"][:19].replace("T", " "), r["providers"] or "")]
            for r in store.runs()]
    console = table_console(width)
    fitted = fit_table(cols, rows, layout_width(console, width), wide=wide)
    print_fitted(console, fitted)
    if note := hidden_note(fitted.hidden):
        print_lines(console, [note])


def export(
    run_id: Optional[str] = typer.Argument(None, help="Run id or unique prefix; default: the latest run."),
    results_dir: Path = ResultsOption,
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here instead of stdout ('-': stdout)."),
) -> None:
    """Export a run as JSONL: one line per sample with its prompt, reply and scores (pending samples included)."""
    if output is not None and str(output) == "-":   # the usual spelling of stdout, never a file named "-"
        output = None
    store = open_store(results_dir, must_exist=True)
    run = store.run(run_id)
    scores: dict[int, list[dict]] = {}
    for s in store.scores(run["id"]):
        scores.setdefault(s["sample_id"], []).append(
            {k: s[k] for k in ("scorer", "passed", "value", "label", "explanation", "evidence", "severity")})
    suites = {s["name"]: dict(s) for s in store.run_suites(run["id"])}
    identities = {p["label"]: json.loads(p["identity_json"]) if p["identity_json"] else None
                  for p in store.run_providers(run["id"])}
    from harness.store.conversations import conversation_export

    conversations = conversation_export(store, run["id"])
    models = {p["label"]: p["model"] for p in store.run_providers(run["id"])}
    with (atomic_open(output) if output else contextlib.nullcontext(sys.stdout)) as target:
        # A file is written whole or not at all (harness.atomic): a signal leaves the previous export.
        for row in store.results(run["id"]):
            reply = None
            if row["outcome"] is not None:
                reply = {k: row[k] for k in ("outcome", "text", "reason", "error_kind", "finish_reason",
                                             "input_tokens", "output_tokens", "latency_s", "ttft_s",
                                             "model_reported", "attempts", "cost_usd", "created_at")}
                reply["raw"] = json.loads(row["raw_json"])
                # Which model answered, said outright: a retired model may be served by its successor.
                reply["served_by_other_model"] = served_by_other(models.get(row["provider"], ""),
                                                                 row["model_reported"])
            record = {
                "run_id": run["id"], "eval": run["eval_name"], "suite": row["suite"],
                "suite_version": suites[row["suite"]]["version"], "suite_hash": suites[row["suite"]]["content_hash"],
                "prompt_id": row["prompt_id"], "category": row["category"], "provider": row["provider"],
                "model_identity": identities.get(row["provider"]), "repeat": row["repeat"],
                "prompt": json.loads(row["prompt_json"]), "reply": reply, "scores": scores.get(row["sample_id"], []),
            }
            if row["sample_id"] in conversations:   # a live conversation: every turn, first failing turns
                record["conversation"] = conversations[row["sample_id"]]
            target.write(json_dumps(record) + "\n")  # control and bidi characters escaped
