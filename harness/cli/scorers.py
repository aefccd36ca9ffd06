"""`harness scorers`: the scorers an eval file can name: built in, added by installed packages
(entry point group `harness.scorers`), or any importable `module:function`."""
from __future__ import annotations

import inspect

import typer
from rich.table import Table
from rich.text import Text

from harness.cli.common import table_console


def _summary(fn) -> str:
    doc = inspect.getdoc(fn) or ""
    first = " ".join(doc.split("\n\n")[0].split())
    return first.split(". ")[0].rstrip(".") + "."  # one sentence: the table must stay readable


def scorers() -> None:
    """List the scorers an eval can use (`scorers: [...]`), with where each comes from."""
    from harness.scoring import SCORERS, UnknownScorer, get_scorer, plugin_scorers

    table = Table(title="scorers")
    for col in ("name", "from", "description"):
        table.add_column(col)
    for name, fn in sorted(SCORERS.items()):
        table.add_row(Text(name), Text("built in"), Text(_summary(fn)))
    for name, ep in sorted(plugin_scorers().items()):
        dist = getattr(getattr(ep, "dist", None), "name", None) or "?"
        try:
            description = _summary(get_scorer(name))
        except UnknownScorer as err:
            description = f"cannot be loaded: {err}"
        table.add_row(Text(name), Text(f"{dist} ({ep.value})"), Text(description))
    console = table_console()
    console.print(table)
    typer.echo("An eval can also name any importable function as module:function, e.g. "
               "scorers: [my_checks.scorers:polite]; it takes (prompt, reply) and returns a Score.")
