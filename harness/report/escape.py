"""Escaping untrusted text (model output, labels from user files) for each report format."""
from __future__ import annotations

from typing import Any

# Cells a spreadsheet would run as a formula (OWASP CSV injection): prefixed with a quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


def md_escape(text: str) -> str:
    """Text safe inside a Markdown table cell: no column breaks, no markup, no HTML."""
    return (text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")
            .replace(">", "&gt;").replace("`", "\\`").replace("*", "\\*").replace("_", "\\_")
            .replace("[", "\\[").replace("]", "\\]"))
