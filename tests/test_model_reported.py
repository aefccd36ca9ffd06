"""The model that answered is the model reported: when a provider says another model served
(a retired model routed to its successor), the run's messages, `compare`, the HTML report and the
export say so, and `harness run --strict-model` makes it an error that stops the provider. A dated
snapshot of the requested model is the same model. Real SDKs over HTTP to the strict loopback."""
from __future__ import annotations

import json
import sqlite3

import pytest
import yaml

from harness.served_model import served_by_other, served_counts
from harness.testing.loopback import LoopbackServer, Scripted

KEY = "sk-served-model-0000000000"
N = 6


@pytest.mark.parametrize("requested,reported,other", [
    ("gemini/gemini-2.5-flash", "gemini-3.5-flash-lite", True),
    ("gemini/gemini-2.5-flash", "models/gemini-2.5-flash", False),
    ("gemini/gemini-1.5-flash", "gemini-1.5-flash-001", False),
    ("anthropic/claude-haiku-4-5", "claude-haiku-4-5-20251001", False),
    ("anthropic/claude-sonnet-4-5", "claude-sonnet-5", True),
    ("openai/gpt-4o", "gpt-4o-2024-08-06", False),
    ("openai/gpt-4o-2024-08-06", "gpt-4o", False),
    ("openai/gpt-4o-mini", "gpt-4o", True),
    ("openai/gpt-4o-mini", None, False),
    ("llama/models/tiny.gguf", "tiny", False),  # a local file reports its own name
])
def test_served_by_other_ignores_dated_snapshots(requested, reported, other):
    assert served_by_other(requested, reported) is other


def test_served_counts_per_provider():
    rows = [("g", "gemini/gemini-2.5-flash", "gemini-3.5-flash-lite")] * 3 + [("g", "gemini/gemini-2.5-flash",
                                                                              "gemini-2.5-flash")]
    rows += [("o", "openai/gpt-4o", "gpt-4o-2024-08-06")]
    assert served_counts(rows) == {"g": {"gemini-3.5-flash-lite": 3}}


def _responder(req):
    if req.protocol == "gemini":
        return Scripted(text="ok", model="gemini-3.5-flash-lite")  # routed to the successor
    if req.protocol == "anthropic":
        return Scripted(text="ok", model="claude-haiku-4-5-20251001")  # a dated snapshot: the same model
    return Scripted(text="ok")


def _eval(tmp_path, srv):
    suite = {"name": "s", "prompts": [{"id": f"p{i}", "input": f"q {i}", "target": "ok"} for i in range(N)]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    spec = {"name": "served", "suites": ["s.yaml"], "scorers": ["match"], "providers": [
        {"model": "openai/gpt-4o-mini", "base_url": srv.openai_base_url, "api_key_env": "SERVED_KEY"},
        {"model": "anthropic/claude-haiku-4-5", "base_url": srv.url, "api_key_env": "SERVED_KEY"},
        {"model": "gemini/gemini-2.5-flash", "base_url": srv.url, "api_key_env": "SERVED_KEY", "concurrency": 1,
         "allow_retired": True},   # shut down 2026-12-01: the routing this test is about
    ]}
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def test_every_output_says_which_model_served(tmp_path, cli):
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = _responder
        done = cli("run", str(_eval(tmp_path, srv)), "-r", str(tmp_path / "r"), "--no-progress",
                   env={"SERVED_KEY": KEY})
    assert done.returncode == 0, done.stderr
    warning = [line for line in done.stderr.splitlines() if "WARNING: gemini/gemini-2.5-flash" in line]
    assert len(warning) == 1 and "gemini-3.5-flash-lite (6 replies)" in warning[0]
    assert "not the requested gemini-2.5-flash" in warning[0]
    assert "claude-haiku-4-5" not in "".join(line for line in done.stderr.splitlines() if "WARNING" in line)
    assert "gemini-3.5-flash-lite" in done.stdout  # the report printed after the run

    compare = cli("compare", "-r", str(tmp_path / "r"), "--width", "200")
    assert compare.returncode == 0, compare.stderr
    assert "gemini/gemini-2.5-flash was answered by gemini-3.5-flash-lite (6 replies)" in compare.stdout
    md = cli("compare", "-r", str(tmp_path / "r"), "--format", "markdown")
    assert "gemini-3.5-flash-lite" in md.stdout
    csv_out = cli("compare", "-r", str(tmp_path / "r"), "--format", "csv")
    assert "served_by_other_model" in csv_out.stdout.splitlines()[0] and "gemini-3.5-flash-lite (6)" in csv_out.stdout
    js = cli("compare", "-r", str(tmp_path / "r"), "--format", "json")
    assert json.loads(js.stdout)["served_models"] == {"gemini/gemini-2.5-flash": {"gemini-3.5-flash-lite": N}}

    html = tmp_path / "report.html"
    rep = cli("report", "-r", str(tmp_path / "r"), "-o", str(html))
    assert rep.returncode == 0, rep.stderr
    text = html.read_text(encoding="utf-8")
    assert "model that served" in text and "gemini-3.5-flash-lite (6 replies)" in text

    exported = tmp_path / "x.jsonl"
    ex = cli("export", "-r", str(tmp_path / "r"), "-o", str(exported))
    assert ex.returncode == 0, ex.stderr
    flags = {}
    for line in exported.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        flags.setdefault(rec["provider"], set()).add(rec["reply"]["served_by_other_model"])
    assert flags == {"openai/gpt-4o-mini": {False}, "anthropic/claude-haiku-4-5": {False},
                     "gemini/gemini-2.5-flash": {True}}


def test_strict_model_stops_the_provider_and_fails_the_run(tmp_path, cli):
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = _responder
        done = cli("run", str(_eval(tmp_path, srv)), "-r", str(tmp_path / "r"), "--no-progress", "--strict-model",
                   env={"SERVED_KEY": KEY})
        gemini_requests = len(srv.requests_for("gemini"))
    assert done.returncode != 0, done.stderr
    assert gemini_requests == 1, "concurrency 1: stopped after the first reply from another model"
    assert "gemini/gemini-2.5-flash: stopped after model_mismatch error" in done.stderr
    db = sqlite3.connect(tmp_path / "r" / "harness.db")
    status = dict(db.execute("SELECT label, status FROM run_providers"))
    assert status == {"openai/gpt-4o-mini": "finished", "anthropic/claude-haiku-4-5": "finished",
                      "gemini/gemini-2.5-flash": "stopped"}
    rows = db.execute("SELECT p.outcome, p.error_kind, p.reason, p.model_reported FROM samples s JOIN replies p"
                      " ON p.sample_id = s.id WHERE s.provider = 'gemini/gemini-2.5-flash'").fetchall()
    assert len(rows) == 1
    outcome, kind, reason, reported = rows[0]
    assert (outcome, kind, reported) == ("error", "model_mismatch", "gemini-3.5-flash-lite")
    assert "gemini-3.5-flash-lite" in reason and "gemini-2.5-flash" in reason
    others = db.execute("SELECT COUNT(*) FROM samples s JOIN replies p ON p.sample_id = s.id"
                        " WHERE s.provider != 'gemini/gemini-2.5-flash' AND p.outcome = 'answered'").fetchone()[0]
    assert others == 2 * N
