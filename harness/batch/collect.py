"""Reading a batch's state and bringing its results home, each answer stored exactly once.

Why it is shaped like this:
* A result is accepted only for a custom id of *that* batch whose item has no result yet and whose sample
  has no usable reply: an unknown id, a duplicate line, or a sample answered meanwhile is ignored and
  counted (shown, and kept with the batch), never stored twice.
* A reply is finished exactly as the live path finishes one (harness/providers/base.py: bounded,
  redacted, surrogates escaped), checked against the requested model with --strict-model, scored on
  arrival with the live scorers (and the live judge, unless the judge goes through batches too:
  harness/batch/judge.py), costed at the batch price, and put in the response
  cache under the live key. Replies and their items' marks are committed in one transaction
  (harness/store/batches.py): a crash while collecting neither loses nor doubles a result.
* Requests that never ran (expired, cancelled) and the items of a failed batch are left without a result;
  once the batch is closed they are pending again, for the next submission (or --retry-errors for the
  per-request errors, which are stored as ERROR replies like live failures).
"""
from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from harness.batch.base import RemoteBatch
from harness.providers.base import _bounded, _redacted
from harness.providers.errors import ProviderError
from harness.redact import redact
from harness.store import batches as sb
from harness.surrogates import escape_reply
from harness.types import Outcome, Prompt, Reply

#: Results scored and committed together.
PAGE = 64


@dataclass
class Collected:
    stored: int = 0
    errors: int = 0
    unrun: int = 0
    ignored: Counter = field(default_factory=Counter)


def finish_reply(provider: Any, reply: Reply, remote_id: str) -> Reply:
    """A batch reply finished like a live one, and marked as a batch reply (reports split its cost)."""
    try:
        reply = _bounded(reply, provider.config)
    except ProviderError as err:
        reply = Reply(outcome=Outcome.ERROR, error_kind=err.kind, reason=err.message, attempts=1, raw=reply.raw)
    reply.attempts = 1
    reply.raw = {**reply.raw, "batch": remote_id}
    return escape_reply(_redacted(reply))


def describe(label: str, remote: RemoteBatch) -> str:
    """One progress line: the batch, its state, its counts, when it expires."""
    counts = ", ".join(f"{k} {v}" for k, v in remote.counts.items() if v or k == "total")
    expires = f", expires {remote.expires_at}" if remote.expires_at and remote.state == "in_progress" else ""
    note = f" ({remote.note})" if remote.note else ""
    return f"{label}: batch {remote.remote_id}: {remote.state}" + (f", {counts}" if counts else "") + expires + note


async def collect(ctx, row, remote: RemoteBatch) -> Collected:
    """Stream the results of an ended/expired/cancelled/failed batch into the store, then close it."""
    store, backend = ctx.store, ctx.backend
    known = sb.items(store, row["id"])
    before = {cid for cid, (_, result) in known.items() if result is not None}   # an interrupted earlier pass
    seen: set[str] = set()
    out = Collected()
    page: list[tuple[str, int, Reply]] = []
    unrun: list[tuple[str, str]] = []

    async def flush() -> None:
        nonlocal page, unrun
        if page or unrun:
            await _store_page(ctx, row, remote, page, unrun, out)
        page, unrun = [], []

    if remote.state != "failed":
        async for result in backend.results(remote.remote_id):
            cid = result.custom_id
            if cid not in known:
                out.ignored["unknown id"] += 1
                continue
            if cid in before:
                continue   # stored by an earlier, interrupted collection of this same file
            if cid in seen:
                out.ignored["duplicate"] += 1
                continue
            seen.add(cid)
            if result.status != "done" or result.reply is None:
                unrun.append((cid, result.status))
                out.unrun += 1
            else:
                page.append((cid, known[cid][0], result.reply))
            if len(page) + len(unrun) >= PAGE:
                await flush()
        await flush()
    ignored = dict(out.ignored)
    sb.close(store, row["id"], remote.state, ignored)
    missing = len(known) - len(before) - len(seen)
    if ignored:
        ctx.line(f"{ctx.label}: batch {remote.remote_id}: ignored " +
                 ", ".join(f"{n} {why}" for why, n in sorted(ignored.items())) + " result line(s)")
    if missing and remote.state != "failed":
        ctx.line(f"{ctx.label}: batch {remote.remote_id}: {missing} request(s) without a result: pending again")
    if out.unrun:
        ctx.line(f"{ctx.label}: batch {remote.remote_id}: {out.unrun} request(s) {remote.state} before they ran: "
                 "pending again")
    if remote.state == "failed":
        ctx.line(f"{ctx.label}: batch {remote.remote_id} failed as a whole ({remote.note or 'no reason given'}); "
                 f"its {len(known)} samples are pending again")
    return out


async def _store_page(ctx, row, remote: RemoteBatch, page, unrun, out: Collected) -> None:
    store = ctx.store
    sample_ids = [sid for _, sid, _ in page]
    answered = sb.answered(store, sample_ids)
    prompts = _prompts(store, sample_ids)
    keep = []
    for cid, sid, reply in page:
        if answered.get(sid) not in (None, Outcome.ERROR.value):
            out.ignored["already answered"] += 1   # e.g. answered by another path meanwhile: never replaced
            continue
        prompt, repeat = prompts[sid]
        reply = finish_reply(ctx.provider, reply, remote.remote_id)
        if (seed := ctx.seed(repeat)) is not None:
            reply.raw["seed"] = seed
        if ctx.strict_model:
            reply = ctx.served_model_check(ctx.provider, reply)
        keep.append((cid, sid, prompt, repeat, reply))
    scores = await asyncio.gather(*(ctx.score(prompt, reply) for _, _, prompt, _, reply in keep))
    rows = []
    for (cid, sid, prompt, repeat, reply), sc in zip(keep, scores):
        rows.append((cid, sid, reply, sc, ctx.cost(reply)))
        out.stored += 1
        out.errors += reply.outcome is Outcome.ERROR
        ctx.advance(error=reply.outcome is Outcome.ERROR)
    sb.store_results(store, row["id"], rows, unrun)
    if ctx.cache is not None:
        # Cached as an answer, not as a batch reply: a later run served from the cache paid nothing here.
        ctx.cache.put_many([(ctx.cache_key(prompt.messages, repeat), ctx.label,
                             reply.model_copy(update={"raw": {k: v for k, v in reply.raw.items() if k != "batch"}}))
                            for _, _, prompt, repeat, reply in keep])


def _prompts(store, sample_ids: list[int]) -> dict[int, tuple[Prompt, int]]:
    out: dict[int, tuple[Prompt, int]] = {}
    for i in range(0, len(sample_ids), 500):
        chunk = sample_ids[i:i + 500]
        for sid, text, repeat in store.conn.execute(
                f"SELECT id, prompt_json, repeat FROM samples WHERE id IN ({','.join('?' * len(chunk))})", chunk):
            out[sid] = (Prompt.model_validate_json(text), repeat)
    return out


async def poll(ctx, *, collect_ended: bool = True) -> int:
    """Read every open batch of the provider (state, counts, expiry: one line each) and collect the ones
    that ended. Returns how many stay open."""
    still = 0
    for row in sb.batches(ctx.store, ctx.run_id, ctx.label, open_only=True):
        if row["remote_id"] is None:
            still += 1
            continue
        remote = await ctx.backend.retrieve(row["remote_id"])
        sb.set_state(ctx.store, row["id"], remote.state, remote.counts, expires_at=remote.expires_at,
                     note=redact(remote.note) if remote.note else None)
        ctx.line(describe(ctx.label, remote))
        if collect_ended and remote.state in sb.COLLECT_STATES:
            await collect(ctx, row, remote)
        else:
            still += 1
    return still


def counts_text(counts_json: str) -> str:
    counts = json.loads(counts_json or "{}")
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "-"

