"""The store's side of the batch APIs (tables of migration 6): intents, remote ids, items, collection.

Exactly-once lives here as much as in the engine: an intent (its items included) is committed before
the provider is asked to create the batch; a batch's results are stored in the same transaction that
marks their items answered, so a crash while collecting can neither lose a result nor store one twice.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from harness.store.db import Store, _now
from harness.types import Reply, Score

COLLECT_STATES = frozenset({"ended", "expired", "cancelled", "failed"})


def add_intent(store: Store, run_id: str, provider: str, purpose: str, token: str,
               items: list[tuple[int, str]]) -> int:
    """Write a batch about to be submitted, with its (sample id, custom id) items, in one transaction."""
    with store.transaction():
        cur = store.conn.execute(
            "INSERT INTO batches (run_id, provider, purpose, token, state, created_at) VALUES (?,?,?,?,'intent',?)",
            (run_id, provider, purpose, token, _now()))
        batch_id = cur.lastrowid
        store.conn.executemany("INSERT INTO batch_items (batch_id, sample_id, custom_id) VALUES (?,?,?)",
                               [(batch_id, sid, cid) for sid, cid in items])
    return batch_id


def set_remote(store: Store, batch_id: int, remote_id: str, state: str, counts: dict, expires_at: str | None) -> None:
    with store.transaction():
        store.conn.execute(
            "UPDATE batches SET remote_id = ?, state = ?, counts_json = ?, expires_at = ?, submitted_at = ?"
            " WHERE id = ?", (remote_id, state, json.dumps(counts), expires_at, _now(), batch_id))


def set_state(store: Store, batch_id: int, state: str, counts: dict | None = None, *,
              expires_at: str | None = None, note: str | None = None) -> None:
    with store.transaction():
        store.conn.execute(
            "UPDATE batches SET state = ?, counts_json = COALESCE(?, counts_json), expires_at = COALESCE(?, expires_at),"
            " note = COALESCE(?, note) WHERE id = ?",
            (state, json.dumps(counts) if counts is not None else None, expires_at, note, batch_id))


def drop_intent(store: Store, batch_id: int, note: str) -> None:
    """An intent the provider never created (the submission failed, or reconciliation found none):
    closed, so its samples are pending again."""
    with store.transaction():
        store.conn.execute("UPDATE batches SET state = 'not_created', collected = 1, ended_at = ?, note = ?"
                           " WHERE id = ?", (_now(), note, batch_id))


def close(store: Store, batch_id: int, state: str, ignored: dict[str, int]) -> None:
    """Every result of the batch is stored: its items without a result are pending again."""
    with store.transaction():
        store.conn.execute("UPDATE batches SET state = ?, collected = 1, ended_at = ?, ignored_json = ? WHERE id = ?",
                           (state, _now(), json.dumps(ignored), batch_id))


def batches(store: Store, run_id: str, provider: str | None = None, *, open_only: bool = False) -> list[sqlite3.Row]:
    sql = "SELECT * FROM batches WHERE run_id = ?"
    args: list[Any] = [run_id]
    if provider is not None:
        sql += " AND provider = ?"
        args.append(provider)
    if open_only:
        sql += " AND collected = 0"
    return store.conn.execute(sql + " ORDER BY id", args).fetchall()


def items(store: Store, batch_id: int) -> dict[str, tuple[int, str | None]]:
    """{custom id: (sample id, result)} of one batch."""
    return {r[0]: (r[1], r[2]) for r in store.conn.execute(
        "SELECT custom_id, sample_id, result FROM batch_items WHERE batch_id = ?", (batch_id,))}


def item_count(store: Store, batch_id: int) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM batch_items WHERE batch_id = ?", (batch_id,)).fetchone()[0]


def answered(store: Store, sample_ids: Iterable[int]) -> dict[int, str]:
    """{sample id: outcome} of those samples that have a stored reply."""
    ids = list(sample_ids)
    out: dict[int, str] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        out.update(store.conn.execute(
            f"SELECT sample_id, outcome FROM replies WHERE sample_id IN ({','.join('?' * len(chunk))})", chunk).fetchall())
    return out


def store_results(store: Store, batch_id: int, results: list[tuple[str, int, Reply, list[Score], float | None]],
                  unrun: list[tuple[str, str]]) -> None:
    """Store replies (custom id, sample id, reply, scores, cost) and mark their items, and mark the items
    that never ran (custom id, expired|cancelled), all in one transaction."""
    with store.transaction():
        store.insert_replies([(sid, reply, scores, cost) for _, sid, reply, scores, cost in results])
        store.conn.executemany("UPDATE batch_items SET result = 'stored' WHERE batch_id = ? AND custom_id = ?",
                               [(batch_id, cid) for cid, *_ in results])
        store.conn.executemany("UPDATE batch_items SET result = ? WHERE batch_id = ? AND custom_id = ?",
                               [(status, batch_id, cid) for cid, status in unrun])


def unanswered(store: Store, run_id: str, provider: str) -> int:
    """Samples of a provider with no reply at all, those waiting in a batch included (what `compare` and
    the exit code count as pending)."""
    return store.conn.execute(
        "SELECT COUNT(*) FROM samples s LEFT JOIN replies p ON p.sample_id = s.id"
        " WHERE s.run_id = ? AND s.provider = ? AND p.sample_id IS NULL", (run_id, provider)).fetchone()[0]


def in_open_batches(store: Store, run_id: str, provider: str) -> int:
    return store.conn.execute(
        "SELECT COUNT(DISTINCT bi.sample_id) FROM batch_items bi JOIN batches b ON b.id = bi.batch_id"
        " WHERE b.run_id = ? AND b.provider = ? AND b.collected = 0", (run_id, provider)).fetchone()[0]
