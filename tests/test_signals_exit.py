"""Exit codes that tell the truth, and SIGTERM handled like Ctrl-C (issue 10, items 5 and 6).

Every run here is a real `python -m harness` process talking to the loopback server through the real
SDK. Nothing sleeps to synchronise: the tests wait on a request seen by the server or a row in the
store, with a bounded wait.
"""
from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import yaml

from harness.cli.run import (EXIT_ERROR_RATE, EXIT_INCOMPLETE, EXIT_NOTHING_MEASURED, EXIT_OK, EXIT_SIGTERM,
                             EXIT_THRESHOLD, run_verdict)
from harness.report.summary import ALL, Group
from harness.testing.loopback import LoopbackServer, Scripted
from tests.conftest import REPO

KEY = "sk-test-exit-codes-0123456789"
N = 20
FAST_RETRY = {"max_attempts": 1, "base_delay_s": 0.01, "max_delay_s": 0.01, "max_total_wait_s": 0}


def write_eval(tmp_path: Path, providers: list[dict], thresholds: dict | None = None, n: int = N) -> Path:
    suite = {"name": "nums", "version": "1",
             "prompts": [{"id": f"p{i:02d}", "input": f"question number {i}", "target": f"answer {i}"}
                         for i in range(n)]}
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    spec = {"name": "exits", "suites": ["suite.yaml"], "scorers": ["contains"], "providers": providers}
    if thresholds:
        spec["thresholds"] = thresholds
    path = tmp_path / "eval.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def openai_entry(base_url: str, label: str = "loop", key_env: str = "EXIT_TEST_KEY", **extra) -> dict:
    return {"model": "openai/loopback-model", "label": label, "base_url": base_url, "api_key_env": key_env,
            "stream": False, "retry": FAST_RETRY, **extra}


def number(request) -> int:
    return int(request.body["messages"][-1]["content"].rsplit(" ", 1)[1])


def answer(request) -> Scripted:
    return Scripted(text=f"answer {number(request)}")


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


def harness(*args: str, **env_extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=REPO, env=env(**env_extra),
                          capture_output=True, text=True, timeout=120)


def popen(*args: str, **env_extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=REPO, env=env(**env_extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def dead_url() -> str:
    """A loopback port with nothing listening (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def db(results: Path) -> sqlite3.Connection:
    return sqlite3.connect(results / "harness.db")


# -- exit codes --------------------------------------------------------------------------------------

def test_every_provider_skipped_is_nothing_measured_not_success(tmp_path):
    """No key anywhere: 0 requests sent. This used to exit 0."""
    eval_path = write_eval(tmp_path, [openai_entry("http://127.0.0.1:9/v1", key_env="UNSET_EXIT_KEY_1"),
                                      openai_entry("http://127.0.0.1:9/v1", label="two", key_env="UNSET_EXIT_KEY_2")])
    done = harness("run", str(eval_path), "-r", str(tmp_path / "r"), "--no-progress")
    assert done.returncode == EXIT_NOTHING_MEASURED == 5, done.stderr
    assert "0 requests sent" in done.stderr
    banner = done.stderr[done.stderr.index("NOTHING MEASURED"):]
    assert "[exit 5]" in banner and "loop:" in banner and "two:" in banner and "UNSET_EXIT_KEY_1" in banner


def test_revoked_key_is_nothing_measured(tmp_path):
    """A rejected key stops the provider after its first failure: 1 error, the rest pending."""
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = answer
        eval_path = write_eval(tmp_path, [openai_entry(srv.openai_base_url, concurrency=1)])
        done = harness("run", str(eval_path), "-r", str(tmp_path / "r"), "--no-progress", "--no-cache",
                       EXIT_TEST_KEY="sk-test-revoked-key-000000")
    assert done.returncode == EXIT_NOTHING_MEASURED, done.stderr
    assert "stopped after auth error" in done.stderr[done.stderr.index("NOTHING MEASURED"):]


def test_dead_url_is_nothing_measured(tmp_path):
    eval_path = write_eval(tmp_path, [openai_entry(dead_url(), concurrency=4)], n=4)
    done = harness("run", str(eval_path), "-r", str(tmp_path / "r"), "--no-progress", "--no-cache",
                   EXIT_TEST_KEY=KEY)
    assert done.returncode == EXIT_NOTHING_MEASURED, done.stderr
    assert db(tmp_path / "r").execute("SELECT COUNT(*) FROM replies WHERE outcome = 'error'").fetchone()[0] == 4


def test_pending_samples_exit_incomplete(tmp_path):
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = answer
        eval_path = write_eval(tmp_path, [openai_entry(srv.openai_base_url),
                                          openai_entry(srv.openai_base_url, label="nokey", key_env="UNSET_EXIT_KEY_3")])
        done = harness("run", str(eval_path), "-r", str(tmp_path / "r"), "--no-progress", "--no-cache",
                       EXIT_TEST_KEY=KEY)
    assert done.returncode == EXIT_INCOMPLETE == 4, done.stderr
    banner = done.stderr[done.stderr.index("INCOMPLETE"):]
    assert f"nokey: {N} of {N} pending" in banner and "harness run --resume" in banner


def test_error_rate_over_the_default_bound_exits_6_and_can_be_raised(tmp_path):
    """Every third prompt fails with a 500 (no retries): 7 of 20 errors = 35% > 20%."""
    def responder(request):
        return Scripted(kind="error", status=500) if number(request) % 3 == 0 else answer(request)

    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = responder
        eval_path = write_eval(tmp_path, [openai_entry(srv.openai_base_url)])
        over = harness("run", str(eval_path), "-r", str(tmp_path / "r"), "--no-progress", "--no-cache",
                       EXIT_TEST_KEY=KEY)
        raised = harness("run", str(eval_path), "-r", str(tmp_path / "r"), "--no-progress", "--no-cache",
                         "--max-error-rate", "0.5", EXIT_TEST_KEY=KEY)
        gated = write_eval(tmp_path, [openai_entry(srv.openai_base_url)], thresholds={"error_rate": {"max": 0.5}})
        own_threshold = harness("run", str(gated), "-r", str(tmp_path / "r"), "--no-progress", "--no-cache",
                                EXIT_TEST_KEY=KEY)
    assert over.returncode == EXIT_ERROR_RATE == 6, over.stderr
    assert "TOO MANY ERRORS" in over.stderr and "7 errors of 20 replies" in over.stderr
    assert raised.returncode == EXIT_OK, raised.stderr
    assert own_threshold.returncode == EXIT_OK, own_threshold.stderr   # the eval's own bound replaces the default


def _report(groups: list[Group], statuses: dict[str, str]):
    """The parts of a RunReport that run_verdict reads."""
    return SimpleNamespace(run_id="r1", groups=groups,
                           providers=[{"label": k, "status": v, "note": None} for k, v in statuses.items()])


def test_run_verdict_order_and_thresholds():
    ok = Group("a", ALL, planned=10, answered=10)
    assert run_verdict(_report([ok], {"a": "finished"}), {}, 0.2) == (EXIT_OK, [])
    all_errors = Group("b", ALL, planned=10, errors=10)
    assert run_verdict(_report([all_errors], {"b": "finished"}), {}, 0.2)[0] == EXIT_NOTHING_MEASURED
    # one provider fine, another all errors: the error bound catches it (no longer exit 0)
    assert run_verdict(_report([ok, all_errors], {"a": "finished", "b": "finished"}), {}, 0.2)[0] == EXIT_ERROR_RATE
    # ... unless the eval file states its own error_rate threshold (then exit 3 comes from the thresholds)
    assert run_verdict(_report([ok, all_errors], {"a": "finished", "b": "finished"}),
                       {"error_rate": {"max": 0.5}}, 0.2)[0] == EXIT_OK
    pending = Group("c", ALL, planned=10, answered=10 - 3, errors=3)
    assert run_verdict(_report([pending], {"c": "finished"}), {}, 0.2)[0] == EXIT_ERROR_RATE
    half = Group("d", ALL, planned=10, answered=5)
    code, lines = run_verdict(_report([ok, half], {"a": "finished", "d": "stopped"}), {}, 0.2)
    assert code == EXIT_INCOMPLETE and "d: 5 of 10 pending (stopped)" in lines[1]
    assert EXIT_THRESHOLD == 3


def test_providers_check_answers_within_seconds_with_its_own_retry_budget(tmp_path):
    """A server that always says 503, and one that never answers: the run's policy would retry six times
    with up to two minutes of waits; --check makes at most 2 attempts and gives up on a hang."""
    (tmp_path / "s.yaml").write_text("name: s\nprompts:\n  - {id: a, input: hi}\n", encoding="utf-8")
    with LoopbackServer(api_key=KEY) as busy, LoopbackServer(api_key=KEY) as hung:
        busy.responder = lambda req: Scripted(kind="error", status=503)
        hung.responder = lambda req: Scripted(kind="hang", delay_s=60)
        spec = {"name": "chk", "suites": ["s.yaml"], "providers": [
            {"model": "openai/m", "label": "busy", "base_url": busy.openai_base_url, "api_key_env": "CHK_KEY"},
            {"model": "openai/m", "label": "hung", "base_url": hung.openai_base_url, "api_key_env": "CHK_KEY"}]}
        (tmp_path / "e.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
        start = time.monotonic()
        done = harness("providers", str(tmp_path / "e.yaml"), "--check", CHK_KEY=KEY)
        elapsed = time.monotonic() - start
        busy_attempts = len(busy.requests)
    assert done.returncode == 1 and "check failed for: busy, hung" in done.stderr, done.stderr
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines()
            if line.startswith("│") and line.split("│")[1].strip() in ("busy", "hung")}
    assert "error" in rows["busy"] and "error" in rows["hung"], done.stdout
    assert busy_attempts == 2
    assert elapsed < 30, f"--check took {elapsed:.1f}s"   # process start and imports included


# -- SIGTERM and Ctrl-C ------------------------------------------------------------------------------

class Gate:
    """Answers the first `free` requests at once, then holds every later one until opened."""

    def __init__(self, free: int) -> None:
        self.free = free
        self.lock = threading.Lock()
        self.seen: list[int] = []
        self.held = threading.Event()   # set once a request is being held
        self.open = threading.Event()

    def __call__(self, request) -> Scripted:
        with self.lock:
            self.seen.append(number(request))
            hold = len(self.seen) > self.free
        if hold:
            self.held.set()
            self.open.wait(60)
        return answer(request)


def wait_for(predicate, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)   # polling interval of a bounded wait on observable state, not synchronisation


def stored_replies(results: Path) -> int:
    try:
        return db(results).execute("SELECT COUNT(*) FROM replies").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_sigterm_stops_keeps_replies_marks_interrupted_and_resume_finishes(tmp_path):
    results = tmp_path / "r"
    gate = Gate(free=5)
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = gate
        eval_path = write_eval(tmp_path, [openai_entry(srv.openai_base_url, concurrency=2, max_concurrency=2)])
        proc = popen("run", str(eval_path), "-r", str(results), "--no-progress", "--no-cache", EXIT_TEST_KEY=KEY)
        assert gate.held.wait(60), proc.communicate()
        wait_for(lambda: stored_replies(results) >= 5, what="5 stored replies")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        sent_before = len(gate.seen)
        gate.open.set()
        assert proc.returncode == EXIT_SIGTERM == 143, err
        assert "terminated (SIGTERM)" in err and "harness run --resume" in err
        conn = db(results)
        run_id, status = conn.execute("SELECT id, status FROM runs").fetchone()
        assert status == "interrupted"
        assert conn.execute("SELECT status FROM run_providers").fetchone()[0] == "interrupted"
        kept = conn.execute("SELECT COUNT(*) FROM replies").fetchone()[0]
        assert 5 <= kept < N
        assert sent_before <= 5 + 2, "stopped sending: at most the requests in flight"

        resumed = harness("run", "--resume", run_id, "-r", str(results), "--no-progress", "--no-cache",
                          EXIT_TEST_KEY=KEY)
    assert resumed.returncode == 0, resumed.stderr
    conn = db(results)
    assert conn.execute("SELECT status FROM runs").fetchone()[0] == "finished"
    assert conn.execute("SELECT status, note FROM run_providers").fetchone() == ("finished", None)
    assert conn.execute("SELECT COUNT(*) FROM replies").fetchone()[0] == N


def test_sigterm_with_only_a_request_in_flight_exits_143_without_traceback(tmp_path):
    """SIGTERM while the first request is still unanswered: nothing stored, nothing left `running`."""
    gate = Gate(free=0)
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = gate
        eval_path = write_eval(tmp_path, [openai_entry(srv.openai_base_url, concurrency=1)])
        proc = popen("run", str(eval_path), "-r", str(tmp_path / "r"), "--no-progress", "--no-cache",
                     EXIT_TEST_KEY=KEY)
        assert gate.held.wait(60), proc.communicate()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        gate.open.set()
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert db(tmp_path / "r").execute("SELECT status FROM run_providers").fetchone()[0] == "interrupted"


def test_resumed_run_that_finishes_no_longer_says_stopped_after_auth_error(tmp_path):
    results = tmp_path / "r"
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = answer
        eval_path = write_eval(tmp_path, [openai_entry(srv.openai_base_url, concurrency=1)])
        first = harness("run", str(eval_path), "-r", str(results), "--no-progress", "--no-cache",
                        EXIT_TEST_KEY="sk-test-revoked-key-000000")
        assert first.returncode == EXIT_NOTHING_MEASURED, first.stderr
        run_id = db(results).execute("SELECT id FROM runs").fetchone()[0]
        assert "stopped after auth error" in db(results).execute("SELECT note FROM run_providers").fetchone()[0]
        second = harness("run", "--resume", run_id, "--retry-errors", "-r", str(results), "--no-progress",
                         "--no-cache", EXIT_TEST_KEY=KEY)
        shown = harness("compare", run_id, "-r", str(results))
    assert second.returncode == 0, second.stderr
    assert db(results).execute("SELECT status, note FROM run_providers").fetchone() == ("finished", None)
    assert "stopped after" not in second.stdout + second.stderr + shown.stdout
