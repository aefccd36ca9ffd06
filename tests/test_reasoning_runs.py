"""Reasoning through a whole run, against the strict loopback servers: repeats are samples (seed + k),
reasoning and cached tokens are stored and costed, a reply whose budget went to reasoning is counted as
reasoning_exhausted per provider, `compare` warns when providers were decided on different prompt subsets,
and `providers --check` sends what a run would send."""
from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import date

import yaml

from harness.cli.providers import CHECK_MAX_TOKENS, check_params
from harness.providers.base import GenerationParams, ProviderConfig
from harness.providers.openai_chat import OpenAIChatProvider
from harness.providers.resolve import resolved_config
from harness.testing.loopback import LoopbackServer, Scripted
from harness.types import Message, Outcome

KEY = "sk-reasoning-runs-0000000000"


def responder(req):
    body = json.dumps(req.body or {})
    if req.protocol == "openai" and "Capital of Spain" in body:
        return Scripted(thinking="Spain... let me think at length", reasoning_exhausts_budget=True)
    return Scripted(text="Paris" if "France" in body else "Madrid", thinking="short thought", reasoning_tokens=20,
                    cached_tokens=2)


def test_reasoning_run_end_to_end(tmp_path, cli):
    suite = {"name": "caps", "version": "1", "prompts": [
        {"id": "fr", "input": "Capital of France?", "target": "Paris", "category": "geo"},
        {"id": "es", "input": "Capital of Spain?", "target": "Madrid", "category": "geo"},
    ]}
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = responder
        spec = {"name": "reasoning", "suites": ["suite.yaml"], "scorers": ["match"], "repeats": 2,
                "defaults": {"temperature": 0, "max_tokens": 64, "seed": 7},
                "providers": [
                    {"model": "openai/gpt-5.5", "label": "gpt", "reasoning": "medium",
                     "base_url": srv.openai_base_url, "api_key_env": "RR_KEY"},
                    {"model": "gemini/gemini-3.5-flash", "label": "gem", "base_url": srv.url,
                     "api_key_env": "RR_KEY"},
                ]}
        (tmp_path / "eval.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
        done = cli("run", str(tmp_path / "eval.yaml"), "--results", str(tmp_path / "r"), "--no-progress",
                   env={"RR_KEY": KEY})
        openai_bodies = [r.body for r in srv.requests_for("openai")]
        gemini_bodies = [r.body for r in srv.requests_for("gemini")]
    assert done.returncode == 0, done.stderr
    # repeats are samples: repeat k is sent seed 7 + k
    assert sorted(b["seed"] for b in openai_bodies) == [7, 7, 8, 8]
    assert sorted(b["generationConfig"]["seed"] for b in gemini_bodies) == [7, 7, 8, 8]
    # nothing the models reject, the budget with the allowance
    assert all("temperature" not in b and b["max_completion_tokens"] == 64 + 4096 for b in openai_bodies)
    assert all("temperature" not in b["generationConfig"] for b in gemini_bodies)

    db = sqlite3.connect(tmp_path / "r" / "harness.db")
    rows = db.execute("SELECT s.provider, s.prompt_id, s.repeat, p.outcome, p.reason, p.text, p.raw_json, p.cost_usd"
                      " FROM samples s JOIN replies p ON p.sample_id = s.id").fetchall()
    exhausted = [r for r in rows if r[4] == "reasoning_exhausted"]
    assert {(r[0], r[1]) for r in exhausted} == {("gpt", "es")} and len(exhausted) == 2
    assert all(r[3] == "truncated" and r[5] == "" for r in exhausted)
    answered = [r for r in rows if r[3] == "answered"]
    for r in answered:
        raw = json.loads(r[6])
        assert raw["reasoning_tokens"] == 20 and raw["cached_input_tokens"] == 2 and raw["seed"] == 7 + r[2]
        assert "short thought" not in r[5]
    identity = json.loads(db.execute("SELECT identity_json FROM run_providers WHERE label = 'gpt'").fetchone()[0])
    assert identity["params"]["temperature"].startswith("provider default")
    assert "4160 sent as max_completion_tokens" in identity["params"]["max_tokens"]

    shown = cli("compare", "--results", str(tmp_path / "r"), "--wide")
    assert shown.returncode == 0, shown.stderr
    assert "2 reasoning_exhausted" in shown.stdout
    assert "different prompt subsets" in shown.stdout and "gpt: 2 samples undecided (2 reasoning_exhausted)" \
        in shown.stdout
    report = json.loads(cli("compare", "--results", str(tmp_path / "r"), "--format", "json").stdout)
    overall = {g["provider"]: g for g in report["groups"] if g["category"] == "(all)"}
    assert overall["gpt"]["reasoning_exhausted"] == 2 and overall["gem"]["reasoning_exhausted"] == 0
    assert overall["gpt"]["scored"] == 2 and overall["gem"]["scored"] == 4
    assert overall["gem"]["reasoning_tokens"] == 4 * 20 and overall["gem"]["output_tokens"] > 4 * 20


def test_providers_check_sends_what_a_run_would(monkeypatch):
    config = ProviderConfig(model="openai/gpt-5.5", timeout_s=5.0, api_key_env="RR_KEY")
    with LoopbackServer(api_key=KEY) as srv:
        monkeypatch.setenv("RR_KEY", KEY)
        config = config.model_copy(update={"base_url": srv.openai_base_url})
        config, _ = resolved_config(config, GenerationParams(temperature=0, max_tokens=512),
                                    today=date(2026, 12, 7))
        provider = OpenAIChatProvider(config)
        params = check_params(provider)

        async def go():
            await provider.start()
            try:
                return await provider.complete([Message(role="user", content="Say OK.")], params)
            finally:
                await provider.aclose()

        srv.push(Scripted(text="OK"), protocol="openai")
        reply = asyncio.run(go())
        [body] = [r.body for r in srv.requests_for("openai")]
    assert reply.outcome is Outcome.ANSWERED, reply.reason
    assert "temperature" not in body and body["max_completion_tokens"] == CHECK_MAX_TOKENS + 4096
