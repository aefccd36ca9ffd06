from __future__ import annotations

from pathlib import Path

import typer

from harness.store import DEFAULT_DB, Store

ResultsOption = typer.Option(DEFAULT_DB.parent, "--results", "-r",
                             help="Directory holding the results store (harness.db).")


def open_store(results_dir: Path, *, must_exist: bool = False) -> Store:
    from harness.store import StoreError

    db = results_dir / "harness.db"
    if must_exist and not db.exists():
        raise StoreError(f"no results store at {db}; run an eval first (harness run EVAL.yaml) or pass --results")
    return Store(db)


def table_console() -> "Console":
    """A console for tables: when output is not a terminal (a pipe, a CI log) rich would assume 80
    columns and fold every cell; use a width that fits the comparison table instead."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    return console
