"""SQLite access for runs. The planned samples are written before any request is sent and every
reply is committed as soon as it arrives (the runner's ReplyWriter commits the replies that arrived
together in one transaction, before the event loop goes on), so nothing about a run lives only in
memory and a killed process loses at most the requests in flight.

Journal: WAL with `synchronous=NORMAL`. A commit is then a write() into the WAL without an fsync:
it survives the process being killed (SIGKILL, OOM killer, a crash), which is what resume relies on;
only a power loss or kernel crash can roll back the last commits, and the store stays consistent
either way (SQLite's documented guarantee for WAL + NORMAL). FULL cost an fsync per reply on the
event loop's thread, a sixth of a run's time in the issue 14 profile."""
from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness import __version__
from harness.problems import InputError
from harness.redact import redact_config
from harness.store.migrations import MIGRATIONS
from harness.types import Prompt, Reply, Score

DEFAULT_DB = Path("results") / "harness.db"


class StoreError(Exception):
    pass


class LeaseHeld(StoreError):
    """Another live process is executing this run (see Store.acquire_lease)."""


#: Seconds between two heartbeats of a lease, and how long a holder may stay silent before its lease
#: counts as stale (a holder on another host; or on this host, one whose process is alive but frozen).
LEASE_HEARTBEAT_S = float(os.environ.get("HARNESS_LEASE_HEARTBEAT_S", "5"))
LEASE_STALE_S = float(os.environ.get("HARNESS_LEASE_STALE_S", "60"))

_KEEP = object()   # set_provider: leave the note as it is


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


@dataclass(frozen=True)
class PlannedSample:
    id: int
    suite: str
    prompt: Prompt
    provider: str
    repeat: int


class Store:
    def __init__(self, path: str | Path = DEFAULT_DB) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, isolation_level=None)
        except (OSError, sqlite3.OperationalError) as err:
            raise InputError.single(self.path, f"cannot open the results store ({err}); "
                                    "choose a writable place with --results") from None
        self.conn.row_factory = sqlite3.Row
        try:
            self._prepare()
        except sqlite3.DatabaseError as err:
            self.conn.close()
            raise InputError.single(self.path, f"is not a usable results store ({err})") from None

    def _prepare(self) -> None:
        """WAL, foreign keys, the schema. Processes opening a new store at once (two runs started
        together) can meet SQLite's lock-upgrade deadlock while switching to WAL or migrating, which it
        reports as 'database is locked' at once, without waiting: retried, with a bounded backoff."""
        self.conn.execute("PRAGMA busy_timeout=5000")
        for attempt in range(1, 41):
            try:
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")
                self.conn.execute("PRAGMA foreign_keys=ON")
                self._migrate()
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or attempt == 40:
                    raise
                time.sleep(min(0.01 * attempt, 0.2))

    # -- schema ----------------------------------------------------------------------------------
    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(f"{self.path} has schema version {version}, newer than this harness knows "
                             f"({len(MIGRATIONS)}); upgrade the harness")
        for number in range(version + 1, len(MIGRATIONS) + 1):
            with self.transaction():
                # Another process may have applied it since the version was read (two runs starting at
                # once on a new store): read it again under the write lock.
                if self.conn.execute("PRAGMA user_version").fetchone()[0] >= number:
                    continue
                for statement in MIGRATIONS[number - 1].split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def transaction(self):
        return _Transaction(self.conn)

    def close(self) -> None:
        self.conn.close()

    # -- writing a run ---------------------------------------------------------------------------
    def create_run(self, *, eval_name: str, eval_path: str | None, spec: dict[str, Any], scorers: list[str],
                   repeats: int, suites: list[dict[str, Any]], providers: list[dict[str, Any]],
                   samples: list[tuple[str, Prompt, str, int]]) -> str:
        """Write the run and every planned sample (suite, prompt, provider label, repeat) at once."""
        run_id = new_run_id()
        # Never store a credential: a key written into a base_url (user part, query string) is redacted.
        # A resumed run gets such a URL back from the eval file (harness.cli.run).
        spec = redact_config(spec)
        providers = [{**p, "config": redact_config(p["config"])} for p in providers]
        with self.transaction():
            self.conn.execute(
                "INSERT INTO runs (id, eval_name, eval_path, spec_json, scorers_json, repeats, harness_version,"
                " created_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running')",
                (run_id, eval_name, eval_path, json.dumps(spec), json.dumps(scorers), repeats, __version__, _now()))
            self.conn.executemany(
                "INSERT INTO run_suites (run_id, name, version, content_hash, path, prompt_count) VALUES (?,?,?,?,?,?)",
                [(run_id, s["name"], s["version"], s["content_hash"], s["path"], s["prompt_count"]) for s in suites])
            self.conn.executemany(
                "INSERT INTO run_providers (run_id, label, model, config_json) VALUES (?,?,?,?)",
                [(run_id, p["label"], p["model"], json.dumps(p["config"])) for p in providers])
            self.conn.executemany(
                "INSERT INTO samples (run_id, suite, prompt_id, category, provider, repeat, prompt_json)"
                " VALUES (?,?,?,?,?,?,?)",
                _sample_rows(run_id, samples))
        return run_id

    def set_provider(self, run_id: str, label: str, *, status: str, identity: dict[str, Any] | None = None,
                     note: Any = _KEEP) -> None:
        """Set a provider's status; `note` replaces the stored note (None clears it; by default it is
        kept), so a provider that finishes on resume no longer says why it stopped before."""
        identity_json = json.dumps(redact_config(identity)) if identity is not None else None
        with self.transaction():
            if note is _KEEP:
                self.conn.execute(
                    "UPDATE run_providers SET status = ?, identity_json = COALESCE(?, identity_json)"
                    " WHERE run_id = ? AND label = ?", (status, identity_json, run_id, label))
            else:
                self.conn.execute(
                    "UPDATE run_providers SET status = ?, note = ?, identity_json = COALESCE(?, identity_json)"
                    " WHERE run_id = ? AND label = ?", (status, note, identity_json, run_id, label))

    def interrupt_providers(self, run_id: str) -> None:
        """After Ctrl-C or SIGTERM: no provider of the run is left saying `running`."""
        with self.transaction():
            self.conn.execute("UPDATE run_providers SET status = 'interrupted' WHERE run_id = ? AND status = 'running'",
                              (run_id,))

    def record_reply(self, sample_id: int, reply: Reply, scores: list[Score], cost_usd: float | None) -> None:
        """Store one reply and its scores in one transaction, replacing an earlier attempt's."""
        self.record_replies([(sample_id, reply, scores, cost_usd)])

    def record_replies(self, items: list[tuple[int, Reply, list[Score], float | None]]) -> None:
        """Store replies and their scores (sample id, reply, scores, cost) in one transaction, each
        replacing an earlier attempt's: all of them are stored, or none."""
        with self.transaction():
            self.insert_replies(items)

    def insert_replies(self, items: list[tuple[int, Reply, list[Score], float | None]]) -> None:
        """record_replies' statements, inside a transaction the caller holds (a conversation's last
        reply is stored in one transaction with its conversations row: harness/store/conversations.py)."""
        now = _now()
        self.conn.executemany("DELETE FROM scores WHERE sample_id = ?", [(item[0],) for item in items])
        self.conn.executemany(
            "INSERT OR REPLACE INTO replies (sample_id, outcome, text, reason, error_kind, finish_reason,"
            " input_tokens, output_tokens, latency_s, ttft_s, model_reported, attempts, cost_usd, raw_json,"
            " created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(sample_id, reply.outcome.value, reply.text, reply.reason,
              reply.error_kind.value if reply.error_kind else None, reply.finish_reason,
              reply.usage.input_tokens, reply.usage.output_tokens, reply.latency_s, reply.ttft_s,
              reply.model_reported, reply.attempts, cost_usd, json.dumps(reply.raw, default=str), now)
             for sample_id, reply, _, cost_usd in items])
        self.conn.executemany(
            "INSERT INTO scores (sample_id, scorer, passed, value, label, explanation, evidence, severity)"
            " VALUES (?,?,?,?,?,?,?,?)",
            [(sample_id, s.scorer, None if s.passed is None else int(s.passed), s.value, s.label,
              s.explanation, s.evidence, s.severity) for sample_id, _, scores, _ in items for s in scores])

    def finish_run(self, run_id: str, status: str) -> None:
        with self.transaction():
            self.conn.execute("UPDATE runs SET status = ?, finished_at = ? WHERE id = ?",
                              (status, _now() if status == "finished" else None, run_id))

    # -- one writer per run ---------------------------------------------------------------------
    def acquire_lease(self, run_id: str, *, heartbeat_s: float | None = None,
                      stale_after_s: float | None = None) -> "Lease":
        """Take the run's lease, or raise LeaseHeld naming the live holder. A lease is taken over when
        its holder is dead: on this host, its process is gone; on any host, its heartbeat is older
        than `stale_after_s`. Check and take happen in one write transaction, so of two processes
        racing for the same run exactly one wins."""
        heartbeat_s = LEASE_HEARTBEAT_S if heartbeat_s is None else heartbeat_s
        stale_after_s = LEASE_STALE_S if stale_after_s is None else stale_after_s
        token = secrets.token_hex(16)
        host, pid = socket.gethostname(), os.getpid()
        command = " ".join(["harness", *sys.argv[1:]])[:500]
        with self.transaction():
            row = self.conn.execute("SELECT * FROM run_leases WHERE run_id = ?", (run_id,)).fetchone()
            if row is not None:
                live, why = _lease_holder_alive(row, stale_after_s)
                if live:
                    age = time.time() - row["heartbeat_at"]
                    raise LeaseHeld(
                        f"run {run_id} is being executed by another process (pid {row['pid']} on {row['host']}, "
                        f"since {row['acquired_at'][:19]}, last heartbeat {age:.0f}s ago: {row['command']}); "
                        "two writers would send and pay for every pending sample twice. Wait for it to finish, "
                        f"or stop it (kill {row['pid']}) and resume again")
            self.conn.execute(
                "INSERT OR REPLACE INTO run_leases (run_id, token, pid, host, command, acquired_at, heartbeat_at)"
                " VALUES (?,?,?,?,?,?,?)", (run_id, token, pid, host, command, _now(), time.time()))
        lease = Lease(self.path, run_id, token, heartbeat_s, previous=None if row is None else why)
        lease.start()
        return lease

    def live_status(self, run: sqlite3.Row) -> str:
        """A run's status as it is now: `running` only while a live process holds its lease. A writer
        killed, or stopped by a full disk before it could write `interrupted`, leaves no phantom run."""
        if run["status"] != "running":
            return run["status"]
        lease = self.lease(run["id"])
        return "running" if lease is not None and _lease_holder_alive(lease, LEASE_STALE_S)[0] else "interrupted"

    def lease(self, run_id: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM run_leases WHERE run_id = ?", (run_id,)).fetchone()

    # -- reading ---------------------------------------------------------------------------------
    def run(self, run_id: str | None = None) -> sqlite3.Row:
        """A run by id or unique id prefix; the latest run when None."""
        if run_id is None:
            row = self.conn.execute("SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT 1").fetchone()
            if row is None:
                raise StoreError(f"no runs in {self.path}; start one with: harness run EVAL.yaml")
            return row
        rows = self.conn.execute("SELECT * FROM runs WHERE id LIKE ? || '%'", (run_id,)).fetchall()
        if len(rows) != 1:
            raise StoreError(f"{'no run' if not rows else 'several runs'} match {run_id!r} in {self.path}; "
                             "list them with: harness runs")
        return rows[0]

    def latest_run(self, eval_name: str) -> sqlite3.Row | None:
        """The latest run of an eval, without counting anyone's samples (runs() does, for every run)."""
        return self.conn.execute("SELECT * FROM runs WHERE eval_name = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
                                 (eval_name,)).fetchone()

    def runs(self) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT r.*, (SELECT COUNT(*) FROM samples s WHERE s.run_id = r.id) AS n_samples,"
            " (SELECT COUNT(*) FROM samples s JOIN replies p ON p.sample_id = s.id WHERE s.run_id = r.id) AS n_replies,"
            " (SELECT group_concat(label, ', ') FROM run_providers rp WHERE rp.run_id = r.id) AS providers"
            " FROM runs r ORDER BY created_at DESC, rowid DESC").fetchall()

    def run_suites(self, run_id: str) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM run_suites WHERE run_id = ? ORDER BY name", (run_id,)).fetchall()

    def run_providers(self, run_id: str) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM run_providers WHERE run_id = ? ORDER BY rowid", (run_id,)).fetchall()

    def pending_samples(self, run_id: str, provider: str, *, include_errors: bool = False) -> list[PlannedSample]:
        """Samples of a provider with no stored reply (and, if asked, those whose reply was an error)."""
        return list(self.iter_pending(run_id, provider, include_errors=include_errors))

    def reply_counts(self, run_id: str) -> dict[str, tuple[int, int]]:
        """{provider: (replies stored, of which errors)}: how far a run has got (worker progress)."""
        return {r[0]: (r[1], r[2] or 0) for r in self.conn.execute(
            "SELECT s.provider, COUNT(p.sample_id), SUM(p.outcome = 'error') FROM samples s"
            " JOIN replies p ON p.sample_id = s.id WHERE s.run_id = ? GROUP BY s.provider", (run_id,))}

    def count_pending(self, run_id: str, provider: str, *, include_errors: bool = False,
                      shard: tuple[int, int] | None = None) -> int:
        cond, args = _pending_condition(include_errors, shard)
        return self.conn.execute(
            "SELECT COUNT(*) FROM samples s LEFT JOIN replies p ON p.sample_id = s.id"
            f" WHERE s.run_id = ? AND s.provider = ? AND {cond}", (run_id, provider, *args)).fetchone()[0]

    def iter_pending(self, run_id: str, provider: str, *, include_errors: bool = False,
                     shard: tuple[int, int] | None = None, page: int = 256) -> Iterator[PlannedSample]:
        """The pending samples of a provider in id order, read a page at a time: a run of 100,000
        samples never holds more than a page of parsed prompts (the runner pulls them as it sends).
        Pages are read by id, so replies committed meanwhile neither repeat a sample nor hide one.
        `shard=(i, n)` keeps the samples whose id is i modulo n (one worker process's share)."""
        cond, args = _pending_condition(include_errors, shard)
        last = -1
        while True:
            rows = self.conn.execute(
                "SELECT s.id, s.suite, s.provider, s.repeat, s.prompt_json FROM samples s"
                " LEFT JOIN replies p ON p.sample_id = s.id"
                f" WHERE s.run_id = ? AND s.provider = ? AND s.id > ? AND {cond}"
                " ORDER BY s.id LIMIT ?", (run_id, provider, last, *args, page)).fetchall()
            if not rows:
                return
            for r in rows:
                yield PlannedSample(r[0], r[1], Prompt.model_validate_json(r[4]), r[2], r[3])
            last = rows[-1][0]

    def results(self, run_id: str) -> Iterator[sqlite3.Row]:
        """One row per sample, with its reply (NULL columns if none yet)."""
        return self.conn.execute(
            "SELECT s.id AS sample_id, s.suite, s.prompt_id, s.category, s.provider, s.repeat, s.prompt_json,"
            " p.outcome, p.text, p.reason, p.error_kind, p.finish_reason, p.input_tokens, p.output_tokens,"
            " p.latency_s, p.ttft_s, p.model_reported, p.attempts, p.cost_usd, p.raw_json, p.created_at"
            " FROM samples s LEFT JOIN replies p ON p.sample_id = s.id WHERE s.run_id = ? ORDER BY s.id",
            (run_id,))

    def result_facts(self, run_id: str, *, prompts: bool = False) -> Iterator[sqlite3.Row]:
        """Store.results without the reply text (and without the prompt unless asked): what the
        summaries count. At 100,000 samples, not reading every reply's text twice is seconds."""
        prompt = "s.prompt_json" if prompts else "NULL AS prompt_json"
        return self.conn.execute(
            f"SELECT s.id AS sample_id, s.suite, s.prompt_id, s.category, s.provider, s.repeat, {prompt},"
            " p.outcome, p.error_kind, p.reason, p.model_reported, p.input_tokens, p.output_tokens, p.latency_s,"
            " p.ttft_s, p.cost_usd, p.raw_json, trim(coalesce(p.text, ''), char(32, 9, 10, 13, 11, 12)) = ''"
            " AS text_blank"
            " FROM samples s LEFT JOIN replies p ON p.sample_id = s.id WHERE s.run_id = ? ORDER BY s.id", (run_id,))

    def scores(self, run_id: str) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT sc.* FROM scores sc JOIN samples s ON s.id = sc.sample_id WHERE s.run_id = ?"
            " ORDER BY sc.sample_id, sc.scorer", (run_id,)).fetchall()


def _sample_rows(run_id: str, samples: list) -> Iterator[tuple]:
    """Rows for the samples table, a generator (the rows are never all in memory at once). A prompt
    that several providers or repeats share is serialised once; with one provider and one repeat no
    such memo is kept (at 100,000 prompts it would hold tens of MB for nothing)."""
    shared = len({id(p) for _, p, _, _ in samples}) < len(samples)
    dumped: dict[int, str] = {}
    for suite, p, prov, rep in samples:
        text = dumped.get(id(p)) if shared else None
        if text is None:
            text = p.model_dump_json()
            if shared:
                dumped[id(p)] = text
        yield run_id, suite, p.id, p.category, prov, rep, text


def _pending_condition(include_errors: bool, shard: tuple[int, int] | None = None) -> tuple[str, tuple]:
    # A conversation that a provider error ended after some turns keeps its answered turns' outcome;
    # --retry-errors sends it again from the turn that failed (harness/runner/conversation.py).
    cond = "(p.sample_id IS NULL" + (" OR p.outcome = 'error' OR EXISTS (SELECT 1 FROM conversations c"
                                     " WHERE c.sample_id = s.id AND c.ended = 'error'))" if include_errors else ")")
    # A sample in a batch not yet collected is the provider's to answer: never sent live as well.
    cond += (" AND NOT EXISTS (SELECT 1 FROM batch_items bi JOIN batches b ON b.id = bi.batch_id"
             " WHERE bi.sample_id = s.id AND b.collected = 0)")
    if shard is None:
        return cond, ()
    return cond + " AND s.id % ? = ?", (shard[1], shard[0])


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":   # os.kill(pid, 0) would send CTRL_C_EVENT there: trust the heartbeat alone
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped by its parent) is dead
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def _lease_holder_alive(row: sqlite3.Row, stale_after_s: float) -> tuple[bool, str]:
    """(alive, why the lease is stale when not)."""
    age = time.time() - row["heartbeat_at"]
    if row["host"] == socket.gethostname():
        if row["pid"] == os.getpid():
            return False, "held by this very process"
        if not _pid_alive(row["pid"]):
            return False, f"its holder (pid {row['pid']}) is no longer running"
    if age > stale_after_s:
        return False, f"its holder (pid {row['pid']} on {row['host']}) sent no heartbeat for {age:.0f}s"
    return True, ""


class Lease:
    """A held run lease: a daemon thread refreshes its heartbeat (with its own connection, so a busy
    event loop cannot starve it). If the lease is found taken over (this process was frozen past the
    stale bound), `lost` is set and the runner stops sending."""

    def __init__(self, path: Path, run_id: str, token: str, heartbeat_s: float, previous: str | None = None) -> None:
        self.path, self.run_id, self.token, self.heartbeat_s = path, run_id, token, heartbeat_s
        self.previous = previous          # why an earlier holder's lease was taken over, if one was
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{run_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _beat(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=5)
        try:
            while not self._stop.wait(self.heartbeat_s):
                try:
                    cur = conn.execute("UPDATE run_leases SET heartbeat_at = ? WHERE run_id = ? AND token = ?",
                                       (time.time(), self.run_id, self.token))
                except sqlite3.Error:
                    continue   # busy: try again at the next beat
                if cur.rowcount == 0:
                    self.lost.set()
                    return
        finally:
            conn.close()

    def release(self) -> None:
        """Stop the heartbeat and delete the lease (only if it is still ours)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=10)
            try:
                conn.execute("DELETE FROM run_leases WHERE run_id = ? AND token = ?", (self.run_id, self.token))
            finally:
                conn.close()
        except sqlite3.Error:
            pass   # a stale lease is taken over by the next writer anyway

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


# -- scorings (harness rescore): added functions; the original scores in `scores` are never touched --

def create_scoring(store: Store, run_id: str, *, scorers: list[str], rules_version: str | None,
                   rules_hash: str | None, judge_reused: int, note: str | None,
                   scores: list[tuple[int, Score]]) -> int:
    """Write one scoring of a run (its description and every (sample id, score)) in one transaction;
    returns its id. Nothing is written if anything fails."""
    with store.transaction():
        cur = store.conn.execute(
            "INSERT INTO scorings (run_id, created_at, scorers_json, rules_version, rules_hash, harness_version,"
            " judge_reused, note) VALUES (?,?,?,?,?,?,?,?)",
            (run_id, _now(), json.dumps(scorers), rules_version, rules_hash, __version__, judge_reused, note))
        scoring_id = cur.lastrowid
        store.conn.executemany(
            "INSERT INTO scoring_scores (scoring_id, sample_id, scorer, passed, value, label, explanation, evidence,"
            " severity) VALUES (?,?,?,?,?,?,?,?,?)",
            [(scoring_id, sid, s.scorer, None if s.passed is None else int(s.passed), s.value, s.label,
              s.explanation, s.evidence, s.severity) for sid, s in scores])
    return scoring_id


def scorings(store: Store, run_id: str) -> list[sqlite3.Row]:
    """The rescorings of a run, oldest first (the original scoring is not listed: it is `scores`)."""
    return store.conn.execute("SELECT * FROM scorings WHERE run_id = ? ORDER BY id", (run_id,)).fetchall()


def scoring_scores(store: Store, scoring_id: int) -> list[sqlite3.Row]:
    """One scoring's scores, in the shape of Store.scores (sample_id, scorer, passed, value, ...)."""
    return store.conn.execute(
        "SELECT sample_id, scorer, passed, value, label, explanation, evidence, severity FROM scoring_scores"
        " WHERE scoring_id = ? ORDER BY sample_id, scorer", (scoring_id,)).fetchall()
