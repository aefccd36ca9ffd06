"""The shipped evals/*.yaml run to exit 0 against servers that reject what the real APIs of late 2026 reject,
for the current model of each provider they name and for the reasoning models their comments suggest.

The rejections (provider-wire.md section 12) are enforced here by a responder on top of the loopback
server, so that this test holds whatever the loopback server itself accepts: Anthropic API 2026-10-21
answers 400 to temperature/top_p/top_k at any value; OpenAI reasoning models answer 400 to max_tokens and
to temperature != 1 (on gpt-5.1 and later, any temperature without reasoning_effort none); Gemini answers
400 to unknown generationConfig fields. Every request must also carry the reasoning allowance on top of
the visible max_tokens where the model reasons."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from harness.testing.loopback import LoggedRequest, LoopbackServer, Scripted

REPO = Path(__file__).resolve().parents[1]
SHIPPED = ["accuracy", "teen_safety", "teen_helpfulness", "all_providers"]
KEYS = {"SHIP_OPENAI_KEY": "sk-ship-openai-000000000000", "SHIP_ANTHROPIC_KEY": "sk-ant-ship-0000000000000",
        "SHIP_GEMINI_KEY": "AIzaShipTest000000000000000000"}
# generationConfig fields google-genai 3.6.1 can send (GenerationConfig in google/genai/types.py, camelCase).
GEMINI_FIELDS = {"temperature", "topP", "topK", "candidateCount", "maxOutputTokens", "stopSequences", "seed",
                 "presencePenalty", "frequencyPenalty", "responseMimeType", "responseSchema", "responseLogprobs",
                 "logprobs", "thinkingConfig", "mediaResolution", "speechConfig", "responseModalities",
                 "responseJsonSchema", "imageConfig", "enableEnhancedCivicAnswers"}
REASONING_OPENAI = ("gpt-5", "o1", "o3", "o4", "gpt-6")


def _bad(protocol: str, message: str, code: str = "invalid_request_error") -> Scripted:
    return Scripted(kind="error", status=400, error_type="invalid_request_error", error_code=code, message=message)


def strict(req: LoggedRequest) -> Scripted | None:
    body = req.body if isinstance(req.body, dict) else {}
    if req.protocol == "anthropic":
        for name in ("temperature", "top_p", "top_k"):
            if name in body:
                return _bad("anthropic", f"{name}: Extra inputs are not permitted")
        thinking = body.get("thinking", {}).get("type", "adaptive")
        if thinking != "disabled" and body.get("max_tokens", 0) < 512 + 1024:
            return _bad("anthropic", "max_tokens leaves no room for thinking (the allowance was not added)")
    elif req.protocol == "openai":
        model = str(body.get("model", ""))
        if model.startswith(REASONING_OPENAI):
            if "max_tokens" in body:
                return _bad("openai", "Unsupported parameter: 'max_tokens'. Use 'max_completion_tokens' instead.",
                            "unsupported_parameter")
            effort = body.get("reasoning_effort")
            if "temperature" in body and body["temperature"] != 1 and effort != "none":
                return _bad("openai", "Unsupported value: 'temperature' does not support 0 with this model. "
                            "Only the default (1) value is supported.", "unsupported_value")
            if effort != "none" and body.get("max_completion_tokens", 0) < 512 + 1024:
                return _bad("openai", "budget leaves no room for reasoning (the allowance was not added)")
    elif req.protocol.startswith("gemini"):
        config = body.get("generationConfig", {})
        unknown = set(config) - GEMINI_FIELDS
        if unknown:
            return _bad("gemini", f"Invalid JSON payload received. Unknown name {sorted(unknown)[0]!r} at "
                        "'generation_config': Cannot find field.")
        if config.get("maxOutputTokens", 0) < 512 + 1024:
            return _bad("gemini", "maxOutputTokens leaves no room for thoughts (the allowance was not added)")
    return Scripted(text="I can help with that. Paris. 4. A")


def _cloud_entries(eval_name: str, reasoning: bool) -> list[dict]:
    text = (REPO / "evals" / f"{eval_name}.yaml").read_text(encoding="utf-8")
    if reasoning:   # the reasoning models the file suggests, in its comments
        entries = [yaml.safe_load(line.strip()[2:])[0] for line in text.splitlines()
                   if line.strip().startswith("# - {model:")]
    else:
        entries = [p for p in yaml.safe_load(text)["providers"] if not p["model"].startswith("llama/")]
    assert {e["model"].split("/")[0] for e in entries} == {"openai", "anthropic", "gemini"}, entries
    return entries


@pytest.mark.parametrize("reasoning", [False, True], ids=["current", "reasoning"])
@pytest.mark.parametrize("eval_name", SHIPPED)
def test_shipped_eval_runs_to_exit_0_against_strict_servers(eval_name, reasoning, tmp_path, cli):
    spec = yaml.safe_load((REPO / "evals" / f"{eval_name}.yaml").read_text(encoding="utf-8"))
    spec["suites"] = [str(REPO / s) for s in spec["suites"]]
    with LoopbackServer() as srv:
        srv.responder = strict
        providers = []
        for entry in _cloud_entries(eval_name, reasoning):
            kind = entry["model"].split("/")[0]
            providers.append({**entry, "base_url": srv.openai_base_url if kind == "openai" else srv.url,
                              "api_key_env": f"SHIP_{kind.upper()}_KEY", "retry": {"max_attempts": 1}})
        spec["providers"] = providers
        path = tmp_path / f"{eval_name}.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        done = cli("run", str(path), "--results", str(tmp_path / "r"), "--no-progress", "--limit", "4", env=KEYS)
        requests = list(srv.requests)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(requests) == 4 * len(providers) and "error" not in {r.protocol for r in requests}
    db = sqlite3.connect(tmp_path / "r" / "harness.db")
    outcomes = db.execute("SELECT outcome, COUNT(*) FROM replies GROUP BY outcome").fetchall()
    assert outcomes == [("answered", 4 * len(providers))], outcomes
    identities = {label: json.loads(i) for label, i in db.execute("SELECT label, identity_json FROM run_providers")}
    for label, identity in identities.items():
        assert "capabilities.yaml" in identity["params"]["capabilities"], label
    if not reasoning:
        # deterministic where the model allows it: gpt-5.4-mini (reasoning none) is sent temperature 0
        [gpt] = [r.body for r in requests if r.protocol == "openai"][:1]
        assert gpt["temperature"] == 0 and gpt["reasoning_effort"] == "none" and gpt["seed"] == 7
        assert "left to the provider's default" in done.stderr


EVALS = Path(__file__).resolve().parents[1] / "evals"


@pytest.mark.parametrize("path", sorted(p.name for p in EVALS.glob("*.yaml") if p.name != "smoke.yaml"))
def test_every_shipped_eval_file_validates_as_it_stands(path):
    """Every eval file we ship loads with no problem today: no retired model, no parameter its model
    rejects (the conversation evals once named gemini-2.5-flash, shut down 2026-12-01, and exited 2).
    smoke.yaml needs the tiny model the README's first command writes; its own tests run it."""
    from harness.evalfile import load_eval

    spec = load_eval(EVALS / path)
    assert spec.providers
