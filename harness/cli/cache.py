"""`harness cache stats|clear`: look at and empty the response cache."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from harness.cache import ResponseCache
from harness.cli.common import ResultsOption

app = typer.Typer(no_args_is_help=True, help="The response cache (results/cache.db).")


@app.command("stats")
def stats(results_dir: Path = ResultsOption) -> None:
    """Entries per provider, expired entries, size."""
    cache = ResponseCache(results_dir / "cache.db")
    typer.echo(json.dumps(cache.stats(), indent=2))


@app.command("clear")
def clear(results_dir: Path = ResultsOption,
          older_than_days: Optional[float] = typer.Option(None, "--older-than-days", min=0,
                                                          help="Only entries older than this.")) -> None:
    """Delete cached replies (all, or those older than N days)."""
    cache = ResponseCache(results_dir / "cache.db")
    removed = cache.clear(None if older_than_days is None else older_than_days * 86400)
    typer.echo(f"removed {removed} cached replies")
