"""`harness run --workers N`: one run over N worker processes sharing its store (harness/runner/workers.py).

Real processes, the real OpenAI SDK and the loopback server: the request log tells what was sent."""
from __future__ import annotations

import signal
import sqlite3
from collections import Counter

from harness.testing.loopback import LoopbackServer, Scripted
from tests.test_resume import KEY, N_PROMPTS, CountingResponder, popen, prompt_id_of, write_eval


def test_workers_share_a_run_each_sample_sent_once_and_the_cache_serves_them_all(tmp_path):
    results = tmp_path / "results"
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = lambda req: Scripted(text=f"answer {int(prompt_id_of(req)[1:])}", delay_s=0.01)
        eval_path = write_eval(tmp_path, srv.openai_base_url, concurrency=4)
        run = popen("run", str(eval_path), "--results", str(results), "--no-progress", "--workers", "3")
        out, err = run.communicate(timeout=180)
        assert run.returncode == 0, err
        sent = Counter(prompt_id_of(r) for r in srv.requests)
        assert len(sent) == N_PROMPTS and set(sent.values()) == {1}, "every sample sent exactly once"
        assert f"{N_PROMPTS} requests sent" in err and "3 worker processes" in err
        # A rerun in workers is served from the shared cache: nothing sent.
        again = popen("run", str(eval_path), "--results", str(results), "--no-progress", "--workers", "2")
        out2, err2 = again.communicate(timeout=180)
        assert again.returncode == 0, err2
        assert len(srv.requests) == N_PROMPTS
        assert f"{N_PROMPTS} replies from the cache" in err2
    db = sqlite3.connect(results / "harness.db")
    assert [r[0] for r in db.execute("SELECT status FROM runs")] == ["finished", "finished"]
    assert {r[0] for r in db.execute("SELECT status FROM run_providers")} == {"finished"}
    assert db.execute("SELECT COUNT(*) FROM run_leases").fetchone()[0] == 0
    for pid, text in db.execute("SELECT s.prompt_id, p.text FROM samples s JOIN replies p ON p.sample_id = s.id"):
        assert text == f"answer {int(pid[1:])}"    # nothing crossed between samples or workers


def test_sigterm_stops_every_worker_and_resume_sends_only_what_is_left(tmp_path):
    results = tmp_path / "results"
    responder = CountingResponder()
    responder.trigger_at = 8
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = responder
        eval_path = write_eval(tmp_path, srv.openai_base_url, concurrency=2)
        run = popen("run", str(eval_path), "--results", str(results), "--no-progress", "--no-cache", "--workers", "2")
        assert responder.triggered.wait(60), run.communicate()
        run.send_signal(signal.SIGTERM)
        out, err = run.communicate(timeout=60)
        assert run.returncode == 143, err
        db = sqlite3.connect(results / "harness.db")
        assert db.execute("SELECT status FROM runs").fetchone()[0] == "interrupted"
        assert db.execute("SELECT status FROM run_providers").fetchone()[0] == "interrupted"
        stored = {r[0] for r in db.execute("SELECT s.prompt_id FROM samples s JOIN replies p ON p.sample_id = s.id")}
        assert 0 < len(stored) < N_PROMPTS
        with responder.lock:
            before = len(responder.log)
        responder.phase = 1
        run_id = db.execute("SELECT id FROM runs").fetchone()[0]
        resume = popen("run", "--resume", run_id, "--results", str(results), "--no-progress", "--no-cache",
                       "--workers", "2")
        out, err = resume.communicate(timeout=120)
        assert resume.returncode == 0, err
    later = {pid for phase, pid in responder.log if phase == 1}
    assert not (stored & later), "a stored reply was requested again"
    # No worker went on sending after the stop: what came later is exactly what was missing.
    assert later == {f"p{i:02d}" for i in range(N_PROMPTS)} - stored
    assert before <= len(stored) + 2 * 2      # at most the requests in flight of both workers were lost


def test_a_shard_refuses_to_run_outside_its_parents_lease(tmp_path):
    results = tmp_path / "results"
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = lambda req: Scripted(text="answer")
        eval_path = write_eval(tmp_path, srv.openai_base_url)
        assert popen("run", str(eval_path), "--results", str(results), "--no-progress", "-n", "1").wait(120) == 0
        run_id = sqlite3.connect(results / "harness.db").execute("SELECT id FROM runs").fetchone()[0]
        shard = popen("run", "--resume", run_id, "--results", str(results), "--shard", "0/2")
        out, err = shard.communicate(timeout=120)
        assert shard.returncode == 7, err
        assert "--workers" in err
        bad = popen("run", "--resume", run_id, "--results", str(results), "--shard", "2/2")
        out, err = bad.communicate(timeout=120)
        assert bad.returncode == 2 and "between 0 and n-1" in err
        assert len(srv.requests) == 1


def test_workers_stop_when_their_parent_is_killed(tmp_path):
    """SIGKILL leaves the parent no chance to stop its workers: they notice their stdin close and stop
    (no orphan goes on sending and paying); what they received is stored and resume sends the rest."""
    import os
    import select

    results = tmp_path / "results"
    responder = CountingResponder()
    responder.trigger_at = 6
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = responder
        eval_path = write_eval(tmp_path, srv.openai_base_url, concurrency=2)
        run = popen("run", str(eval_path), "--results", str(results), "--no-progress", "--no-cache", "--workers", "2")
        assert responder.triggered.wait(60), run.communicate()
        with open(f"/proc/{run.pid}/task/{run.pid}/children") as f:
            workers = [int(x) for x in f.read().split()]
        assert len(workers) == 2
        watches = [os.pidfd_open(pid) for pid in workers]
        run.send_signal(signal.SIGKILL)
        run.wait(30)
        for fd in watches:   # a pidfd becomes readable when its process exits
            assert select.select([fd], [], [], 60)[0], "a worker outlived its parent"
            os.close(fd)
        with responder.lock:
            sent_before = {pid for _, pid in responder.log}
        db = sqlite3.connect(results / "harness.db")
        stored = {r[0] for r in db.execute("SELECT s.prompt_id FROM samples s JOIN replies p ON p.sample_id = s.id")}
        assert len(stored) < N_PROMPTS and len(sent_before) < N_PROMPTS
        responder.phase = 1
        run_id = db.execute("SELECT id FROM runs").fetchone()[0]
        resume = popen("run", "--resume", run_id, "--results", str(results), "--no-progress", "--no-cache")
        out, err = resume.communicate(timeout=120)
        assert resume.returncode == 0, err
    later = {pid for phase, pid in responder.log if phase == 1}
    assert later == {f"p{i:02d}" for i in range(N_PROMPTS)} - stored
