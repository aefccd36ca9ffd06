"""Live progress, one bar per provider, on stderr: done/total, errors, and what it is waiting for."""
from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Column
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.report.escape import terminal_text


class RunProgress:
    """The bars fit an 80-column terminal: the label and the status line are cut with an ellipsis and
    the bar takes what is left, so a retry message never wraps a provider's line in two."""

    def __init__(self, enabled: bool = True, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        live = console is not None or sys.stderr.isatty()
        self._progress = Progress(
            TextColumn("{task.description}", table_column=Column(max_width=22, no_wrap=True, overflow="ellipsis")),
            BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=8)),
            MofNCompleteColumn(),
            TextColumn("err {task.fields[errors]}", table_column=Column(no_wrap=True)),
            TextColumn("{task.fields[status]}", table_column=Column(ratio=2, no_wrap=True, overflow="ellipsis")),
            TimeElapsedColumn(), console=self.console, disable=not enabled or not live, expand=True,
        )
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> "RunProgress":
        self._progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.__exit__(*exc)

    def add(self, provider: str, total: int) -> None:
        if provider in self._tasks:   # a batch provider's live part (harness/batch/engine.py): one bar, grown
            task = self._tasks[provider]
            self._progress.update(task, total=(self._progress.tasks[task].total or 0) + total)
            return
        # the description is rendered as Rich markup: a label from the eval file must be neither markup
        # nor terminal control sequences
        description = terminal_text(provider).replace("[", "\\[")
        self._tasks[provider] = self._progress.add_task(description, total=total, errors=0, status="")

    def advance(self, provider: str, *, error: bool) -> None:
        task = self._tasks[provider]
        errors = self._progress.tasks[task].fields["errors"] + int(error)
        self._progress.update(task, advance=1, errors=errors, status="")

    def set(self, provider: str, *, done: int, errors: int) -> None:
        """Absolute figures (worker processes report through the store, not reply by reply)."""
        self._progress.update(self._tasks[provider], completed=done, errors=errors)

    def status(self, provider: str, text: str) -> None:
        self._progress.update(self._tasks[provider], status=terminal_text(text).replace("[", "\\["))

    def line(self, text: str) -> None:
        """A message that stays (skips, stops), printed above the live bars."""
        self.console.print(terminal_text(text), highlight=False, markup=False, soft_wrap=True)
