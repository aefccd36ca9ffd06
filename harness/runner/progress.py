"""Live progress, one bar per provider, on stderr: done/total, errors, and what it is waiting for."""
from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.report.escape import terminal_text


class RunProgress:
    def __init__(self, enabled: bool = True) -> None:
        self.console = Console(stderr=True)
        self._progress = Progress(
            TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("errors {task.fields[errors]}"), TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(), console=self.console, disable=not enabled or not sys.stderr.isatty(),
        )
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> "RunProgress":
        self._progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.__exit__(*exc)

    def add(self, provider: str, total: int) -> None:
        # the description is rendered as Rich markup: a label from the eval file must be neither markup
        # nor terminal control sequences
        description = terminal_text(provider).replace("[", "\\[")
        self._tasks[provider] = self._progress.add_task(description, total=total, errors=0, status="")

    def advance(self, provider: str, *, error: bool) -> None:
        task = self._tasks[provider]
        errors = self._progress.tasks[task].fields["errors"] + int(error)
        self._progress.update(task, advance=1, errors=errors, status="")

    def status(self, provider: str, text: str) -> None:
        self._progress.update(self._tasks[provider], status=terminal_text(text).replace("[", "\\["))

    def line(self, text: str) -> None:
        """A message that stays (skips, stops), printed above the live bars."""
        self.console.print(terminal_text(text), highlight=False, markup=False, soft_wrap=True)
