"""Reasoning on the wire, with the real SDK clients against the loopback server: what each adapter sends for
`reasoning:` and the visible budget plus allowance, and what it records from replies with hidden reasoning
(reasoning and cached tokens, thinking kept apart, reasoning_exhausted). Response bodies the loopback
server does not produce by itself are scripted here as raw protocol bodies."""
from __future__ import annotations

import json
from datetime import date

import pytest

from harness.providers.anthropic_messages import AnthropicProvider
from harness.providers.base import GenerationParams, ProviderConfig
from harness.providers.gemini import GeminiProvider
from harness.providers.openai_chat import OpenAIChatProvider
from harness.providers.openai_compatible import OpenAICompatibleProvider
from harness.providers.pricing import Price, cost
from harness.providers.reasoning import REASONING_EXHAUSTED, split_think
from harness.providers.resolve import resolved_config
from harness.providers.retry import RetryPolicy
from harness.testing.loopback import LoopbackServer, Scripted
from harness.types import Message, Outcome, Usage
from tests.helpers import complete

KEY = "sk-test-reasoning-0123456789"
USER = [Message(role="user", content="Say hi")]
DEFAULTS = GenerationParams(temperature=0, max_tokens=512, seed=7)


@pytest.fixture(scope="module")
def _server():
    with LoopbackServer(api_key=KEY) as server:
        yield server


@pytest.fixture
def srv(_server, monkeypatch):
    for env in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "OPENAI_COMPATIBLE_API_KEY"):
        monkeypatch.setenv(env, KEY)
    for env in ("ANTHROPIC_AUTH_TOKEN", "GEMINI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL",
                "GOOGLE_GEMINI_BASE_URL"):
        monkeypatch.delenv(env, raising=False)
    _server.clear()
    yield _server
    _server.clear()


def make(cls, srv, model: str, stream: bool = False, **params):
    base = srv.openai_base_url if cls in (OpenAIChatProvider, OpenAICompatibleProvider) else srv.url
    config = ProviderConfig(model=model, base_url=base, timeout_s=5.0, stream=stream, params=GenerationParams(**params))
    config, res = resolved_config(config, DEFAULTS, explicit=set(params), today=date(2026, 12, 7))
    assert not res.problems, res.problems
    provider = cls(config)
    provider.retry_policy = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05, max_attempts=1)
    return provider


def run(provider):
    return complete(provider, USER, provider.config.params)[0]


# -- OpenAI --------------------------------------------------------------------------------------
def openai_body(content: str | None, finish: str, reasoning: int, cached: int = 0, model: str = "gpt-5.5",
                **message) -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": content, **message}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": reasoning + 5, "total_tokens": 105 + reasoning,
                      "completion_tokens_details": {"reasoning_tokens": reasoning},
                      "prompt_tokens_details": {"cached_tokens": cached}}}


def test_openai_reasoning_model_gets_effort_and_visible_budget_plus_allowance(srv):
    srv.push(Scripted(body=openai_body("Hi!", "stop", 300, cached=64)), protocol="openai")
    reply = run(make(OpenAIChatProvider, srv, "openai/gpt-5.5", reasoning="high"))
    body = srv.requests[0].body
    assert body["reasoning_effort"] == "high" and body["max_completion_tokens"] == 512 + 4096
    assert "temperature" not in body and "max_tokens" not in body and body["seed"] == 7
    assert reply.outcome is Outcome.ANSWERED and reply.text == "Hi!"
    u = reply.usage
    assert (u.input_tokens, u.output_tokens, u.reasoning_tokens, u.cached_input_tokens) == (100, 305, 300, 64)
    assert reply.raw["reasoning_tokens"] == 300 and reply.raw["cached_input_tokens"] == 64


def test_openai_reasoning_none_sends_temperature_and_no_allowance(srv):
    srv.push(Scripted(text="Hi"), protocol="openai")
    run(make(OpenAIChatProvider, srv, "openai/gpt-5.4-mini", reasoning="none"))
    body = srv.requests[0].body
    assert (body["reasoning_effort"], body["temperature"], body["max_completion_tokens"]) == ("none", 0, 512)


def test_openai_budget_spent_on_reasoning_is_reasoning_exhausted(srv):
    srv.push(Scripted(body=openai_body("", "length", 4608)), protocol="openai")
    reply = run(make(OpenAIChatProvider, srv, "openai/gpt-5.5"))
    assert reply.outcome is Outcome.TRUNCATED and reply.reason == REASONING_EXHAUSTED and reply.text == ""


def test_openai_truncated_answer_with_text_stays_truncated(srv):
    srv.push(Scripted(body=openai_body("A long answer that was cut", "length", 100)), protocol="openai")
    reply = run(make(OpenAIChatProvider, srv, "openai/gpt-5.5"))
    assert reply.outcome is Outcome.TRUNCATED and reply.reason == "max_tokens"


def test_compatible_server_think_block_and_reasoning_content_are_split_off(srv):
    srv.push(Scripted(body=openai_body("<think>They want a greeting.</think>\n\nHello!", "stop", 0, model="qwen3")),
             protocol="openai")
    srv.push(Scripted(body=openai_body("Hello again", "stop", 0, model="qwen3", reasoning_content="Plan: greet.")),
             protocol="openai")
    provider = make(OpenAICompatibleProvider, srv, "openai-compatible/qwen3")
    first, second = complete(provider, USER, provider.config.params, count=2)
    assert (first.text, first.raw["reasoning"]) == ("Hello!", "They want a greeting.")
    assert (second.text, second.raw["reasoning"]) == ("Hello again", "Plan: greet.")


def test_compatible_server_streamed_reasoning_field_and_unclosed_think(srv):
    def sse(deltas, finish):
        chunks = [{"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "qwen3",
                   "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
        chunks.append({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "qwen3",
                       "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"

    srv.push(Scripted(body=sse([{"role": "assistant", "reasoning": "Think "}, {"reasoning": "more."},
                                {"content": "Answer."}], "stop")), protocol="openai")
    srv.push(Scripted(body=sse([{"content": "<think>I am still "}, {"content": "thinking"}], "length")),
             protocol="openai")
    provider = make(OpenAICompatibleProvider, srv, "openai-compatible/qwen3", stream=True)
    first, second = complete(provider, USER, provider.config.params, count=2)
    assert (first.text, first.raw["reasoning"]) == ("Answer.", "Think more.")
    assert second.text == "" and second.reason == REASONING_EXHAUSTED and second.raw["reasoning"] == "I am still thinking"


# -- Anthropic -----------------------------------------------------------------------------------
def anthropic_body(blocks: list[dict], stop: str, thinking: int, cache_read: int = 0) -> dict:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-5", "content": blocks,
            "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": 20, "output_tokens": thinking + 3, "cache_read_input_tokens": cache_read,
                      "cache_creation_input_tokens": 0, "output_tokens_details": {"thinking_tokens": thinking}}}


THINK = {"type": "thinking", "thinking": "The user greets me.", "signature": "sig"}


@pytest.mark.parametrize("reasoning, thinking, effort", [
    ("high", {"type": "adaptive"}, {"effort": "high"}),
    ("none", {"type": "disabled"}, None),
    (2048, {"type": "enabled", "budget_tokens": 2048}, None),
])
def test_anthropic_reasoning_maps_to_thinking_and_budget_adds_the_allowance(srv, reasoning, thinking, effort):
    srv.push(Scripted(text="Hi"), protocol="anthropic")
    run(make(AnthropicProvider, srv, "anthropic/claude-sonnet-5", reasoning=reasoning))
    body = srv.requests[0].body
    assert body["thinking"] == thinking and body.get("output_config") == effort
    assert "temperature" not in body and "top_p" not in body and "seed" not in body
    allowance = 0 if reasoning == "none" else (2048 if reasoning == 2048 else 4096)
    assert body["max_tokens"] == 512 + allowance


def test_anthropic_default_thinking_sends_no_thinking_field_but_the_allowance(srv):
    srv.push(Scripted(text="Hi"), protocol="anthropic")
    run(make(AnthropicProvider, srv, "anthropic/claude-sonnet-5"))
    body = srv.requests[0].body
    assert "thinking" not in body and body["max_tokens"] == 512 + 4096 and "temperature" not in body


def test_anthropic_thinking_is_stored_apart_and_counted(srv):
    srv.push(Scripted(body=anthropic_body([THINK, {"type": "text", "text": "Hello!"}], "end_turn", 40, 8)),
             protocol="anthropic")
    reply = run(make(AnthropicProvider, srv, "anthropic/claude-sonnet-5"))
    assert reply.text == "Hello!" and reply.raw["reasoning"] == "The user greets me."
    u = reply.usage
    assert (u.input_tokens, u.output_tokens, u.reasoning_tokens, u.cached_input_tokens) == (28, 43, 40, 8)


def test_anthropic_streamed_thinking_and_exhaustion(srv):
    events = [
        ("message_start", {"type": "message_start", "message": {
            "id": "msg_s", "type": "message", "role": "assistant", "model": "claude-sonnet-5", "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 20, "output_tokens": 1}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "thinking_delta", "thinking": "Long thought"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "max_tokens", "stop_sequence": None},
                           "usage": {"output_tokens": 4608, "output_tokens_details": {"thinking_tokens": 4608}}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    srv.push(Scripted(body="".join(f"event: {e}\ndata: {json.dumps(d)}\n\n" for e, d in events)),
             protocol="anthropic")
    reply = run(make(AnthropicProvider, srv, "anthropic/claude-sonnet-5", stream=True))
    assert reply.outcome is Outcome.TRUNCATED and reply.reason == REASONING_EXHAUSTED and reply.text == ""
    assert reply.usage.reasoning_tokens == 4608 and reply.raw["reasoning"] == "Long thought"


# -- Gemini --------------------------------------------------------------------------------------
def gemini_body(parts: list[dict], finish: str, thoughts: int, cached: int = 0) -> dict:
    return {"candidates": [{"index": 0, "content": {"role": "model", "parts": parts}, "finishReason": finish}],
            "usageMetadata": {"promptTokenCount": 30, "candidatesTokenCount": 5, "thoughtsTokenCount": thoughts,
                              "cachedContentTokenCount": cached, "totalTokenCount": 35 + thoughts},
            "modelVersion": "gemini-3.5-flash", "responseId": "r1"}


def test_gemini_3_gets_a_thinking_level_and_no_temperature(srv):
    srv.push(Scripted(text="Hi"), protocol="gemini")
    run(make(GeminiProvider, srv, "gemini/gemini-3.5-flash", reasoning="low"))
    config = srv.requests[0].body["generationConfig"]
    # google-genai 3.6.1 copies the ThinkingConfig through with its field names (proto JSON accepts both)
    assert config["thinkingConfig"] in ({"thinkingLevel": "LOW"}, {"thinking_level": "LOW"})
    assert config["maxOutputTokens"] == 512 + 4096 and "temperature" not in config and config["seed"] == 7


def test_gemini_thoughts_are_stored_apart_and_counted(srv):
    body = gemini_body([{"text": "Considering.", "thought": True}, {"text": "Hello!"}], "STOP", 50, cached=10)
    srv.push(Scripted(body=body), protocol="gemini")
    reply = run(make(GeminiProvider, srv, "gemini/gemini-3.5-flash"))
    assert reply.text == "Hello!" and reply.raw["reasoning"] == "Considering."
    u = reply.usage
    assert (u.input_tokens, u.output_tokens, u.reasoning_tokens, u.cached_input_tokens) == (30, 55, 50, 10)


def test_gemini_budget_spent_on_thoughts_is_reasoning_exhausted(srv):
    body = gemini_body([{"text": "Thinking...", "thought": True}], "MAX_TOKENS", 4608)
    body["usageMetadata"].pop("candidatesTokenCount")
    srv.push(Scripted(body=body), protocol="gemini")
    reply = run(make(GeminiProvider, srv, "gemini/gemini-3.5-flash"))
    assert reply.outcome is Outcome.TRUNCATED and reply.reason == REASONING_EXHAUSTED


# -- pure parts ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, answer, thought", [
    ("plain answer", "plain answer", ""),
    ("<think>a</think>b", "b", "a"),
    ("<think>a</think> b <think>c</think> d", "b  d", "a\n\nc"),
    ("<THINK>a</THINK>b", "b", "a"),
    ("reasoning first</think>answer", "answer", "reasoning first"),
    ("<think>never closed", "", "never closed"),
])
def test_split_think(text, answer, thought):
    assert split_think(text) == (answer, thought)


def test_cached_input_is_priced_at_the_cached_rate():
    price = {"openai/m": Price(2.0, 8.0, cached_input_per_mtok=0.5)}
    usage = Usage(input_tokens=1_000_000, cached_input_tokens=400_000, output_tokens=100_000, reasoning_tokens=90_000)
    assert cost("openai/m", usage, table=price) == pytest.approx((600_000 * 2 + 400_000 * 0.5 + 100_000 * 8) / 1e6)
    assert cost("openai/m", usage, table={"openai/m": Price(2.0, 8.0)}) is None  # cached rate unknown: unknown
    assert cost("openai/gpt-4o-mini", Usage(input_tokens=1000, cached_input_tokens=1000, output_tokens=0)) \
        == pytest.approx(1000 * 0.075 / 1e6)
