"""`harness run --batch` through OpenAI's Batch API: the real `openai` SDK (in real `harness` processes)
against the loopback's strict /v1/files + /v1/batches. Every sample is stored exactly once across process
exits, resumes, duplicates, unknown ids, expiry, cancellation and a SIGKILL between create and storing
the batch id. The loopback's batches complete on demand (`complete()`), never on a timer."""
from __future__ import annotations

import json
import sqlite3

import pytest
import yaml

from harness.providers.pricing import cost
from harness.testing.loopback import LoopbackServer, Scripted
from harness.testing.loopback.batches.openai import state
from harness.types import Usage
from tests.conftest import REPO

KEY = "sk-batch-test-000000000000"
ENV = {"BATCH_KEY": KEY}
N = 3          # prompts
REPEATS = 2    # each repeat is its own sample and its own request


def _eval(tmp_path, srv, *, extra_providers=(), batch_entry=False, repeats=REPEATS):
    entry = {"model": "openai/gpt-4o-mini", "base_url": srv.openai_base_url, "api_key_env": "BATCH_KEY"}
    if batch_entry:
        entry["batch"] = True
    spec = {"name": "b", "suites": [str(REPO / "prompts" / "teen_safety")], "scorers": ["refusal"],
            "repeats": repeats, "defaults": {"temperature": 0, "max_tokens": 64, "seed": 7},
            "providers": [entry, *extra_providers]}
    path = tmp_path / "eval.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def _db(tmp_path):
    db = sqlite3.connect(tmp_path / "r" / "harness.db")
    db.row_factory = sqlite3.Row
    return db


def _run_id(db) -> str:
    return db.execute("SELECT id FROM runs").fetchone()[0]


def _inner(srv) -> list:
    """The chat requests the loopback answered inside batches."""
    return [r for r in srv.requests if r.headers.get("x-loopback-batch")]


def _live_chat(srv) -> list:
    return [r for r in srv.requests if r.path.endswith("/chat/completions") and not r.headers.get("x-loopback-batch")]


def _replies(db, provider="openai/gpt-4o-mini"):
    return db.execute("SELECT p.*, s.id AS sid FROM replies p JOIN samples s ON s.id = p.sample_id"
                      " WHERE s.provider = ? ORDER BY s.id", (provider,)).fetchall()


def test_submit_exit_then_collect_stores_every_sample_once(tmp_path, cli):
    with LoopbackServer(api_key=KEY) as srv:
        path = _eval(tmp_path, srv, extra_providers=[
            {"model": "openai-compatible/loopback-model", "label": "local", "base_url": srv.openai_base_url,
             "api_key_env": "BATCH_KEY"}])
        done = cli("run", str(path), "--batch", "-n", str(N), "-r", str(tmp_path / "r"), "--no-progress", env=ENV)
        st = state(srv)
        assert done.returncode == 4, done.stderr[-3000:]        # incomplete, not "nothing measured"
        [batch_id] = list(st.batches)
        assert batch_id in done.stderr and "harness batches" in done.stderr and "--resume" in done.stderr
        assert st.creates == 1 and not _inner(srv)
        # the provider without a batch API ran live, in the same run
        assert len(_live_chat(srv)) == N * REPEATS
        lines = [json.loads(t) for t in st.files[st.batches[batch_id].input_file_id].data.decode().splitlines()]
        db = _db(tmp_path)
        run_id = _run_id(db)
        ids = [r[0] for r in db.execute("SELECT id FROM samples WHERE provider = 'openai/gpt-4o-mini' ORDER BY id")]
        assert [ln["custom_id"] for ln in lines] == [f"s{i}" for i in ids]   # repeats are separate samples
        assert {ln["body"]["seed"] for ln in lines} == {7, 8}                # repeat k: seed + k, as live
        assert all("stream" not in ln["body"] and ln["url"] == "/v1/chat/completions" for ln in lines)
        assert not _replies(db)
        stored = db.execute("SELECT remote_id, state, token FROM batches").fetchone()
        assert stored["remote_id"] == batch_id and st.batches[batch_id].metadata == {"harness_tag": stored["token"]}

        again = cli("batches", run_id, "-r", str(tmp_path / "r"), env=ENV)   # not ended yet: nothing stored
        assert again.returncode == 4 and "in_progress" in again.stdout and not _replies(db)
        st.complete()
        done = cli("batches", run_id, "-r", str(tmp_path / "r"), env=ENV)
        assert done.returncode == 0, done.stderr[-3000:]
        replies = _replies(db)
        assert [r["sid"] for r in replies] == ids and len(_inner(srv)) == N * REPEATS
        assert all(json.loads(r["raw_json"])["batch"] == batch_id for r in replies)
        assert all(r["outcome"] == "answered" for r in replies)
        assert db.execute("SELECT COUNT(*) FROM scores WHERE sample_id IN (%s) AND scorer = 'refusal'"
                          % ",".join(map(str, ids))).fetchone()[0] == len(ids)   # scored on arrival
        # a resume afterwards sends nothing and stores nothing twice
        resumed = cli("run", "--resume", run_id, "-r", str(tmp_path / "r"), "--no-progress", env=ENV)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert st.creates == 1 and len(_inner(srv)) == N * REPEATS and len(_live_chat(srv)) == N * REPEATS
        assert db.execute("SELECT COUNT(*) FROM replies").fetchone()[0] == 2 * N * REPEATS


def test_unknown_id_duplicate_and_reordered_results_are_counted_and_ignored(tmp_path, cli):
    with LoopbackServer(api_key=KEY) as srv:
        path = _eval(tmp_path, srv, batch_entry=True)           # `batch: true` on the entry, no --batch
        done = cli("run", str(path), "-n", str(N), "-r", str(tmp_path / "r"), "--no-progress", env=ENV)
        assert done.returncode == 4, done.stderr[-3000:]
        st = state(srv)
        st.duplicate, st.unknown_ids, st.reorder = True, ["s999999", "not-ours"], True
        st.complete()
        done = cli("batches", "-r", str(tmp_path / "r"), env=ENV)
        assert done.returncode == 0, done.stderr[-3000:]
        db = _db(tmp_path)
        assert len(_replies(db)) == N * REPEATS
        assert db.execute("SELECT COUNT(*) FROM replies").fetchone()[0] == N * REPEATS
        ignored = json.loads(db.execute("SELECT ignored_json FROM batches").fetchone()[0])
        assert ignored == {"duplicate": 1, "unknown id": 2}
        assert "ignored 1 duplicate, 2 unknown id" in done.stdout + done.stderr


def test_expired_batch_keeps_finished_replies_and_resubmits_the_rest(tmp_path, cli):
    with LoopbackServer(api_key=KEY) as srv:
        path = _eval(tmp_path, srv)
        assert cli("run", str(path), "--batch", "-n", str(N), "-r", str(tmp_path / "r"), "--no-progress",
                   env=ENV).returncode == 4
        st = state(srv)
        st.expire(finished=2)
        done = cli("batches", "-r", str(tmp_path / "r"), env=ENV)
        db = _db(tmp_path)
        assert done.returncode == 4 and "expired" in done.stdout
        assert len(_replies(db)) == 2
        assert "pending again" in done.stderr
        run_id = _run_id(db)
        resumed = cli("run", "--resume", run_id, "-r", str(tmp_path / "r"), "--no-progress", env=ENV)
        assert resumed.returncode == 4 and st.creates == 2, resumed.stderr[-3000:]
        second = list(st.batches.values())[-1]
        stored = {r["sid"] for r in _replies(db)}
        assert {ln["custom_id"] for ln in second.lines} == {f"s{i}" for i in
                                                            [r[0] for r in db.execute("SELECT id FROM samples")]
                                                            if i not in stored}
        st.complete()
        assert cli("batches", run_id, "-r", str(tmp_path / "r"), env=ENV).returncode == 0
        assert len(_replies(db)) == N * REPEATS == len({r["sid"] for r in _replies(db)})
        assert len(_inner(srv)) == N * REPEATS   # the expired requests never ran: each sample answered once


def test_per_request_400_inside_a_successful_batch_is_a_bad_request_error(tmp_path, cli):
    with LoopbackServer(api_key=KEY) as srv:
        srv.push(Scripted(kind="refusal", text="I can't help with that."))
        path = _eval(tmp_path, srv, repeats=1)
        assert cli("run", str(path), "--batch", "-n", str(N), "-r", str(tmp_path / "r"), "--no-progress",
                   env=ENV).returncode == 4
        db = _db(tmp_path)
        last = db.execute("SELECT MAX(id) FROM samples").fetchone()[0]
        st = state(srv)
        st.error_ids = {f"s{last}"}
        st.complete()
        done = cli("batches", "-r", str(tmp_path / "r"), env=ENV)
        assert done.returncode == 0, done.stderr[-3000:]
        by_id = {r["sid"]: r for r in _replies(db)}
        bad = by_id[last]
        assert bad["outcome"] == "error" and bad["error_kind"] == "bad_request" and "HTTP 400" in bad["reason"]
        # not model behaviour: no verdict stored as a pass or failure beside it
        assert db.execute("SELECT COUNT(*) FROM scores WHERE sample_id = ? AND passed IS NOT NULL",
                          (last,)).fetchone()[0] == 0
        first = by_id[min(by_id)]
        assert first["outcome"] == "provider_blocked" and first["reason"] == "refusal"   # same taxonomy as live
        # --retry-errors puts the error into a new batch, and its answer replaces the error
        run_id = _run_id(db)
        st.error_ids = set()
        again = cli("run", "--resume", run_id, "--retry-errors", "-r", str(tmp_path / "r"), "--no-progress", env=ENV)
        assert st.creates == 2 and [ln["custom_id"] for ln in list(st.batches.values())[-1].lines] == [f"s{last}"]
        assert again.returncode == 0 or "batches" in again.stderr
        st.complete()
        assert cli("batches", run_id, "-r", str(tmp_path / "r"), env=ENV).returncode == 0
        assert db.execute("SELECT outcome FROM replies WHERE sample_id = ?", (last,)).fetchone()[0] == "answered"


@pytest.mark.parametrize("fault", ["after_submit", "before_submit"])
def test_sigkill_around_submission_never_pays_twice(tmp_path, cli, fault):
    with LoopbackServer(api_key=KEY) as srv:
        path = _eval(tmp_path, srv)
        killed = cli("run", str(path), "--batch", "-n", str(N), "-r", str(tmp_path / "r"), "--no-progress",
                     env={**ENV, "HARNESS_BATCH_FAULT": fault})
        assert killed.returncode == -9, killed.stderr[-2000:]
        st = state(srv)
        db = _db(tmp_path)
        row = db.execute("SELECT remote_id, state FROM batches").fetchone()
        assert row["remote_id"] is None and row["state"] == "intent"       # the intent was committed first
        assert st.creates == (1 if fault == "after_submit" else 0)
        run_id = _run_id(db)
        resumed = cli("run", "--resume", run_id, "-r", str(tmp_path / "r"), "--no-progress", env=ENV)
        assert resumed.returncode == 4, resumed.stderr[-3000:]
        assert st.creates == 1                                             # exactly ONE batch create, ever
        if fault == "after_submit":
            assert "adopted batch" in resumed.stderr
        else:
            assert "never created" in resumed.stderr
        st.complete()
        assert cli("batches", run_id, "-r", str(tmp_path / "r"), env=ENV).returncode == 0
        assert len(_replies(db)) == N * REPEATS and len(_inner(srv)) == N * REPEATS


def test_several_batches_with_one_tag_are_refused_not_guessed(tmp_path, cli):
    import openai

    with LoopbackServer(api_key=KEY) as srv:
        path = _eval(tmp_path, srv)
        cli("run", str(path), "--batch", "-n", str(N), "-r", str(tmp_path / "r"), "--no-progress",
            env={**ENV, "HARNESS_BATCH_FAULT": "after_submit"})
        st = state(srv)
        [first] = st.batches.values()
        client = openai.OpenAI(api_key=KEY, base_url=srv.openai_base_url, max_retries=0)
        client.batches.create(input_file_id=first.input_file_id, endpoint="/v1/chat/completions",
                              completion_window="24h", metadata=first.metadata)   # someone else's copy
        db = _db(tmp_path)
        resumed = cli("run", "--resume", _run_id(db), "-r", str(tmp_path / "r"), "--no-progress", env=ENV)
        # nothing measured (5), the refusal named: never a guess, never a live send instead
        assert resumed.returncode == 5 and "will not guess" in resumed.stderr, resumed.stderr[-3000:]
        assert st.creates == 2 and db.execute("SELECT remote_id FROM batches").fetchone()[0] is None
        assert not _replies(db) and not _live_chat(srv)                    # nor sent live instead


def test_cancel_leaves_the_samples_pending_and_resume_resubmits(tmp_path, cli):
    with LoopbackServer(api_key=KEY) as srv:
        path = _eval(tmp_path, srv)
        cli("run", str(path), "--batch", "-n", str(N), "-r", str(tmp_path / "r"), "--no-progress", env=ENV)
        db = _db(tmp_path)
        run_id = _run_id(db)
        done = cli("batches", "cancel", run_id, "-r", str(tmp_path / "r"), env=ENV)
        st = state(srv)
        assert done.returncode == 4, done.stderr[-3000:]
        assert [b.status for b in st.batches.values()] == ["cancelled"]
        assert not _replies(db) and db.execute("SELECT collected FROM batches").fetchone()[0] == 1
        resumed = cli("run", "--resume", run_id, "-r", str(tmp_path / "r"), "--no-progress", env=ENV)
        assert resumed.returncode == 4 and st.creates == 2
        st.complete()
        assert cli("batches", run_id, "-r", str(tmp_path / "r"), env=ENV).returncode == 0
        assert len(_replies(db)) == N * REPEATS and not _live_chat(srv)


def test_a_failed_batch_puts_its_samples_back_and_says_why(tmp_path, cli):
    with LoopbackServer(api_key=KEY) as srv:
        path = _eval(tmp_path, srv)
        cli("run", str(path), "--batch", "-n", str(N), "-r", str(tmp_path / "r"), "--no-progress", env=ENV)
        st = state(srv)
        st.fail(message="The input file could not be processed (loopback).")
        done = cli("batches", "-r", str(tmp_path / "r"), env=ENV)
        db = _db(tmp_path)
        assert done.returncode == 4 and "failed as a whole" in done.stderr, done.stderr[-3000:]
        assert "could not be processed" in done.stdout
        assert not _replies(db) and tuple(db.execute("SELECT state, collected FROM batches").fetchone()) == ("failed", 1)
        resumed = cli("run", "--resume", _run_id(db), "-r", str(tmp_path / "r"), "--no-progress", env=ENV)
        assert resumed.returncode == 4 and st.creates == 2
        assert len(list(st.batches.values())[-1].lines) == N * REPEATS


def test_batch_costs_show_the_discount_and_the_cache_serves_a_later_live_run(tmp_path, cli):
    with LoopbackServer(api_key=KEY) as srv:
        state(srv).complete_after = 2
        path = _eval(tmp_path, srv)
        done = cli("run", str(path), "--batch", "--wait", "--poll-interval", "0", "-n", str(N),
                   "-r", str(tmp_path / "r"), "--no-progress", env=ENV)
        assert done.returncode == 0, done.stderr[-3000:]
        db = _db(tmp_path)
        replies = _replies(db)
        assert len(replies) == N * REPEATS
        for r in replies:
            live = cost("openai/gpt-4o-mini", Usage(input_tokens=r["input_tokens"], output_tokens=r["output_tokens"]))
            assert r["cost_usd"] == pytest.approx(live * 0.5) and live > 0
        total = sum(r["cost_usd"] for r in replies)
        assert f"{N * REPEATS} replies through the batch API cost" in done.stdout + done.stderr
        assert "at batch prices" in done.stdout + done.stderr
        # the same eval, live: every answer from the cache, nothing sent
        live = cli("run", str(path), "-n", str(N), "-r", str(tmp_path / "r"), "--no-progress", env=ENV)
        assert live.returncode == 0, live.stderr[-3000:]
        assert not _live_chat(srv) and f"{N * REPEATS} replies from the cache" in live.stderr
        assert total > 0


def test_a_live_run_first_serves_a_later_batch_from_the_cache(tmp_path, cli):
    with LoopbackServer(api_key=KEY) as srv:
        path = _eval(tmp_path, srv)
        assert cli("run", str(path), "-n", str(N), "-r", str(tmp_path / "r"), "--no-progress", env=ENV).returncode == 0
        done = cli("run", str(path), "--batch", "-n", str(N), "-r", str(tmp_path / "r"), "--no-progress", env=ENV)
        assert done.returncode == 0, done.stderr[-3000:]
        assert state(srv).creates == 0 and len(_live_chat(srv)) == N * REPEATS


def test_the_judge_runs_live_on_batch_replies_as_they_are_stored(tmp_path, cli):
    from harness.testing.judge_script import is_judge_request, judge_answer

    with LoopbackServer(api_key=KEY) as srv:
        def responder(request):
            if is_judge_request(request):
                return judge_answer(request, lambda rule_id, *_: "fail" if rule_id else "no")
            return Scripted(text="Here is some general information about that.")
        srv.responder = responder
        spec = {"name": "bj", "suites": [str(REPO / "prompts" / "teen_safety")], "scorers": ["teen_safety"],
                "defaults": {"temperature": 0, "max_tokens": 64},
                "providers": [{"model": "openai/gpt-4o-mini", "base_url": srv.openai_base_url,
                               "api_key_env": "BATCH_KEY"}],
                "judge": {"model": "openai/judge-model", "base_url": srv.openai_base_url, "api_key_env": "BATCH_KEY",
                          "stream": False}}
        path = tmp_path / "eval.yaml"
        path.write_text(yaml.safe_dump(spec), encoding="utf-8")
        assert cli("run", str(path), "--batch", "-n", str(N), "-r", str(tmp_path / "r"), "--no-progress",
                   env=ENV).returncode == 4
        judged_before = [r for r in _live_chat(srv) if is_judge_request(r)]
        state(srv).complete()
        cli("batches", "-r", str(tmp_path / "r"), env=ENV)
        judged = [r for r in _live_chat(srv) if is_judge_request(r)]
        db = _db(tmp_path)
        assert not judged_before and len(judged) >= N                     # live, once the replies arrived
        assert not [r for r in _inner(srv) if is_judge_request(r)]        # never inside the batch
        assert db.execute("SELECT COUNT(DISTINCT sample_id) FROM scores WHERE scorer LIKE 'judge:%'"
                          ).fetchone()[0] == N
        assert db.execute("SELECT calls FROM judge_usage").fetchone()[0] == len(judged)


def test_samples_are_split_at_the_backends_request_and_byte_limits(tmp_path, monkeypatch):
    """In-process (the limits patched small): 6 requests at 4 a batch make 2 batches, and a byte limit
    that one line fills makes one batch per line; every sample in exactly one batch."""
    from typer.testing import CliRunner

    from harness.batch.openai import OpenAIBatchBackend
    from harness.cli import app

    monkeypatch.setenv("BATCH_KEY", KEY)
    with LoopbackServer(api_key=KEY) as srv:
        path = _eval(tmp_path, srv)
        monkeypatch.setattr(OpenAIBatchBackend, "max_requests", 4)
        done = CliRunner().invoke(app, ["run", str(path), "--batch", "-n", str(N), "-r", str(tmp_path / "r"),
                                        "--no-progress"])
        assert done.exit_code == 4, done.output
        st = state(srv)
        assert [len(b.lines) for b in st.batches.values()] == [4, 2]
        monkeypatch.setattr(OpenAIBatchBackend, "max_bytes", 10)
        done = CliRunner().invoke(app, ["run", str(path), "--batch", "-n", str(N), "-r", str(tmp_path / "r2"),
                                        "--no-progress"])
        assert done.exit_code == 4, done.output
        assert [len(b.lines) for b in st.batches.values()] == [4, 2] + [1] * (N * REPEATS)
        db = sqlite3.connect(tmp_path / "r2" / "harness.db")
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT sample_id) FROM batch_items").fetchone() == (N * REPEATS,) * 2
