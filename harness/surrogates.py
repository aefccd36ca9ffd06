"""Lone surrogates in text a provider sent: made storable, reversibly.

JSON lets a server write any UTF-16 code unit as an escape (``"\\ud800"``), and Python's json parser
turns an unpaired one into a *lone surrogate* code point: a `str` that UTF-8 cannot encode. SQLite,
pydantic's JSON, every file written as UTF-8 and XML all refuse it, so one such reply used to crash
the run for good (every resume met the same sample again). A stream can also split a perfectly good
pair across two chunks (``"\\ud83d"`` then ``"\\ude00"``): the two halves, concatenated, are two lone
surrogates in Python although together they are one character.

So every reply is passed through :func:`escape_reply` at the one place all replies pass
(Provider.complete), after redaction:

* adjacent high+low halves are joined into the character they encode (no information lost);
* each remaining lone surrogate is replaced by U+FFFD (REPLACEMENT CHARACTER) and its position and
  code point are recorded in ``reply.raw["lone_surrogates"]`` as ``{field: [[index, codepoint], ...]}``
  (index in code points of the stored text). :func:`restore` puts them back: the escape is reversible,
  and a plain U+FFFD the model really sent is told apart from an escaped one by that list.
* strings inside ``raw`` (provider metadata) get U+FFFD without positions.

U+FFFE, U+FFFF and NUL are valid Unicode scalar values: stored as they are; each output format escapes
what it cannot carry (harness.report.escape).
"""
from __future__ import annotations

import re
from typing import Any

from harness.types import Reply

_SURROGATE = re.compile("[\ud800-\udfff]")
_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
REPLACEMENT = "\ufffd"
#: The key in Reply.raw that records escaped lone surrogates.
RAW_KEY = "lone_surrogates"
_FIELDS = ("text", "reason", "finish_reason", "model_reported")


def _join(m: re.Match) -> str:
    hi, lo = ord(m.group()[0]), ord(m.group()[1])
    return chr(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))


def escape_text(text: str) -> tuple[str, list[list[int]]]:
    """(storable text, [[index, codepoint], ...] of the lone surrogates replaced by U+FFFD)."""
    if not _SURROGATE.search(text):
        return text, []
    text = _PAIR.sub(_join, text)
    found = [[m.start(), ord(m.group())] for m in _SURROGATE.finditer(text)]
    return _SURROGATE.sub(REPLACEMENT, text), found


def restore(text: str, positions: list[list[int]]) -> str:
    """The text as the provider sent it (lone surrogates back in place): the inverse of escape_text."""
    chars = list(text)
    for index, codepoint in positions:
        chars[index] = chr(codepoint)
    return "".join(chars)


def storable(value: Any) -> Any:
    """Any JSON-like value with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return escape_text(value)[0]
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v) for v in value]
    return value


def escape_reply(reply: Reply) -> Reply:
    """The reply with its text fields storable (see the module docstring); unchanged when clean."""
    recorded: dict[str, list[list[int]]] = {}
    for name in _FIELDS:
        value = getattr(reply, name)
        if isinstance(value, str):
            clean, found = escape_text(value)
            if found:
                recorded[name] = found
            if clean is not value:
                setattr(reply, name, clean)
    raw = storable(reply.raw)
    if recorded:
        raw[RAW_KEY] = recorded
    reply.raw = raw
    return reply
