"""The judge through its provider's batch API (`judge: {model: ..., batch: true}`): a second batch after
the replies, collected exactly once.

In a run whose judge asks for batches (harness/runner/execute.py):
1. a reply is stored with its signal scores and a `judge_pending` marker (harness/store/judge_batches.py):
   the rule verdicts stay as the signals left them, never a pass the judge has not given, and the run is
   incomplete (exit 4) while any reply waits; live conversations are judged live, turn by turn;
2. after the providers' work, the judge phase: an interrupted submission is reconciled (adopted, dropped
   or refused, as for replies: harness/batch/engine.py `reconcile`), the open judge batches are polled
   and the ended ones collected (each answer stored once with its item), then every waiting reply is
   replayed through the live judge code with the collected answers (harness/batch/judge_answers.py):
   a reply whose questions are all answered gets the judged scores a live judge would have given; the
   questions still unanswered and in no open batch go into a new judge batch (intent committed, then
   created with its tag, then its remote id stored: the same protocol and fault points as the replies);
3. with --wait, poll until no judge batch is open (resubmitting what expired, a bounded number of times).
A per-request failure inside a judge batch is an error answer: the live judge's code turns it into an
unusable verdict (needs_review), counted in judge usage like a live judge error.
"""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
from collections import Counter
from typing import Any

from harness.batch.base import BatchBackend, BatchRequest, backend_for
from harness.batch.collect import describe, finish_reply
from harness.batch.engine import FAULT_ENV, MAX_ROUNDS, BatchRefused, cancel_open, reconcile
from harness.batch.judge_answers import BatchAnswers, HeldCache, Question
from harness.providers.errors import ProviderError
from harness.redact import redact
from harness.scoring import score_reply
from harness.store import Store
from harness.store import batches as sb
from harness.store import judge_batches as sj
from harness.types import Outcome, Prompt, Reply, Score

#: Results and judged replies committed together.
PAGE = 64


def judge_of(judge: Any) -> Any:
    """The chat Judge inside the run's (counted) judge, or None for a pair or a classifier."""
    from harness.scoring.judge import Judge

    inner = getattr(judge, "inner", judge)
    return inner if isinstance(inner, Judge) else None


def judge_batch_wanted(judge: Any) -> bool:
    """Whether the run's judge asks its questions through a batch (`batch: true` on the judge entry)."""
    inner = judge_of(judge) if judge is not None else None
    return inner is not None and bool(getattr(inner.provider.config, "batch", False))


def pending_scores(scorers: list[str], prompt: Prompt, reply: Reply) -> list[Score]:
    """A reply's scores while its judging waits for the judge batch: the signals', and the marker
    (an error reply is not judged, live or batched)."""
    scores = score_reply(scorers, prompt, reply)
    if reply.outcome is not Outcome.ERROR:
        scores.append(sj.pending_score())
    return scores


class _Ctx:
    """What `engine.reconcile` and the collecting need about the judge's batches."""

    def __init__(self, store: Store, run_id: str, label: str, backend: BatchBackend, progress) -> None:
        self.store, self.run_id, self.label, self.backend, self.progress = store, run_id, label, backend, progress

    def line(self, text: str) -> None:
        self.progress.line(text)


async def run_judge_batches(store: Store, run_id: str, judge: Any, rescore, progress, options=None) -> int:
    """The judge phase (module docstring). `rescore(prompt, reply)` is the live path's scoring with the
    judge (harness.runner.execute.score_and_judge). Returns how many replies still wait for the judge."""
    inner = judge_of(judge)
    backend = backend_for(inner.provider)
    if backend is None:
        progress.line(f"judge {inner.judge_model}: no batch backend for {inner.provider.config.kind!r}: the "
                      "replies waiting for it stay pending")
        return sj.pending_count(store, run_id)
    ctx = _Ctx(store, run_id, f"judge {inner.judge_model}", backend, progress)
    provider = inner.provider
    answers = BatchAnswers(provider, inner.usage)
    saved_complete, saved_cache = provider.__dict__.get("complete"), inner.cache
    held = HeldCache(saved_cache)
    provider.complete, inner.cache = answers.complete, held
    submit = options is None or options.judge_submit
    try:
        await reconcile(ctx)
        await _poll(ctx, provider)
        await _judge_and_submit(ctx, answers, held, rescore, submit)
        rounds = 0
        while options is not None and options.wait and sb.batches(store, run_id, ctx.label, open_only=True):
            await asyncio.sleep(options.poll_s)
            await _poll(ctx, provider)
            again = submit and not sb.batches(store, run_id, ctx.label, open_only=True) and rounds < MAX_ROUNDS
            rounds += again   # questions that expired or failed: into a new batch, a bounded number of times
            await _judge_and_submit(ctx, answers, held, rescore, again)
    except (ProviderError, BatchRefused) as err:
        progress.line(f"{ctx.label}: stopped, {redact(err.message if isinstance(err, ProviderError) else str(err))}")
    finally:
        inner.cache = saved_cache
        if saved_complete is not None:
            provider.complete = saved_complete
        else:
            del provider.complete
    return sj.pending_count(store, run_id)


async def _judge_and_submit(ctx: _Ctx, answers: BatchAnswers, held: HeldCache, rescore, submit: bool = True) -> None:
    """Replay every waiting reply with the answers collected so far: judge those whose questions are all
    answered; put the unanswered questions that are in no open batch into new judge batches."""
    store, run_id = ctx.store, ctx.run_id
    flying = sj.in_flight(store, run_id)
    questions: dict[str, Question] = {}
    judged: list[tuple[int, list[Score]]] = []
    done = 0
    for sample_id, prompt, reply in list(sj.pending_replies(store, run_id)):
        await asyncio.sleep(0)   # a replay awaits nothing real: let Ctrl-C/SIGTERM and the writer in
        answers.begin(sample_id, sj.answers(store, run_id, sample_id))
        scores = await rescore(prompt, reply)
        missing = answers.end()
        if missing:
            held.discard()
            questions.update({q.custom_id: q for q in missing if q.custom_id not in flying})
            continue
        held.commit()
        judged.append((sample_id, scores))
        if len(judged) >= PAGE:
            sj.replace_scores(store, judged)
            done, judged = done + len(judged), []
    sj.replace_scores(store, judged)
    done += len(judged)
    if done:
        ctx.line(f"{ctx.label}: {done} replies judged from the judge batch's answers")
    if submit and questions:
        await _submit_questions(ctx, list(questions.values()))


async def _submit_questions(ctx: _Ctx, questions: list[Question]) -> None:
    backend = ctx.backend
    chunk: list[tuple[int, str, dict]] = []
    size = 0
    for q in questions:
        line = backend.request_line(BatchRequest(q.custom_id, q.messages, q.params))
        n = len(json.dumps(line, ensure_ascii=False).encode()) + 1
        if chunk and (len(chunk) + 1 > backend.max_requests or size + n > backend.max_bytes):
            await _submit(ctx, chunk)
            chunk, size = [], 0
        chunk.append((q.sample_id, q.custom_id, line))
        size += n
    if chunk:
        await _submit(ctx, chunk)


async def _submit(ctx: _Ctx, chunk: list[tuple[int, str, dict]]) -> None:
    """Intent (committed), then the provider's create, then the remote id: as for the replies."""
    tag = f"harness-{ctx.run_id}-{secrets.token_hex(6)}"
    batch_id = sb.add_intent(ctx.store, ctx.run_id, ctx.label, "judge", tag, [(sid, cid) for sid, cid, _ in chunk])
    if os.environ.get(FAULT_ENV) == "before_submit":
        os.kill(os.getpid(), signal.SIGKILL)
    try:
        remote = await ctx.backend.submit([line for _, _, line in chunk], tag)
    except ProviderError as err:
        if err.status is not None and 400 <= err.status < 500 and err.status not in (408, 409, 429):
            sb.drop_intent(ctx.store, batch_id, redact(err.message))
        else:
            sb.set_state(ctx.store, batch_id, "intent", note=redact(err.message))
        raise
    if os.environ.get(FAULT_ENV) == "after_submit":
        os.kill(os.getpid(), signal.SIGKILL)
    sb.set_remote(ctx.store, batch_id, remote.remote_id, remote.state, remote.counts, remote.expires_at)
    ctx.line(describe(ctx.label, remote).replace(": batch ", ": submitted judge batch ", 1)
             + f" ({len(chunk)} questions)")


async def _poll(ctx: _Ctx, provider) -> None:
    for row in sb.batches(ctx.store, ctx.run_id, ctx.label, open_only=True):
        if row["remote_id"] is None:
            continue
        remote = await ctx.backend.retrieve(row["remote_id"])
        sb.set_state(ctx.store, row["id"], remote.state, remote.counts, expires_at=remote.expires_at,
                     note=redact(remote.note) if remote.note else None)
        ctx.line(describe(ctx.label, remote))
        if remote.state in sb.COLLECT_STATES:
            await _collect(ctx, provider, row, remote)


async def _collect(ctx: _Ctx, provider, row, remote) -> None:
    """Each answer of an ended judge batch stored once with its item; unknown ids and duplicates counted
    and ignored; questions that never ran are asked again by the next judge phase."""
    store = ctx.store
    known = sb.items(store, row["id"])
    before = {cid for cid, (_, result) in known.items() if result is not None}
    seen: set[str] = set()
    ignored: Counter = Counter()
    answered: list[tuple[str, Reply]] = []
    unrun: list[tuple[str, str]] = []
    if remote.state != "failed":
        async for result in ctx.backend.results(remote.remote_id):
            cid = result.custom_id
            if cid not in known:
                ignored["unknown id"] += 1
                continue
            if cid in before:
                continue
            if cid in seen:
                ignored["duplicate"] += 1
                continue
            seen.add(cid)
            if result.status != "done" or result.reply is None:
                unrun.append((cid, result.status))
            else:
                answered.append((cid, finish_reply(provider, result.reply, remote.remote_id)))
            if len(answered) + len(unrun) >= PAGE:
                sj.store_answers(store, row["id"], answered, unrun)
                answered, unrun = [], []
        sj.store_answers(store, row["id"], answered, unrun)
    sb.close(store, row["id"], remote.state, dict(ignored))
    if ignored:
        ctx.line(f"{ctx.label}: batch {remote.remote_id}: ignored " +
                 ", ".join(f"{n} {why}" for why, n in sorted(ignored.items())) + " result line(s)")
    missing = len(known) - len(before) - len(seen)
    if missing or unrun:
        ctx.line(f"{ctx.label}: batch {remote.remote_id}: {missing + len(unrun)} question(s) without an answer: "
                 "asked again in the next judge batch")


async def cancel_judge_batches(store: Store, run_id: str, judge: Any, progress) -> None:
    """`harness batches cancel RUN`: the run's open judge batches cancelled at the provider (answers
    already given are kept and applied when the batch is collected; the rest wait, not resubmitted by
    the same command)."""
    inner = judge_of(judge)
    if inner is None:
        return
    label = f"judge {inner.judge_model}"
    rows = sb.batches(store, run_id, label, open_only=True)
    if not rows:
        return
    try:
        await inner.provider.start()
    except ProviderError as err:
        progress.line(f"{label}: cannot cancel, {redact(err.message)}")
        return
    try:
        backend = backend_for(inner.provider)
        if backend is None:
            progress.line(f"{label}: no batch backend for {inner.provider.config.kind!r}")
            return
        await cancel_open(_Ctx(store, run_id, label, backend, progress), backend)
    except (ProviderError, BatchRefused) as err:
        progress.line(f"{label}: {redact(err.message if isinstance(err, ProviderError) else str(err))}")
    finally:
        await inner.provider.aclose()
