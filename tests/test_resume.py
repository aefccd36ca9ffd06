"""Reliability of `harness run` as a real process: SIGKILL at several points, resume, Ctrl-C, secrets.

The provider is the real OpenAI SDK talking to the loopback server; the request log tells exactly
what was sent, the store tells what was kept.
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import yaml

from harness.testing.loopback import LoopbackServer, Scripted
from tests.conftest import REPO

KEY = "sk-test-crash-0123456789abcdef"
N_PROMPTS = 40


def write_eval(tmp_path: Path, base_url: str, concurrency: int = 2) -> Path:
    suite = {"name": "numbers", "version": "1",
             "prompts": [{"id": f"p{i:02d}", "input": f"question number {i}", "target": f"answer {i}"}
                         for i in range(N_PROMPTS)]}
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    spec = {"name": "crash", "suites": ["suite.yaml"], "scorers": ["contains"],
            "providers": [{"model": "openai/loopback-model", "label": "loop", "base_url": base_url,
                           "api_key_env": "CRASH_TEST_KEY", "concurrency": concurrency,
                           "max_concurrency": concurrency, "stream": False}]}
    path = tmp_path / "eval.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def prompt_id_of(request) -> str:
    text = request.body["messages"][-1]["content"]
    return f"p{int(text.rsplit(' ', 1)[1]):02d}"


class CountingResponder:
    """Answers every request after a short delay and signals when the n-th request has arrived."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.phase = 0
        self.log: list[tuple[int, str]] = []  # (phase, prompt id)
        self.trigger_at: int | None = None
        self.triggered = threading.Event()

    def __call__(self, request) -> Scripted:
        pid = prompt_id_of(request)
        with self.lock:
            self.count += 1
            self.log.append((self.phase, pid))
            if self.trigger_at is not None and self.count >= self.trigger_at:
                self.triggered.set()
        return Scripted(text=f"answer {int(pid[1:])}", delay_s=0.03)


def popen(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "CRASH_TEST_KEY": KEY}
    return subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stored(db_path: Path) -> set[str]:
    db = sqlite3.connect(db_path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {r[0] for r in db.execute(
            "SELECT s.prompt_id FROM samples s JOIN replies p ON p.sample_id = s.id")}
    finally:
        db.close()


def test_sigkill_at_several_points_then_resume_sends_nothing_twice(tmp_path):
    results = tmp_path / "results"
    responder = CountingResponder()
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = responder
        eval_path = write_eval(tmp_path, srv.openai_base_url)
        completed_before: list[set[str]] = []
        run_id = None
        for phase, kill_at in enumerate((4, 14, 27)):
            responder.phase = phase
            responder.trigger_at = kill_at
            responder.triggered.clear()
            args = (("run", str(eval_path)) if run_id is None else ("run", "--resume", run_id)) + (
                "--results", str(results), "--no-progress", "--no-cache")
            proc = popen(*args)
            assert responder.triggered.wait(60), proc.communicate()
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            assert proc.returncode == -signal.SIGKILL
            if run_id is None:
                run_id = sqlite3.connect(results / "harness.db").execute("SELECT id FROM runs").fetchone()[0]
            completed_before.append(stored(results / "harness.db"))

        responder.phase = 3
        responder.trigger_at = None
        final = popen("run", "--resume", run_id, "--results", str(results), "--no-progress", "--no-cache")
        out, err = final.communicate(timeout=120)
        assert final.returncode == 0, err

    # No sample whose reply was stored before a kill was requested again in a later phase.
    for phase, done in enumerate(completed_before):
        later = {pid for p, pid in responder.log if p > phase}
        assert not (done & later), f"re-sent after phase {phase}: {sorted(done & later)}"
    assert len(completed_before[0]) < len(completed_before[1]) < len(completed_before[2]) < N_PROMPTS

    db = sqlite3.connect(results / "harness.db")
    per_sample = db.execute("SELECT s.prompt_id, COUNT(p.sample_id) FROM samples s LEFT JOIN replies p"
                            " ON p.sample_id = s.id GROUP BY s.id").fetchall()
    assert len(per_sample) == N_PROMPTS and all(n == 1 for _, n in per_sample)
    assert {r[0] for r in db.execute("SELECT outcome FROM replies")} == {"answered"}
    assert db.execute("SELECT status FROM runs").fetchone()[0] == "finished"
    # Every reply matches its own prompt (nothing crossed between samples during the crashes).
    for pid, text in db.execute("SELECT s.prompt_id, p.text FROM samples s JOIN replies p ON p.sample_id = s.id"):
        assert text == f"answer {int(pid[1:])}"
    # At most the requests in flight at each kill were lost and re-sent: concurrency 2 per kill.
    assert len(responder.log) <= N_PROMPTS + 3 * 2


def test_ctrl_c_stops_cleanly_and_prints_how_to_resume(tmp_path):
    results = tmp_path / "results"
    responder = CountingResponder()
    responder.trigger_at = 3
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = responder
        eval_path = write_eval(tmp_path, srv.openai_base_url, concurrency=1)
        proc = popen("run", str(eval_path), "--results", str(results), "--no-progress", "--no-cache")
        assert responder.triggered.wait(60)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "harness run --resume" in err
        # Starting the same eval afresh says that its last run is unfinished and how to finish it.
        again = popen("run", str(eval_path), "--results", str(results), "--no-progress", "--no-cache", "-n", "1")
        _, again_err = again.communicate(timeout=60)
        assert again.returncode == 0, again_err
        run_id = sqlite3.connect(results / "harness.db").execute(
            "SELECT id FROM runs ORDER BY created_at LIMIT 1").fetchone()[0]
        assert f"the last run of 'crash' ({run_id}) is interrupted" in again_err
    db = sqlite3.connect(results / "harness.db")
    assert db.execute("SELECT status FROM runs ORDER BY created_at LIMIT 1").fetchone()[0] == "interrupted"
    # The provider that was sending is not left saying `running` (issue 10, item 5).
    assert db.execute("SELECT status FROM run_providers WHERE run_id = ?", (run_id,)).fetchone()[0] == "interrupted"
    assert 0 < db.execute("SELECT COUNT(*) FROM replies JOIN samples ON samples.id = replies.sample_id"
                          " WHERE samples.run_id = ?", (run_id,)).fetchone()[0] < N_PROMPTS


def test_rerunning_a_finished_eval_makes_zero_provider_calls(tmp_path):
    results = tmp_path / "results"
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = lambda req: Scripted(text=f"answer {int(prompt_id_of(req)[1:])}")
        eval_path = write_eval(tmp_path, srv.openai_base_url, concurrency=4)
        first = popen("run", str(eval_path), "--results", str(results), "--no-progress")
        assert first.wait(120) == 0
        sent = len(srv.requests)
        assert sent == N_PROMPTS
        second = popen("run", str(eval_path), "--results", str(results), "--no-progress")
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
        assert len(srv.requests) == sent, "a re-run must be served from the cache"
        assert f"{N_PROMPTS} replies from the cache" in err
        assert f"{N_PROMPTS} replies came from the response cache" in out
        third = popen("run", str(eval_path), "--results", str(results), "--no-progress", "--no-cache")
        assert third.wait(120) == 0
        assert len(srv.requests) == 2 * N_PROMPTS


def test_no_file_written_by_a_run_contains_the_api_key(tmp_path):
    results = tmp_path / "results"
    with LoopbackServer(api_key=KEY) as srv:
        # Replies that echo the key and a failing provider whose error body quotes it.
        srv.push(Scripted(text=f"your key is {KEY}"), protocol="openai")
        srv.push(Scripted(kind="error", status=400, message=f"bad request for key {KEY}"), protocol="openai")
        srv.responder = lambda req: Scripted(text="fine")
        eval_path = write_eval(tmp_path, srv.openai_base_url, concurrency=1)
        run = popen("run", str(eval_path), "--results", str(results), "--no-progress")
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        export = popen("export", "--results", str(results), "--output", str(results / "export.jsonl"))
        assert export.wait(60) == 0
        compare = popen("compare", "--results", str(results), "--format", "markdown")
        cmp_out, cmp_err = compare.communicate(timeout=60)
    assert KEY not in out + err + cmp_out + cmp_err
    files = [p for p in results.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"harness.db", "cache.db", "export.jsonl"}
    for path in files:
        assert KEY.encode() not in path.read_bytes(), f"the key leaked into {path.name}"
    records = [json.loads(l) for l in (results / "export.jsonl").read_text().splitlines()]
    assert any("[REDACTED]" in (r["reply"]["text"] or "") + (r["reply"]["reason"] or "") for r in records)


URL_SECRET = "zz-url-secret-4242abcd"


def test_a_key_written_in_base_url_is_never_stored_nor_printed_and_resume_reads_it_back(tmp_path):
    """Issue 10, item 8: a key in base_url's query string (and, for storage, in its user part).
    Issue 22: a query string is refused before anything is written (every SDK appends its route after
    it, so every request 404ed), and the refusal never prints the key."""
    results = tmp_path / "results"
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = lambda req: Scripted(text=f"answer {int(prompt_id_of(req)[1:])}")
        eval_path = write_eval(tmp_path, srv.openai_base_url + f"?api-version=1&key={URL_SECRET}", concurrency=4)
        refused_query = popen("run", str(eval_path), "--results", str(results), "--no-progress")
        q_out, q_err = refused_query.communicate(timeout=120)
        assert refused_query.returncode == 2 and "query string" in q_err, q_err
        assert URL_SECRET not in q_out + q_err
        assert not results.exists() and not srv.requests
        eval_path = write_eval(tmp_path, srv.openai_base_url, concurrency=4)
        spec = yaml.safe_load(eval_path.read_text())
        spec["providers"].append({"model": "openai/other", "label": "userinfo", "api_key_env": "UNSET_URL_KEY",
                                  "base_url": f"http://user:{URL_SECRET}@127.0.0.1:9/v1"})
        eval_path.write_text(yaml.safe_dump(spec), encoding="utf-8")
        # First without the key: nothing is sent, every sample stays pending (exit 5).
        first = subprocess.run([sys.executable, "-m", "harness", "run", str(eval_path), "--results", str(results),
                                "--no-progress"], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                               capture_output=True, text=True, timeout=120)
        assert first.returncode == 5, first.stderr
        db = sqlite3.connect(results / "harness.db")
        run_id, spec_json = db.execute("SELECT id, spec_json FROM runs").fetchone()
        configs = dict(db.execute("SELECT label, config_json FROM run_providers"))
        assert URL_SECRET not in spec_json + "".join(configs.values())
        assert json.loads(configs["userinfo"])["base_url"] == "http://[REDACTED]@127.0.0.1:9/v1"
        db.close()
        # Resumed with the loop provider's key: its samples are answered; `userinfo` has none (exit 4).
        resumed = popen("run", "--resume", run_id, "-p", "loop", "--results", str(results), "--no-progress")
        out, err = resumed.communicate(timeout=120)
        assert resumed.returncode == 4, err
        assert len(srv.requests) == N_PROMPTS
    shown = [popen(*args).communicate(timeout=60) for args in (
            ("compare", "--results", str(results), "--format", "json"), ("runs", "--results", str(results)),
            ("export", "--results", str(results)))]
    printed = first.stdout + first.stderr + out + err + "".join(o + e for o, e in shown)
    assert URL_SECRET not in printed
    # The eval file now names another URL: the stored (redacted) one cannot be trusted to match it.
    eval_path.write_text(eval_path.read_text().replace("127.0.0.1:9/", "127.0.0.1:10/"), encoding="utf-8")
    refused = popen("run", "--resume", run_id, "--results", str(results), "--no-progress")
    r_out, r_err = refused.communicate(timeout=60)
    assert refused.returncode == 2 and "held a credential, which is never stored" in r_err, r_err
    assert URL_SECRET not in r_out + r_err
    for path in results.rglob("*"):
        if path.is_file():
            assert URL_SECRET.encode() not in path.read_bytes(), f"the URL's key leaked into {path.name}"


def test_redact_url_keeps_where_requests_went():
    from harness.redact import redact, redact_url

    assert redact_url("https://me:s3cret-pass@api.example.com:8443/v1?api-version=2024-06-01&api_key=abc123"
                      "&token=t0k&x=1") == \
        "https://[REDACTED]@api.example.com:8443/v1?api-version=2024-06-01&api_key=[REDACTED]&token=[REDACTED]&x=1"
    assert redact_url("http://127.0.0.1:11434/v1") == "http://127.0.0.1:11434/v1"
    assert redact("connection error to https://u:pw12345@host/v1?key=zzz&b=2") == \
        "connection error to https://[REDACTED]@host/v1?key=[REDACTED]&b=2"
