from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from harness.store import DEFAULT_DB, Store

ResultsOption = typer.Option(DEFAULT_DB.parent, "--results", "-r",
                             help="Directory holding the results store (harness.db).")


def open_store(results_dir: Path, *, must_exist: bool = False) -> Store:
    from harness.store import StoreError

    db = results_dir / "harness.db"
    if must_exist and not db.exists():
        raise StoreError(f"no results store at {db}; run an eval first (harness run EVAL.yaml) or pass --results")
    return Store(db)


def table_console() -> Console:
    """A console for tables: when output is not a terminal (a pipe, a CI log) rich would assume 80
    columns and fold every cell; use a width that fits the comparison table instead."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    return console


def show_report(store: Store, report, *, scorer: str | None = None, pairs_by_category: bool = False) -> None:
    """The comparison table, the teen-safety table (critical fails, major fails, over-refusals,
    blocks, unverified, needs review, not checked: never one average), the teen-safety rules table,
    and the paired provider comparisons (per scorer, and per teen-safety measure)."""
    from harness.report.paired import paired_tables
    from harness.report.summary import ALL
    from harness.report.table import header_lines, rich_table, rules_table, safety_lines, safety_table

    out = table_console()
    for line in header_lines(report):
        out.print(line, markup=False, highlight=False)
    out.print(rich_table(report))
    if (safety := safety_table(report, by_category=pairs_by_category)) is not None:
        out.print(safety)
        for line in safety_lines(report):
            out.print(line, markup=False, highlight=False)
    if (rules := rules_table(report)) is not None:
        out.print(rules)
    pairs = paired(store, report, scorer)
    if not pairs_by_category:
        pairs = [p for p in pairs if p.category == ALL]
    for table in paired_tables(pairs):
        out.print(table)


def paired(store: Store, report, scorer: str | None):
    """Paired comparisons on `scorer` (default: the run's first scorer), and, when the run has
    teen-safety verdicts, per teen-safety measure; none with one provider. teen_safety is only ever
    compared per measure, never as a pass rate."""
    from harness.report.paired import paired_comparisons, safety_paired_comparisons
    from harness.report.summary import SAFETY

    scorer = scorer or report.primary_scorer
    if len(report.providers) < 2:
        return []
    results = []
    if scorer is not None and scorer != SAFETY:
        try:
            results = paired_comparisons(store, report.run_id, scorer)
        except ValueError as err:
            raise typer.BadParameter(str(err), param_hint="--scorer") from None
    if report.has_safety:
        results += safety_paired_comparisons(store, report.run_id)
    elif scorer == SAFETY:
        raise typer.BadParameter(f"run {report.run_id} has no teen-safety verdicts", param_hint="--scorer")
    return results


def enforce_thresholds(store: Store, report) -> None:
    """Print each threshold verdict; exit 3 when one is not met (for CI gates)."""
    from harness.report.thresholds import check_thresholds

    results = check_thresholds(store, report)
    for r in results:
        typer.echo(str(r), err=True)
    if any(not r.met for r in results):
        raise typer.Exit(3)
