"""Issue 22 items 4 and 8: damaged caches and stores, a full disk, and rescorings that follow the data.
Every case through the real CLI against a hostile-server provider (the real OpenAI SDK)."""
from __future__ import annotations

import json
import resource
import signal
import sqlite3

import yaml

from harness.testing.hostile import Hostile, HostileServer


def _eval(tmp_path, base_url: str, n: int = 10, *, second: bool = False, reply_bytes: int = 0) -> None:
    suite = {"name": "s", "version": "1",
             "prompts": [{"id": f"p{i}", "input": f"question {i}", "target": "Paris", "category": "geo"}
                         for i in range(n)]}
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    providers = [{"model": "openai-compatible/m", "label": "alpha", "base_url": base_url,
                  "retry": {"max_attempts": 1}}]
    if second:   # no key until the test sets it: skipped at first, resumed later
        providers.append({"model": "openai/m", "label": "beta", "base_url": base_url,
                          "api_key_env": "RELI_BETA_KEY", "retry": {"max_attempts": 1}})
    spec = {"name": "e", "suites": ["suite.yaml"], "scorers": ["match"], "providers": providers}
    (tmp_path / "eval.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")


def _runs(results) -> list:
    db = results / "harness.db"
    if not db.exists():
        return []
    return sqlite3.connect(db).execute("SELECT id, status FROM runs").fetchall()


def test_damaged_caches_are_reported_with_the_fix_and_leave_no_run(tmp_path, cli):
    results = tmp_path / "r"
    results.mkdir()
    with HostileServer(Hostile(content_json='"Paris"')) as srv:
        _eval(tmp_path, srv.base_url)
        for name, fix in (("cache.db", "harness cache clear --results"),
                          ("judge_cache.db", "harness cache clear --judge --results")):
            (results / name).write_bytes(b"this is not a database " * 400)
            ran = cli("run", str(tmp_path / "eval.yaml"), "--results", str(results), "--no-progress")
            assert ran.returncode == 2, ran.stderr
            assert fix in ran.stderr and name in ran.stderr and "internal error" not in ran.stderr
            assert _runs(results) == [], "no phantom run"
            assert srv.requests == 0
            stats = cli("cache", "stats", "--results", str(results))
            assert name != "cache.db" or (stats.returncode == 2 and "internal error" not in stats.stderr)
            cleared = cli("cache", "clear", "--results", str(results), *(["--judge"] if name != "cache.db" else []))
            assert cleared.returncode == 0 and "removed the damaged cache file" in cleared.stdout, cleared
            assert not (results / name).exists()
        ran = cli("run", str(tmp_path / "eval.yaml"), "--results", str(results), "--no-progress")
        assert ran.returncode == 0, ran.stderr


def test_no_cache_runs_past_a_damaged_response_cache(tmp_path, cli):
    results = tmp_path / "r"
    results.mkdir()
    (results / "cache.db").write_bytes(b"\x00garbage" * 1000)
    with HostileServer(Hostile(content_json='"Paris"')) as srv:
        _eval(tmp_path, srv.base_url, n=3)
        ran = cli("run", str(tmp_path / "eval.yaml"), "--results", str(results), "--no-progress", "--no-cache")
    assert ran.returncode == 0, ran.stderr


def test_damaged_store_pages_give_exit_2(tmp_path, cli):
    results = tmp_path / "r"
    with HostileServer(Hostile(huge_bytes=3000)) as srv:
        _eval(tmp_path, srv.base_url, n=200)
        assert cli("run", str(tmp_path / "eval.yaml"), "--results", str(results), "--no-progress",
                   "--no-cache").returncode in (0, 3)
    db = results / "harness.db"
    data = bytearray(db.read_bytes())
    page = 4096
    assert len(data) > 40 * page
    for start in range(4 * page, len(data) - page, 3 * page):   # scribble over many pages, not the header
        data[start:start + page] = b"\xa5" * page
    db.write_bytes(bytes(data))
    for command in (["compare"], ["export"], ["report", "-o", str(tmp_path / "x.html")]):
        shown = cli(*command, "--results", str(results))
        assert shown.returncode == 2, (command, shown.returncode, shown.stderr)
        assert "internal error" not in shown.stderr and "damaged" in shown.stderr or "not a usable" in shown.stderr


def _full_disk(limit: int):
    def limit_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails (EFBIG), as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limit_files


def test_a_full_disk_ends_the_run_interrupted_and_resumable(tmp_path, cli):
    import subprocess
    import sys

    from tests.conftest import REPO

    results = tmp_path / "r"
    with HostileServer(Hostile(huge_bytes=100_000)) as srv:
        _eval(tmp_path, srv.base_url, n=40)
        env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
        full = subprocess.run([sys.executable, "-m", "harness", "run", str(tmp_path / "eval.yaml"), "--results",
                               str(results), "--no-progress", "--no-cache"], env=env, capture_output=True, text=True,
                              timeout=120, preexec_fn=_full_disk(1_500_000))
        assert full.returncode == 2, (full.returncode, full.stderr)
        assert "internal error" not in full.stderr
        run_id = _runs(results)[0][0]
        assert f"harness run --resume {run_id}" in full.stderr, full.stderr
        listed = cli("runs", "--results", str(results))
        assert "interrupted" in listed.stdout and "running" not in listed.stdout, listed.stdout
        resumed = cli("run", "--resume", run_id, "--results", str(results), "--no-progress", "--no-cache")
        assert resumed.returncode in (0, 3), resumed.stderr
    db = sqlite3.connect(results / "harness.db")
    assert db.execute("SELECT COUNT(*) FROM replies WHERE outcome = 'answered'").fetchone()[0] == 40
    assert db.execute("SELECT status FROM runs").fetchone()[0] == "finished"


def test_run_rescore_resume_compare(tmp_path, cli):
    results = str(tmp_path / "r")
    with HostileServer(Hostile(content_json='"Paris"')) as srv:
        _eval(tmp_path, srv.base_url, n=10, second=True)
        first = cli("run", str(tmp_path / "eval.yaml"), "--results", results, "--no-progress")
        assert first.returncode == 4, first.stderr   # beta skipped: no key
        run_id = _runs(tmp_path / "r")[0][0]
        assert cli("rescore", run_id, "--results", results).returncode == 0
        resumed = cli("run", "--resume", run_id, "--results", results, "--no-progress",
                      env={"RELI_BETA_KEY": "sk-beta-test"})
        assert resumed.returncode == 0, resumed.stderr

    def scored() -> tuple[dict, str]:
        shown = cli("compare", "--results", results, "--format", "json")
        assert shown.returncode == 0, shown.stderr
        data = json.loads(shown.stdout)
        return {g["provider"]: g["scored"] for g in data["groups"] if g["category"] == "(all)"}, data["scoring_text"]

    counts, text = scored()
    assert counts == {"alpha": 10, "beta": 10}, (counts, text)   # never (10/10) of a 20-reply run
    assert "10 replies stored since the rescoring show their original scores" in text
    assert f"harness rescore {run_id}" in text
    table = cli("compare", "--results", results)
    assert f"harness rescore {run_id}" in table.stdout
    refused = cli("compare", "--results", results, "--scoring", "1")
    flat = " ".join(refused.stderr.replace("│", " ").split())   # the usage error is boxed and wrapped
    assert refused.returncode == 2 and f"harness rescore {run_id}" in flat, refused.stderr
    gate = cli("compare", "--results", results, "--junit", str(tmp_path / "g.xml"))
    assert gate.returncode == 0
    assert cli("rescore", run_id, "--results", results).returncode == 0
    counts, text = scored()
    assert counts == {"alpha": 10, "beta": 10} and "stored since" not in text and "rescoring 2 of 2" in text
