"""The live progress display stays readable at 80 columns while retries are shown."""
from __future__ import annotations

import io
import re

from rich.console import Console

from harness.runner.progress import RunProgress


def render(width: int) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=True, color_system=None)
    with RunProgress(console=console) as progress:
        progress.add("claude-haiku-4-5-20251001-with-a-long-label", 600)
        progress.add("gpt-4o-mini", 600)
        for _ in range(250):
            progress.advance("gpt-4o-mini", error=False)
        progress.advance("gpt-4o-mini", error=True)
        progress.status("gpt-4o-mini", "rate_limit, retry in 12.5s, concurrency 4 (server asked for Retry-After)")
        progress._progress.refresh()
    final = out.getvalue().split("\r")[-1]  # the last frame the live display drew
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", final)  # cursor movements and line clears
    return [line for line in plain.splitlines() if line.strip()]


def test_one_line_per_provider_within_80_columns():
    lines = render(80)
    assert len(lines) == 2, lines
    assert all(len(line) <= 80 for line in lines), [len(line) for line in lines]
    gpt = next(line for line in lines if "gpt-4o-mini" in line)
    assert "251/600" in gpt and "err 1" in gpt and "rate_limit" in gpt
    assert "claude-haiku" in lines[0]
