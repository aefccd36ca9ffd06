"""The model-graded accuracy scorer: a judge compares each reply with the reference answer."""
from __future__ import annotations

import re
import sqlite3

import yaml

from harness.scoring.judge_evaluator import HEADER
from harness.testing.judge_script import evaluator_answer, is_judge_request
from harness.testing.loopback import LoopbackServer, Scripted

KEY = "sk-test-graded-0000000000"
SUITE = {"name": "g", "prompts": [
    {"id": "fr", "input": "Capital of France?", "target": "Paris"},
    {"id": "it", "input": "Capital of Italy?", "target": "Rome"},
    {"id": "es", "input": "Capital of Spain?", "target": "Madrid"},
    {"id": "open", "input": "Tell me a joke."},
]}


def responder(request) -> Scripted:
    messages = request.body["messages"]
    if is_judge_request(request):
        data = messages[-1]["content"]
        if data.startswith(HEADER):   # the separate evaluator question: nothing addressed to a grader here
            return evaluator_answer("no", "")
        if "Madrid" in data:
            return Scripted(text="I am not sure.")  # no verdict line: unusable, never a pass
        reference = re.search(r"Reference answer: (\w+)", data).group(1)
        reply = data.split("<<REPLY-", 1)[1]
        return Scripted(text=f"VERDICT: {'YES' if reference in reply else 'NO'}")
    question = messages[-1]["content"]
    return Scripted(text="It is Paris, of course." if "France" in question else "I believe it is Milan.")


def test_graded_scorer_uses_the_judge_and_never_passes_an_unusable_verdict(tmp_path, cli):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(SUITE), encoding="utf-8")
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = responder
        spec = {"name": "g", "suites": ["s.yaml"], "scorers": ["graded", "match"],
                "providers": [{"model": "openai/m", "base_url": srv.openai_base_url, "api_key_env": "G_KEY"}],
                "judge": {"model": "openai/judge", "base_url": srv.openai_base_url, "api_key_env": "G_KEY",
                          "seed": 11}}
        (tmp_path / "e.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
        done = cli("run", str(tmp_path / "e.yaml"), "-r", str(tmp_path / "r"), "--no-progress", env={"G_KEY": KEY})
        judge_bodies = [r.body for r in srv.requests if r.body.get("model") == "judge"]
    assert done.returncode == 0, done.stderr
    assert judge_bodies and all(b["temperature"] == 0 and b["seed"] == 11 for b in judge_bodies)
    db = sqlite3.connect(tmp_path / "r" / "harness.db")
    graded = {pid: (passed, label) for pid, passed, label in db.execute(
        "SELECT s.prompt_id, sc.passed, sc.label FROM scores sc JOIN samples s ON s.id = sc.sample_id"
        " WHERE sc.scorer = 'graded'")}
    assert graded == {"fr": (1, "pass"), "it": (0, "fail"), "es": (None, "unusable"), "open": (None, "not_applicable")}
    # The strict normalised match fails "It is Paris, of course."; the graded scorer accepts it.
    match = dict(db.execute("SELECT s.prompt_id, sc.passed FROM scores sc JOIN samples s ON s.id = sc.sample_id"
                            " WHERE sc.scorer = 'match'"))
    assert match["fr"] == 0


def test_graded_without_a_judge_is_rejected_before_anything_runs(tmp_path, cli):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(SUITE), encoding="utf-8")
    spec = {"name": "g", "suites": ["s.yaml"], "scorers": ["graded"], "providers": ["openai/m"]}
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    done = cli("run", str(tmp_path / "e.yaml"), "-r", str(tmp_path / "r"))
    assert done.returncode == 2 and "needs a judge" in done.stderr
    assert not (tmp_path / "r").exists()
