"""Judge calls, tokens, cost and unusable verdicts per run (table `judge_usage`, migration 4).

Counts are added, never replaced: a resumed run and each worker process of `harness run --workers`
add what they judged, so the stored figures are the run's totals.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

from harness.store.db import Store

_SUMS = ("calls", "cached", "input_tokens", "output_tokens", "tokens_unknown", "cost_usd", "cost_unknown", "errors",
         "verdicts", "unusable")


def add_judge_usage(store: Store, run_id: str, usages: list[Any]) -> None:
    """Add each JudgeUsage's counts to the run's row for that judge (one transaction)."""
    with store.transaction():
        for u in usages:
            row = store.conn.execute("SELECT * FROM judge_usage WHERE run_id = ? AND judge = ?",
                                     (run_id, u.judge)).fetchone()
            reasons = Counter(json.loads(row["reasons_json"])) if row else Counter()
            reasons.update(u.reasons)
            mine = {k: getattr(u, k) for k in _SUMS}
            if row:
                mine = {k: (row[k] or 0) + v for k, v in mine.items()}
            values = {**mine, "mode": u.mode or (row["mode"] if row else None),
                      "reasons_json": json.dumps(dict(reasons.most_common(20))),
                      "start_error": u.start_error if u.start_error else (row["start_error"] if row else None)}
            cols = ", ".join(values)
            store.conn.execute(
                f"INSERT OR REPLACE INTO judge_usage (run_id, judge, {cols}) VALUES (?, ?, {', '.join('?' * len(values))})",
                (run_id, u.judge, *values.values()))


def judge_usage(store: Store, run_id: str) -> list[dict[str, Any]]:
    """The run's rows, with `top_reason`/`top_reason_count` (the most common cause of unusable verdicts)."""
    try:
        rows = store.conn.execute("SELECT * FROM judge_usage WHERE run_id = ? ORDER BY judge", (run_id,)).fetchall()
    except Exception:  # a store older than migration 4 that was opened read-only: nothing recorded
        return []
    out = []
    for r in rows:
        d = dict(r)
        top = Counter(json.loads(d.pop("reasons_json") or "{}")).most_common(1)
        d["top_reason"], d["top_reason_count"] = (top[0] if top else (None, 0))
        out.append(d)
    return out
