"""The run's write path: group commits (harness/runner/writer.py), the paged pending-sample reader and
secrets computed once per run. The crash bound (a SIGKILL loses at most the requests in flight) is
proved end to end in tests/test_resume.py."""
from __future__ import annotations

import asyncio
import sqlite3

import pytest

from harness.cache import ResponseCache
from harness.redact import MARK, frozen_secrets, redact
from harness.runner.writer import ReplyWriter
from harness.store import Store
from harness.types import Message, Outcome, Prompt, Reply, Score


def _store(tmp_path, n: int = 5):
    store = Store(tmp_path / "h.db")
    prompts = [Prompt(id=f"p{i}", messages=[Message(role="user", content=f"q{i}")], category="homework")
               for i in range(n)]
    run_id = store.create_run(eval_name="e", eval_path=None, spec={}, scorers=["contains"], repeats=1, suites=[],
                              providers=[{"label": "a", "model": "m", "config": {}}],
                              samples=[("s", p, "a", 0) for p in prompts])
    ids = [r[0] for r in store.conn.execute("SELECT id FROM samples ORDER BY id")]
    return store, run_id, ids


def _reply(text: str, outcome: Outcome = Outcome.ANSWERED) -> Reply:
    return Reply(outcome=outcome, text=text)


def _stored(path) -> dict[int, str]:
    """What another connection (another process, after a crash) sees committed."""
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT sample_id, text FROM replies"))
    finally:
        db.close()


def test_replies_of_one_loop_turn_share_one_commit_made_before_the_loop_goes_on(tmp_path):
    store, run_id, ids = _store(tmp_path)

    async def main():
        writer = ReplyWriter(store)
        for i in ids[:3]:
            writer.add(i, _reply(f"r{i}"), [Score(scorer="contains", passed=True)], None)
        assert _stored(store.path) == {}           # nothing yet: the same turn may bring more
        await asyncio.sleep(0)                      # one turn of the loop
        assert _stored(store.path) == {i: f"r{i}" for i in ids[:3]}
        assert writer.commits == 1
        writer.add(ids[3], _reply("late"), [], None)
        writer.close()
        return writer.commits

    assert asyncio.run(main()) == 2
    assert _stored(store.path)[ids[3]] == "late"
    scores = store.conn.execute("SELECT sample_id, scorer, passed FROM scores ORDER BY sample_id").fetchall()
    assert [tuple(r) for r in scores] == [(i, "contains", 1) for i in ids[:3]]


def test_a_full_batch_is_committed_without_waiting_for_the_loop(tmp_path):
    store, run_id, ids = _store(tmp_path, n=10)

    async def main():
        writer = ReplyWriter(store, max_batch=4)
        for i in ids[:9]:       # a cached rerun never yields: the batch bound alone must commit
            writer.add(i, _reply("x"), [], None)
        assert len(_stored(store.path)) == 8
        assert writer.commits == 2
        writer.close()

    asyncio.run(main())
    assert len(_stored(store.path)) == 9


def test_a_failed_commit_stops_the_run_and_stores_none_of_its_batch(tmp_path):
    store, run_id, ids = _store(tmp_path)

    async def main():
        writer = ReplyWriter(store)
        writer.add(ids[0], _reply("fine"), [], None)
        writer.add(999_999, _reply("no such sample"), [], None)   # violates the foreign key
        await asyncio.sleep(0)
        with pytest.raises(sqlite3.IntegrityError):
            writer.add(ids[1], _reply("next"), [], None)

    asyncio.run(main())
    assert _stored(store.path) == {}     # all of a batch, or none of it


def test_cache_entries_are_written_with_the_flush_and_errors_never(tmp_path):
    store, run_id, ids = _store(tmp_path)
    cache = ResponseCache(tmp_path / "cache.db")

    async def main():
        writer = ReplyWriter(store, cache)
        writer.cache_put("k1", "a", _reply("cached"))
        writer.cache_put("k2", "a", _reply("", Outcome.ERROR))
        assert cache.get("k1") is None
        await asyncio.sleep(0)
        writer.close()

    asyncio.run(main())
    assert cache.get("k1").text == "cached"
    assert cache.get("k2") is None


def test_pending_samples_are_read_a_page_at_a_time_without_repeats_or_gaps(tmp_path):
    store, run_id, ids = _store(tmp_path, n=7)
    store.record_reply(ids[1], _reply("done"), [], None)
    store.record_reply(ids[4], _reply("", Outcome.ERROR), [], None)
    feed = store.iter_pending(run_id, "a", page=2)
    seen = [next(feed).id, next(feed).id]
    # Replies committed while the feed is open (the run's own writer) neither repeat nor hide samples.
    store.record_replies([(sid, _reply("meanwhile"), [], None) for sid in seen])
    seen += [s.id for s in feed]
    assert seen == [ids[0], ids[2], ids[3], ids[5], ids[6]]
    assert store.count_pending(run_id, "a") == 3          # ids 3, 5, 6: no reply at all
    with_errors = [s.id for s in store.iter_pending(run_id, "a", include_errors=True, page=2)]
    assert with_errors == [ids[3], ids[4], ids[5], ids[6]]
    assert store.count_pending(run_id, "a", include_errors=True) == 4
    first = next(store.iter_pending(run_id, "a"))
    assert first.prompt.messages[0].content == "q3" and first.suite == "s" and first.repeat == 0


def test_secrets_are_frozen_for_a_run_and_read_afresh_outside_one(monkeypatch):
    monkeypatch.setenv("RUN_API_KEY", "frozen-secret-value-1")
    with frozen_secrets():
        monkeypatch.setenv("LATE_API_KEY", "late-secret-value-22")
        assert redact("a frozen-secret-value-1 b") == f"a {MARK} b"
        assert redact("late-secret-value-22") == "late-secret-value-22"
    assert redact("late-secret-value-22") == MARK


def test_a_rerun_served_from_the_cache_still_yields_to_the_loop_and_can_be_stopped(tmp_path, monkeypatch):
    """A cache hit awaits nothing; the runner must still give the loop a turn per sample, or a big
    cached rerun would be deaf to SIGTERM (a cancellation waits for an await) until its very end."""
    from harness.cache import cache_key
    from harness.providers.base import ProviderConfig
    from harness.providers.registry import create_provider
    from harness.runner import execute_run
    from harness.testing.loopback import LoopbackServer

    n = 300
    store, run_id, ids = _store(tmp_path, n=n)
    cache = ResponseCache(tmp_path / "cache.db")
    monkeypatch.setenv("CACHE_TEST_KEY", "sk-cache-test-0123456789")
    with LoopbackServer(api_key="sk-cache-test-0123456789") as srv:
        config = ProviderConfig(model="openai/m", label="a", base_url=srv.openai_base_url,
                                api_key_env="CACHE_TEST_KEY", stream=False)
        provider = create_provider(config)
        asyncio.run(provider.start())
        params = config.params.model_dump()
        cache.put_many([(cache_key(provider.identity(), s.prompt.messages, params, s.repeat), "a", _reply("42"))
                        for s in store.iter_pending(run_id, "a")])

        async def main():
            task = asyncio.create_task(execute_run(store, run_id, [create_provider(config)], ["contains"],
                                                   show_progress=False, cache=cache))
            while store.count_pending(run_id, "a") == n:    # the loop's turns, not a timed wait
                await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        asyncio.run(main())
        assert srv.requests == []                               # everything came from the cache
    stored = store.conn.execute("SELECT COUNT(*) FROM replies").fetchone()[0]
    assert 0 < stored < n
    assert store.conn.execute("SELECT status FROM run_providers").fetchone()[0] == "interrupted"
