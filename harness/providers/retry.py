"""The harness's one retry policy: exponential backoff with full jitter, server hints honoured,
capped both in attempts and in total wait so that a run never looks hung behind endless retries.
SDK-level retries are switched off in every adapter so that this is the only policy in force."""
from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from harness.providers.errors import ProviderError

T = TypeVar("T")


@dataclass
class RetryPolicy:
    max_attempts: int = 6            # first try included
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0        # one wait, when the server gives no hint
    max_total_wait_s: float = 120.0  # all waits of one sample together
    max_retry_after_s: float = 120.0  # a server asking for longer than this is not waited for
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, err: ProviderError) -> float:
        """Seconds to wait before attempt number `attempt + 1` (attempt counts from 1)."""
        if err.retry_after_s is not None and err.retry_after_s > 0:
            return err.retry_after_s
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return self.rng.uniform(ceiling / 2, ceiling)


Sleep = Callable[[float], Awaitable[None]]


async def call_with_retry(
    attempt_fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    on_wait: Callable[[str, float], None] | None = None,
    sleep: Sleep = asyncio.sleep,
) -> T:
    waited = 0.0
    attempt = 0
    while True:
        attempt += 1
        try:
            return await attempt_fn()
        except ProviderError as err:
            if not err.retryable or attempt >= policy.max_attempts:
                raise
            delay = policy.delay(attempt, err)
            if delay > policy.max_retry_after_s or waited + delay > policy.max_total_wait_s:
                err.message += f" (gave up after {attempt} attempts: next wait {delay:.1f}s exceeds the retry budget)"
                raise
            if on_wait is not None:
                on_wait(err.kind.value, delay)
            waited += delay
            await sleep(delay)
