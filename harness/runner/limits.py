"""Adaptive concurrency and client-side rate limits for the runner (pure asyncio).

* :class:`AdaptiveLimiter` caps how many requests to one provider are in flight. It grows slowly
  while requests succeed (additive increase: +1 after ``limit`` consecutive successes) and halves
  when the provider says "429" (multiplicative decrease). Shrinking never cancels requests that
  are already in flight; it only holds new ones back until ``in_flight < limit``.
* :class:`RateLimiter` keeps requests-per-minute and tokens-per-minute budgets as two token
  buckets. ``acquire(estimated_tokens)`` waits until both allow the request;
  ``record_usage(actual, estimated)`` corrects the token bucket once the real count is known.

Both take their time functions as arguments so tests can drive them with a fake clock.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

__all__ = ["AdaptiveLimiter", "RateLimiter"]


class AdaptiveLimiter:
    """An AIMD concurrency limit: ``async with limiter.slot(): ...``.

    ``maximum`` defaults to ``initial`` (no growth). Waiters are served first come, first served.
    ``cooldown_s`` (default 0, off) ignores further 429s for that long after a shrink, so that a
    burst of requests that were all sent under the old limit halves it once rather than once each.
    """

    def __init__(self, initial: int, minimum: int = 1, maximum: int | None = None, *,
                 cooldown_s: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        if minimum < 1:
            raise ValueError("minimum must be >= 1")
        if maximum is None:
            maximum = max(initial, minimum)
        if maximum < minimum:
            raise ValueError("maximum must be >= minimum")
        self._minimum = minimum
        self._maximum = maximum
        self._limit = min(max(initial, minimum), maximum)
        self._in_flight = 0
        self._successes = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._last_shrink: float | None = None

    # -- read-only state for the progress display --

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def waiting(self) -> int:
        """How many callers are waiting for a slot."""
        return sum(1 for f in self._waiters if not f.done())

    @property
    def minimum(self) -> int:
        return self._minimum

    @property
    def maximum(self) -> int:
        return self._maximum

    # -- slots --

    async def acquire(self) -> None:
        """Wait for a free slot and take it. Pair with :meth:`release` (or use :meth:`slot`)."""
        if self._in_flight < self._limit and not self._waiters:
            self._in_flight += 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                # The slot was handed to us just as we were cancelled: give it back.
                self.release()
            else:
                try:
                    self._waiters.remove(fut)
                except ValueError:
                    pass
            raise

    def release(self) -> None:
        if self._in_flight <= 0:
            raise RuntimeError("release() without a matching acquire()")
        self._in_flight -= 1
        self._wake()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()

    def _wake(self) -> None:
        # Hand free slots straight to waiters, oldest first (no race with newcomers).
        while self._waiters and self._in_flight < self._limit:
            fut = self._waiters.popleft()
            if fut.done():
                continue
            self._in_flight += 1
            fut.set_result(None)

    # -- feedback --

    def on_success(self) -> None:
        """One request succeeded: +1 to the limit after ``limit`` consecutive successes."""
        self._successes += 1
        if self._successes >= self._limit:
            self._successes = 0
            if self._limit < self._maximum:
                self._limit += 1
                self._wake()

    def on_rate_limited(self) -> None:
        """The provider rate-limited us: halve the limit (not below ``minimum``)."""
        self._successes = 0
        now = self._clock()
        if (self._cooldown_s > 0 and self._last_shrink is not None
                and now - self._last_shrink < self._cooldown_s):
            return
        self._last_shrink = now
        self._limit = max(self._minimum, self._limit // 2)

    def __repr__(self) -> str:
        return f"AdaptiveLimiter(limit={self._limit}, in_flight={self._in_flight}, " \
               f"min={self._minimum}, max={self._maximum})"


class _Bucket:
    """A token bucket: refills at ``rate`` per second up to ``capacity``; may go into debt."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.level = capacity
        self.updated = now

    def refill(self, now: float) -> None:
        if now > self.updated:
            self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = max(self.updated, now)

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` (capped at capacity, so a huge request is not stuck forever) is there."""
        need = min(amount, self.capacity) - self.level
        if need <= 1e-9 * max(1.0, amount):  # float dust after an exact wait
            return 0.0
        return need / self.rate


class RateLimiter:
    """Requests-per-minute and tokens-per-minute budgets (``None`` = unlimited).

    * The request bucket holds ``request_burst`` requests (default 1), so requests are spaced
      ``60 / rpm`` seconds apart once the burst is used.
    * The token bucket holds ``token_burst`` tokens (default: a whole minute, ``tpm``). A request
      larger than the bucket waits for a full bucket and then puts it into debt.
    * Callers are served first come, first served.
    """

    def __init__(self, rpm: float | None = None, tpm: float | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                 request_burst: float = 1.0, token_burst: float | None = None) -> None:
        if rpm is not None and rpm <= 0:
            raise ValueError("rpm must be > 0 or None")
        if tpm is not None and tpm <= 0:
            raise ValueError("tpm must be > 0 or None")
        self.rpm = rpm
        self.tpm = tpm
        self._clock = clock
        self._sleep = sleep
        now = clock()
        self._requests = _Bucket(rpm / 60.0, max(1.0, request_burst), now) if rpm else None
        self._tokens = _Bucket(tpm / 60.0, float(token_burst or tpm), now) if tpm else None
        self._lock = asyncio.Lock()
        self._waiting = 0

    @property
    def waiting(self) -> bool:
        """True while some caller is held back by a budget."""
        return self._waiting > 0

    @property
    def waiters(self) -> int:
        return self._waiting

    @property
    def tokens_available(self) -> float | None:
        if self._tokens is None:
            return None
        self._tokens.refill(self._clock())
        return self._tokens.level

    async def acquire(self, estimated_tokens: int = 0) -> float:
        """Wait until both budgets allow one request of ``estimated_tokens``; returns seconds waited."""
        if self._requests is None and self._tokens is None:
            return 0.0
        start = self._clock()
        self._waiting += 1
        try:
            async with self._lock:
                while True:
                    now = self._clock()
                    delay = 0.0
                    if self._requests is not None:
                        self._requests.refill(now)
                        delay = max(delay, self._requests.wait_for(1.0))
                    if self._tokens is not None:
                        self._tokens.refill(now)
                        delay = max(delay, self._tokens.wait_for(float(estimated_tokens)))
                    if delay <= 0.0:
                        if self._requests is not None:
                            self._requests.level -= 1.0
                        if self._tokens is not None:
                            self._tokens.level -= float(estimated_tokens)
                        return self._clock() - start
                    await self._sleep(delay)
        finally:
            self._waiting -= 1

    def record_usage(self, actual_tokens: int, estimated_tokens: int) -> None:
        """Correct the token bucket with the real count (refund an over-estimate, charge an under-estimate)."""
        if self._tokens is None:
            return
        self._tokens.refill(self._clock())
        self._tokens.level = min(self._tokens.capacity,
                                 self._tokens.level + float(estimated_tokens) - float(actual_tokens))

    def __repr__(self) -> str:
        return f"RateLimiter(rpm={self.rpm}, tpm={self.tpm}, waiting={self._waiting})"
