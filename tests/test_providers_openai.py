"""OpenAI and OpenAI-compatible adapters against the loopback server: the real `openai` SDK sends
real HTTP to 127.0.0.1; nothing in the SDK is mocked."""
from __future__ import annotations

import asyncio
import json

import pytest

from harness.providers.base import GenerationParams, ProviderConfig
from harness.providers.errors import ProviderError
from harness.providers.openai_chat import OpenAIChatProvider
from harness.providers.openai_compatible import PLACEHOLDER_KEY, OpenAICompatibleProvider
from harness.providers.retry import RetryPolicy
from harness.testing.loopback import LoopbackServer, Scripted
from harness.types import ErrorKind, Message, Outcome, Reply
from tests.helpers import closed_port, complete, complete_with_identity, loopback_fixtures

KEY = "sk-test-loopback-0123456789"
USER = [Message(role="user", content="Say hi")]


_server, srv = loopback_fixtures(KEY, env=("OPENAI_API_KEY",), unset=("OPENAI_BASE_URL", "OPENAI_COMPATIBLE_API_KEY"))


def make(srv: LoopbackServer | None = None, cls=OpenAIChatProvider, model: str = "openai/gpt-4o-mini",
         attempts: int = 6, **cfg) -> OpenAIChatProvider:
    cfg.setdefault("base_url", srv.openai_base_url if srv else None)
    cfg.setdefault("timeout_s", 5.0)
    provider = cls(ProviderConfig(model=model, **cfg))
    provider.retry_policy = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05, max_attempts=attempts)
    return provider


def run(provider, messages=USER, params: GenerationParams | None = None) -> Reply:
    return complete(provider, messages, params)[0]



@pytest.mark.parametrize("stream", [True, False])
def test_normal_reply_with_usage(srv, stream):
    srv.push(Scripted(text="hello there", input_tokens=11, output_tokens=3), protocol="openai")
    reply = run(make(srv, stream=stream))
    assert reply.outcome is Outcome.ANSWERED
    assert reply.text == "hello there"
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (11, 3)
    assert reply.finish_reason == "stop"
    assert reply.model_reported == "gpt-4o-mini"
    assert reply.raw["id"].startswith("chatcmpl-")
    assert reply.attempts == 1 and reply.latency_s > 0
    [req] = srv.requests
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.headers["x-stainless-retry-count"] == "0"
    assert req.stream is stream
    if stream:
        assert req.body["stream_options"] == {"include_usage": True}


def test_multi_turn_with_system_prompt_arrives_in_openai_shape(srv):
    messages = [
        Message(role="system", content="Answer in French."),
        Message(role="user", content="Hi"),
        Message(role="assistant", content="Bonjour"),
        Message(role="user", content="How are you?"),
    ]
    params = GenerationParams(temperature=0.2, max_tokens=50, seed=7, stop=["END"], system_prompt="You are terse.")
    run(make(srv), messages, params)
    body = srv.requests[0].body
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Bonjour"},
        {"role": "user", "content": "How are you?"},
    ]
    assert body["temperature"] == 0.2
    assert body["max_completion_tokens"] == 50 and "max_tokens" not in body
    assert body["seed"] == 7
    assert body["stop"] == ["END"]


def test_unset_params_are_not_sent(srv):
    run(make(srv))
    body = srv.requests[0].body
    for key in ("temperature", "max_tokens", "max_completion_tokens", "seed", "stop"):
        assert key not in body


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("kind,reason", [("refusal", "refusal"), ("content_filter", "content_filter")])
def test_refusal_and_content_filter_are_provider_blocked(srv, stream, kind, reason):
    srv.push(Scripted(kind=kind, text="I can't help with that."), protocol="openai")
    reply = run(make(srv, stream=stream))
    assert reply.outcome is Outcome.PROVIDER_BLOCKED
    assert reply.reason == reason
    assert reply.text == ""  # blocked replies carry no model text
    if kind == "refusal":
        assert reply.raw["refusal"] == "I can't help with that."
        assert reply.finish_reason == "stop"
    else:
        assert reply.finish_reason == "content_filter"


@pytest.mark.parametrize("stream", [True, False])
def test_length_is_truncated(srv, stream):
    srv.push(Scripted(kind="truncated", text="partial answer"), protocol="openai")
    reply = run(make(srv, stream=stream))
    assert reply.outcome is Outcome.TRUNCATED
    assert reply.text == "partial answer"
    assert reply.finish_reason == "length" and reply.reason == "max_tokens"


@pytest.mark.parametrize("headers,delay", [({"retry-after": "0.2"}, 0.2), ({"retry-after-ms": "250"}, 0.25)])
def test_429_retry_after_is_honoured_then_succeeds(srv, headers, delay):
    srv.push(Scripted(kind="error", status=429, headers=headers), protocol="openai")
    srv.push(Scripted(text="ok now"), protocol="openai")
    waits = []
    provider = make(srv)

    async def go():
        await provider.start()
        try:
            return await provider.complete(USER, on_wait=lambda kind, s: waits.append((kind, s)))
        finally:
            await provider.aclose()

    reply = asyncio.run(go())
    assert reply.outcome is Outcome.ANSWERED and reply.text == "ok now"
    assert reply.attempts == 2
    first, second = srv.requests
    assert second.received_at - first.received_at >= delay
    assert waits == [("rate_limit", pytest.approx(delay))]
    # SDK retries are off: both requests are first attempts as far as the SDK knows.
    assert first.retry_count == second.retry_count == 0


def test_429_insufficient_quota_is_quota_and_not_retried(srv):
    srv.push(Scripted(kind="error", status=429, error_code="insufficient_quota", error_type="insufficient_quota",
                      message="You exceeded your current quota"), protocol="openai")
    reply = run(make(srv))
    assert reply.outcome is Outcome.ERROR and reply.error_kind is ErrorKind.QUOTA
    assert len(srv.requests) == 1


@pytest.mark.parametrize("status", [500, 503, 529])
def test_server_errors_are_retried_then_succeed(srv, status):
    srv.push(Scripted(kind="error", status=status), protocol="openai")
    srv.push(Scripted(kind="error", status=status), protocol="openai")
    srv.push(Scripted(text="recovered"), protocol="openai")
    reply = run(make(srv))
    assert reply.outcome is Outcome.ANSWERED and reply.text == "recovered"
    assert reply.attempts == 3 and len(srv.requests) == 3


def test_server_error_gives_up_as_server_error(srv):
    for _ in range(3):
        srv.push(Scripted(kind="error", status=503), protocol="openai")
    reply = run(make(srv, attempts=3))
    assert reply.outcome is Outcome.ERROR and reply.error_kind is ErrorKind.SERVER
    assert reply.attempts == 3 and reply.raw == {"status": 503}


@pytest.mark.parametrize("status,kind", [(400, ErrorKind.BAD_REQUEST), (401, ErrorKind.AUTH),
                                         (404, ErrorKind.NOT_FOUND)])
def test_client_errors_fail_fast(srv, status, kind):
    srv.push(Scripted(kind="error", status=status, message=f"scripted {status}"), protocol="openai")
    reply = run(make(srv))
    assert reply.outcome is Outcome.ERROR and reply.error_kind is kind
    assert len(srv.requests) == 1 and reply.attempts == 1
    assert f"HTTP {status}" in reply.reason and f"scripted {status}" in reply.reason


def test_wrong_key_is_auth_error(srv, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key-000000000")
    reply = run(make(srv))
    assert reply.error_kind is ErrorKind.AUTH and len(srv.requests) == 1
    assert "Incorrect API key" in reply.reason


def test_context_length_is_context(srv):
    srv.push(Scripted(kind="error", status=400, error_code="context_length_exceeded"), protocol="openai")
    assert run(make(srv)).error_kind is ErrorKind.CONTEXT


@pytest.mark.parametrize("stream", [True, False])
def test_timeout(srv, stream):
    srv.push(Scripted(kind="hang"), protocol="openai")
    srv.push(Scripted(kind="hang"), protocol="openai")
    reply = run(make(srv, stream=stream, timeout_s=0.2, attempts=1 if stream else 2))
    assert reply.outcome is Outcome.ERROR and reply.error_kind is ErrorKind.TIMEOUT
    assert reply.attempts == (1 if stream else 2)  # a timeout is worth another try
    assert "timed out after 0.2s" in reply.reason


@pytest.mark.parametrize("stream", [True, False])
def test_refused_connection(stream):
    provider = make(None, base_url=f"http://127.0.0.1:{closed_port()}/v1", stream=stream, attempts=2)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPENAI_API_KEY", KEY)
        reply = run(provider)
    assert reply.outcome is Outcome.ERROR and reply.error_kind is ErrorKind.CONNECTION
    assert reply.attempts == 2 and "cannot connect" in reply.reason


def test_dropped_connection_is_retried(srv):
    srv.push(Scripted(kind="drop"), protocol="openai")
    reply = run(make(srv))
    assert reply.outcome is Outcome.ANSWERED and reply.attempts == 2


@pytest.mark.parametrize("stream", [True, False])
def test_malformed_200_is_malformed_and_retried(srv, stream):
    srv.push(Scripted(kind="malformed"), protocol="openai")
    srv.push(Scripted(kind="malformed"), protocol="openai")
    reply = run(make(srv, stream=stream, attempts=2))
    assert reply.outcome is Outcome.ERROR and reply.error_kind is ErrorKind.MALFORMED
    assert len(srv.requests) == 2
    srv.clear()
    srv.push(Scripted(kind="malformed"), protocol="openai")
    assert run(make(srv, stream=stream)).outcome is Outcome.ANSWERED


def test_malformed_is_retried_at_most_twice(srv):
    for _ in range(5):
        srv.push(Scripted(kind="malformed"), protocol="openai")
    reply = run(make(srv, stream=False, attempts=6))
    assert reply.error_kind is ErrorKind.MALFORMED
    assert reply.attempts == 3 and len(srv.requests) == 3


def test_200_without_choices_is_malformed(srv):
    srv.push(Scripted(body={"id": "x", "object": "chat.completion"}), protocol="openai")
    reply = run(make(srv, stream=False, attempts=1))
    assert reply.error_kind is ErrorKind.MALFORMED and "without choices" in reply.reason


def test_200_with_error_body_is_classified(srv):
    srv.push(Scripted(body={"error": {"message": "quota gone", "type": "insufficient_quota",
                                      "code": "insufficient_quota"}}), protocol="openai")
    reply = run(make(srv, stream=False))
    assert reply.error_kind is ErrorKind.QUOTA and len(srv.requests) == 1


def test_error_inside_stream_is_retried(srv):
    srv.push(Scripted(kind="stream_error", text="partial", status=500), protocol="openai")
    srv.push(Scripted(text="whole answer"), protocol="openai")
    reply = run(make(srv, stream=True))
    assert reply.outcome is Outcome.ANSWERED and reply.text == "whole answer" and reply.attempts == 2


def test_streamed_ttft(srv):
    srv.push(Scripted(text="one two three four", first_chunk_delay_s=0.15, chunk_delay_s=0.02), protocol="openai")
    reply = run(make(srv, stream=True))
    assert reply.text == "one two three four"
    assert reply.ttft_s is not None and reply.ttft_s >= 0.15
    assert reply.ttft_s < reply.latency_s
    assert reply.latency_s >= 0.15 + 3 * 0.02


def test_non_streamed_has_no_ttft(srv):
    reply = run(make(srv, stream=False))
    assert reply.ttft_s is None and reply.latency_s > 0


def test_no_key_is_one_clear_auth_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    provider = make(None, base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ProviderError) as info:
        asyncio.run(provider.start())
    assert info.value.kind is ErrorKind.AUTH and not info.value.retryable
    assert info.value.message == "no API key: set OPENAI_API_KEY (or api_key_env in the eval file)"


def test_api_key_env_from_eval_file(srv, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("MY_OPENAI_CRED", KEY)
    reply = run(make(srv, api_key_env="MY_OPENAI_CRED"))
    assert reply.outcome is Outcome.ANSWERED
    monkeypatch.delenv("MY_OPENAI_CRED")
    with pytest.raises(ProviderError, match="set MY_OPENAI_CRED"):
        asyncio.run(make(srv, api_key_env="MY_OPENAI_CRED").start())


def test_base_url_from_sdk_environment_variable(srv, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", srv.url + "/gateway/v1")
    provider = make(srv, base_url=None)
    reply = run(provider)
    assert reply.outcome is Outcome.ANSWERED
    assert srv.requests[0].path == "/gateway/v1/chat/completions"


def test_key_never_appears_in_reply_or_identity(srv, monkeypatch):
    # A key in a variable whose name does not look secret, in a shape the redactor does not know:
    # only the adapter's own scrubbing can keep it out.
    secret = "loopback-credential-xyz789"
    monkeypatch.setenv("LLM_CRED", secret)
    srv.api_key = secret
    srv.push(Scripted(text="fine"), protocol="openai")
    srv.push(Scripted(kind="error", status=400, message=f"bad request from key {secret}"), protocol="openai")
    provider = make(srv, api_key_env="LLM_CRED")

    (good, bad), identity = complete_with_identity(provider, USER, count=2)
    assert good.outcome is Outcome.ANSWERED and bad.outcome is Outcome.ERROR
    for blob in (good.model_dump_json(), bad.model_dump_json(), json.dumps(identity)):
        assert secret not in blob
    assert "[REDACTED]" in bad.reason


def test_identity(srv):
    provider = make(srv)

    _, identity = complete_with_identity(provider, USER, count=0)
    assert identity["provider"] == "openai" and identity["model"] == "gpt-4o-mini"
    assert identity["base_url"] == srv.openai_base_url
    assert identity["sdk"] == "openai" and identity["sdk_version"]
    assert identity["api"] == "chat.completions"


# -- OpenAI-compatible servers (llama.cpp server, Ollama, vLLM) ---------------------------------------

def _sse(*objs: dict) -> str:
    return "".join(f"data: {json.dumps(o)}\n\n" for o in objs) + "data: [DONE]\n\n"


def _chunk(delta: dict, finish: str | None = None) -> dict:
    return {"id": "chatcmpl-llama", "object": "chat.completion.chunk", "created": 1, "model": "tiny.gguf",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def test_compatible_needs_base_url(monkeypatch):
    provider = make(None, cls=OpenAICompatibleProvider, model="openai-compatible/llama")
    with pytest.raises(ProviderError, match="needs base_url") as info:
        asyncio.run(provider.start())
    assert info.value.kind is ErrorKind.BAD_REQUEST and not info.value.retryable


def test_compatible_without_key_sends_placeholder_and_max_tokens():
    with LoopbackServer(api_key=None) as srv:  # a local server that ignores keys
        provider = make(srv, cls=OpenAICompatibleProvider, model="openai-compatible/llama")
        reply = run(provider, params=GenerationParams(max_tokens=16))
        assert reply.outcome is Outcome.ANSWERED
        req = srv.requests[0]
        assert req.headers["authorization"] == f"Bearer {PLACEHOLDER_KEY}"
        assert req.body["max_tokens"] == 16 and "max_completion_tokens" not in req.body
        assert req.body["model"] == "llama"


def test_compatible_key_from_env(srv, monkeypatch):
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", KEY)
    reply = run(make(srv, cls=OpenAICompatibleProvider, model="openai-compatible/llama"))
    assert reply.outcome is Outcome.ANSWERED
    assert srv.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_compatible_wrong_key_is_auth(srv):
    reply = run(make(srv, cls=OpenAICompatibleProvider, model="openai-compatible/llama"))
    assert reply.error_kind is ErrorKind.AUTH and len(srv.requests) == 1


def test_compatible_stream_without_usage_leaves_usage_unknown(srv, monkeypatch):
    # llama_cpp.server sends no usage chunk even when include_usage is asked for.
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", KEY)
    body = _sse(_chunk({"role": "assistant", "content": ""}), _chunk({"content": "Hel"}), _chunk({"content": "lo"}),
                _chunk({}, "stop"))
    srv.push(Scripted(body=body), protocol="openai")
    reply = run(make(srv, cls=OpenAICompatibleProvider, model="openai-compatible/llama"))
    assert reply.outcome is Outcome.ANSWERED and reply.text == "Hello"
    assert reply.usage.input_tokens is None and reply.usage.output_tokens is None  # unknown, not 0
    assert reply.model_reported == "tiny.gguf"


def test_compatible_stream_cut_short_is_an_error_not_a_reply(srv, monkeypatch):
    # llama_cpp.server with interrupt_requests ends a stream with [DONE] and no finish_reason.
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", KEY)
    srv.push(Scripted(body=_sse(_chunk({"role": "assistant", "content": ""}), _chunk({"content": "Hel"}))),
             protocol="openai")
    reply = run(make(srv, cls=OpenAICompatibleProvider, model="openai-compatible/llama", attempts=1))
    assert reply.outcome is Outcome.ERROR and reply.error_kind is ErrorKind.MALFORMED
    assert "without a finish_reason" in reply.reason
