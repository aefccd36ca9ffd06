"""`harness diff RUN_A RUN_B`: what changed between two runs (harness.report.diff)."""
from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from harness.cli.common import ResultsOption, WideOption, WidthOption, layout_width, open_store, print_lines, table_console


class DiffFormat(str, Enum):
    table = "table"
    markdown = "markdown"
    json = "json"


def diff(
    run_a: str = typer.Argument(..., help="The earlier run (id or unique prefix)."),
    run_b: str = typer.Argument(..., help="The later run (id or unique prefix)."),
    results_dir: Path = ResultsOption,
    fmt: DiffFormat = typer.Option(DiffFormat.table, "--format", "-f", help="table, markdown or json."),
    scorer: Optional[str] = typer.Option(None, "--scorer", "-s",
                                         help="Headline scorer (default: run A's first; teen safety is always "
                                              "compared per measure)."),
    max_flips: Optional[int] = typer.Option(200, "--max-flips", min=0,
                                            help="Prompts that changed listed in the table (all in markdown/json)."),
    wide: bool = WideOption,
    width: Optional[int] = WidthOption,
) -> None:
    """What changed between two runs of the same suites: per provider (matched by label) and category, each
    measure per run, a paired test on the shared prompts (exact McNemar, Newcombe 95% interval), the prompts
    that flipped (newly failing first), prompts added or removed, suite hash changes."""
    from harness.report.diff import diff_markdown, diff_runs, diff_tables, text_lines
    from harness.report.escape import json_dumps, terminal_text
    from harness.report.layout import hidden_note, legend, print_fitted, short_labels
    from harness.store import StoreError

    store = open_store(results_dir, must_exist=True)
    try:
        result = diff_runs(store, run_a, run_b, scorer=scorer)
    except StoreError as err:
        typer.echo(f"error: {terminal_text(str(err))}", err=True)
        runs = store.runs()
        typer.echo("runs in the store:" if runs else "the store has no runs", err=True)
        for r in runs:
            typer.echo(terminal_text(f"  {r['id']}  {r['eval_name']}  {r['status']}  {r['created_at'][:19]}"), err=True)
        raise typer.Exit(2) from None
    except ValueError as err:
        typer.echo(f"error: {terminal_text(str(err))}", err=True)
        raise typer.Exit(2) from None
    from harness.report.conversation_diff import conversation_diff, conversation_diff_tables

    conversations = conversation_diff(store, run_a, run_b)
    if fmt is DiffFormat.json:
        data = result.as_dict()
        if conversations is not None:
            data["conversations"] = conversations.as_dict()
        sys.stdout.write(json_dumps(data, indent=2, default=str) + "\n")
        return
    if fmt is DiffFormat.markdown:
        sys.stdout.write(diff_markdown(result))
        return
    out = table_console(width)
    fit_to = layout_width(out, width)
    aliases = short_labels(result.providers, fit_to, wide=wide)   # long ids: short labels and a legend
    if aliases:
        from dataclasses import replace

        result = replace(result, groups=[replace(g, provider=aliases.get(g.provider, g.provider)) for g in result.groups],
                         flips=[replace(f, provider=aliases.get(f.provider, f.provider)) for f in result.flips])
        print_lines(out, [legend(aliases)])
    for fitted in diff_tables(result, fit_to, wide=wide, max_flips=max_flips):
        print_fitted(out, fitted)
        if note := hidden_note(fitted.hidden):
            print_lines(out, [note])
    print_lines(out, text_lines(result))
    if conversations is not None:
        for table in conversation_diff_tables(conversations, max_flips):
            out.print(table)
