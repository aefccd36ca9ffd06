"""`harness cache stats|clear`: look at and empty the response cache.

Neither command creates anything: with no cache file there is nothing to show or clear, and no
`results/` folder appears in the working directory."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer
from rich.text import Text

from harness.cache import CacheDamaged, ResponseCache
from harness.cli.common import ResultsOption, layout_width, print_lines, table_console
from harness.report.layout import Col, fit_table, print_fitted

app = typer.Typer(no_args_is_help=True, help="The response cache (results/cache.db).")


def _when(epoch: float | None) -> str:
    return "-" if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@app.command("stats")
def stats(results_dir: Path = ResultsOption,
          as_json: bool = typer.Option(False, "--json", help="Machine-readable, times as ISO 8601.")) -> None:
    """Entries per provider, expired entries, age, size."""
    path = results_dir / "cache.db"
    if not path.is_file():
        if as_json:
            typer.echo(json.dumps({"path": str(path), "entries": 0, "exists": False}))
        else:
            typer.echo(f"no response cache at {path} (nothing cached yet)")
        return
    cache = ResponseCache(path)
    try:
        data = cache.stats()
    finally:
        cache.close()
    if as_json:
        iso = lambda t: None if t is None else datetime.fromtimestamp(t, timezone.utc).isoformat()  # noqa: E731
        data = {**data, "oldest": iso(data["oldest"]), "newest": iso(data["newest"]),
                "providers": [{**p, "oldest": iso(p["oldest"]), "newest": iso(p["newest"])} for p in data["providers"]]}
        typer.echo(json.dumps(data, indent=2))
        return
    console = table_console()
    days = data["ttl_s"] / 86400
    print_lines(console, [f"response cache {data['path']}: {data['entries']} replies, {_size(data['bytes'])} on disk; "
                          f"entries expire after {days:g} days ({data['expired']} expired, removed by "
                          "harness cache clear --older-than-days N)"])
    if not data["providers"]:
        return
    cols = [Col("provider", justify="left"), Col("replies"), Col("expired"), Col("oldest", justify="left", no_wrap=True),
            Col("newest", justify="left", no_wrap=True), Col("size", no_wrap=True, optional=1)]
    rows = [[Text(p["provider"]), str(p["entries"]), str(p["expired"]), _when(p["oldest"]), _when(p["newest"]),
             _size(p["reply_bytes"])] for p in data["providers"]]
    print_fitted(console, fit_table(cols, rows, layout_width(console)))


@app.command("clear")
def clear(results_dir: Path = ResultsOption,
          older_than_days: Optional[float] = typer.Option(None, "--older-than-days", min=0,
                                                          help="Only entries older than this."),
          judge: bool = typer.Option(False, "--judge", help="The judge's verdict cache (judge_cache.db) instead.")) -> None:
    """Delete cached replies (all, or those older than N days). A damaged cache file is removed whole."""
    path = results_dir / ("judge_cache.db" if judge else "cache.db")
    what = "judge verdicts" if judge else "replies"
    if not path.is_file():
        typer.echo(f"no {'judge cache' if judge else 'response cache'} at {path}: nothing to clear")
        return
    try:
        removed = _clear(path, judge, None if older_than_days is None else older_than_days * 86400)
    except CacheDamaged as err:
        # SQLite cannot read it, so no entry can be saved: the file goes (a cache only saves requests).
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        typer.echo(f"{err}\nremoved the damaged cache file {path}; it is created afresh when needed")
        return
    typer.echo(f"removed {removed} cached {what}")


def _clear(path: Path, judge: bool, older_than_s: float | None) -> int:
    import sqlite3

    if judge:
        from harness.scoring.judge import JudgeCache

        cache = JudgeCache(path)
        try:
            with cache._lock:
                if older_than_s is None:
                    cur = cache._db.execute("DELETE FROM judge_cache")
                else:
                    cutoff = datetime.fromtimestamp(datetime.now(timezone.utc).timestamp() - older_than_s, timezone.utc)
                    cur = cache._db.execute("DELETE FROM judge_cache WHERE created_at < ?", (cutoff.isoformat(),))
                cache._db.commit()
                return cur.rowcount
        except sqlite3.DatabaseError as err:
            raise cache._damaged(err) from None
        finally:
            cache.close()
    cache = ResponseCache(path)
    try:
        return cache.clear(older_than_s)
    except sqlite3.DatabaseError as err:
        from harness.cache import damaged_response_cache

        raise damaged_response_cache(path, err) from None
    finally:
        cache.close()
