"""Anthropic adapter against the loopback server: the real `anthropic` SDK sends real HTTP to
127.0.0.1; nothing in the SDK is mocked."""
from __future__ import annotations

import asyncio
import json

import pytest

from harness.providers.anthropic_messages import DEFAULT_MAX_TOKENS, AnthropicProvider
from harness.providers.base import GenerationParams, ProviderConfig
from harness.providers.errors import ProviderError
from harness.providers.retry import RetryPolicy
from harness.testing.loopback import LoopbackServer, Scripted
from harness.types import ErrorKind, Message, Outcome, Reply
from tests.helpers import closed_port, complete, complete_with_identity, loopback_fixtures

KEY = "sk-ant-test-loopback-0123456789"
USER = [Message(role="user", content="Say hi")]


_server, srv = loopback_fixtures(KEY, env=("ANTHROPIC_API_KEY",), unset=("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"))


def make(srv: LoopbackServer | None = None, model: str = "anthropic/claude-haiku-4-5", attempts: int = 6,
         **cfg) -> AnthropicProvider:
    cfg.setdefault("base_url", srv.url if srv else None)
    cfg.setdefault("timeout_s", 5.0)
    provider = AnthropicProvider(ProviderConfig(model=model, **cfg))
    provider.retry_policy = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05, max_attempts=attempts)
    return provider


def run(provider, messages=USER, params: GenerationParams | None = None) -> Reply:
    return complete(provider, messages, params)[0]



@pytest.mark.parametrize("stream", [True, False])
def test_normal_reply_with_usage(srv, stream):
    srv.push(Scripted(text="hello there", input_tokens=12, output_tokens=4), protocol="anthropic")
    reply = run(make(srv, stream=stream))
    assert reply.outcome is Outcome.ANSWERED
    assert reply.text == "hello there"
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (12, 4)
    assert reply.finish_reason == "end_turn"
    assert reply.model_reported == "claude-haiku-4-5"
    assert reply.raw["id"].startswith("msg_")
    [req] = srv.requests
    assert req.path == "/v1/messages" and req.stream is stream
    assert req.headers["authorization"] == f"Bearer {KEY}"  # 2.x sends Bearer, not x-api-key
    assert req.headers["anthropic-version"]


def test_multi_turn_with_system_prompt_arrives_in_anthropic_shape(srv):
    messages = [
        Message(role="system", content="Answer in French."),
        Message(role="user", content="Hi"),
        Message(role="assistant", content="Bonjour"),
        Message(role="user", content="How are you?"),
    ]
    params = GenerationParams(temperature=0.3, max_tokens=64, seed=5, stop=["END"], system_prompt="You are terse.")
    reply = run(make(srv), messages, params)
    body = srv.requests[0].body
    assert body["model"] == "claude-haiku-4-5"
    assert body["system"] == "You are terse.\n\nAnswer in French."
    assert body["messages"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Bonjour"},
        {"role": "user", "content": "How are you?"},
    ]
    assert body["max_tokens"] == 64
    assert "temperature" not in body  # a 400 at any value under anthropic-version 2026-10-21
    assert body["stop_sequences"] == ["END"]
    assert "seed" not in body
    assert "not sent" in reply.raw["temperature"]
    assert "not sent" in reply.raw["seed"]
    assert "max_tokens_defaulted" not in reply.raw


def test_defaults_max_tokens_and_omits_temperature(srv):
    reply = run(make(srv))
    body = srv.requests[0].body
    assert body["max_tokens"] == DEFAULT_MAX_TOKENS == 1024
    assert "temperature" not in body and "system" not in body
    assert reply.raw["max_tokens_defaulted"] == 1024


@pytest.mark.parametrize("stream", [True, False])
def test_refusal_with_category_is_provider_blocked(srv, stream):
    srv.push(Scripted(kind="refusal", text="I won't", category="cyber", message="policy"), protocol="anthropic")
    reply = run(make(srv, stream=stream))
    assert reply.outcome is Outcome.PROVIDER_BLOCKED
    assert reply.reason == "cyber"
    assert reply.finish_reason == "refusal"
    assert reply.raw["stop_details"] == {"type": "refusal", "category": "cyber", "explanation": "policy"}
    assert reply.text == "" and reply.raw["partial_text"] == "I won't"


@pytest.mark.parametrize("kind", ["refusal", "block", "content_filter", "safety_stop"])
def test_every_block_kind_is_provider_blocked(srv, kind):
    srv.push(Scripted(kind=kind, text=""), protocol="anthropic")
    reply = run(make(srv))
    assert reply.outcome is Outcome.PROVIDER_BLOCKED and reply.reason == "refusal"


@pytest.mark.parametrize("stream", [True, False])
def test_max_tokens_is_truncated(srv, stream):
    srv.push(Scripted(kind="truncated", text="partial answer"), protocol="anthropic")
    reply = run(make(srv, stream=stream))
    assert reply.outcome is Outcome.TRUNCATED and reply.text == "partial answer"
    assert reply.finish_reason == "max_tokens"


def test_only_text_blocks_are_joined(srv):
    srv.push(Scripted(body={
        "id": "msg_t", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
        "content": [{"type": "thinking", "thinking": "secret plan", "signature": "sig"},
                    {"type": "text", "text": "The answer"}, {"type": "text", "text": " is 4."}],
        "stop_reason": "end_turn", "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 9}}),
        protocol="anthropic")
    reply = run(make(srv, stream=False))
    assert reply.text == "The answer is 4."


def test_429_retry_after_is_honoured_then_succeeds(srv):
    srv.push(Scripted(kind="error", status=429, headers={"retry-after": "0.2"}), protocol="anthropic")
    srv.push(Scripted(text="ok now"), protocol="anthropic")
    reply = run(make(srv))
    assert reply.outcome is Outcome.ANSWERED and reply.text == "ok now" and reply.attempts == 2
    first, second = srv.requests
    assert second.received_at - first.received_at >= 0.2


@pytest.mark.parametrize("status", [500, 503, 529])
def test_server_errors_are_retried_then_succeed(srv, status):
    srv.push(Scripted(kind="error", status=status), protocol="anthropic")
    srv.push(Scripted(kind="error", status=status), protocol="anthropic")
    srv.push(Scripted(text="recovered"), protocol="anthropic")
    reply = run(make(srv))
    assert reply.outcome is Outcome.ANSWERED and reply.text == "recovered"
    assert reply.attempts == 3 and len(srv.requests) == 3


def test_overloaded_gives_up_as_server_error(srv):
    srv.push(Scripted(kind="error", status=529), protocol="anthropic")
    srv.push(Scripted(kind="error", status=529), protocol="anthropic")
    reply = run(make(srv, attempts=2))
    assert reply.error_kind is ErrorKind.SERVER and "overloaded_error" in reply.reason
    assert reply.raw == {"status": 529}


def test_overloaded_inside_stream_is_server_and_retried(srv):
    # The SDK raises APIStatusError with status_code 200 for an in-stream error event.
    srv.push(Scripted(kind="stream_error", text="partial", status=529), protocol="anthropic")
    srv.push(Scripted(text="second try"), protocol="anthropic")
    reply = run(make(srv, stream=True))
    assert reply.outcome is Outcome.ANSWERED and reply.text == "second try" and reply.attempts == 2


def test_in_stream_error_classified_by_type(srv):
    srv.push(Scripted(kind="stream_error", text="x", status=529), protocol="anthropic")
    reply = run(make(srv, stream=True, attempts=1))
    assert reply.error_kind is ErrorKind.SERVER and "overloaded_error inside the stream" in reply.reason
    srv.clear()
    srv.push(Scripted(kind="stream_error", text="x", status=400, error_type="invalid_request_error"),
             protocol="anthropic")
    reply = run(make(srv, stream=True))
    assert reply.error_kind is ErrorKind.BAD_REQUEST and len(srv.requests) == 1


@pytest.mark.parametrize("status,kind", [(400, ErrorKind.BAD_REQUEST), (401, ErrorKind.AUTH),
                                         (404, ErrorKind.NOT_FOUND)])
def test_client_errors_fail_fast(srv, status, kind):
    srv.push(Scripted(kind="error", status=status, message=f"scripted {status}"), protocol="anthropic")
    reply = run(make(srv))
    assert reply.outcome is Outcome.ERROR and reply.error_kind is kind
    assert len(srv.requests) == 1 and reply.attempts == 1
    assert f"HTTP {status}" in reply.reason and f"scripted {status}" in reply.reason


def test_wrong_key_is_auth_error(srv, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-wrong-000000000")
    reply = run(make(srv))
    assert reply.error_kind is ErrorKind.AUTH and len(srv.requests) == 1
    assert "authentication_error" in reply.reason


def test_billing_error_is_quota(srv):
    srv.push(Scripted(kind="error", status=402), protocol="anthropic")
    reply = run(make(srv))
    assert reply.error_kind is ErrorKind.QUOTA and len(srv.requests) == 1


def test_prompt_too_long_is_context(srv):
    srv.push(Scripted(kind="error", status=400, message="prompt is too long: 250000 tokens > 200000 maximum"),
             protocol="anthropic")
    assert run(make(srv)).error_kind is ErrorKind.CONTEXT


@pytest.mark.parametrize("stream", [True, False])
def test_timeout(srv, stream):
    srv.push(Scripted(kind="hang"), protocol="anthropic")
    srv.push(Scripted(kind="hang"), protocol="anthropic")
    reply = run(make(srv, stream=stream, timeout_s=0.2, attempts=1 if stream else 2))
    assert reply.outcome is Outcome.ERROR and reply.error_kind is ErrorKind.TIMEOUT
    assert reply.attempts == (1 if stream else 2)  # a timeout is worth another try


@pytest.mark.parametrize("stream", [True, False])
def test_refused_connection(monkeypatch, stream):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    reply = run(make(None, base_url=f"http://127.0.0.1:{closed_port()}", stream=stream, attempts=2))
    assert reply.outcome is Outcome.ERROR and reply.error_kind is ErrorKind.CONNECTION and reply.attempts == 2


@pytest.mark.parametrize("stream", [True, False])
def test_malformed_200_is_malformed(srv, stream):
    srv.push(Scripted(kind="malformed"), protocol="anthropic")
    reply = run(make(srv, stream=stream, attempts=1))
    assert reply.error_kind is ErrorKind.MALFORMED


def test_streamed_ttft(srv):
    srv.push(Scripted(text="one two three four", first_chunk_delay_s=0.15, chunk_delay_s=0.02),
             protocol="anthropic")
    reply = run(make(srv, stream=True))
    assert reply.text == "one two three four"
    # message_start is sent before the delay: it must not count as the first token.
    assert reply.ttft_s is not None and reply.ttft_s >= 0.15
    assert reply.ttft_s < reply.latency_s


def test_no_key_is_one_clear_auth_error(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    with pytest.raises(ProviderError) as info:
        asyncio.run(make(None, base_url="http://127.0.0.1:9").start())
    assert info.value.kind is ErrorKind.AUTH and not info.value.retryable
    assert info.value.message == "no API key: set ANTHROPIC_API_KEY (or api_key_env in the eval file)"


def test_auth_token_variable_is_used(srv, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", KEY)
    assert run(make(srv)).outcome is Outcome.ANSWERED


def test_base_url_from_sdk_environment_variable(srv, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.url + "/prefix")
    assert run(make(srv, base_url=None)).outcome is Outcome.ANSWERED
    assert srv.requests[0].path == "/prefix/v1/messages"


def test_key_never_appears_in_reply_or_identity(srv, monkeypatch):
    secret = "loopback-credential-anth-42"
    monkeypatch.setenv("LLM_CRED", secret)
    srv.api_key = secret
    srv.push(Scripted(text="fine"), protocol="anthropic")
    srv.push(Scripted(kind="error", status=400, message=f"bad key {secret}"), protocol="anthropic")
    provider = make(srv, api_key_env="LLM_CRED")

    (good, bad), identity = complete_with_identity(provider, USER, count=2)
    assert good.outcome is Outcome.ANSWERED and bad.outcome is Outcome.ERROR
    for blob in (good.model_dump_json(), bad.model_dump_json(), json.dumps(identity)):
        assert secret not in blob
    assert identity["api_version"] and identity["sdk"] == "anthropic"
    assert identity["base_url"] == srv.url
