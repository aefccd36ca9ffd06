"""The loopback provider server, driven by the real SDK clients (nothing in the SDKs is mocked)."""
from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from harness.testing.loopback import LoggedRequest, LoopbackServer, Scripted

openai = pytest.importorskip("openai")
anthropic = pytest.importorskip("anthropic")
genai = pytest.importorskip("google.genai")
from google.genai import errors as genai_errors  # noqa: E402
from google.genai import types as genai_types  # noqa: E402

KEY = "test-key"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def srv():
    with LoopbackServer(api_key=KEY) as s:
        yield s


def oai(srv, **kw):
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 5)
    return openai.OpenAI(api_key=KEY, base_url=srv.openai_base_url, **kw)


def ant(srv, **kw):
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 5)
    return anthropic.Anthropic(api_key=KEY, base_url=srv.url, **kw)


def gem(srv, api_version="v1beta", key=KEY):
    return genai.Client(api_key=key, http_options=genai_types.HttpOptions(base_url=srv.url, api_version=api_version,
                                                                          timeout=5000))


USER = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hi please"}]


def post_json(url, body, headers=None, timeout=5):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json", **(headers or {})})
    return urllib.request.urlopen(req, timeout=timeout)


# ---------------------------------------------------------------------------------------------------
# Server basics
# ---------------------------------------------------------------------------------------------------


def test_binds_loopback_and_urls(srv):
    assert srv.url.startswith("http://127.0.0.1:")
    assert srv.port > 0
    assert srv.openai_base_url == srv.url + "/v1"


def test_scripted_rejects_unknown_kind():
    with pytest.raises(ValueError):
        Scripted(kind="nope")
    with pytest.raises(ValueError):
        LoopbackServer().push(Scripted(), protocol="bogus")


def test_queue_order_protocol_any_responder_default(srv):
    c = oai(srv)
    a = ant(srv)
    srv.push(Scripted(text="for-anthropic"), protocol="anthropic")
    srv.push(Scripted(text="any-1"))
    srv.push_many([Scripted(text="oai-1"), Scripted(text="oai-2")], protocol="openai")

    def said(r):
        return r.choices[0].message.content

    # openai takes the earliest entry that matches it: the "any" one, then its own ones in order
    assert said(c.chat.completions.create(model="m", messages=USER)) == "any-1"
    assert said(c.chat.completions.create(model="m", messages=USER)) == "oai-1"
    m = a.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert m.content[0].text == "for-anthropic"
    assert said(c.chat.completions.create(model="m", messages=USER)) == "oai-2"
    assert srv.pending == 0
    # empty queue: echo by default
    assert said(c.chat.completions.create(model="m", messages=USER)) == "echo: Say hi please"
    # responder, falling back to default when it returns None
    seen: list[LoggedRequest] = []

    def responder(req):
        seen.append(req)
        return Scripted(text="from-responder") if req.body["model"] == "r" else None

    srv.responder = responder
    srv.default = Scripted(text="dflt")
    assert said(c.chat.completions.create(model="r", messages=USER)) == "from-responder"
    assert said(c.chat.completions.create(model="other", messages=USER)) == "dflt"
    assert [r.body["model"] for r in seen] == ["r", "other"]
    assert len(srv.requests_for("openai")) == 6
    assert len(srv.requests_for("anthropic")) == 1
    srv.clear()
    assert srv.requests == []


# ---------------------------------------------------------------------------------------------------
# OpenAI
# ---------------------------------------------------------------------------------------------------


def test_openai_reply_usage_and_request_log(srv):
    srv.push(Scripted(text="hello there", input_tokens=11, output_tokens=3, headers={"x-custom": "1"}))
    raw = oai(srv).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=USER, max_completion_tokens=50, seed=1)
    r = raw.parse()
    assert raw.headers["x-custom"] == "1"
    assert r.choices[0].message.content == "hello there"
    assert r.choices[0].finish_reason == "stop"
    assert r.model == "gpt-4o-mini"
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (11, 3, 14)
    (req,) = srv.requests
    assert req.protocol == "openai" and req.method == "POST" and req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.body["messages"] == USER and req.body["max_completion_tokens"] == 50 and req.body["seed"] == 1
    assert json.loads(req.raw_body) == req.body
    assert req.stream is False and req.retry_count == 0 and req.model == "gpt-4o-mini"


def test_openai_path_prefix_and_models(srv):
    c = openai.OpenAI(api_key=KEY, base_url=srv.url + "/custom/prefix", max_retries=0)
    srv.push(Scripted(model="reported-model"))
    r = c.chat.completions.create(model="asked", messages=USER)
    assert r.model == "reported-model"
    assert srv.requests[-1].path == "/custom/prefix/chat/completions"
    srv.models = ["a", "b"]
    assert [m.id for m in oai(srv).models.list()] == ["a", "b"]


@pytest.mark.parametrize("kind,finish,content,refusal", [
    ("refusal", "stop", None, "I can't help with that."),
    ("content_filter", "content_filter", "", None),
    ("safety_stop", "content_filter", "", None),
    ("truncated", "length", "I can't help with that.", None),
])
def test_openai_refusal_filter_truncated(srv, kind, finish, content, refusal):
    srv.push(Scripted(kind=kind, text="I can't help with that."))
    r = oai(srv).chat.completions.create(model="m", messages=USER)
    msg = r.choices[0].message
    assert r.choices[0].finish_reason == finish
    assert msg.content == content and msg.refusal == refusal


def test_openai_parse_helpers_raise_on_filter_and_length(srv):
    from pydantic import BaseModel

    class Out(BaseModel):
        x: int

    c = oai(srv)
    srv.push(Scripted(kind="content_filter"))
    with pytest.raises(openai.ContentFilterFinishReasonError):
        c.chat.completions.parse(model="m", messages=USER, response_format=Out)
    srv.push(Scripted(kind="truncated", text='{"x": '))
    with pytest.raises(openai.LengthFinishReasonError):
        c.chat.completions.parse(model="m", messages=USER, response_format=Out)
    srv.push(Scripted(kind="refusal", text="no"))
    r = c.chat.completions.parse(model="m", messages=USER, response_format=Out)
    assert r.choices[0].message.parsed is None and r.choices[0].message.refusal == "no"


@pytest.mark.parametrize("status,exc_name", [
    (400, "BadRequestError"), (401, "AuthenticationError"), (403, "PermissionDeniedError"),
    (404, "NotFoundError"), (409, "ConflictError"), (422, "UnprocessableEntityError"),
    (429, "RateLimitError"), (500, "InternalServerError"), (503, "InternalServerError"),
])
def test_openai_error_statuses(srv, status, exc_name):
    srv.push(Scripted(kind="error", status=status, headers={"retry-after": "1"}, error_code="some_code",
                      message="scripted failure"))
    with pytest.raises(openai.APIStatusError) as ei:
        oai(srv).chat.completions.create(model="m", messages=USER)
    e = ei.value
    assert type(e).__name__ == exc_name
    assert e.status_code == status
    assert e.response.headers["retry-after"] == "1"
    assert e.code == "some_code" and e.body["message"] == "scripted failure"
    assert e.request_id and e.request_id.startswith("req_")
    assert len(srv.requests) == 1


def test_openai_429_default_shape(srv):
    srv.push(Scripted(kind="error", status=429, headers={"retry-after-ms": "300"}))
    with pytest.raises(openai.RateLimitError) as ei:
        oai(srv).chat.completions.create(model="m", messages=USER)
    assert ei.value.code == "rate_limit_exceeded" and ei.value.type == "requests"
    assert ei.value.response.headers["retry-after-ms"] == "300"


def test_openai_sdk_retry_counts_are_logged(srv):
    srv.push_many([Scripted(kind="error", status=429, headers={"retry-after-ms": "10"}),
                   Scripted(kind="error", status=503, headers={"retry-after-ms": "10"}),
                   Scripted(text="finally")], protocol="openai")
    r = oai(srv, max_retries=2).chat.completions.create(model="m", messages=USER)
    assert r.choices[0].message.content == "finally"
    assert [q.retry_count for q in srv.requests] == [0, 1, 2]


def test_openai_wrong_key(srv):
    c = openai.OpenAI(api_key="wrong", base_url=srv.openai_base_url, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as ei:
        c.chat.completions.create(model="m", messages=USER)
    assert ei.value.code == "invalid_api_key"
    assert srv.pending == 0  # an auth failure consumes nothing from the queue


def test_openai_any_key_when_api_key_none():
    with LoopbackServer() as s:
        r = openai.OpenAI(api_key="whatever", base_url=s.openai_base_url, max_retries=0).chat.completions.create(
            model="m", messages=USER)
        assert r.choices[0].message.content == "echo: Say hi please"


def test_openai_stream_ttft_and_usage(srv):
    delay = 0.25
    srv.push(Scripted(text="one two three", first_chunk_delay_s=delay, output_tokens=7))
    c = oai(srv)
    t0 = time.monotonic()
    stream = c.chat.completions.create(model="m", messages=USER, stream=True,
                                       stream_options={"include_usage": True})
    ttft = None
    pieces, usage, finish = [], None, None
    for ch in stream:
        if ch.choices and ch.choices[0].delta.content:
            if ttft is None:
                ttft = time.monotonic() - t0
            pieces.append(ch.choices[0].delta.content)
        if ch.choices and ch.choices[0].finish_reason:
            finish = ch.choices[0].finish_reason
        if ch.usage:
            usage = ch.usage
    assert ttft is not None and delay <= ttft < delay + 1.0
    assert pieces == ["one", " two", " three"] and finish == "stop"
    assert usage.completion_tokens == 7
    assert srv.requests[0].stream is True
    # without include_usage: no usage chunk, and `chunks` controls the split
    srv.push(Scripted(text="abcdef", chunks=2))
    chunks = list(c.chat.completions.create(model="m", messages=USER, stream=True))
    assert all(ch.usage is None for ch in chunks)
    assert [ch.choices[0].delta.content for ch in chunks if ch.choices[0].delta.content] == ["abc", "def"]


def test_openai_stream_helper_final_completion(srv):
    c = oai(srv)
    srv.push(Scripted(text="all of it"))
    with c.chat.completions.stream(model="m", messages=USER, stream_options={"include_usage": True}) as st:
        for _ in st:
            pass
        final = st.get_final_completion()
    assert final.choices[0].message.content == "all of it"
    assert final.choices[0].finish_reason == "stop"
    assert final.usage.completion_tokens == 3
    # a truncated stream: the helper (like parse()) raises on finish_reason "length"
    srv.push(Scripted(kind="truncated", text="cut off here"))
    with c.chat.completions.stream(model="m", messages=USER) as st:
        with pytest.raises(openai.LengthFinishReasonError):
            for _ in st:
                pass
            st.get_final_completion()


def test_openai_stream_refusal(srv):
    srv.push(Scripted(kind="refusal", text="I won't."))
    chunks = list(oai(srv).chat.completions.create(model="m", messages=USER, stream=True))
    assert "".join(ch.choices[0].delta.refusal or "" for ch in chunks) == "I won't."
    assert not any(ch.choices[0].delta.content for ch in chunks)


def test_openai_stream_error_mid_stream(srv):
    srv.push(Scripted(kind="stream_error", text="partial text", message="boom"))
    got = []
    with pytest.raises(openai.APIError) as ei:
        for ch in oai(srv).chat.completions.create(model="m", messages=USER, stream=True):
            if ch.choices and ch.choices[0].delta.content:
                got.append(ch.choices[0].delta.content)
    assert not isinstance(ei.value, openai.APIStatusError)
    assert "boom" in str(ei.value)
    assert "".join(got) == "partial text"


def test_openai_async_stream(srv):
    srv.push(Scripted(text="async works", first_chunk_delay_s=0.1, chunk_delay_s=0.01))

    async def go():
        c = openai.AsyncOpenAI(api_key=KEY, base_url=srv.openai_base_url, max_retries=0)
        t0 = time.monotonic()
        first = None
        out = []
        async with c:
            stream = await c.chat.completions.create(model="m", messages=USER, stream=True)
            async for ch in stream:
                if ch.choices and ch.choices[0].delta.content:
                    first = first or time.monotonic() - t0
                    out.append(ch.choices[0].delta.content)
        return first, "".join(out)

    first, text = asyncio.run(go())
    assert text == "async works" and first >= 0.1
    assert srv.requests[0].headers.get("x-stainless-async", "").startswith("async")


def test_openai_malformed_and_raw_body(srv):
    c = oai(srv)
    srv.push(Scripted(kind="malformed"))
    r = c.chat.completions.create(model="m", messages=USER)
    assert isinstance(r, str) and "not JSON" in r  # the SDK hands a non-JSON 200 back as a str
    srv.push(Scripted(body={"choices": [{"message": {"content": "x"}}]}))
    r = c.chat.completions.create(model="m", messages=USER)
    assert r.choices[0].message.content == "x" and r.usage is None
    srv.push(Scripted(body="<html>bad gateway</html>", status=502))
    with pytest.raises(openai.InternalServerError) as ei:
        c.chat.completions.create(model="m", messages=USER)
    assert ei.value.status_code == 502


def test_openai_drop_is_connection_error(srv):
    srv.push(Scripted(kind="drop"))
    with pytest.raises(openai.APIConnectionError) as ei:
        oai(srv).chat.completions.create(model="m", messages=USER)
    assert not isinstance(ei.value, openai.APITimeoutError)
    # the server carries on
    assert oai(srv).chat.completions.create(model="m", messages=USER).choices[0].message.content


def test_hang_gives_client_timeout_and_stop_is_prompt():
    s = LoopbackServer(api_key=KEY).start()
    try:
        s.push(Scripted(kind="hang", delay_s=30))
        s.push(Scripted(kind="hang"))  # no delay: hangs until the server stops
        c = openai.OpenAI(api_key=KEY, base_url=s.openai_base_url, max_retries=0, timeout=0.2)
        with pytest.raises(openai.APITimeoutError):
            c.chat.completions.create(model="m", messages=USER)
        with pytest.raises(openai.APITimeoutError):
            c.chat.completions.create(model="m", messages=USER)
    finally:
        t0 = time.monotonic()
        s.stop()
        assert time.monotonic() - t0 < 1.0


def test_client_disconnect_mid_stream_does_not_kill_server(srv):
    srv.push(Scripted(text="a b c d e f g h", chunk_delay_s=0.02))
    c = oai(srv)
    stream = c.chat.completions.create(model="m", messages=USER, stream=True)
    next(iter(stream))
    stream.close()  # hang up while the server is still writing
    assert c.chat.completions.create(model="m", messages=USER).choices[0].message.content == "echo: Say hi please"


# ---------------------------------------------------------------------------------------------------
# Anthropic
# ---------------------------------------------------------------------------------------------------

AMSG = [{"role": "user", "content": "Say hi please"}]


def test_anthropic_reply_usage_and_request_log(srv):
    srv.push(Scripted(text="hi!", input_tokens=12, output_tokens=2))
    # Sampling fields are refused under the SDK's own API version (2026-10-21, see
    # test_loopback_strict.py); under 2023-06-01 a pre-Sonnet-5 model still takes them.
    old_api = ant(srv, default_headers={"anthropic-version": "2023-06-01"})
    m = old_api.messages.create(model="claude-haiku-4-5", max_tokens=50, system="You are terse.", messages=AMSG,
                                extra_body={"temperature": 0.2})
    assert m.content[0].text == "hi!" and m.stop_reason == "end_turn" and m.model == "claude-haiku-4-5"
    assert (m.usage.input_tokens, m.usage.output_tokens) == (12, 2)
    (req,) = srv.requests_for("anthropic")
    assert req.path == "/v1/messages"
    assert req.body["system"] == "You are terse." and req.body["max_tokens"] == 50
    assert req.body["temperature"] == 0.2 and req.body["messages"] == AMSG
    assert "anthropic-version" in req.headers
    assert req.headers.get("authorization") == f"Bearer {KEY}" or req.headers.get("x-api-key") == KEY


def test_anthropic_x_api_key_header_is_accepted(srv):
    resp = post_json(srv.url + "/v1/messages", {"model": "claude", "max_tokens": 5, "messages": AMSG},
                     headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"})
    body = json.loads(resp.read())
    assert body["type"] == "message" and body["content"][0]["text"] == "echo: Say hi please"
    assert resp.headers["request-id"].startswith("req_")


def test_anthropic_refusal_and_truncated(srv):
    a = ant(srv)
    srv.push(Scripted(kind="refusal", text="", category="cyber", message="policy"))
    m = a.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=AMSG)
    assert m.stop_reason == "refusal" and m.content == []
    assert m.stop_details.category == "cyber" and m.stop_details.explanation == "policy"
    srv.push(Scripted(kind="block"))  # maps to a refusal for Anthropic
    assert a.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=AMSG).stop_reason == "refusal"
    srv.push(Scripted(kind="truncated", text="partial answer"))
    m = a.messages.create(model="claude-haiku-4-5", max_tokens=2, messages=AMSG)
    assert m.stop_reason == "max_tokens" and m.content[0].text == "partial answer"


@pytest.mark.parametrize("status,exc_name,etype", [
    (400, "BadRequestError", "invalid_request_error"),
    (403, "PermissionDeniedError", "permission_error"),
    (404, "NotFoundError", "not_found_error"),
    (429, "RateLimitError", "rate_limit_error"),
    (500, "InternalServerError", "api_error"),
    (529, "OverloadedError", "overloaded_error"),
])
def test_anthropic_error_statuses(srv, status, exc_name, etype):
    srv.push(Scripted(kind="error", status=status, headers={"retry-after": "1"}))
    with pytest.raises(anthropic.APIStatusError) as ei:
        ant(srv).messages.create(model="claude-haiku-4-5", max_tokens=5, messages=AMSG)
    e = ei.value
    assert type(e).__name__ == exc_name and e.status_code == status
    assert e.response.headers["retry-after"] == "1"
    assert e.body["type"] == "error" and e.body["error"]["type"] == etype
    assert e.request_id and e.request_id.startswith("req_")


def test_anthropic_wrong_key(srv):
    a = anthropic.Anthropic(api_key="wrong", base_url=srv.url, max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as ei:
        a.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=AMSG)
    assert ei.value.body["error"]["type"] == "authentication_error"


def test_anthropic_stream_ttft_usage_and_event_lines(srv):
    delay = 0.25
    srv.push(Scripted(text="one two three", first_chunk_delay_s=delay, input_tokens=9, output_tokens=3))
    t0 = time.monotonic()
    ttft = None
    with ant(srv).messages.stream(model="claude-haiku-4-5", max_tokens=50, messages=AMSG) as st:
        pieces = []
        for text in st.text_stream:
            ttft = ttft or time.monotonic() - t0
            pieces.append(text)
        final = st.get_final_message()
    assert delay <= ttft < delay + 1.0
    assert pieces == ["one", " two", " three"]
    assert final.content[0].text == "one two three" and final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (9, 3)
    assert srv.requests[0].stream is True and srv.requests[0].body["stream"] is True


def test_anthropic_stream_wire_has_event_lines(srv):
    resp = post_json(srv.url + "/v1/messages",
                     {"model": "c", "max_tokens": 5, "messages": AMSG, "stream": True},
                     headers={"authorization": f"Bearer {KEY}", "anthropic-version": "2026-10-21"})
    assert resp.headers["content-type"].startswith("text/event-stream")
    raw = resp.read().decode()
    events = [line[len("event: "):] for line in raw.splitlines() if line.startswith("event: ")]
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert "content_block_delta" in events and "message_delta" in events
    assert raw.count("data: ") == len(events)


def test_anthropic_stream_refusal_keeps_text(srv):
    srv.push(Scripted(kind="refusal", text="Let me", category="bio"))
    with ant(srv).messages.stream(model="claude-haiku-4-5", max_tokens=50, messages=AMSG) as st:
        final = st.get_final_message()
    assert final.stop_reason == "refusal" and final.content[0].text == "Let me"
    assert final.stop_details.category == "bio"


def test_anthropic_stream_error_is_status_200(srv):
    srv.push(Scripted(kind="stream_error", text="a b"))
    types_seen = []
    with pytest.raises(anthropic.APIStatusError) as ei:
        for ev in ant(srv).messages.create(model="claude-haiku-4-5", max_tokens=5, messages=AMSG, stream=True):
            types_seen.append(ev.type)
    assert ei.value.status_code == 200 and ei.value.type == "overloaded_error"
    assert types_seen.count("content_block_delta") == 2


def test_anthropic_drop(srv):
    srv.push(Scripted(kind="drop"))
    with pytest.raises(anthropic.APIConnectionError):
        ant(srv).messages.create(model="claude-haiku-4-5", max_tokens=5, messages=AMSG)


# ---------------------------------------------------------------------------------------------------
# Gemini (google-genai)
# ---------------------------------------------------------------------------------------------------


def test_gemini_reply_usage_and_request_log(srv):
    srv.push(Scripted(text="hello", input_tokens=11, output_tokens=3))
    g = gem(srv)
    cfg = genai_types.GenerateContentConfig(system_instruction="You are terse.", temperature=0.2,
                                            max_output_tokens=50)
    r = g.models.generate_content(model="gemini-2.5-flash", contents="Say hi", config=cfg)
    assert r.text == "hello"
    assert r.candidates[0].finish_reason == genai_types.FinishReason.STOP
    u = r.usage_metadata
    assert (u.prompt_token_count, u.candidates_token_count, u.total_token_count) == (11, 3, 14)
    assert r.model_version == "gemini-2.5-flash"
    (req,) = srv.requests
    assert req.protocol == "gemini" and req.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert req.headers["x-goog-api-key"] == KEY
    assert req.body["systemInstruction"]["parts"][0]["text"] == "You are terse."
    assert req.body["contents"][0]["parts"][0]["text"] == "Say hi"
    assert req.body["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 50}
    assert req.model == "gemini-2.5-flash"


@pytest.mark.parametrize("api_version,prefix", [("v1", "/v1/"), ("", "/models/")])
def test_gemini_any_version_prefix(srv, api_version, prefix):
    g = gem(srv, api_version=api_version)  # keep a reference: a temporary Client closes its pool
    r = g.models.generate_content(model="models/gemini-2.5-flash", contents="ping")
    assert r.text == "echo: ping"
    assert srv.requests[0].path.startswith(prefix)


def test_gemini_block_and_safety_stop_and_truncated(srv):
    g = gem(srv)
    srv.push(Scripted(kind="block", block_reason="PROHIBITED_CONTENT"))
    r = g.models.generate_content(model="gemini-2.5-flash", contents="x")
    assert r.candidates is None and r.text is None
    assert r.prompt_feedback.block_reason == genai_types.BlockedReason.PROHIBITED_CONTENT
    assert any(sr.blocked for sr in r.prompt_feedback.safety_ratings)

    srv.push(Scripted(kind="refusal"))  # a Gemini refusal is a prompt block
    assert g.models.generate_content(model="gemini-2.5-flash", contents="x").prompt_feedback.block_reason

    srv.push(Scripted(kind="safety_stop", category="HARASSMENT"))
    r = g.models.generate_content(model="gemini-2.5-flash", contents="x")
    assert r.text is None and r.candidates[0].content is None
    assert r.candidates[0].finish_reason == genai_types.FinishReason.SAFETY
    blocked = [sr for sr in r.candidates[0].safety_ratings if sr.blocked]
    assert blocked[0].category == genai_types.HarmCategory.HARM_CATEGORY_HARASSMENT

    srv.push(Scripted(kind="safety_stop", finish_reason="RECITATION"))
    r = g.models.generate_content(model="gemini-2.5-flash", contents="x")
    assert r.candidates[0].finish_reason == genai_types.FinishReason.RECITATION

    srv.push(Scripted(kind="truncated", text="partial"))
    r = g.models.generate_content(model="gemini-2.5-flash", contents="x")
    assert r.text == "partial" and r.candidates[0].finish_reason == genai_types.FinishReason.MAX_TOKENS


@pytest.mark.parametrize("status,exc_cls,gstatus", [
    (400, genai_errors.ClientError, "INVALID_ARGUMENT"),
    (404, genai_errors.ClientError, "NOT_FOUND"),
    (429, genai_errors.ClientError, "RESOURCE_EXHAUSTED"),
    (500, genai_errors.ServerError, "INTERNAL"),
    (503, genai_errors.ServerError, "UNAVAILABLE"),
])
def test_gemini_error_statuses(srv, status, exc_cls, gstatus):
    srv.push(Scripted(kind="error", status=status, retry_delay="2s", headers={"retry-after": "2"}))
    g = gem(srv)
    with pytest.raises(exc_cls) as ei:
        g.models.generate_content(model="gemini-2.5-flash", contents="x")
    e = ei.value
    assert e.code == status and e.status == gstatus
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"} in e.details["error"]["details"]
    assert e.response.headers["retry-after"] == "2"


def test_gemini_wrong_key(srv):
    g = gem(srv, key="wrong")
    with pytest.raises(genai_errors.ClientError) as ei:
        g.models.generate_content(model="gemini-2.5-flash", contents="x")
    e = ei.value
    assert e.code == 400 and e.status == "INVALID_ARGUMENT"
    assert e.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"


def test_gemini_stream_ttft(srv):
    delay = 0.25
    srv.push(Scripted(text="one two three", first_chunk_delay_s=delay, chunk_delay_s=0.01, output_tokens=3))
    t0 = time.monotonic()
    ttft, pieces, last = None, [], None
    g = gem(srv)
    for ch in g.models.generate_content_stream(model="gemini-2.5-flash", contents="a b c"):
        if ch.text:
            ttft = ttft or time.monotonic() - t0
            pieces.append(ch.text)
        last = ch
    assert delay <= ttft < delay + 1.0
    assert pieces == ["one", " two", " three"]
    assert last.candidates[0].finish_reason == genai_types.FinishReason.STOP
    assert last.usage_metadata.candidates_token_count == 3
    req = srv.requests[0]
    assert req.protocol == "gemini" and req.stream and "alt=sse" in req.query


def test_gemini_stream_block_and_error(srv):
    g = gem(srv)
    srv.push(Scripted(kind="block"))
    chunks = list(g.models.generate_content_stream(model="gemini-2.5-flash", contents="x"))
    assert len(chunks) == 1 and chunks[0].prompt_feedback.block_reason == genai_types.BlockedReason.SAFETY
    srv.push(Scripted(kind="stream_error", text="a b", status=503))
    got = []
    with pytest.raises(genai_errors.ServerError) as ei:
        for ch in g.models.generate_content_stream(model="gemini-2.5-flash", contents="x"):
            got.append(ch.text)
    assert got == ["a", " b"] and ei.value.code == 503


def test_gemini_drop_is_transport_error(srv):
    srv.push(Scripted(kind="drop"))
    g = gem(srv)
    with pytest.raises(Exception) as ei:
        g.models.generate_content(model="gemini-2.5-flash", contents="x")
    assert not isinstance(ei.value, genai_errors.APIError)  # google-genai does not wrap transport errors
    assert "disconnect" in str(ei.value).lower() or "connect" in type(ei.value).__name__.lower()


def test_gemini_models_list(srv):
    srv.models = ["gemini-2.5-flash"]
    g = gem(srv)
    names = [m.name for m in g.models.list()]
    assert names == ["models/gemini-2.5-flash"]


# ---------------------------------------------------------------------------------------------------
# Gemini legacy (google-generativeai REST transport): plain urllib, the SDK is not installed
# ---------------------------------------------------------------------------------------------------

LEGACY_Q = "?%24alt=json%3Benum-encoding%3Dint"


def test_legacy_generate_content(srv):
    body = {"contents": [{"parts": [{"text": "Say hi"}], "role": "user"}],
            "systemInstruction": {"parts": [{"text": "You are terse."}]}}
    resp = post_json(srv.url + "/v1beta/models/gemini-1.5-flash:generateContent" + LEGACY_Q, body,
                     headers={"x-goog-api-key": KEY})
    obj = json.loads(resp.read())
    assert obj["candidates"][0]["content"]["parts"][0]["text"] == "echo: Say hi"
    assert obj["candidates"][0]["finishReason"] == "STOP"
    req = srv.requests[0]
    assert req.protocol == "gemini_legacy" and not req.stream


def test_legacy_stream_is_chunked_json_array(srv):
    delay = 0.2
    srv.push(Scripted(text="one two three", first_chunk_delay_s=delay), protocol="gemini")  # gemini matches legacy
    body = {"contents": [{"parts": [{"text": "Say hi"}], "role": "user"}]}
    t0 = time.monotonic()
    resp = post_json(srv.url + "/v1beta/models/gemini-1.5-flash:streamGenerateContent" + LEGACY_Q, body,
                     headers={"x-goog-api-key": KEY})
    assert resp.headers["transfer-encoding"] == "chunked"
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.read(1) == b"["
    rest = resp.read()
    assert time.monotonic() - t0 >= delay
    items = json.loads(b"[" + rest)
    assert isinstance(items, list) and len(items) == 3
    assert "".join(i["candidates"][0]["content"]["parts"][0]["text"] for i in items) == "one two three"
    assert items[-1]["candidates"][0]["finishReason"] == "STOP"
    assert b"data:" not in rest
    req = srv.requests[0]
    assert req.protocol == "gemini_legacy" and req.stream


def test_legacy_wrong_key_and_error(srv):
    url = srv.url + "/v1beta/models/gemini-1.5-flash:generateContent" + LEGACY_Q
    with pytest.raises(urllib.error.HTTPError) as ei:
        post_json(url, {"contents": []}, headers={"x-goog-api-key": "bad"})
    assert ei.value.code == 400
    assert json.loads(ei.value.read())["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    srv.push(Scripted(kind="error", status=429), protocol="gemini_legacy")
    with pytest.raises(urllib.error.HTTPError) as ei:
        post_json(url, {"contents": []}, headers={"x-goog-api-key": KEY})
    assert ei.value.code == 429
    assert json.loads(ei.value.read())["error"]["status"] == "RESOURCE_EXHAUSTED"


# ---------------------------------------------------------------------------------------------------
# Standalone entry point
# ---------------------------------------------------------------------------------------------------


def test_main_runs_standalone():
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "harness.testing.loopback", "--port", str(port), "--text", "standalone"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert f"127.0.0.1:{port}" in line
        c = openai.OpenAI(api_key="any", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0, timeout=5)
        assert c.chat.completions.create(model="m", messages=USER).choices[0].message.content == "standalone"
    finally:
        proc.terminate()
        proc.wait(timeout=5)
