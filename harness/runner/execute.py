"""Executing a planned run against the store.

Each provider runs as its own task with its own concurrency limit; its workers pull samples from
the store as they go, and each reply is scored and committed as soon as it arrives (replies that
arrive together share one commit: harness/runner/writer.py). A provider that cannot start (no key) is skipped with
one line; a provider whose key is rejected stops after that first failure. Samples never sent stay
pending in the store, visible in `harness compare`, and are sent by a resumed run.

Ctrl-C and SIGTERM stop a run the same way: the run's task is cancelled, requests in flight are
abandoned, every reply already stored stays, and each provider that was sending is marked
`interrupted` (never left `running`). SIGTERM then surfaces as :class:`Terminated` (exit 143).
"""
from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass, field

from harness.served_model import mismatch_message, served_by_other
from harness.cache import CacheDamaged, ResponseCache, cache_key
from harness.providers.base import GenerationParams, Provider
from harness.providers.errors import ProviderError
from harness.redact import frozen_secrets, redact
from harness.runner.conversation import converse
from harness.runner.limits import AdaptiveLimiter, RateLimiter
from harness.runner.progress import RunProgress
from harness.runner.writer import ReplyWriter
from harness.scoring import score_reply
from harness.scoring.judge import Judge
from harness.scoring.judge_pair import counted, usages_of
from harness.scoring.judged import JudgedScorers
from harness.scoring.rules import default_ruleset
from harness.scoring.traits import rule_verdict_scorers
from harness.store import Store
from harness.store.db import Lease, PlannedSample
from harness.store.judge_usage import add_judge_usage
from harness.types import ErrorKind, Message, Outcome, Prompt, Reply, Score

STOP_KINDS = (ErrorKind.AUTH, ErrorKind.QUOTA, ErrorKind.MODEL_MISMATCH)


def served_model_check(provider: Provider, reply: Reply) -> Reply:
    """`harness run --strict-model`: a reply from another model than the one requested (beyond a
    dated snapshot) is an error that stops the provider, not a measurement of the requested model."""
    if reply.outcome is Outcome.ERROR or not served_by_other(provider.config.model, reply.model_reported):
        return reply
    return Reply(outcome=Outcome.ERROR, error_kind=ErrorKind.MODEL_MISMATCH,
                 reason=mismatch_message(provider.config.model, reply.model_reported) + " (--strict-model)",
                 finish_reason=reply.finish_reason, usage=reply.usage, latency_s=reply.latency_s,
                 model_reported=reply.model_reported, attempts=reply.attempts,
                 raw={**reply.raw, "served_text": reply.text[:2000]})


class Terminated(Exception):
    """SIGTERM arrived (timeout, docker stop, systemd, CI cancellation): handled like Ctrl-C."""

    exit_code = 143


class SigtermGuard:
    """While installed (a context manager, main thread only), SIGTERM is handled like Ctrl-C: the
    first one cancels the running :func:`execute_run` task, which stops sending, keeps what was
    stored and raises :class:`Terminated`; outside a run, or on a second SIGTERM, :class:`Terminated`
    is raised at once (like asyncio's own handling of a second Ctrl-C)."""

    active: "SigtermGuard | None" = None

    def __init__(self) -> None:
        self.received = False
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous = None

    def __enter__(self) -> "SigtermGuard":
        self._previous = signal.signal(signal.SIGTERM, self._handle)
        SigtermGuard.active = self
        return self

    def __exit__(self, *exc) -> None:
        SigtermGuard.active = None
        signal.signal(signal.SIGTERM, self._previous if self._previous is not None else signal.SIG_DFL)

    def attach(self, task: asyncio.Task, loop: asyncio.AbstractEventLoop) -> None:
        self._task, self._loop = task, loop
        if self.received:       # it arrived while the run was being set up
            task.cancel()

    def detach(self) -> None:
        self._task = self._loop = None

    def _handle(self, signum, frame) -> None:
        first = not self.received
        self.received = True
        task, loop = self._task, self._loop
        if first and task is not None and not task.done() and loop is not None:
            task.cancel()
            loop.call_soon_threadsafe(lambda: None)   # wake the loop if it sleeps in select()
            return
        raise Terminated()


@dataclass
class ProviderResult:
    label: str
    status: str = "pending"
    note: str | None = None
    sent: int = 0        # requests actually sent to the provider (cache hits excluded)
    errors: int = 0
    pending: int = 0
    replied: bool = False   # at least one request got a reply that is not an error


@dataclass
class RunSummary:
    run_id: str
    providers: list[ProviderResult] = field(default_factory=list)
    cache_hits: int = 0
    judge_pending: int = 0   # replies whose judge verdicts wait for a judge batch (harness/batch/judge.py)

    @property
    def complete(self) -> bool:
        return all(p.pending == 0 for p in self.providers) and not self.judge_pending


async def _run_provider(store: Store, run_id: str, provider: Provider, scorers: list[str],
                        progress: RunProgress, retry_errors: bool, cost_fn,
                        cache: ResponseCache | None, judged: JudgedScorers | None, writer: ReplyWriter,
                        lease: Lease | None = None, shard: tuple[int, int] | None = None,
                        strict_model: bool = False, simulate=None, defer=None) -> ProviderResult:
    label = provider.config.display
    try:
        return await _send_all(store, run_id, provider, scorers, progress, retry_errors, cost_fn, cache, judged,
                               writer, lease, shard, strict_model, simulate, defer)
    except asyncio.CancelledError:
        # Ctrl-C or SIGTERM: what was received is committed and stays; the provider must not be left
        # saying `running`.
        writer.flush()
        store.set_provider(run_id, label, status="interrupted", note=None)
        raise


async def _send_all(store: Store, run_id: str, provider: Provider, scorers: list[str],
                    progress: RunProgress, retry_errors: bool, cost_fn,
                    cache: ResponseCache | None, judged: JudgedScorers | None, writer: ReplyWriter,
                    lease: Lease | None, shard: tuple[int, int] | None,
                    strict_model: bool = False, simulate=None, defer=None) -> ProviderResult:
    """`defer(prompt, reply)`, when given, scores single replies (a judge batch: harness/batch/judge.py);
    conversations are judged live, turn by turn."""
    label = provider.config.display
    result = ProviderResult(label)
    total = store.count_pending(run_id, label, include_errors=retry_errors, shard=shard)
    progress.add(label, total)
    if not total:
        result.status = "finished"
        store.set_provider(run_id, label, status="finished", note=None)
        return result
    try:
        await provider.start()
    except ProviderError as err:
        result.status, result.note, result.pending = "skipped", redact(err.message), total
        store.set_provider(run_id, label, status="skipped", note=result.note)
        progress.line(f"{label}: skipped, {result.note}")
        return result
    identity = provider.identity()
    if provider.config.resolution:   # what was sent or left to the provider's default, and why
        identity["params"] = provider.config.resolution
    # A resumed provider starts afresh: an earlier "stopped after auth error" no longer applies.
    store.set_provider(run_id, label, status="running", identity=identity, note=None)
    config = provider.config
    ceiling = max(config.concurrency, config.max_concurrency or 2 * config.concurrency)
    limiter = AdaptiveLimiter(config.concurrency, maximum=ceiling)
    rate = RateLimiter(rpm=config.rpm, tpm=config.tpm) if (config.rpm or config.tpm) else None
    stop = asyncio.Event()

    def on_wait(kind: str, delay: float) -> None:
        if kind == ErrorKind.RATE_LIMIT.value:
            limiter.on_rate_limited()
        progress.status(label, f"{kind}, retry in {delay:.1f}s, concurrency {limiter.limit}")

    params = config.params.model_dump()

    def stop_with(note: str) -> None:
        if not stop.is_set():
            stop.set()
            result.note = note
            progress.line(f"{label}: {note}")

    async def send(messages: list[Message], repeat: int) -> Reply | None:
        """One request (or a cache hit); None when the provider was stopped meanwhile."""
        key = cache_key(identity, messages, params, repeat) if cache else None
        reply = cache.get(key) if cache else None
        if reply is not None:
            # A cache hit awaits nothing: without this, a rerun served from the cache would hold the event
            # loop to the end, deaf to SIGTERM (the cancellation waits for an await) and to the writer.
            await asyncio.sleep(0)
            if strict_model and (reply := served_model_check(provider, reply)).outcome is Outcome.ERROR:
                stop_with(f"stopped after {reply.error_kind.value} error: {reply.reason}")
            return reply
        async with limiter.slot():
            if stop.is_set():
                return None
            if lease is not None and lease.lost.is_set():
                # This process was silent past the stale bound and another writer took the run over.
                stop_with("stopped: another process took over this run's lease")
                return None
            estimate = _estimate_tokens(messages, config.params.budget())
            if rate is not None and (waited := await rate.acquire(estimate)) > 0:
                progress.status(label, f"rpm/tpm budget, waited {waited:.1f}s")
            sent = sample_params(config.params, repeat)
            reply = await provider.complete(messages, sent, on_wait=on_wait)
            if sent.seed is not None:
                reply.raw["seed"] = sent.seed
            if strict_model:
                reply = served_model_check(provider, reply)
            if rate is not None and reply.usage.input_tokens is not None:
                rate.record_usage(reply.usage.input_tokens + (reply.usage.output_tokens or 0), estimate)
            if reply.outcome is not Outcome.ERROR:
                limiter.on_success()
                result.replied = True
            if reply.outcome is Outcome.ERROR and reply.error_kind in STOP_KINDS:
                stop_with(f"stopped after {reply.error_kind.value} error: {reply.reason}")
            elif reply.outcome is Outcome.ERROR and reply.error_kind is ErrorKind.CONNECTION and not result.replied:
                # A dead base_url on the first requests: stop now with its message, not after every
                # sample's retries; the samples not sent stay pending for a resume.
                if not stop.is_set():
                    stop.set()
                    result.note = (f"connection error before any reply: {reply.reason}; check base_url "
                                   "and that the server runs (harness providers --check)")
                    progress.line(f"{label}: stopped, {result.note}")
            if cache:
                writer.cache_put(key, label, reply)
            result.sent += reply.attempts   # requests, retries included (not samples)
            return reply

    async def score(prompt: Prompt, reply: Reply) -> list[Score]:
        # Scoring (and judging) happens outside the provider's slot: it must not hold back requests.
        return await score_and_judge(scorers, judged, prompt, reply)

    async def one(sample: PlannedSample) -> None:
        if sample.prompt.is_conversation:
            # A live conversation: its turns one after another (harness/runner/conversation.py).
            failed = await converse(store, sample, send, score, scorers, lambda r: cost_fn(provider, r), simulate)
            if failed is not None:
                result.errors += failed
                progress.advance(label, error=failed)
            return
        reply = await send(sample.prompt.messages, sample.repeat)
        if reply is None:
            return
        scores = await (defer or score)(sample.prompt, reply)
        writer.add(sample.id, reply, scores, cost_fn(provider, reply))
        result.errors += reply.outcome is Outcome.ERROR
        progress.advance(label, error=reply.outcome is Outcome.ERROR)

    # Workers pull samples one at a time from a paged reader of the store, instead of one task (and
    # one parsed prompt) per sample up front: memory stays flat however large the run, and the first
    # request leaves as soon as the first page is read. There are as many workers as the limiter's
    # ceiling, so the adaptive limit, not the worker count, decides how many requests are in flight.
    feed = store.iter_pending(run_id, label, include_errors=retry_errors, shard=shard)

    async def worker() -> None:
        for sample in feed:   # one shared generator: each sample goes to exactly one worker
            if stop.is_set():
                return
            await one(sample)

    try:
        await asyncio.gather(*(worker() for _ in range(min(ceiling, total))))
    finally:
        writer.flush()
        await provider.aclose()
    result.pending = store.count_pending(run_id, label, shard=shard)
    result.status = "stopped" if stop.is_set() else "finished"
    store.set_provider(run_id, label, status=result.status, note=result.note)
    return result


async def score_and_judge(scorers: list[str], judged: JudgedScorers | None, prompt: Prompt, reply: Reply) -> list[Score]:
    """A reply's scores, the judge's included: the same for a live reply and a batch one."""
    scores = score_reply(scorers, prompt, reply)
    if judged is not None and reply.outcome is not Outcome.ERROR:
        try:
            scores = await judged.score(prompt, reply, scores)
        except CacheDamaged:
            raise   # the judge cache cannot be read: stop the run with the fix, not a judge_error per reply
        except Exception as err:  # keep the reply and the signal scores; say the judging failed
            scores.append(Score(scorer="judge", passed=None, label="judge_error",
                                explanation=f"judging failed: {type(err).__name__}: {redact(str(err))}"))
    return scores


async def _start_judge(judge, progress: RunProgress, scorers: list[str]) -> JudgedScorers | None:
    """Start the judge (or both judges) once for the whole run. A judge that cannot start is reported
    and recorded (the run then ends with exit 6, harness/scoring/judge_usage.py); the replies are
    still stored and their signal verdicts stand on their own."""
    try:
        await (judge.start() if hasattr(judge, "start") else judge.provider.start())
    except (ProviderError, OSError, ValueError, ImportError) as err:
        why = redact(err.message if isinstance(err, ProviderError) else f"{type(err).__name__}: {err}")
        progress.line(f"judge {judge.judge_model}: not used, {why}")
        for usage in usages_of(judge):
            usage.start_error = why
        return None
    concurrency = getattr(judge, "concurrency", None) or judge.provider.config.concurrency
    return JudgedScorers(judge, default_ruleset(), rules=rule_verdict_scorers(scorers), graded="graded" in scorers,
                         concurrency=concurrency)


def sample_params(params: GenerationParams, repeat: int) -> GenerationParams:
    """Repeat k of a sample uses seed `seed + k`: with one fixed seed the repeats of a deterministic backend
    are byte-identical copies, not independent samples, and intervals over them would be too narrow."""
    if params.seed is None or not repeat:
        return params
    return params.model_copy(update={"seed": params.seed + repeat})


async def _start_simulator(simulator: Provider, cache: ResponseCache | None, writer: ReplyWriter, progress: RunProgress):
    """Start the simulated users' provider once for the run; one that cannot start is reported and the
    simulated conversations stay pending (the run is then incomplete, never silently short)."""
    from harness.runner.simulator import Simulator

    try:
        await simulator.start()
    except ProviderError as err:
        progress.line(f"simulator {simulator.config.display}: not started, {redact(err.message)}; "
                      "simulated conversations stay pending")
        return None
    return Simulator(simulator, cache, writer).next_turn


def _estimate_tokens(messages: list[Message], max_tokens: int | None) -> int:
    """A budget estimate for the tpm limiter: about four characters a token, plus the reply's cap."""
    chars = sum(len(m.content) for m in messages)
    return chars // 4 + 1 + (max_tokens or 256)


def _no_cost(provider: Provider, reply: Reply) -> float | None:
    return None


async def execute_run(store: Store, run_id: str, providers: list[Provider], scorers: list[str], *,
                      retry_errors: bool = False, show_progress: bool = True, cost_fn=_no_cost,
                      cache: ResponseCache | None = None, judge: Judge | None = None,
                      lease: Lease | None = None, shard: tuple[int, int] | None = None,
                      strict_model: bool = False, simulator: Provider | None = None,
                      batch=None) -> RunSummary:
    """Send every pending sample of `providers` (with `shard=(i, n)`, only those whose id is i modulo
    n: one worker process of `harness run --workers n`, which leaves the run's status to its parent).
    `batch` (harness.batch.engine.BatchOptions): the providers that want batches, or have batches open,
    go through their batch services (harness/batch/engine.py); the others run live alongside."""
    return await guarded(_execute(store, run_id, providers, scorers, retry_errors, show_progress, cost_fn, cache,
                                  judge, lease, shard, strict_model, simulator, batch))


async def guarded(work):
    """Await `work` so that SIGTERM (through the active SigtermGuard) cancels it and surfaces as
    Terminated once it has cleaned up, as Ctrl-C does with KeyboardInterrupt."""
    guard = SigtermGuard.active
    if guard is not None:
        guard.attach(asyncio.current_task(), asyncio.get_running_loop())
    try:
        return await work
    except asyncio.CancelledError:
        if guard is not None and guard.received:
            raise Terminated() from None
        raise
    finally:
        if guard is not None:
            guard.detach()


async def _execute(store: Store, run_id: str, providers: list[Provider], scorers: list[str], retry_errors: bool,
                   show_progress: bool, cost_fn, cache: ResponseCache | None, judge: Judge | None,
                   lease: Lease | None, shard: tuple[int, int] | None, strict_model: bool = False,
                   simulator: Provider | None = None, batch=None) -> RunSummary:
    from harness.batch.engine import batch_wanted, run_batched
    from harness.batch.judge import judge_batch_wanted, pending_scores, run_judge_batches

    summary = RunSummary(run_id)
    writer = ReplyWriter(store, cache)
    with RunProgress(enabled=show_progress) as progress, frozen_secrets():
        judge = counted(judge) if judge is not None else None   # its calls, tokens, cost and verdicts counted
        judged = await _start_judge(judge, progress, scorers) if judge is not None else None
        simulate = await _start_simulator(simulator, cache, writer, progress) if simulator is not None else None
        # A judge batch: replies are stored judge-pending and judged after the providers' work.
        deferred = judged is not None and shard is None and judge_batch_wanted(judge)

        async def defer(prompt: Prompt, reply: Reply) -> list[Score]:
            return pending_scores(scorers, prompt, reply)

        try:
            def live(p: Provider):
                return _run_provider(store, run_id, p, scorers, progress, retry_errors, cost_fn, cache, judged,
                                     writer, lease, shard, strict_model, simulate, defer if deferred else None)

            def one(p: Provider):
                if shard is not None or not batch_wanted(store, run_id, p, batch):
                    return live(p)
                return run_batched(store, run_id, p, options=batch, retry_errors=retry_errors, progress=progress,
                                   score=defer if deferred else
                                   (lambda prompt, reply: score_and_judge(scorers, judged, prompt, reply)),
                                   cost_fn=cost_fn, cache=cache, strict_model=strict_model, send_live=live,
                                   result=ProviderResult(p.config.display))

            results = await asyncio.gather(*(one(p) for p in providers))
            if deferred:
                writer.flush()
                summary.judge_pending = await run_judge_batches(
                    store, run_id, judge, lambda prompt, reply: score_and_judge(scorers, judged, prompt, reply),
                    progress, batch)
            elif judge is not None and shard is None and judge_batch_wanted(judge):   # the judge did not start
                from harness.store.judge_batches import pending_count

                summary.judge_pending = pending_count(store, run_id)
        finally:
            if judged is not None:
                await (judge.aclose() if hasattr(judge, "aclose") else judge.provider.aclose())
            if simulator is not None:
                await simulator.aclose()
            writer.close()
            if judge is not None:
                add_judge_usage(store, run_id, usages_of(judge))
    summary.providers = list(results)
    summary.cache_hits = cache.hits if cache is not None else 0
    if shard is not None:    # a worker process: its parent sets the run's status when all are done
        return summary
    if lease is None or not lease.lost.is_set():   # else the run is another writer's now: its status too
        store.finish_run(run_id, "finished" if summary.complete else "incomplete")
    return summary
