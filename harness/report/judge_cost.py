"""One line per judge for compare and the report: what judging the run cost and how usable it was.

Figures come from the store (harness/store/judge_usage.py). An unknown price or token count is said,
never shown as $0: a cost with unpriced calls is "at least".
"""
from __future__ import annotations

from typing import Any


def count_text(n: int) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def usage_line(r: dict[str, Any], replies: int | None = None) -> str:
    """One line for compare and the report: calls, tokens, cost (a lower bound when some are unpriced)."""
    parts = [f"judge {r['judge']}" + (f" ({r['mode']})" if r.get("mode") else "") + ":",
             f"{r['calls']} calls" + (f" ({r['calls'] / replies:.1f} per reply)" if replies else "")]
    if r.get("cached"):
        parts.append(f"+{r['cached']} verdicts from the judge cache")
    tokens = f"{count_text(r['input_tokens'])} in / {count_text(r['output_tokens'])} out tokens"
    if r.get("tokens_unknown"):
        tokens += f" ({r['tokens_unknown']} calls without usage)"
    parts.append(tokens)
    if not r["calls"]:
        parts.append("cost $0")
    elif r.get("cost_unknown") == r["calls"]:
        parts.append("cost unknown (no price for this model: options.price)")
    elif r.get("cost_unknown"):
        parts.append(f"cost at least ${r['cost_usd']:.4f} ({r['cost_unknown']} calls unpriced)")
    else:
        parts.append(f"cost ${r['cost_usd']:.4f}")
    if r.get("verdicts"):
        parts.append(f"{r['unusable']} of {r['verdicts']} verdicts unusable")
    return parts[0] + " " + ", ".join(parts[1:])
