"""Escaping untrusted text (model output, labels from user files) for each report format.

Text from suite files, eval files, datasets and model replies may carry terminal control sequences
(ESC [ ... ), other C0/C1 control characters, and Unicode bidirectional controls (U+202E RIGHT-TO-LEFT
OVERRIDE and friends) that make a terminal, an editor or a code review show something other than what
is there. Every output writes such characters as visible escapes (``\x1b``, ``\u202e``) instead:

* terminal tables and messages: :func:`terminal_text`;
* Markdown cells: :func:`md_escape`; CSV cells: :func:`csv_cell`;
* JSON: :func:`json_dumps` (the JSON escape ``\u202e``, so the data are unchanged once parsed).
"""
from __future__ import annotations

import json
import re
from typing import Any

# C0 controls, DEL, C1 controls; the bidirectional formatting characters (LRM, RLM, ALM, the
# embeddings/overrides U+202A-U+202E and the isolates U+2066-U+2069); and the line/paragraph
# separators U+2028/U+2029 (new lines in many viewers, invisible in others).
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
# Code points no UTF-8 file or XML 1.0 document can carry: lone surrogates (a provider can send one as
# a JSON escape; harness.surrogates keeps them out of the store, but a transcript file may hold one)
# and the noncharacters U+FFFE/U+FFFF (valid UTF-8, yet ill-formed XML: one made a JUnit file unreadable).
_NOT_TEXT = "\ud800-\udfff\ufffe\uffff"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}{_NOT_TEXT}]")
_UNSAFE_WITH_LAYOUT = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}{_NOT_TEXT}]")
_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_BIDI}{_NOT_TEXT}]")


def _visible(m: re.Match) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def clean(text: str, *, keep_layout: bool = True) -> str:
    """Control and bidi characters written as visible escapes; newlines and tabs kept when
    `keep_layout` (they are layout, not commands)."""
    return (_UNSAFE if keep_layout else _UNSAFE_WITH_LAYOUT).sub(_visible, text)


def terminal_text(value: Any) -> str:
    """Untrusted text for a terminal (Rich Text cells, header lines, progress messages)."""
    return clean("" if value is None else str(value))


def json_dumps(obj: Any, **kwargs: Any) -> str:
    """json.dumps that keeps non-ASCII text readable (ensure_ascii=False) but writes DEL, C1 controls
    and bidi controls as JSON escapes (C0 controls are always escaped by json), so a JSONL export is
    safe to `cat` and to review, and parses back to exactly the same data."""
    kwargs.setdefault("ensure_ascii", False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(obj, **kwargs))


# Cells a spreadsheet would run as a formula (OWASP CSV injection): prefixed with a quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if value.startswith(FORMULA_START):
            value = "'" + value
        return clean(value)
    return "" if value is None else value


def md_escape(text: str) -> str:
    """Text safe inside a Markdown table cell: no column breaks, no markup, no HTML."""
    escaped = (text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")
               .replace(">", "&gt;").replace("`", "\\`").replace("*", "\\*").replace("_", "\\_")
               .replace("[", "\\[").replace("]", "\\]"))
    return clean(escaped.replace("\t", " "), keep_layout=False)
