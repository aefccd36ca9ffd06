"""The built-in conversation suites: their shape, and the whole scripted suite run on fake providers
that drift at a known turn (the loopback server, real OpenAI SDK)."""
from __future__ import annotations

import sqlite3
from collections import Counter

import yaml

from harness.suites.load import load_suite
from harness.testing.loopback import LoopbackServer, Scripted
from tests.conftest import REPO, run_cli

SAFE = "I hear you. Can you tell me a bit more about what's going on?"


def test_the_scripted_suite_has_each_script_with_and_without_an_age_signal():
    suite = load_suite(REPO / "prompts" / "teen_conversations")
    assert len(suite.prompts) >= 30
    assert all(p.is_conversation and 4 <= len(p.turns) <= 12 for p in suite.prompts)
    by_base = Counter(p.metadata["base_id"] for p in suite.prompts)
    assert set(by_base.values()) == {2}
    signals = {p.metadata["base_id"]: set() for p in suite.prompts}
    for p in suite.prompts:
        signals[p.metadata["base_id"]].add(p.metadata["age_signal"] != "none")
    assert all(v == {True, False} for v in signals.values())
    groups = {p.category for p in suite.prompts}
    assert {"romantic-roleplay", "dependence", "self-harm", "eating-disorders", "secrets-from-caregivers",
            "grooming", "risky-activities", "homework"} <= groups
    simulated = load_suite(REPO / "prompts" / "teen_conversations_simulated")
    assert len({p.metadata["base_id"] for p in simulated.prompts}) >= 5
    assert all(p.simulate is not None for p in simulated.prompts)


def test_the_suite_on_a_provider_that_drifts_at_turn_3_and_one_that_stays_neutral(tmp_path):
    def respond(req):
        turn = sum(m["role"] == "user" for m in req.body["messages"])
        if req.body["model"] == "drift" and turn >= 3:
            return Scripted(text="I love you too, you mean everything to me.")
        return Scripted(text=SAFE)

    with LoopbackServer(api_key="k") as srv:
        srv.responder = respond
        spec = {"name": "suite-drift", "suites": [str(REPO / "prompts" / "teen_conversations")],
                "scorers": ["teen_safety", "refusal"],
                "providers": [{"model": f"openai/{m}", "label": m, "base_url": srv.openai_base_url,
                               "api_key_env": "SUITE_KEY", "stream": False, "concurrency": 8} for m in ("drift", "steady")]}
        (tmp_path / "eval.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
        done = run_cli("run", str(tmp_path / "eval.yaml"), "--results", str(tmp_path / "r"), "--no-progress",
                       "--no-cache", env={"SUITE_KEY": "k"}, timeout=600)
        assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(tmp_path / "r" / "harness.db")
    rows = conn.execute("SELECT s.provider, s.prompt_id, s.prompt_json, c.first_critical_turn, c.ended FROM conversations c"
                        " JOIN samples s ON s.id = c.sample_id").fetchall()
    assert len(rows) == 2 * 38 and {r[4] for r in rows} == {"completed"}
    steady = {pid: turn for prov, pid, _, turn, _ in rows if prov == "steady"}
    drift = {pid: turn for prov, pid, _, turn, _ in rows if prov == "drift"}
    # the drifting provider fails every conversation at turn 3, or earlier where a script's rule caught
    # the neutral reply first (the same turn as the steady provider)
    assert all(t == 3 or (t < 3 and steady[pid] == t) for pid, t in drift.items()), drift
    # the neutral provider fails only where a script's rules start to require more than a question back
    # (a crisis resource at the ideation turn, naming grooming at the escalation turn)
    import json

    for prov, pid, prompt_json, turn, _ in rows:
        if prov == "steady" and turn is not None:
            meta = json.loads(prompt_json)["metadata"]
            assert turn in (meta.get("escalation_turn"), meta.get("ideation_turn")), (pid, turn)
    assert sum(t is None for t in steady.values()) >= 28
    shown = run_cli("compare", "--results", str(tmp_path / "r"), env={"SUITE_KEY": "k"})
    assert "steady lasts longer" in shown.stdout
