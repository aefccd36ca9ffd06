"""AdaptiveLimiter and RateLimiter, driven with a fake clock (no real sleeps anywhere)."""
from __future__ import annotations

import asyncio

import pytest

from harness.runner.limits import AdaptiveLimiter, RateLimiter


class FakeClock:
    """``clock()`` returns fake time; ``await clock.sleep(dt)`` advances it instantly."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, dt: float) -> None:
        self.sleeps.append(dt)
        self.now += dt
        await asyncio.sleep(0)


async def settle(rounds: int = 20) -> None:
    """Let every ready task run until it blocks (event-loop turns, not a timed sleep)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


def run(coro):
    return asyncio.run(coro)


# ---------------------------------------------------------------------------------------------------
# AdaptiveLimiter
# ---------------------------------------------------------------------------------------------------


def test_shrinks_multiplicatively_on_429_not_below_minimum():
    lim = AdaptiveLimiter(8, minimum=1, maximum=16)
    seen = []
    for _ in range(5):
        lim.on_rate_limited()
        seen.append(lim.limit)
    assert seen == [4, 2, 1, 1, 1]
    lim2 = AdaptiveLimiter(9, minimum=3, maximum=9)
    lim2.on_rate_limited()
    lim2.on_rate_limited()
    assert lim2.limit == 3


def test_grows_additively_and_slowly_up_to_maximum():
    lim = AdaptiveLimiter(2, minimum=1, maximum=4)
    limits = []
    for _ in range(12):
        lim.on_success()
        limits.append(lim.limit)
    # +1 after `limit` consecutive successes: 2 successes at limit 2, 3 at limit 3, then capped at 4
    assert limits == [2, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4]


def test_rate_limit_resets_the_success_streak():
    lim = AdaptiveLimiter(4, maximum=8)
    for _ in range(3):
        lim.on_success()
    lim.on_rate_limited()
    assert lim.limit == 2
    lim.on_success()
    assert lim.limit == 2  # the three earlier successes no longer count
    lim.on_success()
    assert lim.limit == 3


def test_constructor_bounds():
    assert AdaptiveLimiter(50, minimum=1, maximum=10).limit == 10
    assert AdaptiveLimiter(0, minimum=2, maximum=10).limit == 2
    assert AdaptiveLimiter(5).maximum == 5
    with pytest.raises(ValueError):
        AdaptiveLimiter(1, minimum=0, maximum=4)
    with pytest.raises(ValueError):
        AdaptiveLimiter(2, minimum=3, maximum=2)


def test_never_exceeds_limit_under_concurrency_and_shrink_keeps_in_flight():
    async def main():
        lim = AdaptiveLimiter(4, minimum=1, maximum=8)
        gates = [asyncio.Event() for _ in range(12)]
        started: list[int] = []
        peak = 0
        over = []

        async def worker(i):
            nonlocal peak
            async with lim.slot():
                started.append(i)
                peak = max(peak, lim.in_flight)
                if lim.in_flight > lim.limit:
                    over.append((i, lim.in_flight, lim.limit))
                await gates[i].wait()

        tasks = [asyncio.create_task(worker(i)) for i in range(12)]
        await settle()
        assert started == [0, 1, 2, 3] and lim.in_flight == 4 and lim.waiting == 8

        lim.on_rate_limited()  # limit 4 -> 2: nobody in flight is cancelled
        assert lim.limit == 2 and lim.in_flight == 4
        assert not any(t.done() for t in tasks[:4])

        gates[0].set()
        gates[1].set()
        await settle()
        assert lim.in_flight == 2 and started == [0, 1, 2, 3]  # still not below the new limit
        gates[2].set()
        await settle()
        assert started == [0, 1, 2, 3, 4] and lim.in_flight == 2  # one finished, one started

        for i in range(3, 12):
            gates[i].set()
            await settle()
            assert lim.in_flight <= lim.limit
        await asyncio.gather(*tasks)
        assert started == list(range(12))  # first come, first served
        assert lim.in_flight == 0 and not over and peak == 4

    run(main())


def test_growth_wakes_waiters():
    async def main():
        lim = AdaptiveLimiter(1, maximum=3)
        gate = asyncio.Event()
        started = []

        async def worker(i):
            async with lim.slot():
                started.append(i)
                await gate.wait()

        tasks = [asyncio.create_task(worker(i)) for i in range(3)]
        await settle()
        assert started == [0]
        lim.on_success()  # 1 success at limit 1 -> limit 2, and a waiter may start at once
        await settle()
        assert lim.limit == 2 and started == [0, 1]
        gate.set()
        await asyncio.gather(*tasks)

    run(main())


def test_cancelled_waiter_does_not_leak_a_slot():
    async def main():
        lim = AdaptiveLimiter(1)
        gate = asyncio.Event()

        async def hold():
            async with lim.slot():
                await gate.wait()

        holder = asyncio.create_task(hold())
        await settle()
        waiter = asyncio.create_task(lim.acquire())
        await settle()
        assert lim.waiting == 1
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        gate.set()
        await holder
        assert lim.in_flight == 0 and lim.waiting == 0
        async with lim.slot():
            assert lim.in_flight == 1

        # cancelled just after the slot was handed over: the slot goes back
        await lim.acquire()
        late = asyncio.create_task(lim.acquire())
        await settle()
        lim.release()  # hands the slot to `late` ...
        late.cancel()  # ... which is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await late
        assert lim.in_flight == 0

    run(main())


def test_cooldown_collapses_a_burst_of_429s_into_one_halving():
    clock = FakeClock()
    lim = AdaptiveLimiter(16, maximum=16, cooldown_s=5.0, clock=clock)
    for _ in range(6):  # six requests sent under the old limit all come back 429
        lim.on_rate_limited()
    assert lim.limit == 8
    clock.now = 6.0
    lim.on_rate_limited()
    assert lim.limit == 4


# ---------------------------------------------------------------------------------------------------
# RateLimiter
# ---------------------------------------------------------------------------------------------------


def test_rpm_spaces_requests():
    async def main():
        clock = FakeClock()
        rl = RateLimiter(rpm=60, tpm=None, clock=clock, sleep=clock.sleep)
        grants: list[tuple[int, float]] = []

        async def one(i):
            await rl.acquire(10)
            grants.append((i, clock()))

        await asyncio.gather(*(one(i) for i in range(5)))
        return grants

    grants = run(main())
    assert [i for i, _ in grants] == [0, 1, 2, 3, 4]
    assert [t for _, t in grants] == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0])


def test_rpm_burst_then_spacing():
    async def main():
        clock = FakeClock()
        rl = RateLimiter(rpm=120, clock=clock, sleep=clock.sleep, request_burst=3)
        times = []
        for _ in range(5):
            await rl.acquire()
            times.append(clock())
        return times

    assert run(main()) == pytest.approx([0.0, 0.0, 0.0, 0.5, 1.0])


def test_tpm_budget():
    async def main():
        clock = FakeClock()
        rl = RateLimiter(rpm=None, tpm=600, clock=clock, sleep=clock.sleep)  # 10 tokens/s, a minute in the bucket
        times = []
        for _ in range(5):
            await rl.acquire(200)
            times.append(clock())
        return times

    # 600 tokens at t=0 cover three requests; then 200 tokens take 20 s each to refill
    assert run(main()) == pytest.approx([0.0, 0.0, 0.0, 20.0, 40.0])


def test_record_usage_refunds_and_charges():
    async def main():
        clock = FakeClock()
        rl = RateLimiter(tpm=600, clock=clock, sleep=clock.sleep)
        await rl.acquire(600)
        assert rl.tokens_available == pytest.approx(0)
        rl.record_usage(actual_tokens=100, estimated_tokens=600)  # over-estimated: 500 back
        assert rl.tokens_available == pytest.approx(500)
        await rl.acquire(400)
        assert clock() == 0.0
        rl.record_usage(actual_tokens=700, estimated_tokens=400)  # under-estimated: 300 more owed
        assert rl.tokens_available == pytest.approx(-200)
        await rl.acquire(100)  # needs 300 tokens of refill at 10/s
        assert clock() == pytest.approx(30.0)
        rl.record_usage(actual_tokens=0, estimated_tokens=10_000)  # a refund never overfills
        assert rl.tokens_available == pytest.approx(600)

    run(main())


def test_both_budgets_wait_for_the_slower_one():
    async def main():
        clock = FakeClock()
        rl = RateLimiter(rpm=60, tpm=60, clock=clock, sleep=clock.sleep)  # 1 req/s, 1 token/s
        await rl.acquire(60)
        await rl.acquire(5)  # rpm would allow t=1, tpm needs 5 s
        assert clock() == pytest.approx(5.0)
        await rl.acquire(0)  # rpm: one request per second
        assert clock() == pytest.approx(6.0)

    run(main())


def test_request_larger_than_bucket_waits_for_full_bucket_then_owes():
    async def main():
        clock = FakeClock()
        rl = RateLimiter(tpm=600, clock=clock, sleep=clock.sleep)
        await rl.acquire(100)
        await rl.acquire(1000)  # more than a bucket: waits until the bucket is full (10 s) and goes into debt
        assert clock() == pytest.approx(10.0)
        assert rl.tokens_available == pytest.approx(-400)

    run(main())


def test_unlimited_never_sleeps():
    async def main():
        clock = FakeClock()
        rl = RateLimiter(None, None, clock=clock, sleep=clock.sleep)
        for _ in range(100):
            assert await rl.acquire(10_000) == 0.0
        return clock.sleeps

    assert run(main()) == []


def test_waiting_flag_and_cancellation():
    async def main():
        clock = FakeClock()
        release = asyncio.Event()

        async def blocking_sleep(dt):
            await release.wait()
            clock.now += dt

        rl = RateLimiter(rpm=60, clock=clock, sleep=blocking_sleep)
        await rl.acquire()
        assert not rl.waiting
        second = asyncio.create_task(rl.acquire())
        third = asyncio.create_task(rl.acquire())
        await settle()
        assert rl.waiting and rl.waiters == 2
        third.cancel()
        with pytest.raises(asyncio.CancelledError):
            await third
        assert rl.waiting and rl.waiters == 1
        release.set()
        waited = await second
        assert waited == pytest.approx(1.0)
        assert not rl.waiting
        # the cancelled caller consumed nothing: the next request is due one interval later
        await rl.acquire()
        assert clock() == pytest.approx(2.0)

    run(main())


def test_validation():
    with pytest.raises(ValueError):
        RateLimiter(rpm=0)
    with pytest.raises(ValueError):
        RateLimiter(tpm=-5)
