"""`harness compare`, `harness runs`, `harness export`: reading runs back out of the store."""
from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from harness.cli.common import ResultsOption, enforce_thresholds, open_store, paired, show_report, table_console
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
                                         help="Scorer for the paired provider comparison (default: the first)."),
    by_category: bool = typer.Option(False, "--by-category", help="Paired comparisons per category too."),
    group_by: str = typer.Option("category", "--group-by", "-g",
                                 help="Group rows by category, suite, or any prompt metadata field (e.g. age_signal)."),
) -> None:
    """Compare providers in a run: per category, accuracy with a 95% interval, outcomes, latency, tokens, cost."""
    store = open_store(results_dir, must_exist=True)
    report = summarise(store, run_id, group_by=group_by)
    if fmt is Format.table:
        show_report(store, report, scorer=scorer, pairs_by_category=by_category)
    elif fmt is Format.markdown:
        pairs = paired(store, report, scorer)
        sys.stdout.write(markdown(report) + (("\n" + paired_markdown(pairs)) if pairs else ""))
    elif fmt is Format.json:
        data = json.loads(json_text(report))
        data["paired"] = [p.as_dict() for p in paired(store, report, scorer)]
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(csv_text(report))
    enforce_thresholds(store, report)


def runs(results_dir: Path = ResultsOption) -> None:
    """List the runs in the results store, newest first."""
    store = open_store(results_dir, must_exist=True)
    table = Table()
    for col in ("run", "eval", "status", "created", "replies", "providers"):
        table.add_column(col)
    for r in store.runs():
        table.add_row(*(Text(str(v)) for v in (r["id"], r["eval_name"], r["status"], r["created_at"][:19],
                                                f"{r['n_replies']}/{r['n_samples']}", r["providers"] or "")))
    table_console().print(table)


def export(
    run_id: Optional[str] = typer.Argument(None, help="Run id or unique prefix; default: the latest run."),
    results_dir: Path = ResultsOption,
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
) -> None:
    """Export a run as JSONL: one line per sample with its prompt, reply and scores (pending samples included)."""
    store = open_store(results_dir, must_exist=True)
    run = store.run(run_id)
    scores: dict[int, list[dict]] = {}
    for s in store.scores(run["id"]):
        scores.setdefault(s["sample_id"], []).append(
            {k: s[k] for k in ("scorer", "passed", "value", "label", "explanation", "evidence", "severity")})
    suites = {s["name"]: dict(s) for s in store.run_suites(run["id"])}
    identities = {p["label"]: json.loads(p["identity_json"]) if p["identity_json"] else None
                  for p in store.run_providers(run["id"])}
    target = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        for row in store.results(run["id"]):
            reply = None
            if row["outcome"] is not None:
                reply = {k: row[k] for k in ("outcome", "text", "reason", "error_kind", "finish_reason",
                                             "input_tokens", "output_tokens", "latency_s", "ttft_s",
                                             "model_reported", "attempts", "cost_usd", "created_at")}
                reply["raw"] = json.loads(row["raw_json"])
            record = {
                "run_id": run["id"], "eval": run["eval_name"], "suite": row["suite"],
                "suite_version": suites[row["suite"]]["version"], "suite_hash": suites[row["suite"]]["content_hash"],
                "prompt_id": row["prompt_id"], "category": row["category"], "provider": row["provider"],
                "model_identity": identities.get(row["provider"]), "repeat": row["repeat"],
                "prompt": json.loads(row["prompt_json"]), "reply": reply, "scores": scores.get(row["sample_id"], []),
            }
            target.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if output:
            target.close()
