"""The response cache: a reply already paid for is never requested again.

The key covers everything that changes the answer: the provider's identity (kind, model, base URL;
for a local GGUF its sha256 and chat template), the messages, every generation parameter, and the
repeat index (so that repeats at temperature > 0 stay independent samples). Errors are never cached.
Entries expire after `ttl_s` (default 30 days): providers change models behind a fixed name.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from harness.store.db import StoreError
from harness.types import Message, Outcome, Reply


class CacheDamaged(StoreError):
    """A cache file SQLite cannot read (corrupt, truncated, not a database): exit 2 with the fix.
    A cache only saves requests, so the fix is always safe: clear it, or run without it."""

    def __init__(self, path: Path, err: BaseException, fix: str) -> None:
        super().__init__(f"{path} is damaged ({err}); {fix}")
        self.path = path


def is_damage(err: BaseException) -> bool:
    """Whether an SQLite error says the file itself is bad (not busy, not a full or failing disk)."""
    text = str(err).lower()
    return any(w in text for w in ("malformed", "not a database", "corrupt", "encrypted", "no such table"))


def damaged_response_cache(path: Path, err: BaseException) -> CacheDamaged:
    results = path.parent
    return CacheDamaged(path, err, f"clear it with: harness cache clear --results {results} "
                                   "(it only saves requests), or run with --no-cache")

DEFAULT_TTL_S = 30 * 24 * 3600
# Identity fields that change the answer; run-specific ones (a local path) are left out.
_IDENTITY_KEYS = ("provider", "model", "base_url", "api_version", "gguf_sha256", "chat_format", "chat_template",
                  "safety_settings", "n_ctx")


def cache_key(identity: dict[str, Any], messages: list[Message], params: dict[str, Any], repeat: int) -> str:
    payload = {
        "identity": {k: identity.get(k) for k in _IDENTITY_KEYS if identity.get(k) is not None},
        "messages": [m.model_dump() for m in messages],
        "params": params,
        "repeat": repeat,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class ResponseCache:
    def __init__(self, path: str | Path, ttl_s: float = DEFAULT_TTL_S) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.ttl_s = ttl_s
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            self.conn.execute("PRAGMA busy_timeout=5000")
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")   # survives a killed process; see harness/store/db.py
            self.conn.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, provider TEXT NOT NULL,"
                              " reply_json TEXT NOT NULL, created_at REAL NOT NULL)")
            self.conn.execute("SELECT key FROM responses LIMIT 1").fetchall()
        except sqlite3.DatabaseError as err:
            self.conn.close()
            if not is_damage(err):
                raise
            raise damaged_response_cache(self.path, err) from None
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Reply | None:
        try:
            row = self.conn.execute("SELECT reply_json, created_at FROM responses WHERE key = ?", (key,)).fetchone()
        except sqlite3.DatabaseError as err:
            if not is_damage(err):
                raise
            raise damaged_response_cache(self.path, err) from None
        if row is None or time.time() - row[1] > self.ttl_s:
            self.misses += 1
            return None
        self.hits += 1
        reply = Reply.model_validate_json(row[0])
        reply.raw = {**reply.raw, "cache": "hit"}
        return reply

    def put(self, key: str, provider: str, reply: Reply) -> None:
        self.put_many([(key, provider, reply)])

    def put_many(self, entries: list[tuple[str, str, Reply]]) -> None:
        """(key, provider, reply) entries in one transaction. Errors are skipped: an error is a fact
        about that moment, not an answer worth keeping."""
        now = time.time()
        rows = [(key, provider, reply.model_dump_json(), now) for key, provider, reply in entries
                if reply.outcome is not Outcome.ERROR]
        if rows:
            try:
                with self.conn:   # isolation_level=None: BEGIN/COMMIT by hand
                    self.conn.execute("BEGIN IMMEDIATE")
                    self.conn.executemany(
                        "INSERT OR REPLACE INTO responses (key, provider, reply_json, created_at) VALUES (?,?,?,?)",
                        rows)
            except sqlite3.DatabaseError as err:
                if not is_damage(err):
                    raise   # busy, or a full or failing disk: not the cache's fault; the run reports it
                raise damaged_response_cache(self.path, err) from None

    def stats(self) -> dict[str, Any]:
        """Entries, expired entries and bytes, in all and per provider; times as epoch seconds."""
        now = time.time()
        total, oldest, newest = self.conn.execute(
            "SELECT COUNT(*), MIN(created_at), MAX(created_at) FROM responses").fetchone()
        expired = self.conn.execute("SELECT COUNT(*) FROM responses WHERE created_at < ?",
                                    (now - self.ttl_s,)).fetchone()[0]
        rows = self.conn.execute(
            "SELECT provider, COUNT(*), SUM(created_at < ?), MIN(created_at), MAX(created_at),"
            " SUM(LENGTH(CAST(reply_json AS BLOB))) FROM responses GROUP BY provider ORDER BY provider",
            (now - self.ttl_s,)).fetchall()
        return {"path": str(self.path), "entries": total, "expired": expired,
                "by_provider": {r[0]: r[1] for r in rows},
                "providers": [{"provider": r[0], "entries": r[1], "expired": r[2] or 0, "oldest": r[3],
                               "newest": r[4], "reply_bytes": r[5] or 0} for r in rows],
                "oldest": oldest, "newest": newest, "ttl_s": self.ttl_s,
                "bytes": self.path.stat().st_size if self.path.exists() else 0}

    def clear(self, older_than_s: float | None = None) -> int:
        if older_than_s is None:
            cur = self.conn.execute("DELETE FROM responses")
        else:
            cur = self.conn.execute("DELETE FROM responses WHERE created_at < ?", (time.time() - older_than_s,))
        return cur.rowcount

    def close(self) -> None:
        self.conn.close()
