"""Handing a run's samples to the providers' batch services, durably, and bringing every answer back once.

For one batch-capable provider (`harness run --batch`, or `batch: true` on its entry), in this order:
1. reconcile: an intent stored before a crash with no remote id is looked up at the provider by its tag
   (`backend.find`): exactly one match is adopted; none means it was never created (its samples are
   pending again and go into the next batch); several is refused with a message: never a second paid
   submission by guess;
2. poll the open batches (state, counts, expiry, one line each) and collect those that ended
   (harness/batch/collect.py);
3. submit: the pending samples (paged from the store; a cache hit is served without being sent) become
   request lines with custom id `s<sample id>`, split at the backend's request and byte limits; for
   each chunk the intent and its items are COMMITTED, then the batch is created with the intent's tag,
   then its remote id is stored;
4. with --wait: poll every `poll_s` seconds until no batch is open (resubmitting what expired).
Then the samples a batch cannot carry (live conversations, whose turns depend on the replies) run live
through the normal path, as do the whole of the providers with no batch API.
"""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
from dataclasses import dataclass
from typing import Any

from harness.batch.base import BatchBackend, BatchRequest, backend_for
from harness.batch.collect import describe, poll
from harness.cache import ResponseCache, cache_key
from harness.providers.base import Provider
from harness.providers.errors import ProviderError
from harness.providers.pricing import batch_discounts
from harness.redact import redact
from harness.store import Store
from harness.store import batches as sb
from harness.types import Message, Outcome, Reply

#: Test-only fault points: `after_submit` kills this process (SIGKILL) right after the provider accepted
#: a batch and before its remote id is stored (the crash the intent and `find` exist for);
#: `before_submit` kills it after the intent is stored and before the provider is asked.
FAULT_ENV = "HARNESS_BATCH_FAULT"
#: With --wait, how many times the samples of expired/failed batches are submitted again.
MAX_ROUNDS = 3


class BatchRefused(Exception):
    """The engine will not go on for this provider without a person's decision (several batches at the
    provider carry the tag of one interrupted submission)."""


@dataclass
class BatchOptions:
    """How `harness run` / `harness batches` use the batch services."""

    everywhere: bool = False    # --batch: every batch-capable provider (else those with `batch: true`)
    submit: bool = True         # put pending samples into new batches (False: `harness batches`, collect only)
    live: bool = True           # then send live what a batch cannot carry
    wait: bool = False
    poll_s: float = 60.0
    judge_submit: bool = True   # put waiting judge questions into judge batches (False: after a cancel)


def batch_wanted(store: Store, run_id: str, provider: Provider, options: BatchOptions | None) -> bool:
    """Whether this provider goes through the batch engine: it asked for batches and has a batch API, or
    it has batches of this run still open (they are always collected)."""
    if sb.batches(store, run_id, provider.config.display, open_only=True):
        return True
    if options is None:
        return False
    return (options.everywhere or bool(getattr(provider.config, "batch", False))) and backend_for(provider) is not None


class BatchContext:
    """What collecting needs about one provider of one run (harness/batch/collect.py)."""

    def __init__(self, store: Store, run_id: str, provider: Provider, backend: BatchBackend, *, identity: dict,
                 score, cost_fn, cache: ResponseCache | None, progress, strict_model: bool, served_model_check,
                 sample_params) -> None:
        self.store, self.run_id, self.provider, self.backend = store, run_id, provider, backend
        self.label = provider.config.display
        self.identity, self.score, self.cache, self.progress = identity, score, cache, progress
        self.strict_model, self.served_model_check = strict_model, served_model_check
        self._cost_fn, self._sample_params = cost_fn, sample_params
        self.params = provider.config.params.model_dump()
        kind = {"gemini-legacy": "gemini"}.get(provider.config.kind, provider.config.kind)
        self.discount = batch_discounts().get(kind)
        self.errors = 0
        self.replied = False   # at least one usable (non-error) reply

    def line(self, text: str) -> None:
        self.progress.line(text)

    def advance(self, *, error: bool) -> None:
        self.errors += error
        self.replied = self.replied or not error
        self.progress.advance(self.label, error=error)

    def cost(self, reply: Reply) -> float | None:
        """The live cost at the batch discount (None when either is unknown)."""
        live = self._cost_fn(self.provider, reply)
        return None if live is None or self.discount is None else live * self.discount

    def cache_key(self, messages: list[Message], repeat: int) -> str:
        """The live path's key: a batch answer serves a later live run and the other way round."""
        return cache_key(self.identity, messages, self.params, repeat)

    def seed(self, repeat: int) -> int | None:
        return self._sample_params(self.provider.config.params, repeat).seed


async def reconcile(ctx: BatchContext) -> None:
    """Intents with no remote id (a crash between create and storing the id): adopt, drop or refuse."""
    for row in sb.batches(ctx.store, ctx.run_id, ctx.label, open_only=True):
        if row["remote_id"] is not None:
            continue
        count = sb.item_count(ctx.store, row["id"])
        found = await ctx.backend.find(row["token"], since=row["created_at"], request_count=count)
        if len(found) == 1:
            remote = found[0]
            sb.set_remote(ctx.store, row["id"], remote.remote_id, remote.state, remote.counts, remote.expires_at)
            ctx.line(f"{ctx.label}: adopted batch {remote.remote_id}, created before an interruption (tag {row['token']})")
        elif not found:
            sb.drop_intent(ctx.store, row["id"], "never created at the provider (no batch carries its tag)")
            ctx.line(f"{ctx.label}: an interrupted submission of {count} requests was never created at the "
                     "provider: its samples are pending again")
        else:
            ids = ", ".join(r.remote_id for r in found)
            raise BatchRefused(
                f"{len(found)} batches at the provider carry the tag {row['token']} of one interrupted submission "
                f"({ids}); the harness will not guess which one holds this run's samples. Cancel the extra ones "
                "at the provider, then resume")


async def cancel_open(ctx, backend: BatchBackend) -> None:
    """`harness batches cancel`: reconcile interrupted submissions, then cancel every open batch at the
    provider (replies and judge batches alike); what was done is collected later, the rest goes pending."""
    await reconcile(ctx)
    for row in sb.batches(ctx.store, ctx.run_id, ctx.label, open_only=True):
        if row["remote_id"] is None:
            continue
        remote = await backend.cancel(row["remote_id"])
        sb.set_state(ctx.store, row["id"], remote.state, remote.counts, note="cancelled by harness batches cancel")
        ctx.line(f"{ctx.label}: batch {remote.remote_id}: {remote.state}")


async def submit_pending(ctx: BatchContext, retry_errors: bool, repeat_cost) -> int:
    """Every pending sample a batch can carry, into new batches (cache hits served at once). Returns
    how many requests were submitted."""
    store, backend = ctx.store, ctx.backend
    chunk: list[tuple[int, str, dict]] = []
    size = 0
    sent = 0
    for sample in store.iter_pending(ctx.run_id, ctx.label, include_errors=retry_errors):
        if sample.prompt.is_conversation:
            continue   # its turns depend on the replies: sent live afterwards
        if await _from_cache(ctx, sample, repeat_cost):
            continue
        params = ctx._sample_params(ctx.provider.config.params, sample.repeat)
        cid = f"s{sample.id}"
        line = backend.request_line(BatchRequest(cid, sample.prompt.messages, params))
        n = len(json.dumps(line, ensure_ascii=False).encode()) + 1
        if chunk and (len(chunk) + 1 > backend.max_requests or size + n > backend.max_bytes):
            sent += await _submit(ctx, chunk)
            chunk, size = [], 0
        chunk.append((sample.id, cid, line))
        size += n
    if chunk:
        sent += await _submit(ctx, chunk)
    return sent


async def _from_cache(ctx: BatchContext, sample, cost_fn) -> bool:
    if ctx.cache is None:
        return False
    reply = ctx.cache.get(ctx.cache_key(sample.prompt.messages, sample.repeat))
    if reply is None:
        return False
    if ctx.strict_model:
        reply = ctx.served_model_check(ctx.provider, reply)
    scores = await ctx.score(sample.prompt, reply)
    ctx.store.record_reply(sample.id, reply, scores, cost_fn(ctx.provider, reply))
    ctx.advance(error=reply.outcome is Outcome.ERROR)
    return True


async def _submit(ctx: BatchContext, chunk: list[tuple[int, str, dict]]) -> int:
    """Intent (committed), then the provider's create, then the remote id."""
    tag = f"harness-{ctx.run_id}-{secrets.token_hex(6)}"
    batch_id = sb.add_intent(ctx.store, ctx.run_id, ctx.label, "reply", tag, [(sid, cid) for sid, cid, _ in chunk])
    if os.environ.get(FAULT_ENV) == "before_submit":   # the intent is stored, nothing created
        os.kill(os.getpid(), signal.SIGKILL)
    try:
        remote = await ctx.backend.submit([line for _, _, line in chunk], tag)
    except ProviderError as err:
        if err.status is not None and 400 <= err.status < 500 and err.status not in (408, 409, 429):
            sb.drop_intent(ctx.store, batch_id, redact(err.message))   # refused: certainly not created
        else:   # a timeout or a dropped connection may hide a batch that was created: found on resume
            sb.set_state(ctx.store, batch_id, "intent", note=redact(err.message))
        raise
    if os.environ.get(FAULT_ENV) == "after_submit":   # the intent is stored, the batch created
        os.kill(os.getpid(), signal.SIGKILL)
    sb.set_remote(ctx.store, batch_id, remote.remote_id, remote.state, remote.counts, remote.expires_at)
    ctx.line(describe(ctx.label, remote).replace(": batch ", ": submitted batch ", 1) + f" ({len(chunk)} requests)")
    return len(chunk)


async def run_batched(store: Store, run_id: str, provider: Provider, *, options: BatchOptions, retry_errors: bool,
                      progress, score, cost_fn, cache: ResponseCache | None, strict_model: bool, send_live,
                      result) -> Any:
    """One provider of a run through its batch service; `send_live(provider)` (the runner's live path)
    then sends what a batch cannot carry. `result` is the runner's ProviderResult, filled in and returned."""
    from harness.runner.execute import sample_params, served_model_check

    label = provider.config.display
    progress.add(label, store.count_pending(run_id, label, include_errors=retry_errors)
                 + sb.in_open_batches(store, run_id, label))
    try:
        await provider.start()
    except ProviderError as err:
        result.status, result.note = "skipped", redact(err.message)
        result.pending = sb.unanswered(store, run_id, label)
        store.set_provider(run_id, label, status="skipped", note=result.note)
        progress.line(f"{label}: skipped, {result.note}")
        return result
    backend = backend_for(provider)
    if backend is None:
        await provider.aclose()
        result.note = (f"has batches open but no batch backend for {provider.config.kind!r}: collect them with a "
                       "harness that has one")
        progress.line(f"{label}: {result.note}")
        return await _finish(store, run_id, label, result, await send_live(provider) if options.live else None)
    identity = provider.identity()
    if provider.config.resolution:
        identity["params"] = provider.config.resolution
    store.set_provider(run_id, label, status="running", identity=identity, note=None)
    ctx = BatchContext(store, run_id, provider, backend, identity=identity, score=score, cost_fn=cost_fn,
                       cache=cache, progress=progress, strict_model=strict_model,
                       served_model_check=served_model_check, sample_params=sample_params)
    stopped = None
    try:
        await reconcile(ctx)
        await poll(ctx)
        if options.submit:
            result.sent += await submit_pending(ctx, retry_errors, cost_fn)
        rounds = 0
        while options.wait and sb.batches(store, run_id, label, open_only=True):
            await asyncio.sleep(options.poll_s)
            await poll(ctx)
            if options.submit and not sb.batches(store, run_id, label, open_only=True) and rounds < MAX_ROUNDS:
                rounds += 1   # expired or failed requests: into a new batch
                result.sent += await submit_pending(ctx, retry_errors, cost_fn)
    except (ProviderError, BatchRefused) as err:
        stopped = redact(err.message if isinstance(err, ProviderError) else str(err))
        progress.line(f"{label}: stopped, {stopped}")
    finally:
        await provider.aclose()
    result.errors += ctx.errors
    result.replied = result.replied or ctx.replied
    live = None
    if stopped is None and options.live:
        live = await send_live(provider)
    result.note = stopped
    return await _finish(store, run_id, label, result, live, stopped=stopped is not None)


async def _finish(store: Store, run_id: str, label: str, result, live, *, stopped: bool = False):
    if live is not None:
        result.sent += live.sent
        result.errors += live.errors
        result.replied = result.replied or live.replied
        if live.note:
            result.note = live.note
            stopped = stopped or live.status == "stopped"
    result.pending = sb.unanswered(store, run_id, label)
    waiting = sb.in_open_batches(store, run_id, label)
    if stopped:
        result.status = "stopped"
    elif waiting:
        result.status = "batched"
        result.note = result.note or (f"{waiting} samples in batches at the provider; collect with: "
                                      f"harness batches {run_id}")
    else:
        result.status = "finished"
    store.set_provider(run_id, label, status=result.status, note=result.note)
    return result


def open_summary(store: Store, run_id: str, results_dir: Any) -> str:
    """What `harness run` says at its end while batches are open: their ids, states, expiry, and the
    commands that collect them ("" when none is open)."""
    rows = sb.batches(store, run_id, open_only=True)
    if not rows:
        return ""
    lines = ["batches open at the providers (answers within 24 hours):"]
    lines += [f"  {r['provider']}: {r['remote_id'] or '(submission not confirmed)'} {r['state']}"
              + (f", expires {r['expires_at']}" if r["expires_at"] else "") for r in rows]
    lines += [f"collect them with: harness batches {run_id} --results {results_dir}",
              f"  or go on with:   harness run --resume {run_id} --results {results_dir}"]
    return "\n".join(lines)
