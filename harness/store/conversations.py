"""Storing live conversations (harness/runner/conversation.py): each assistant turn as it arrives
(`turns`, `turn_scores`), and, when the conversation ends, its sample's reply and its
`conversations` row in one transaction. Added functions over Store (like db.create_scoring), so that
db.py stays the store of single replies."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone

from harness.store.db import Store
from harness.types import ConversationResult, ErrorKind, Outcome, Reply, Score, Turn, Usage


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def record_turn(store: Store, sample_id: int, turn: Turn) -> None:
    """Store one turn and its scores, replacing an earlier attempt at the same turn (a retried error)."""
    r = turn.reply
    with store.transaction():
        store.conn.execute("DELETE FROM turn_scores WHERE sample_id = ? AND turn = ?", (sample_id, turn.turn))
        store.conn.execute(
            "INSERT OR REPLACE INTO turns (sample_id, turn, user_text, outcome, text, reason, error_kind, finish_reason,"
            " input_tokens, output_tokens, latency_s, ttft_s, model_reported, attempts, cost_usd, raw_json, created_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (sample_id, turn.turn, turn.user, r.outcome.value, r.text, r.reason,
             r.error_kind.value if r.error_kind else None, r.finish_reason, r.usage.input_tokens,
             r.usage.output_tokens, r.latency_s, r.ttft_s, r.model_reported, r.attempts, turn.cost_usd,
             json.dumps(r.raw, default=str), _now()))
        store.conn.executemany(
            "INSERT INTO turn_scores (sample_id, turn, scorer, passed, value, label, explanation, evidence, severity)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            [(sample_id, turn.turn, s.scorer, None if s.passed is None else int(s.passed), s.value, s.label,
              s.explanation, s.evidence, s.severity) for s in turn.scores])


def _reply(row: sqlite3.Row) -> Reply:
    return Reply(text=row["text"], outcome=Outcome(row["outcome"]), reason=row["reason"],
                 error_kind=ErrorKind(row["error_kind"]) if row["error_kind"] else None,
                 finish_reason=row["finish_reason"],
                 usage=Usage(input_tokens=row["input_tokens"], output_tokens=row["output_tokens"]),
                 latency_s=row["latency_s"], ttft_s=row["ttft_s"], model_reported=row["model_reported"],
                 attempts=row["attempts"], raw=json.loads(row["raw_json"]))


def _score(row: sqlite3.Row) -> Score:
    return Score(scorer=row["scorer"], passed=None if row["passed"] is None else bool(row["passed"]),
                 value=row["value"], label=row["label"], explanation=row["explanation"], evidence=row["evidence"],
                 severity=row["severity"])


def stored_turns(store: Store, sample_id: int) -> list[Turn]:
    """The turns stored for a conversation, in order, with their scores."""
    scores: dict[int, list[Score]] = {}
    for row in store.conn.execute("SELECT * FROM turn_scores WHERE sample_id = ? ORDER BY turn, rowid", (sample_id,)):
        scores.setdefault(row["turn"], []).append(_score(row))
    return [Turn(turn=row["turn"], user=row["user_text"], reply=_reply(row), scores=scores.get(row["turn"], []),
                 cost_usd=row["cost_usd"])
            for row in store.conn.execute("SELECT * FROM turns WHERE sample_id = ? ORDER BY turn", (sample_id,))]


def drop_turns_from(store: Store, sample_id: int, turn: int) -> None:
    """Forget turns `turn`.. of a conversation (an error being retried: it is sent again)."""
    with store.transaction():
        store.conn.execute("DELETE FROM turn_scores WHERE sample_id = ? AND turn >= ?", (sample_id, turn))
        store.conn.execute("DELETE FROM turns WHERE sample_id = ? AND turn >= ?", (sample_id, turn))


def finish_conversation(store: Store, sample_id: int, reply: Reply, scores: list[Score], cost_usd: float | None,
                        result: ConversationResult) -> None:
    """The conversation's reply, its scores and its conversations row, all stored or none: a sample
    with a reply is never re-sent, so its conversation row must already be there."""
    with store.transaction():
        store.insert_replies([(sample_id, reply, scores, cost_usd)])
        store.conn.execute(
            "INSERT OR REPLACE INTO conversations (sample_id, planned_turns, sent_turns, ended, ended_turn,"
            " first_failing_turn, first_critical_turn, first_failing_json) VALUES (?,?,?,?,?,?,?,?)",
            (sample_id, result.planned_turns, result.sent_turns, result.ended, result.ended_turn,
             result.first_failing_turn, result.first_critical_turn, json.dumps(result.first_failing, sort_keys=True)))


def conversation_rows(store: Store, run_id: str) -> list[sqlite3.Row]:
    """One row per finished conversation of a run, with its sample's suite, prompt, provider, repeat."""
    return store.conn.execute(
        "SELECT c.*, s.suite, s.prompt_id, s.category, s.provider, s.repeat, s.prompt_json FROM conversations c"
        " JOIN samples s ON s.id = c.sample_id WHERE s.run_id = ? ORDER BY s.id", (run_id,)).fetchall()


def run_turns(store: Store, run_id: str) -> dict[int, list[Turn]]:
    """{sample id: its turns} for every conversation of a run (reports: the thread, JUnit)."""
    ids = [r[0] for r in store.conn.execute(
        "SELECT DISTINCT t.sample_id FROM turns t JOIN samples s ON s.id = t.sample_id WHERE s.run_id = ?", (run_id,))]
    return {sid: stored_turns(store, sid) for sid in ids}


def has_conversations(store: Store, run_id: str) -> bool:
    return store.conn.execute(
        "SELECT 1 FROM turns t JOIN samples s ON s.id = t.sample_id WHERE s.run_id = ? LIMIT 1", (run_id,)
    ).fetchone() is not None


def conversation_export(store: Store, run_id: str) -> dict[int, dict]:
    """{sample id: the conversation as exported}: how it ended, its first failing turns (overall, first
    critical, per scorer and rule) and every turn with its reply and scores. Pending conversations
    export the turns stored so far with `ended: null`."""
    ended = {r["sample_id"]: r for r in conversation_rows(store, run_id)}
    out = {}
    for sample_id, turns in run_turns(store, run_id).items():
        row = ended.get(sample_id)
        out[sample_id] = {
            "planned_turns": row["planned_turns"] if row else None, "sent_turns": len(turns),
            "ended": row["ended"] if row else None, "ended_turn": row["ended_turn"] if row else None,
            "first_failing_turn": row["first_failing_turn"] if row else None,
            "first_critical_turn": row["first_critical_turn"] if row else None,
            "first_failing": json.loads(row["first_failing_json"]) if row else {},
            "turns": [{"turn": t.turn, "user": t.user, "cost_usd": t.cost_usd,
                       "reply": t.reply.model_dump(mode="json"),
                       "scores": [s.model_dump(mode="json") for s in t.scores]} for t in turns]}
    return out
