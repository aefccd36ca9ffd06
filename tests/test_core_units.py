"""Small units: statistics, retry policy, redaction, store schema."""
from __future__ import annotations

import asyncio
import random
import sqlite3

import pytest

from harness.providers.errors import ProviderError
from harness.providers.retry import RetryPolicy, call_with_retry
from harness.redact import redact
from harness.report.stats import median, percentile, wilson
from harness.store import Store
from harness.store.migrations import MIGRATIONS
from harness.types import ErrorKind


def test_wilson_interval_known_values():
    lo, hi = wilson(8, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.4902, 0.9433)  # textbook Wilson values for 8/10
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == pytest.approx(1.0)
    assert wilson(0, 0) is None


def test_percentiles_are_observed_values():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 95) == 95.0
    assert percentile([3.0], 95) == 3.0
    assert median([1.0, 3.0, 2.0, 10.0]) == 2.5
    assert percentile([], 50) is None


def _run(coro):
    return asyncio.run(coro)


def test_retry_honours_retry_after_then_succeeds():
    waits: list[float] = []
    calls = {"n": 0}

    async def attempt():
        calls["n"] += 1
        if calls["n"] < 3:
            raise ProviderError(ErrorKind.RATE_LIMIT, "slow down", status=429, retry_after_s=1.5)
        return "ok"

    async def fake_sleep(s):
        waits.append(s)

    assert _run(call_with_retry(attempt, RetryPolicy(), sleep=fake_sleep)) == "ok"
    assert waits == [1.5, 1.5]


def test_retry_does_not_retry_client_errors():
    calls = {"n": 0}

    async def attempt():
        calls["n"] += 1
        raise ProviderError(ErrorKind.AUTH, "bad key", status=401)

    with pytest.raises(ProviderError):
        _run(call_with_retry(attempt, RetryPolicy(), sleep=lambda s: asyncio.sleep(0)))
    assert calls["n"] == 1


def test_retry_budget_caps_total_wait():
    waits: list[float] = []

    async def attempt():
        raise ProviderError(ErrorKind.SERVER, "down", status=503)

    async def fake_sleep(s):
        waits.append(s)

    policy = RetryPolicy(max_attempts=50, base_delay_s=1, max_delay_s=8, max_total_wait_s=20, rng=random.Random(1))
    with pytest.raises(ProviderError, match="retry budget"):
        _run(call_with_retry(attempt, policy, sleep=fake_sleep))
    assert sum(waits) <= 20
    assert all(0 < w <= 8 for w in waits)


def test_retry_gives_up_when_server_asks_for_too_long():
    async def attempt():
        raise ProviderError(ErrorKind.RATE_LIMIT, "later", status=429, retry_after_s=3600)

    async def fake_sleep(s):
        raise AssertionError("must not wait an hour")

    with pytest.raises(ProviderError):
        _run(call_with_retry(attempt, RetryPolicy(), sleep=fake_sleep))


def test_quota_errors_are_not_retried():
    assert not ProviderError(ErrorKind.QUOTA, "insufficient_quota", status=429).retryable
    assert ProviderError(ErrorKind.SERVER, "overloaded", status=529).retryable
    assert ProviderError(ErrorKind.CONNECTION, "refused").retryable
    assert not ProviderError(ErrorKind.BAD_REQUEST, "bad", status=400).retryable


def test_redact_removes_key_shapes_and_env_secrets(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "plainsecretvalue123")
    text = "key sk-proj-abcdefghijklmnop and AIzaSyA1234567890abcdefghijk and plainsecretvalue123 Bearer abc.def.ghijklmnop"
    out = redact(text)
    for secret in ("sk-proj-abcdefghijklmnop", "AIzaSyA1234567890abcdefghijk", "plainsecretvalue123", "abc.def.ghijklmnop"):
        assert secret not in out
    assert redact("nothing to hide") == "nothing to hide"


def test_store_schema_version_and_reopen(tmp_path):
    db = tmp_path / "h.db"
    Store(db).close()
    store = Store(db)  # re-opening applies no migration twice
    assert store.schema_version == len(MIGRATIONS)
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_store_refuses_a_newer_schema(tmp_path):
    from harness.store import StoreError

    db = tmp_path / "h.db"
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Store(db)


def test_store_rejects_a_file_that_is_not_sqlite(tmp_path):
    from harness.problems import InputError

    db = tmp_path / "h.db"
    db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(InputError, match="not a usable results store"):
        Store(db)


def test_a_failing_scorer_is_recorded_not_fatal(monkeypatch):
    from harness import scoring
    from harness.types import Message, Outcome, Prompt, Reply

    def broken(prompt, reply):
        raise RuntimeError("regex exploded")

    monkeypatch.setitem(scoring.SCORERS, "broken", broken)
    prompt = Prompt(id="p", messages=[Message(role="user", content="hi")], target="hello")
    scores = scoring.score_reply(["broken", "match"], prompt, Reply(text="hello", outcome=Outcome.ANSWERED))
    assert [(s.scorer, s.passed, s.label) for s in scores] == [("broken", None, "scorer_error"), ("match", True, None)]
    assert "regex exploded" in scores[0].explanation
