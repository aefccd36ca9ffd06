"""`harness report`: one self-contained HTML file (or Markdown) for one run or several side by side."""
from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from harness.cli.common import ResultsOption, open_store
from harness.report.escape import terminal_text


class ReportFormat(str, Enum):
    html = "html"
    md = "md"


def report(
    run_ids: Optional[list[str]] = typer.Argument(None, help="Run ids or unique prefixes; default: the latest run. "
                                                              "Several runs are shown side by side."),
    results_dir: Path = ResultsOption,
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Write here (default: report.html, or stdout for --format md)."),
    fmt: ReportFormat = typer.Option(ReportFormat.html, "--format", "-f", help="html (default) or md (no matrix)."),
    charts: bool = typer.Option(True, "--charts/--no-charts", help="Draw the charts (matplotlib)."),
    page_size: int = typer.Option(50, "--page-size", min=5, max=1000, help="Prompts per page in the matrix."),
) -> None:
    """Write a report a person can open anywhere: run header (versions, suite hashes, providers, judge and
    calibration), leaderboard with 95% intervals, paired verdicts, charts, and every prompt x provider
    reply with its verdicts and evidence (HTML only), with filters and search."""
    from harness.report.html import render_html, render_markdown

    store = open_store(results_dir, must_exist=True)
    ids = list(run_ids or [None])
    notes: list[str] = []
    try:
        text = render_markdown(store, ids) if fmt is ReportFormat.md else render_html(
            store, ids, charts=charts, page_size=page_size, notes=notes)
    except RuntimeError as err:   # an optional dependency missing: say which extra to install
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    for line in notes:   # the page says so too, where the chart would be
        typer.echo(f"note: chart not drawn, {terminal_text(line)}", err=True)
    if fmt is ReportFormat.md and output is None:
        sys.stdout.write(text)
        return
    from harness.atomic import write_atomic

    target = output or Path("report.html")
    write_atomic(target, text)   # a signal half-way leaves the previous report intact
    typer.echo(f"wrote {target} ({len(text.encode()) / 1e3:,.0f} kB)", err=True)
