"""The judge's questions answered from a judge batch, through the live judge's own code.

Why it is shaped like this:
* The judge batch must ask exactly what the live judge would ask (the same messages, parameters and
  JSON-answer schema) and its answers must become exactly the scores a live judge giving the same
  answers would store. So nothing here builds a judge question or reads a judge answer: the live
  `JudgedScorers` runs as it does live, and the judge provider's `complete` is replaced by
  `BatchAnswers.complete`, which answers from the answers collected so far and records every question
  it cannot answer yet. Replaying a reply is therefore both the "what would the judge ask" pass (before
  the batch) and the "apply the verdicts" pass (after it); a reply is judged (its scores replaced) only
  in a replay where every question had its answer.
* A question is identified by a hash of its messages (with the random delimiter nonce put back to a
  fixed slot: the nonce is read from the system message, which is ours alone) and its parameters,
  plus the sample id: `j<sample id>_<40 hex>` fits the custom-id rule `^[A-Za-z0-9_-]{1,64}$`, and the
  same question asked again in a later process finds its answer.
* Counting happens only in a replay that completes (the usage is restored after one that does not),
  so each answer counts once in judge usage, at the batch price; the judge cache's writes are held
  the same way.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from harness.providers.pricing import batch_reply_cost
from harness.types import ErrorKind, Message, Outcome, Reply

_NONCE = re.compile(r"<<PROMPT-([0-9A-Za-z]+)>>")
WAITING = "the judge's answer to this question waits for a judge batch"


def question_id(sample_id: int, messages: list[Message], params: Any) -> str:
    """The custom id of one judge question about one reply (stable across processes and nonces)."""
    system = messages[0].content if messages and messages[0].role == "system" else ""
    m = _NONCE.search(system)
    nonce = m.group(1) if m else None
    norm = [{**msg.model_dump(), "content": msg.content.replace(nonce, "NONCE") if nonce else msg.content}
            for msg in messages]
    material = json.dumps({"messages": norm, "params": params.model_dump()}, sort_keys=True, default=str)
    return f"j{sample_id}_{hashlib.sha256(material.encode()).hexdigest()[:40]}"


@dataclass
class Question:
    custom_id: str
    sample_id: int
    messages: list[Message]
    params: Any


class HeldCache:
    """The judge cache while replaying one reply: reads go through, writes are kept until the reply is
    judged (`commit`), and dropped when a question is still unanswered (`discard`)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.held: list[tuple[str, Any]] = []

    def get(self, key: str) -> Any:
        return self.real.get(key) if self.real is not None else None

    def put(self, key: str, verdict: Any) -> None:
        self.held.append((key, verdict))

    def commit(self) -> None:
        if self.real is not None:
            for key, verdict in self.held:
                self.real.put(key, verdict)
        self.held = []

    def discard(self) -> None:
        self.held = []


class BatchAnswers:
    """Stands in for the judge provider's `complete` during a replay (module docstring)."""

    def __init__(self, provider: Any, usage: Any) -> None:
        self.provider, self.usage = provider, usage
        self.sample_id = 0
        self.answers: dict[str, Reply] = {}
        self.missing: list[Question] = []
        self._snapshot: dict[str, Any] = {}

    def begin(self, sample_id: int, answers: dict[str, Reply]) -> None:
        self.sample_id, self.answers, self.missing = sample_id, answers, []
        self._snapshot = {f.name: _copy(getattr(self.usage, f.name)) for f in dataclasses.fields(self.usage)}

    def end(self) -> list[Question]:
        """The questions still unanswered; when there are any, the replay's counting is undone."""
        if self.missing:
            for name, value in self._snapshot.items():
                setattr(self.usage, name, value)
        return self.missing

    async def complete(self, messages: list[Message], params: Any, *args: Any, **kwargs: Any) -> Reply:
        cid = question_id(self.sample_id, messages, params)
        answer = self.answers.get(cid)
        if answer is None:
            self.missing.append(Question(cid, self.sample_id, list(messages), params))
            return Reply(outcome=Outcome.ERROR, error_kind=ErrorKind.OTHER, reason=WAITING, attempts=0)
        reply = answer.model_copy(deep=True)
        self._count(reply)
        return reply

    def _count(self, reply: Reply) -> None:
        """One call in judge usage (tokens, errors) at the batch price, as the live counting would at
        the live price."""
        cost, unknown = self.usage.cost_usd, self.usage.cost_unknown
        self.usage.record_call(self.provider, reply)
        price = batch_reply_cost(self.provider, reply)
        self.usage.cost_usd = cost + (price or 0.0)
        self.usage.cost_unknown = unknown + (price is None)


def _copy(value: Any) -> Any:
    return value.copy() if hasattr(value, "copy") else value
