"""A provider with no key is skipped with one line; a rejected key stops the provider after the first
failure instead of burning every sample; the other providers of the run carry on."""
from __future__ import annotations

import sqlite3

import yaml

from harness.testing.loopback import LoopbackServer, Scripted

N = 30


def write(tmp_path, srv, providers):
    suite = {"name": "s", "prompts": [{"id": f"p{i}", "input": f"q {i}", "target": "ok"} for i in range(N)]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    spec = {"name": "stop", "suites": ["s.yaml"], "scorers": ["match"], "providers": providers}
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")


def test_rejected_key_stops_that_provider_and_missing_key_skips(tmp_path, cli):
    with LoopbackServer(api_key="sk-the-right-key-000000") as srv:
        srv.responder = lambda req: Scripted(text="ok")
        write(tmp_path, srv, [
            {"model": "openai/good", "base_url": srv.openai_base_url, "api_key_env": "GOOD_KEY", "concurrency": 2},
            {"model": "anthropic/rejected", "base_url": srv.url, "api_key_env": "WRONG_KEY", "concurrency": 2},
            {"model": "gemini/nokey", "base_url": srv.url, "api_key_env": "UNSET_KEY_FOR_TEST"},
        ])
        done = cli("run", str(tmp_path / "e.yaml"), "-r", str(tmp_path / "r"), "--no-progress",
                   env={"GOOD_KEY": "sk-the-right-key-000000", "WRONG_KEY": "sk-ant-wrong-key-000000"})
        anthropic_requests = len(srv.requests_for("anthropic"))
        gemini_requests = len(srv.requests_for("gemini"))
    # Samples left pending: exit 4 (incomplete), never a green 0 (issue 10, item 6).
    assert done.returncode == 4, done.stderr
    skip_lines = [l for l in done.stderr.splitlines() if "gemini/nokey" in l and "skipped" in l]
    assert skip_lines == ["gemini/nokey: skipped, no API key: set UNSET_KEY_FOR_TEST (named by api_key_env in the eval file)"]
    assert gemini_requests == 0
    assert 1 <= anthropic_requests <= 2, "only the requests already in flight when the key was rejected"
    assert "anthropic/rejected: stopped after auth error" in done.stderr
    db = sqlite3.connect(tmp_path / "r" / "harness.db")
    counts = dict(db.execute("SELECT s.provider, COUNT(p.sample_id) FROM samples s LEFT JOIN replies p"
                             " ON p.sample_id = s.id GROUP BY s.provider"))
    assert counts == {"openai/good": N, "anthropic/rejected": anthropic_requests, "gemini/nokey": 0}
    errors = db.execute("SELECT DISTINCT p.error_kind FROM samples s JOIN replies p ON p.sample_id = s.id"
                        " WHERE s.provider = 'anthropic/rejected'").fetchall()
    assert errors == [("auth",)]
    status = dict(db.execute("SELECT label, status FROM run_providers"))
    assert status == {"openai/good": "finished", "anthropic/rejected": "stopped", "gemini/nokey": "skipped"}
    assert db.execute("SELECT status FROM runs").fetchone()[0] == "incomplete"
    # Nothing is silently dropped: the unsent samples are counted as pending in the table.
    assert f"{2 * N - anthropic_requests} samples have no reply yet" in done.stderr


def test_a_dead_base_url_stops_its_provider_on_the_first_requests_with_the_message(tmp_path, cli):
    """A base_url where nothing listens: each first request is tried twice (not six times), the provider
    stops after its first connection error instead of sending all 30 samples, and the banner names the
    cause (connection errors), the message (cannot connect to the URL) and `harness providers --check`."""
    from helpers import closed_port

    dead = f"http://127.0.0.1:{closed_port()}/v1"
    write(tmp_path, None, [{"model": "openai/dead", "base_url": dead, "api_key_env": "DEAD_KEY", "concurrency": 2,
                            "retry": {"max_attempts": 6, "base_delay_s": 0.01, "max_delay_s": 0.02}}])
    done = cli("run", str(tmp_path / "e.yaml"), "-r", str(tmp_path / "r"), "--no-progress",
               env={"DEAD_KEY": "sk-dead-0000000000000000"})
    assert done.returncode == 5, done.stderr
    banner = done.stderr[done.stderr.index("NOTHING MEASURED"):]
    assert banner.startswith("NOTHING MEASURED: no provider returned a single usable reply (connection errors)")
    assert "connection error before any reply: cannot connect to" in banner   # the message, said once
    assert "most common error" not in banner
    assert f"127.0.0.1:{dead.split(':')[2].split('/')[0]}" in banner
    assert "harness providers --check" in banner
    assert "openai/dead: stopped, connection error before any reply" in done.stderr
    db = sqlite3.connect(tmp_path / "r" / "harness.db")
    attempts = [a for (a,) in db.execute("SELECT p.attempts FROM replies p")]
    assert 1 <= len(attempts) <= 2, "only the requests already in flight when the first one failed"
    assert all(a == 2 for a in attempts), attempts     # a cold connection error is tried twice, not six times
    assert dict(db.execute("SELECT label, status FROM run_providers")) == {"openai/dead": "stopped"}
