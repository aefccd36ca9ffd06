"""The expectation shorthand that prompt authors write in suite files.

    expect:
      - contains: Paris
      - not-contains: [Berlin, Madrid]
      - regex: "\\b1945\\b"
      - refuse            # a bare word for behaviours

Each item is one check. This module only parses and validates the shorthand; the checks themselves
live in `harness.scoring.accuracy`.
"""
from __future__ import annotations

import re
from typing import Any

# kind -> what its value must be ("text", "texts", "number", "none")
EXPECT_KINDS: dict[str, str] = {
    "exact": "texts",
    "match": "texts",          # normalised match: case, punctuation, articles and spacing ignored
    "contains": "texts",       # all given texts appear (normalised)
    "contains-any": "texts",
    "not-contains": "texts",   # none of the given texts appear
    "regex": "text",
    "not-regex": "text",
    "choice": "text",          # the letter of the right option in `choices`
    "numeric": "number",       # the final number in the reply, within `tolerance`
    "refuse": "none",
    "comply": "none",
}


def parse_expect(value: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Normalise the `expect` field to a list of {kind: value}; return (items, problems)."""
    if value is None:
        return [], []
    items = value if isinstance(value, list) else [value]
    parsed: list[dict[str, Any]] = []
    problems: list[str] = []
    for i, item in enumerate(items):
        where = f"expect[{i}]" if isinstance(value, list) else "expect"
        if isinstance(item, str):
            if EXPECT_KINDS.get(item) == "none":
                parsed.append({item: True})
            else:
                problems.append(f"{where}: {item!r} is not a check; write e.g. 'contains: Paris', or one of: "
                                + ", ".join(k for k, v in EXPECT_KINDS.items() if v == "none"))
            continue
        if not isinstance(item, dict):
            problems.append(f"{where}: expected 'kind: value', got {type(item).__name__}")
            continue
        extra = {k: v for k, v in item.items() if k not in EXPECT_KINDS}
        kinds = [k for k in item if k in EXPECT_KINDS]
        options = {k: v for k, v in extra.items() if k in ("tolerance", "ignore_case")}
        unknown = [k for k in extra if k not in options]
        if unknown:
            problems.append(f"{where}: unknown check {unknown[0]!r}; known checks: {', '.join(EXPECT_KINDS)}")
            continue
        if len(kinds) != 1:
            problems.append(f"{where}: write exactly one check per item, got {kinds or 'none'}")
            continue
        kind = kinds[0]
        shape, val = EXPECT_KINDS[kind], item[kind]
        if shape == "texts":
            val = [val] if isinstance(val, (str, int, float)) else val
            if not isinstance(val, list) or not val or not all(isinstance(v, (str, int, float)) for v in val):
                problems.append(f"{where}: {kind} needs a text or a list of texts")
                continue
            val = [str(v) for v in val]
        elif shape == "text" and not isinstance(val, (str, int)):
            problems.append(f"{where}: {kind} needs a text")
            continue
        if kind in ("regex", "not-regex"):
            try:  # compiled here, so a broken pattern fails validation instead of dropping out of the run
                re.compile(str(val))
            except (re.error, RecursionError, OverflowError) as err:
                problems.append(f"{where}: invalid regex {str(val)[:80]!r} ({kind} does not compile: {err})")
                continue
        elif shape == "number":
            try:
                val = float(val)
            except (TypeError, ValueError):
                problems.append(f"{where}: numeric needs a number, got {val!r}")
                continue
        parsed.append({kind: val, **options})
    return parsed, problems
