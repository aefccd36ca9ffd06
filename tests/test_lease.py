"""One writer per run (issue 10, item 4): a run being executed holds a lease in the store; a second
writer is refused with a clear message (exit 7) and sends nothing; a lease whose holder is dead is
taken over; separate runs in one results directory still run in parallel.

Real `python -m harness` processes against the loopback server; every wait is on observable state
(a request held by the server, a row in the store, a process exit), bounded.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from harness.cli.run import EXIT_LOCKED
from harness.store import LeaseHeld, Store
from harness.testing.loopback import LoopbackServer, Scripted
from tests.conftest import REPO

KEY = "sk-test-lease-0123456789abcdef"
N = 12


def write_eval(tmp_path: Path, base_url: str, name: str = "lease", concurrency: int = 2) -> Path:
    suite = {"name": f"{name}-suite", "version": "1",
             "prompts": [{"id": f"p{i:02d}", "input": f"{name} question {i}", "target": f"answer {i}"}
                         for i in range(N)]}
    (tmp_path / f"{name}.suite.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    spec = {"name": name, "suites": [f"{name}.suite.yaml"], "scorers": ["contains"],
            "providers": [{"model": "openai/loopback-model", "label": "loop", "base_url": base_url,
                           "api_key_env": "LEASE_TEST_KEY", "concurrency": concurrency,
                           "max_concurrency": concurrency, "stream": False}]}
    path = tmp_path / f"{name}.eval.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


class Gate:
    """Holds every request until opened; counts requests per prompt text."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: Counter[str] = Counter()
        self.open = threading.Event()

    def __call__(self, request) -> Scripted:
        text = request.body["messages"][-1]["content"]
        with self.lock:
            self.seen[text] += 1
        self.open.wait(60)
        return Scripted(text=f"answer {text.rsplit(' ', 1)[1]}")

    def count(self, prefix: str = "") -> int:
        with self.lock:
            return sum(n for t, n in self.seen.items() if t.startswith(prefix))


def popen(*args: str, key: str | None = KEY) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("LEASE_TEST_KEY", None)
    if key:
        env["LEASE_TEST_KEY"] = key
    return subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)   # polling interval of a bounded wait on observable state


def lease_rows(results: Path) -> list[tuple]:
    try:
        conn = sqlite3.connect(results / "harness.db")
        try:
            return conn.execute("SELECT run_id, pid FROM run_leases").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return []


def planned_run(tmp_path: Path, results: Path, base_url: str) -> str:
    """A run with every sample pending: started with no key, so nothing was sent (exit 5)."""
    first = popen("run", str(write_eval(tmp_path, base_url)), "-r", str(results), "--no-progress", key=None)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 5, err
    return sqlite3.connect(results / "harness.db").execute("SELECT id FROM runs").fetchone()[0]


def test_two_resumes_at_once_one_is_refused_and_nothing_is_sent_twice(tmp_path):
    results = tmp_path / "r"
    gate = Gate()
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = gate
        run_id = planned_run(tmp_path, results, srv.openai_base_url)
        args = ("run", "--resume", run_id, "-r", str(results), "--no-progress", "--no-cache")
        a, b = popen(*args), popen(*args)
        # The loser exits on its own while the winner is held at the gate by its requests in flight.
        wait_for(lambda: a.poll() is not None or b.poll() is not None, what="one writer to be refused")
        loser, winner = (a, b) if a.poll() is not None else (b, a)
        lose_out, lose_err = loser.communicate(timeout=30)
        assert loser.returncode == EXIT_LOCKED == 7, lose_err
        assert f"run {run_id} is being executed by another process (pid {winner.pid}" in lose_err
        assert "Traceback" not in lose_err
        assert lease_rows(results) == [(run_id, winner.pid)]
        gate.open.set()
        out, err = winner.communicate(timeout=120)
    assert winner.returncode == 0, err
    assert sorted(gate.seen.values()) == [1] * N, "every sample sent exactly once"
    assert lease_rows(results) == [], "the lease is released when the run ends"


def test_lease_of_a_killed_writer_is_taken_over(tmp_path):
    results = tmp_path / "r"
    gate = Gate()
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = gate
        run_id = planned_run(tmp_path, results, srv.openai_base_url)
        args = ("run", "--resume", run_id, "-r", str(results), "--no-progress", "--no-cache")
        first = popen(*args)
        wait_for(lambda: (first.poll() is None or pytest.fail(str(first.communicate())))
                 and gate.count() >= 2 and bool(lease_rows(results)), what="the first writer sending")
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        assert lease_rows(results) == [(run_id, first.pid)], "a killed writer leaves its lease behind"
        gate.open.set()
        second = popen(*args)
        out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert f"took over run {run_id}: its holder (pid {first.pid}) is no longer running" in err
    assert lease_rows(results) == []
    conn = sqlite3.connect(results / "harness.db")
    assert conn.execute("SELECT COUNT(*) FROM replies").fetchone()[0] == N
    assert conn.execute("SELECT status FROM runs").fetchone()[0] == "finished"


def test_separate_runs_in_one_results_directory_run_in_parallel(tmp_path):
    results = tmp_path / "r"
    gate = Gate()
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = gate
        procs = [popen("run", str(write_eval(tmp_path, srv.openai_base_url, name=name)), "-r", str(results),
                       "--no-progress", "--no-cache") for name in ("alpha", "beta")]
        # Both hold a lease and have requests in flight at the same time.
        def both_executing() -> bool:
            for p in procs:
                assert p.poll() is None, p.communicate()   # neither may end (or be refused) while held
            return len(lease_rows(results)) == 2 and gate.count("alpha") > 0 and gate.count("beta") > 0

        wait_for(both_executing, what="both runs executing")
        gate.open.set()
        done = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in done]
    assert sorted(gate.seen.values()) == [1] * (2 * N)


@pytest.fixture
def store_with_run(tmp_path):
    store = Store(tmp_path / "harness.db")
    run_id = store.create_run(eval_name="e", eval_path=None, spec={}, scorers=[], repeats=1, suites=[],
                              providers=[], samples=[])
    yield store, run_id
    store.close()


def _put_lease(store: Store, run_id: str, *, pid: int, host: str, heartbeat_at: float) -> None:
    store.conn.execute("INSERT OR REPLACE INTO run_leases (run_id, token, pid, host, command, acquired_at,"
                       " heartbeat_at) VALUES (?, 'their-token', ?, ?, 'harness run', '2026-12-01T00:00:00', ?)",
                       (run_id, pid, host, heartbeat_at))


def test_a_holder_on_another_host_is_trusted_while_its_heartbeat_is_fresh(store_with_run):
    store, run_id = store_with_run
    _put_lease(store, run_id, pid=1, host="another-host", heartbeat_at=time.time())
    with pytest.raises(LeaseHeld, match="pid 1 on another-host"):
        store.acquire_lease(run_id, stale_after_s=60)
    _put_lease(store, run_id, pid=1, host="another-host", heartbeat_at=time.time() - 3600)
    lease = store.acquire_lease(run_id, stale_after_s=60)
    try:
        assert "sent no heartbeat for 3600s" in lease.previous
        assert store.lease(run_id)["token"] == lease.token
    finally:
        lease.release()
    assert store.lease(run_id) is None


def test_a_live_process_on_this_host_is_trusted_and_a_dead_one_is_not(store_with_run):
    import socket

    store, run_id = store_with_run
    sleeper = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        _put_lease(store, run_id, pid=sleeper.pid, host=socket.gethostname(), heartbeat_at=time.time())
        with pytest.raises(LeaseHeld, match=f"pid {sleeper.pid}"):
            store.acquire_lease(run_id)
    finally:
        sleeper.stdin.close()
        sleeper.wait(30)
    lease = store.acquire_lease(run_id)   # the same pid, now dead
    try:
        assert f"pid {sleeper.pid}) is no longer running" in lease.previous
    finally:
        lease.release()


def test_heartbeat_advances_and_a_holder_that_lost_its_lease_knows(store_with_run):
    store, run_id = store_with_run
    lease = store.acquire_lease(run_id, heartbeat_s=0.02)
    try:
        first = store.lease(run_id)["heartbeat_at"]
        wait_for(lambda: store.lease(run_id)["heartbeat_at"] > first, timeout=10, what="a heartbeat")
        # Another writer took the run over (this holder looked dead): the holder's next beat finds out.
        store.conn.execute("UPDATE run_leases SET token = 'someone-else' WHERE run_id = ?", (run_id,))
        assert lease.lost.wait(10)
    finally:
        lease.release()
    assert store.lease(run_id)["token"] == "someone-else", "release never deletes another writer's lease"


def test_a_store_of_schema_1_gets_the_lease_table_by_migration(tmp_path):
    from harness.store.migrations import MIGRATIONS

    conn = sqlite3.connect(tmp_path / "harness.db")
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO runs (id, eval_name, spec_json, scorers_json, repeats, harness_version, created_at,"
                 " status) VALUES ('old-run', 'e', '{}', '[]', 1, '0', '2026-01-01', 'incomplete')")
    conn.commit()
    conn.close()
    store = Store(tmp_path / "harness.db")
    try:
        assert store.schema_version == len(MIGRATIONS) >= 2
        with store.acquire_lease("old-run") as lease:
            assert store.lease("old-run")["pid"] == os.getpid() and lease.previous is None
        assert store.lease("old-run") is None
    finally:
        store.close()


def test_writers_opening_a_new_store_at_once_each_migrate_it_safely(tmp_path):
    """Two runs started at once on a new results directory: each re-reads the schema version under the
    write lock, so neither applies a migration the other has just applied."""
    from harness.store.migrations import MIGRATIONS

    errors: list[BaseException] = []
    for attempt in range(10):
        path = tmp_path / f"new{attempt}" / "harness.db"
        barrier = threading.Barrier(12)

        def open_store() -> None:
            try:
                barrier.wait(10)
                Store(path).close()
            except BaseException as err:   # collected: an exception in a thread would pass silently
                errors.append(err)

        threads = [threading.Thread(target=open_store) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors, errors
        assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
