"""Anthropic Message Batches backend against the loopback server: the real `anthropic` SDK sends real HTTP
to 127.0.0.1 (create, retrieve, list, cancel, the JSONL results file); nothing in the SDK is mocked."""
from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta

import pytest

from harness.batch.anthropic import AnthropicBatches
from harness.batch.base import BatchRequest, backend_for
from harness.providers.anthropic_messages import AnthropicProvider
from harness.providers.base import GenerationParams, ProviderConfig
from harness.providers.errors import ProviderError
from harness.providers.retry import RetryPolicy
from harness.testing.loopback import LoopbackServer, Scripted
from harness.testing.loopback.batches.anthropic import state_of
from harness.types import ErrorKind, Message, Outcome
from tests.helpers import complete, loopback_fixtures

KEY = "sk-ant-test-batch-0123456789abcdef"


_server, srv = loopback_fixtures(KEY, env=("ANTHROPIC_API_KEY",), unset=("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"))


def make(srv: LoopbackServer, **cfg) -> AnthropicProvider:
    cfg.setdefault("timeout_s", 5.0)
    provider = AnthropicProvider(ProviderConfig(model="anthropic/claude-haiku-4-5", base_url=srv.url,
                                                stream=False, **cfg))
    provider.retry_policy = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05, max_attempts=1)
    return provider


def run(coro_fn, provider: AnthropicProvider):
    """Start the provider, hand its batch backend to `coro_fn`, close it again."""
    async def go():
        await provider.start()
        try:
            backend = backend_for(provider)
            assert isinstance(backend, AnthropicBatches)
            return await coro_fn(backend)
        finally:
            await provider.aclose()
    return asyncio.run(go())


def req(cid: str, text: str = "Say hi", params: GenerationParams | None = None) -> BatchRequest:
    return BatchRequest(custom_id=cid, messages=[Message(role="user", content=text)],
                        params=params or GenerationParams())


async def collect(backend, remote_id):
    return [r async for r in backend.results(remote_id)]


async def submit_and_collect(backend, requests):
    lines = [backend.request_line(r) for r in requests]
    batch = await backend.submit(lines, "run-tag")
    ended = await backend.retrieve(batch.remote_id)
    return batch, ended, await collect(backend, batch.remote_id)


# -- request lines --------------------------------------------------------------------------------


def test_request_line_is_exactly_what_the_live_call_sends(srv):
    params = GenerationParams(temperature=0.7, max_tokens=200, stop=["END"], seed=3, reasoning="none",
                              system_prompt="Be brief.")
    messages = [Message(role="user", content="Hello"), Message(role="assistant", content="Hi"),
                Message(role="user", content="Tell me more")]
    live = complete(make(srv), messages, params)[0]
    assert live.outcome is Outcome.ANSWERED
    sent_live = srv.requests_for("anthropic")[-1].body
    assert "temperature" not in sent_live            # never sent under 2026-10-21

    async def go(backend):
        line = backend.request_line(BatchRequest(custom_id="s-1_A", messages=messages, params=params))
        await backend.submit([line], "t")
        return line
    line = run(go, make(srv))
    assert line == {"custom_id": "s-1_A", "params": sent_live}
    create = [r for r in srv.requests if r.path == "/v1/messages/batches" and r.method == "POST"][-1]
    assert create.body == {"requests": [line]}
    assert create.headers["anthropic-version"] == srv.requests_for("anthropic")[0].headers["anthropic-version"]
    assert state_of(srv).creates_received == state_of(srv).creates_accepted == 1


@pytest.mark.parametrize("bad", ["", "a" * 65, "has space", "dot.id", "line\n", "é"])
def test_request_line_refuses_a_custom_id_anthropic_would_refuse(srv, bad):
    backend = AnthropicBatches(make(srv))
    with pytest.raises(ValueError, match="custom_id"):
        backend.request_line(req(bad))
    assert backend.request_line(req("a" * 64))["custom_id"] == "a" * 64


# -- round trip: the same outcomes as live --------------------------------------------------------


SCRIPTS = {
    "answered": Scripted(text="Hello there friend", input_tokens=7, output_tokens=3),
    "refusal": Scripted(kind="refusal", text="", category="cyber", message="policy"),
    "truncated": Scripted(kind="truncated", text="cut sho", output_tokens=2),
    "stop_sequence": Scripted(text="done", finish_reason="stop_sequence"),
    "tool_use": Scripted(text="calling", finish_reason="tool_use"),
    "thinking": Scripted(text="final answer", thinking="let me think it over"),
    "leak": Scripted(text=f"the key is {KEY} ok"),
    "surrogate": Scripted(text="half \ud83d pair"),
}


def test_round_trip_gives_the_live_outcomes(srv):
    live = {}
    for name, script in SCRIPTS.items():
        srv.push(script, protocol="anthropic")
        live[name] = complete(make(srv), [Message(role="user", content=name)])[0]
    assert live["answered"].outcome is Outcome.ANSWERED
    assert live["refusal"].outcome is Outcome.PROVIDER_BLOCKED
    assert live["truncated"].outcome is Outcome.TRUNCATED
    assert live["tool_use"].outcome is Outcome.ERROR

    for script in SCRIPTS.values():
        srv.push(script, protocol="anthropic")

    async def go(backend):
        return await submit_and_collect(backend, [req(n, n) for n in SCRIPTS])
    submitted, ended, results = run(go, make(srv))
    assert submitted.state == "in_progress"
    assert submitted.counts == {"processing": 8, "succeeded": 0, "errored": 0, "expired": 0, "cancelled": 0,
                                "total": 8}
    assert ended.state == "ended" and ended.counts["succeeded"] == 8 and ended.counts["processing"] == 0
    assert datetime.fromisoformat(ended.expires_at.replace("Z", "+00:00")) - \
        datetime.fromisoformat(ended.created_at.replace("Z", "+00:00")) == timedelta(hours=24)
    by_id = {r.custom_id: r for r in results}
    assert set(by_id) == set(SCRIPTS) and len(results) == len(SCRIPTS)
    for name, live_reply in live.items():
        got = by_id[name]
        assert got.status == "done"
        for attr in ("outcome", "text", "reason", "finish_reason", "error_kind", "usage", "model_reported"):
            assert getattr(got.reply, attr) == getattr(live_reply, attr), (name, attr)
    assert by_id["surrogate"].reply.raw["lone_surrogates"] == live["surrogate"].raw["lone_surrogates"]
    assert KEY not in by_id["leak"].reply.text and "ok" in by_id["leak"].reply.text
    assert by_id["refusal"].reply.reason == "cyber"
    assert by_id["truncated"].reply.reason == "max_tokens"
    assert by_id["answered"].reply.usage.input_tokens == 7
    assert by_id["thinking"].reply.usage.reasoning_tokens == 5
    # each batch request was answered as a non-streamed Messages call with the line's params
    assert [r.body["messages"][0]["content"] for r in state_of(srv).processed] == list(SCRIPTS)
    assert all(not r.stream for r in state_of(srv).processed)


def test_results_are_bounded_per_line_like_a_live_reply(srv):
    srv.push(Scripted(text="word " * 8000), protocol="anthropic")    # 40 kB, over 2000 + the line envelope
    srv.push(Scripted(text="short"), protocol="anthropic")

    async def go(backend):
        return (await submit_and_collect(backend, [req("big"), req("small")]))[2]
    results = {r.custom_id: r for r in run(go, make(srv, max_reply_bytes=2000))}
    assert results["big"].reply.outcome is Outcome.ERROR
    assert results["big"].reply.error_kind is ErrorKind.TOO_LARGE
    assert results["small"].reply.outcome is Outcome.ANSWERED and results["small"].reply.text == "short"


def test_a_results_file_past_its_whole_bound_is_too_large(srv):
    """The file may hold a line per request and some repeats; a server streaming far more is cut off."""
    st = state_of(srv)
    pad = "x" * 10_000
    st.raw_lines = [json.dumps({"custom_id": f"u{i}", "result": {"type": "expired"}, "pad": pad}).encode()
                    for i in range(250)]     # 2.5 MB, over (2 x 1 + 100) x (1000 + 16 KiB)

    async def go(backend):
        return (await submit_and_collect(backend, [req("a")]))[2]
    with pytest.raises(ProviderError) as info:
        run(go, make(srv, max_reply_bytes=1000))
    assert info.value.kind is ErrorKind.TOO_LARGE


# -- per-request errors ---------------------------------------------------------------------------


def test_per_request_errors_get_the_live_error_kinds(srv):
    st = state_of(srv)
    st.errors = {"bad": ("invalid_request_error", "messages.0.content: Field required"),
                 "long": ("invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"),
                 "busy": ("overloaded_error", "Overloaded"),
                 "slow": ("rate_limit_error", "rate limited"),
                 "money": ("billing_error", "Your credit balance is too low")}
    srv.push(Scripted(kind="error", status=500, message="boom"), protocol="anthropic")   # scripted for "ok500"
    srv.push(Scripted(text="fine"), protocol="anthropic")

    async def go(backend):
        return await submit_and_collect(backend, [req(c) for c in ("bad", "long", "ok500", "busy", "slow",
                                                                   "money", "good")])
    _, ended, results = run(go, make(srv))
    assert ended.state == "ended"
    assert (ended.counts["errored"], ended.counts["succeeded"]) == (6, 1)
    by_id = {r.custom_id: r.reply for r in results}
    assert {c: r.error_kind for c, r in by_id.items() if r.outcome is Outcome.ERROR} == {
        "bad": ErrorKind.BAD_REQUEST, "long": ErrorKind.CONTEXT, "ok500": ErrorKind.SERVER,
        "busy": ErrorKind.SERVER, "slow": ErrorKind.RATE_LIMIT, "money": ErrorKind.QUOTA}
    assert "Field required" in by_id["bad"].reason and by_id["bad"].raw["error_type"] == "invalid_request_error"
    assert by_id["good"].outcome is Outcome.ANSWERED and by_id["good"].text == "fine"
    assert all(r.status == "done" for r in results)


def test_params_the_api_rejects_come_back_errored_with_the_real_error(srv):
    """The real API validates each request's params while processing (batch-processing guide), so the
    batch is created and the request ends `errored` with the error the live call gets as a 400."""
    async def go(backend):
        good = backend.request_line(req("good"))
        bad = backend.request_line(req("temp"))
        bad["params"] = dict(bad["params"], temperature=1.0)
        streamed = backend.request_line(req("stream"))
        streamed["params"] = dict(streamed["params"], stream=True)
        batch = await backend.submit([good, bad, streamed], "t")
        await backend.retrieve(batch.remote_id)
        return await collect(backend, batch.remote_id)
    by_id = {r.custom_id: r.reply for r in run(go, make(srv))}
    assert by_id["good"].outcome is Outcome.ANSWERED
    assert by_id["temp"].error_kind is ErrorKind.BAD_REQUEST
    assert by_id["temp"].reason.endswith("temperature: Extra inputs are not permitted")
    assert by_id["stream"].error_kind is ErrorKind.BAD_REQUEST and "stream" in by_id["stream"].reason

    # the same params sent live are a 400 with the same message
    import anthropic
    client = anthropic.Anthropic(api_key=KEY, base_url=srv.url, max_retries=0)
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=[{"role": "user", "content": "x"}],
                               extra_body={"temperature": 1.0})
    assert info.value.body["error"] == {"type": "invalid_request_error",
                                        "message": "temperature: Extra inputs are not permitted"}


@pytest.mark.parametrize("mutate, status, fragment", [
    (lambda lines: lines.append(dict(lines[0])), 400, "unique"),
    (lambda lines: lines[0].update(custom_id="bad id"), 400, "custom_id: String should match pattern"),
    (lambda lines: lines[0].update(extra=1), 400, "requests.0.extra: Extra inputs are not permitted"),
    (lambda lines: lines[0].update(params="x"), 400, "requests.0.params: Input should be a valid dictionary"),
    (lambda lines: lines.clear(), 400, "at least 1 item"),
])
def test_create_refuses_a_malformed_batch_with_the_real_error_shape(srv, mutate, status, fragment):
    async def go(backend):
        lines = [backend.request_line(req("a"))]
        mutate(lines)
        await backend.submit(lines, "t")
    with pytest.raises(ProviderError) as info:
        run(go, make(srv))
    assert info.value.kind is ErrorKind.BAD_REQUEST and info.value.status == status
    assert fragment in info.value.message and "invalid_request_error" in info.value.message
    st = state_of(srv)
    assert (st.creates_received, st.creates_accepted, st.batches) == (1, 0, {})


def test_create_enforces_the_count_and_size_limits(srv):
    st = state_of(srv)
    st.max_requests = 2

    async def go(backend):
        await backend.submit([backend.request_line(req(f"r{i}")) for i in range(3)], "t")
    with pytest.raises(ProviderError, match="at most 2 items") as info:
        run(go, make(srv))
    assert info.value.kind is ErrorKind.BAD_REQUEST
    st.max_requests, st.max_bytes = 100_000, 300
    with pytest.raises(ProviderError, match="request_too_large") as info:
        run(go, make(srv))
    assert info.value.status == 413
    assert (st.creates_received, st.creates_accepted) == (2, 0)
    assert AnthropicBatches.max_requests == 100_000 and AnthropicBatches.max_bytes <= 256 * 1024 * 1024
    assert AnthropicBatches.discount == 0.5


def test_create_without_auth_or_version_header_is_refused(srv, monkeypatch):
    body = json.dumps({"requests": [{"custom_id": "a", "params": {
        "model": "claude-haiku-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}}]}).encode()

    def post(headers):
        request = urllib.request.Request(srv.url + "/v1/messages/batches", data=body, method="POST",
                                         headers={"content-type": "application/json", **headers})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=5)
        return info.value.code, json.loads(info.value.read())
    code, obj = post({"x-api-key": "wrong", "anthropic-version": "2026-10-21"})
    assert code == 401 and obj["error"]["type"] == "authentication_error"
    code, obj = post({"x-api-key": KEY})
    assert code == 400 and obj["error"] == {"type": "invalid_request_error",
                                            "message": "anthropic-version: header is required"}
    assert state_of(srv).creates_accepted == 0

    async def go(backend):
        await backend.submit([backend.request_line(req("a"))], "t")
    monkeypatch.setenv("WRONG_KEY_FOR_TEST", "sk-ant-wrong-key-0123456789")
    with pytest.raises(ProviderError) as info:
        run(go, make(srv, api_key_env="WRONG_KEY_FOR_TEST"))
    assert info.value.kind is ErrorKind.AUTH and info.value.status == 401
    assert "sk-ant-wrong-key-0123456789" not in info.value.message
