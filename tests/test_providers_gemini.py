"""Gemini adapter (google-genai) against the loopback server: the real SDK sends real HTTP to
127.0.0.1; nothing in the SDK is mocked. The legacy google-generativeai adapter is only checked for
its missing-SDK message (the SDK is deliberately not installed)."""
from __future__ import annotations

import asyncio
import json

import pytest

from harness.providers.base import GenerationParams, ProviderConfig
from harness.providers.errors import ProviderError
from harness.providers.gemini import GeminiProvider, google_retry_delay
from harness.providers.retry import RetryPolicy
from harness.testing.loopback import LoopbackServer, Scripted
from harness.types import ErrorKind, Message, Outcome, Reply
from tests.helpers import closed_port, complete, complete_with_identity, loopback_fixtures

KEY = "AIza-test-loopback-0123456789"
USER = [Message(role="user", content="Say hi")]


_server, srv = loopback_fixtures(KEY, env=("GOOGLE_API_KEY",),
                                 unset=("GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL", "GOOGLE_GENAI_API_VERSION"))


def make(srv: LoopbackServer | None = None, model: str = "gemini/gemini-2.5-flash", attempts: int = 6,
         **cfg) -> GeminiProvider:
    cfg.setdefault("base_url", srv.url if srv else None)
    cfg.setdefault("timeout_s", 5.0)
    provider = GeminiProvider(ProviderConfig(model=model, **cfg))
    provider.retry_policy = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05, max_attempts=attempts)
    return provider


def run(provider, messages=USER, params: GenerationParams | None = None) -> Reply:
    return complete(provider, messages, params)[0]


def run_all(provider, count: int, messages=USER) -> list[Reply]:
    return complete(provider, messages, count=count)



@pytest.mark.parametrize("stream", [True, False])
def test_normal_reply_with_usage(srv, stream):
    srv.push(Scripted(text="hello there", input_tokens=9, output_tokens=2), protocol="gemini")
    reply = run(make(srv, stream=stream))
    assert reply.outcome is Outcome.ANSWERED
    assert reply.text == "hello there"
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (9, 2)
    assert reply.finish_reason == "STOP"
    assert reply.model_reported == "gemini-2.5-flash"
    assert reply.raw["id"]
    [req] = srv.requests
    action = "streamGenerateContent" if stream else "generateContent"
    assert req.path == f"/v1/models/gemini-2.5-flash:{action}"  # google-genai 3.x defaults to v1
    if stream:
        assert req.query == "alt=sse"
    assert req.headers["x-goog-api-key"] == KEY


def test_multi_turn_with_system_prompt_arrives_in_gemini_shape(srv):
    messages = [
        Message(role="system", content="Answer in French."),
        Message(role="user", content="Hi"),
        Message(role="assistant", content="Bonjour"),
        Message(role="user", content="How are you?"),
    ]
    params = GenerationParams(temperature=0.2, max_tokens=50, seed=3, stop=["END"], system_prompt="You are terse.")
    run(make(srv), messages, params)
    body = srv.requests[0].body
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Hi"}]},
        {"role": "model", "parts": [{"text": "Bonjour"}]},
        {"role": "user", "parts": [{"text": "How are you?"}]},
    ]
    assert body["systemInstruction"]["parts"] == [{"text": "You are terse.\n\nAnswer in French."}]
    assert body["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 50, "seed": 3,
                                        "stopSequences": ["END"]}
    assert "safetySettings" not in body  # provider defaults unless the eval says otherwise


def test_unset_params_are_not_sent(srv):
    run(make(srv))
    body = srv.requests[0].body
    assert "systemInstruction" not in body and not body.get("generationConfig")


def test_safety_settings_pass_through_and_are_recorded(srv):
    settings = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]
    provider = make(srv, options={"safety_settings": settings})
    reply = run(provider)
    assert srv.requests[0].body["safetySettings"] == settings
    assert reply.raw["safety_settings"] == settings
    assert provider.identity()["safety_settings"] == settings


def test_default_safety_is_recorded_as_provider_default(srv):
    provider = make(srv)
    reply = run(provider)
    assert reply.raw["safety_settings"] == "provider default"
    assert provider.identity()["safety_settings"] == "provider default"


def test_api_version_option(srv):
    run(make(srv, options={"api_version": "v1beta"}))
    assert srv.requests[0].path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"


BLOCK_REASONS = ["SAFETY", "OTHER", "BLOCKLIST", "PROHIBITED_CONTENT"]
SAFETY_FINISHES = ["SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY"]


@pytest.mark.parametrize("stream", [True, False])
def test_blocked_prompt_is_provider_blocked(srv, stream):
    for reason in BLOCK_REASONS:
        srv.push(Scripted(kind="block", block_reason=reason), protocol="gemini")
    replies = run_all(make(srv, stream=stream), len(BLOCK_REASONS))
    for reason, reply in zip(BLOCK_REASONS, replies):
        assert reply.outcome is Outcome.PROVIDER_BLOCKED, reason
        assert reply.reason == reason and reply.raw["block_reason"] == reason
        blocked = [r for r in reply.raw["safety_ratings"] if r.get("blocked")]
        assert blocked and blocked[0]["category"] == "HARM_CATEGORY_DANGEROUS_CONTENT"
        assert reply.text == ""


@pytest.mark.parametrize("stream", [True, False])
def test_safety_class_finish_is_provider_blocked(srv, stream):
    for finish in SAFETY_FINISHES:
        srv.push(Scripted(kind="safety_stop", finish_reason=finish), protocol="gemini")
    replies = run_all(make(srv, stream=stream), len(SAFETY_FINISHES))
    for finish, reply in zip(SAFETY_FINISHES, replies):
        assert reply.outcome is Outcome.PROVIDER_BLOCKED, finish
        assert reply.reason == finish and reply.finish_reason == finish
        assert any(r.get("blocked") for r in reply.raw["safety_ratings"])


def test_partial_text_then_safety_stop_is_blocked(srv):
    srv.push(Scripted(body="data: " + json.dumps({"candidates": [{"content": {"role": "model", "parts": [
        {"text": "Here is how to"}]}, "index": 0}]}) + "\r\n\r\ndata: " + json.dumps(
        {"candidates": [{"finishReason": "SAFETY", "index": 0, "safetyRatings": [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}]}]})
        + "\r\n\r\n"), protocol="gemini")
    reply = run(make(srv, stream=True))
    assert reply.outcome is Outcome.PROVIDER_BLOCKED and reply.reason == "SAFETY"
    assert reply.text == "" and reply.raw["partial_text"] == "Here is how to"


def test_refusal_and_content_filter_kinds_map_to_blocks(srv):
    for kind in ("refusal", "content_filter"):
        srv.push(Scripted(kind=kind), protocol="gemini")
    assert all(r.outcome is Outcome.PROVIDER_BLOCKED for r in run_all(make(srv), 2))


@pytest.mark.parametrize("stream", [True, False])
def test_max_tokens_is_truncated(srv, stream):
    srv.push(Scripted(kind="truncated", text="partial answer"), protocol="gemini")
    reply = run(make(srv, stream=stream))
    assert reply.outcome is Outcome.TRUNCATED and reply.text == "partial answer"
    assert reply.finish_reason == "MAX_TOKENS"


def test_thought_parts_are_not_the_answer(srv):
    srv.push(Scripted(body={
        "candidates": [{"content": {"role": "model", "parts": [{"text": "thinking...", "thought": True},
                                                              {"text": "Paris"}]},
                        "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 1, "thoughtsTokenCount": 7,
                          "totalTokenCount": 13}}), protocol="gemini")
    reply = run(make(srv, stream=False))
    assert reply.text == "Paris"
    assert reply.usage.output_tokens == 8  # thinking tokens are billed as output
    assert reply.raw["thoughts_tokens"] == 7


def test_429_retry_info_delay_is_honoured_then_succeeds(srv):
    srv.push(Scripted(kind="error", status=429, retry_delay="0.2s"), protocol="gemini")
    srv.push(Scripted(text="ok now"), protocol="gemini")
    reply = run(make(srv))
    assert reply.outcome is Outcome.ANSWERED and reply.text == "ok now" and reply.attempts == 2
    first, second = srv.requests
    assert second.received_at - first.received_at >= 0.2


def test_429_retry_after_header_is_honoured(srv):
    srv.push(Scripted(kind="error", status=429, headers={"retry-after": "0.2"}), protocol="gemini")
    srv.push(Scripted(text="ok"), protocol="gemini")
    reply = run(make(srv))
    assert reply.outcome is Outcome.ANSWERED
    first, second = srv.requests
    assert second.received_at - first.received_at >= 0.2


def test_google_retry_delay_parsing():
    body = {"error": {"details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure"},
                                  {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}]}}
    assert google_retry_delay(body) == 2.0
    assert google_retry_delay({"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                                      "retryDelay": {"seconds": 1, "nanos": 500000000}}]}}) == 1.5
    assert google_retry_delay({"error": {"code": 429}}) is None
    assert google_retry_delay("not json") is None


@pytest.mark.parametrize("status", [500, 503, 529])
def test_server_errors_are_retried_then_succeed(srv, status):
    srv.push(Scripted(kind="error", status=status), protocol="gemini")
    srv.push(Scripted(kind="error", status=status), protocol="gemini")
    srv.push(Scripted(text="recovered"), protocol="gemini")
    reply = run(make(srv))
    assert reply.outcome is Outcome.ANSWERED and reply.text == "recovered"
    assert reply.attempts == 3 and len(srv.requests) == 3


def test_error_inside_stream_is_retried(srv):
    srv.push(Scripted(kind="stream_error", text="partial", status=503), protocol="gemini")
    srv.push(Scripted(text="whole"), protocol="gemini")
    reply = run(make(srv, stream=True))
    assert reply.outcome is Outcome.ANSWERED and reply.text == "whole" and reply.attempts == 2


@pytest.mark.parametrize("status,kind", [(400, ErrorKind.BAD_REQUEST), (401, ErrorKind.AUTH),
                                         (403, ErrorKind.AUTH), (404, ErrorKind.NOT_FOUND)])
def test_client_errors_fail_fast(srv, status, kind):
    srv.push(Scripted(kind="error", status=status, message=f"scripted {status}"), protocol="gemini")
    reply = run(make(srv))
    assert reply.outcome is Outcome.ERROR and reply.error_kind is kind
    assert len(srv.requests) == 1 and reply.attempts == 1
    assert f"HTTP {status}" in reply.reason and f"scripted {status}" in reply.reason


def test_invalid_key_400_is_auth(srv, monkeypatch):
    # Google answers a bad key with 400 INVALID_ARGUMENT + ErrorInfo reason API_KEY_INVALID.
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-wrong-000000000")
    reply = run(make(srv))
    assert reply.error_kind is ErrorKind.AUTH and len(srv.requests) == 1
    assert "API key not valid" in reply.reason


@pytest.mark.parametrize("stream", [True, False])
def test_timeout(srv, stream):
    srv.push(Scripted(kind="hang"), protocol="gemini")
    srv.push(Scripted(kind="hang"), protocol="gemini")
    reply = run(make(srv, stream=stream, timeout_s=0.2, attempts=1 if stream else 2))
    assert reply.outcome is Outcome.ERROR and reply.error_kind is ErrorKind.TIMEOUT
    assert reply.attempts == (1 if stream else 2)  # a timeout is worth another try


@pytest.mark.parametrize("stream", [True, False])
def test_refused_connection(monkeypatch, stream):
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    reply = run(make(None, base_url=f"http://127.0.0.1:{closed_port()}", stream=stream, attempts=2))
    assert reply.outcome is Outcome.ERROR and reply.error_kind is ErrorKind.CONNECTION and reply.attempts == 2


@pytest.mark.parametrize("stream", [True, False])
def test_malformed_200_is_malformed(srv, stream):
    srv.push(Scripted(kind="malformed"), protocol="gemini")
    reply = run(make(srv, stream=stream, attempts=1))
    assert reply.error_kind is ErrorKind.MALFORMED


def test_empty_200_is_malformed(srv):
    srv.push(Scripted(body={}), protocol="gemini")
    reply = run(make(srv, stream=False, attempts=1))
    assert reply.error_kind is ErrorKind.MALFORMED and "without candidates" in reply.reason


def test_streamed_ttft(srv):
    srv.push(Scripted(text="one two three four", first_chunk_delay_s=0.15, chunk_delay_s=0.02), protocol="gemini")
    reply = run(make(srv, stream=True))
    assert reply.text == "one two three four"
    assert reply.ttft_s is not None and reply.ttft_s >= 0.15
    assert reply.ttft_s < reply.latency_s


def test_no_key_is_one_clear_auth_error(monkeypatch):
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    with pytest.raises(ProviderError) as info:
        asyncio.run(make(None, base_url="http://127.0.0.1:9").start())
    assert info.value.kind is ErrorKind.AUTH and not info.value.retryable
    assert info.value.message == "no API key: set GOOGLE_API_KEY (or api_key_env in the eval file)"


def test_gemini_api_key_variable_is_used(srv, monkeypatch):
    monkeypatch.delenv("GOOGLE_API_KEY")
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    assert run(make(srv)).outcome is Outcome.ANSWERED


def test_base_url_from_sdk_environment_variable(srv, monkeypatch):
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", srv.url + "/gw/")
    assert run(make(srv, base_url=None)).outcome is Outcome.ANSWERED
    assert srv.requests[0].path == "/gw/v1/models/gemini-2.5-flash:streamGenerateContent"


def test_key_never_appears_in_reply_or_identity(srv, monkeypatch):
    secret = "loopback-credential-gem-42"
    monkeypatch.setenv("LLM_CRED", secret)
    srv.api_key = secret
    srv.push(Scripted(text="fine"), protocol="gemini")
    srv.push(Scripted(kind="error", status=400, message=f"bad key {secret}"), protocol="gemini")
    provider = make(srv, api_key_env="LLM_CRED")

    (good, bad), identity = complete_with_identity(provider, USER, count=2)
    assert good.outcome is Outcome.ANSWERED and bad.outcome is Outcome.ERROR
    for blob in (good.model_dump_json(), bad.model_dump_json(), json.dumps(identity)):
        assert secret not in blob
    assert identity["sdk"] == "google-genai" and identity["api_version"] == "v1"
    assert identity["base_url"] == srv.url
