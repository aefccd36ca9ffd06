"""Group commits: the replies that arrive together are stored in one transaction.

One transaction per reply cost an fsync each on the event loop's thread (issue 14's profile: 13-16%
of a run). The writer keeps each reply in a short buffer and commits the buffer at the end of the
current event-loop iteration (`loop.call_soon`), or at once when it holds `max_batch` replies (a
rerun answered from the cache never yields to the loop). So nothing waits on a timer: a reply is in
the store before the loop turns to anything else, a SIGKILL loses at most the requests in flight
(tests/test_resume.py proves it), and under load many replies share one commit. Response-cache
entries are written in the same flush, in one transaction on the cache's own file.

A failed commit is not swallowed: it is raised from the next `add` or from `close`, and the run stops
with the error rather than going on sending requests whose replies cannot be stored.
"""
from __future__ import annotations

import asyncio

from harness.cache import ResponseCache
from harness.store import Store
from harness.types import Reply, Score


class ReplyWriter:
    def __init__(self, store: Store, cache: ResponseCache | None = None, *, max_batch: int = 256) -> None:
        self.store, self.cache, self.max_batch = store, cache, max_batch
        self._replies: list[tuple[int, Reply, list[Score], float | None]] = []
        self._cached: list[tuple[str, str, Reply]] = []
        self._scheduled = False
        self._failure: BaseException | None = None
        self.commits = 0

    def add(self, sample_id: int, reply: Reply, scores: list[Score], cost_usd: float | None) -> None:
        self._raise_failure()
        self._replies.append((sample_id, reply, scores, cost_usd))
        self._schedule()

    def cache_put(self, key: str, provider: str, reply: Reply) -> None:
        if self.cache is not None:
            self._cached.append((key, provider, reply))
            self._schedule()

    def _schedule(self) -> None:
        if len(self._replies) + len(self._cached) >= self.max_batch:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_soon)

    def _flush_soon(self) -> None:
        self._scheduled = False
        try:
            self.flush()
        except Exception as err:   # a callback cannot raise into the run: keep it for the next add()
            self._failure = err

    def flush(self) -> None:
        """Commit everything buffered now (the cache entries first: a reply in the store whose cache
        entry was lost would only cost a request later; the other way round nothing is lost either)."""
        cached, self._cached = self._cached, []
        if cached and self.cache is not None:
            self.cache.put_many(cached)
        replies, self._replies = self._replies, []
        if replies:
            self.store.record_replies(replies)
            self.commits += 1

    def close(self) -> None:
        """Commit what is left; raise a failure an earlier background flush met."""
        self.flush()
        self._raise_failure()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure
