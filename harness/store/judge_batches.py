"""The store's side of a judge batch (`judge: {batch: true}`): replies waiting for the judge, the judge's
answers as they arrive, and the judged scores that replace the waiting ones.

Why it is shaped like this:
* A reply whose judging waits for a judge batch is stored with its signal scores and one marker score
  (`judge` / `judge_pending`, passed NULL): the rule verdicts stay as the signals left them
  (unverified, needs_review, a signal fail), never a pass the judge has not given, and the marker is
  what `harness run`/`harness batches` count as incomplete (exit 4).
* The judge's answers are kept with their batch items (`batch_items.result` holds the answer as a Reply
  in JSON; `expired`/`cancelled` for a question that never ran), written once per custom id in the
  transaction that reads them; the judged scores replace a sample's scores in one transaction, so a
  crash anywhere neither loses an answer nor judges a reply twice.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

from harness.store.db import Store
from harness.types import ErrorKind, Outcome, Prompt, Reply, Score, Usage

PENDING_LABEL = "judge_pending"
PENDING_EXPLANATION = ("the judge's verdicts come from a judge batch (judge: batch: true) and have not "
                       "arrived yet: the rule verdicts are the signals' alone; collect with: harness batches RUN")


def pending_score() -> Score:
    return Score(scorer="judge", passed=None, label=PENDING_LABEL, explanation=PENDING_EXPLANATION)


def pending_count(store: Store, run_id: str) -> int:
    """Replies of the run whose judge verdicts wait for a judge batch."""
    return store.conn.execute(
        "SELECT COUNT(*) FROM scores c JOIN samples s ON s.id = c.sample_id"
        " WHERE s.run_id = ? AND c.scorer = 'judge' AND c.label = ?", (run_id, PENDING_LABEL)).fetchone()[0]


def pending_replies(store: Store, run_id: str) -> Iterator[tuple[int, Prompt, Reply]]:
    """(sample id, prompt, reply as stored) of each reply waiting for the judge, in sample order."""
    rows = store.conn.execute(
        "SELECT s.id AS sid, s.prompt_json, p.* FROM samples s JOIN replies p ON p.sample_id = s.id"
        " JOIN scores c ON c.sample_id = s.id WHERE s.run_id = ? AND c.scorer = 'judge' AND c.label = ?"
        " ORDER BY s.id", (run_id, PENDING_LABEL)).fetchall()
    for row in rows:
        yield row["sid"], Prompt.model_validate_json(row["prompt_json"]), stored_reply(row)


def stored_reply(row: sqlite3.Row) -> Reply:
    """The Reply as the run stored it (what the scorers saw when it arrived)."""
    return Reply(text=row["text"] or "", outcome=Outcome(row["outcome"]), reason=row["reason"],
                 error_kind=ErrorKind(row["error_kind"]) if row["error_kind"] else None,
                 finish_reason=row["finish_reason"],
                 usage=Usage(input_tokens=row["input_tokens"], output_tokens=row["output_tokens"]),
                 latency_s=row["latency_s"], ttft_s=row["ttft_s"], model_reported=row["model_reported"],
                 attempts=row["attempts"] or 1, raw=json.loads(row["raw_json"]) if row["raw_json"] else {})


def answers(store: Store, run_id: str, sample_id: int) -> dict[str, Reply]:
    """{custom id: the judge's answer} that arrived for the questions about one reply."""
    return {cid: Reply.model_validate_json(result) for cid, result in store.conn.execute(
        "SELECT bi.custom_id, bi.result FROM batch_items bi JOIN batches b ON b.id = bi.batch_id"
        " WHERE b.run_id = ? AND b.purpose = 'judge' AND bi.sample_id = ? AND bi.result LIKE '{%'",
        (run_id, sample_id))}


def in_flight(store: Store, run_id: str) -> set[str]:
    """Custom ids of the judge questions in batches not yet collected (never asked twice)."""
    return {r[0] for r in store.conn.execute(
        "SELECT bi.custom_id FROM batch_items bi JOIN batches b ON b.id = bi.batch_id"
        " WHERE b.run_id = ? AND b.purpose = 'judge' AND b.collected = 0", (run_id,))}


def store_answers(store: Store, batch_id: int, answered: list[tuple[str, Reply]], unrun: list[tuple[str, str]]) -> None:
    """The judge's answers (custom id, reply) and the questions that never ran (custom id, expired|
    cancelled), each written only where the item has no result yet, in one transaction."""
    with store.transaction():
        store.conn.executemany("UPDATE batch_items SET result = ? WHERE batch_id = ? AND custom_id = ? AND result IS NULL",
                               [(reply.model_dump_json(), batch_id, cid) for cid, reply in answered])
        store.conn.executemany("UPDATE batch_items SET result = ? WHERE batch_id = ? AND custom_id = ? AND result IS NULL",
                               [(status, batch_id, cid) for cid, status in unrun])


def replace_scores(store: Store, judged: list[tuple[int, list[Score]]]) -> None:
    """The judged scores of replies that waited for the judge, in place of their waiting ones (one
    transaction; a reply no longer waiting, e.g. resent meanwhile, is left alone)."""
    with store.transaction():
        for sample_id, scores in judged:
            still = store.conn.execute("SELECT 1 FROM scores WHERE sample_id = ? AND scorer = 'judge' AND label = ?",
                                       (sample_id, PENDING_LABEL)).fetchone()
            if still is None:
                continue
            store.conn.execute("DELETE FROM scores WHERE sample_id = ?", (sample_id,))
            store.conn.executemany(
                "INSERT INTO scores (sample_id, scorer, passed, value, label, explanation, evidence, severity)"
                " VALUES (?,?,?,?,?,?,?,?)",
                [(sample_id, s.scorer, None if s.passed is None else int(s.passed), s.value, s.label, s.explanation,
                  s.evidence, s.severity) for s in scores])
