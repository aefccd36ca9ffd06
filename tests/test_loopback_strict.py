"""The loopback servers refuse what the real APIs of late 2026 refuse, and return what they return
(thinking blocks, thought parts, reasoning and cached-token usage, every finish reason, another
serving model), driven by the real SDK clients over HTTP. Facts: provider-wire.md section 12.
"""
from __future__ import annotations

import json
import typing
import urllib.error
import urllib.request

import pytest

from harness.testing.loopback import LoopbackServer, Scripted
from harness.testing.loopback import rules as wire_rules

import anthropic  # noqa: E402 - the dev extra installs every SDK: a missing one is a failure, not a skip
import openai  # noqa: E402
from google import genai  # noqa: E402
from google.genai import errors as genai_errors  # noqa: E402
from google.genai import types as gt  # noqa: E402

KEY = "test-key"
USER = [{"role": "user", "content": "Say hi please"}]


@pytest.fixture
def srv():
    with LoopbackServer(api_key=KEY) as s:
        yield s


def oai(srv):
    return openai.OpenAI(api_key=KEY, base_url=srv.openai_base_url, max_retries=0, timeout=5)


def ant(srv, version=None):
    headers = {"anthropic-version": version} if version else None
    return anthropic.Anthropic(api_key=KEY, base_url=srv.url, max_retries=0, timeout=5, default_headers=headers)


def gem(srv):
    return genai.Client(api_key=KEY, http_options=gt.HttpOptions(base_url=srv.url, api_version="v1beta", timeout=5000))


def post(url, body, headers):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json", **headers})
    return urllib.request.urlopen(req, timeout=5)


def test_strict_is_the_default():
    assert LoopbackServer().strict is True


# ---------------------------------------------------------------------------------------------------
# OpenAI
# ---------------------------------------------------------------------------------------------------


def test_openai_reasoning_model_rejects_max_tokens_and_keeps_the_script(srv):
    srv.push(Scripted(text="unused"))
    with pytest.raises(openai.BadRequestError) as ei:
        oai(srv).chat.completions.create(model="gpt-5-mini", messages=USER, max_tokens=50)
    e = ei.value
    assert (e.code, e.param, e.type) == ("unsupported_parameter", "max_tokens", "invalid_request_error")
    assert "Use 'max_completion_tokens' instead" in e.message
    assert srv.pending == 1 and "max_tokens" in srv.requests[0].rejected
    r = oai(srv).chat.completions.create(model="gpt-5-mini", messages=USER, max_completion_tokens=50)
    assert r.choices[0].message.content == "unused" and srv.requests[1].rejected is None


@pytest.mark.parametrize("model", ["gpt-5", "gpt-5-mini", "o3", "o4-mini"])
def test_openai_reasoning_model_temperature_only_default(srv, model):
    with pytest.raises(openai.BadRequestError) as ei:
        oai(srv).chat.completions.create(model=model, messages=USER, temperature=0)
    assert (ei.value.code, ei.value.param) == ("unsupported_value", "temperature")
    assert "Only the default (1) value is supported" in ei.value.message
    assert oai(srv).chat.completions.create(model=model, messages=USER, temperature=1).choices[0].message.content


def test_openai_gpt51_temperature_only_with_effort_none(srv):
    c = oai(srv)
    assert c.chat.completions.create(model="gpt-5.1", messages=USER, temperature=0.2).choices  # default effort none
    assert c.chat.completions.create(model="gpt-5.1", messages=USER, temperature=0.2, reasoning_effort="none").choices
    with pytest.raises(openai.BadRequestError) as ei:
        c.chat.completions.create(model="gpt-5.1", messages=USER, temperature=0.2, reasoning_effort="low")
    assert ei.value.param == "temperature" and "reasoning_effort" in ei.value.message


def test_openai_reasoning_effort_values_per_family(srv):
    c = oai(srv)
    assert c.chat.completions.create(model="gpt-5", messages=USER, reasoning_effort="minimal").choices
    with pytest.raises(openai.BadRequestError) as ei:
        c.chat.completions.create(model="gpt-5", messages=USER, reasoning_effort="none")
    assert (ei.value.code, ei.value.param) == ("unsupported_value", "reasoning_effort")
    with pytest.raises(openai.BadRequestError) as ei:
        c.chat.completions.create(model="gpt-4o-mini", messages=USER, reasoning_effort="low")
    assert (ei.value.code, ei.value.param) == ("unsupported_parameter", "reasoning_effort")


def test_openai_chat_model_takes_sampling_fields(srv):
    r = oai(srv).chat.completions.create(model="gpt-4o-mini", messages=USER, temperature=0, max_tokens=20, seed=3)
    assert r.choices[0].finish_reason == "stop"


def test_openai_unknown_argument_and_responses_only_model(srv):
    with pytest.raises(openai.BadRequestError) as ei:
        oai(srv).chat.completions.create(model="gpt-4o-mini", messages=USER, extra_body={"temprature": 0})
    assert "Unrecognized request argument supplied: temprature" in ei.value.message
    responses_only = sorted(wire_rules.openai_responses_only_models())
    assert responses_only, "the SDK lists Responses-only models (pro, codex, deep-research)"
    with pytest.raises(openai.NotFoundError) as ei:
        oai(srv).chat.completions.create(model=responses_only[0], messages=USER)
    assert "v1/responses" in ei.value.message


def test_openai_lenient_server_accepts_what_strict_refuses():
    with LoopbackServer(api_key=KEY, strict=False) as s:
        r = oai(s).chat.completions.create(model="gpt-5", messages=USER, max_tokens=5, temperature=0)
        assert r.choices[0].message.content == "echo: Say hi please"


def test_openai_reasoning_and_cached_usage(srv):
    srv.push(Scripted(text="four words right here", reasoning_tokens=40, cached_tokens=3, input_tokens=10))
    r = oai(srv).chat.completions.create(model="gpt-5", messages=USER, max_completion_tokens=500)
    u = r.usage
    assert (u.prompt_tokens, u.completion_tokens, u.total_tokens) == (10, 44, 54)
    assert u.completion_tokens_details.reasoning_tokens == 40 and u.prompt_tokens_details.cached_tokens == 3
    srv.push(Scripted(text="two words", reasoning_tokens=7))
    stream = oai(srv).chat.completions.create(model="gpt-5", messages=USER, stream=True,
                                              stream_options={"include_usage": True})
    last = list(stream)[-1]
    assert last.usage.completion_tokens == 9 and last.usage.completion_tokens_details.reasoning_tokens == 7


@pytest.mark.parametrize("stream", [False, True])
def test_openai_reasoning_exhausts_budget(srv, stream):
    srv.push(Scripted(text="never shown", reasoning_exhausts_budget=True))
    kw = {"stream": True, "stream_options": {"include_usage": True}} if stream else {}
    r = oai(srv).chat.completions.create(model="gpt-5-nano", messages=USER, max_completion_tokens=64, **kw)
    if stream:
        chunks = list(r)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        usage = chunks[-1].usage
        assert (text, finish) == ("", ["length"])
    else:
        assert (r.choices[0].message.content, r.choices[0].finish_reason) == ("", "length")
        usage = r.usage
    assert usage.completion_tokens == 64 and usage.completion_tokens_details.reasoning_tokens == 64


def test_openai_every_sdk_finish_reason_and_reported_model(srv):
    from openai.types.chat.chat_completion import Choice

    reasons = typing.get_args(Choice.model_fields["finish_reason"].annotation)
    assert {"stop", "length", "content_filter", "tool_calls"} <= set(reasons)
    for reason in reasons:
        srv.push(Scripted(finish_reason=reason, model="gpt-4o-mini-2024-07-18"))
        r = oai(srv).chat.completions.create(model="gpt-4o-mini", messages=USER)
        assert r.choices[0].finish_reason == reason and r.model == "gpt-4o-mini-2024-07-18"
        if reason == "tool_calls":
            assert r.choices[0].message.tool_calls[0].function.name == "loopback_tool"


# ---------------------------------------------------------------------------------------------------
# Anthropic
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field,value", [("temperature", 1.0), ("temperature", 0), ("top_p", 0.9), ("top_k", 5)])
def test_anthropic_2026_api_rejects_sampling_fields_at_any_value(srv, field, value):
    with pytest.raises(anthropic.BadRequestError) as ei:
        ant(srv).messages.create(model="claude-haiku-4-5", max_tokens=20, messages=USER, extra_body={field: value})
    e = ei.value
    assert e.status_code == 400 and e.type == "invalid_request_error"
    assert e.body["error"]["message"] == f"{field}: Extra inputs are not permitted"
    assert srv.requests[0].headers["anthropic-version"] == "2026-10-21"  # what the SDK sends


def test_anthropic_2023_api_accepts_sampling_except_non_default_on_current_models(srv):
    old = ant(srv, "2023-06-01")
    assert old.messages.create(model="claude-haiku-4-5", max_tokens=20, messages=USER,
                               extra_body={"temperature": 0.2, "top_k": 5}).content
    assert old.messages.create(model="claude-sonnet-5", max_tokens=20, messages=USER,
                               extra_body={"temperature": 1.0}).content
    with pytest.raises(anthropic.BadRequestError) as ei:
        old.messages.create(model="claude-sonnet-5", max_tokens=20, messages=USER, extra_body={"temperature": 0})
    assert ei.value.body["error"]["message"].startswith("temperature:")


def test_anthropic_unknown_field_missing_version_and_max_tokens(srv):
    with pytest.raises(anthropic.BadRequestError) as ei:
        ant(srv).messages.create(model="claude-haiku-4-5", max_tokens=20, messages=USER, extra_body={"seed": 1})
    assert ei.value.body["error"]["message"] == "seed: Extra inputs are not permitted"
    url = srv.url + "/v1/messages"
    body = {"model": "claude-haiku-4-5", "max_tokens": 5, "messages": USER}
    with pytest.raises(urllib.error.HTTPError) as he:
        post(url, body, {"x-api-key": KEY})
    assert he.value.code == 400
    assert json.loads(he.value.read())["error"]["message"] == "anthropic-version: header is required"
    with pytest.raises(urllib.error.HTTPError) as he:
        post(url, {"model": "claude-haiku-4-5", "messages": USER}, {"x-api-key": KEY, "anthropic-version": "2026-10-21"})
    assert json.loads(he.value.read())["error"]["message"] == "max_tokens: Field required"


def test_anthropic_thinking_settings_checked(srv):
    a = ant(srv)
    assert a.messages.create(model="claude-sonnet-4-5", max_tokens=2000, messages=USER,
                             thinking={"type": "enabled", "budget_tokens": 1024}).content
    bad = [
        ("claude-sonnet-4-5", 2000, {"type": "enabled", "budget_tokens": 512}, "greater than or equal to 1024"),
        ("claude-sonnet-4-5", 1024, {"type": "enabled", "budget_tokens": 1024}, "must be greater than"),
        ("claude-3-5-haiku-20241022", 2000, {"type": "enabled", "budget_tokens": 1024}, "does not support thinking"),
    ]
    for model, max_tokens, thinking, needle in bad:
        with pytest.raises(anthropic.BadRequestError) as ei:
            a.messages.create(model=model, max_tokens=max_tokens, messages=USER, thinking=thinking)
        assert needle in ei.value.body["error"]["message"], (model, thinking)


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_thinking_blocks_come_first_and_count_as_output(srv, stream):
    srv.push(Scripted(text="the answer", thinking="let me think", redacted_thinking=True, cached_tokens=4,
                      input_tokens=12))
    a = ant(srv)
    if stream:
        with a.messages.stream(model="claude-sonnet-4-5", max_tokens=2000, messages=USER) as st:
            m = st.get_final_message()
    else:
        m = a.messages.create(model="claude-sonnet-4-5", max_tokens=2000, messages=USER)
    assert [b.type for b in m.content] == ["thinking", "redacted_thinking", "text"]
    assert m.content[0].thinking == "let me think" and m.content[2].text == "the answer"
    assert m.usage.output_tokens == 2 + 3
    assert (m.usage.input_tokens, m.usage.cache_read_input_tokens) == (8, 4)
    details = m.usage.model_dump().get("output_tokens_details") or {}
    assert details.get("thinking_tokens") == 3


def test_anthropic_thinking_disabled_sends_no_blocks(srv):
    srv.push(Scripted(text="plain", thinking="hidden"))
    m = ant(srv).messages.create(model="claude-sonnet-4-5", max_tokens=50, messages=USER, thinking={"type": "disabled"})
    assert [b.type for b in m.content] == ["text"] and m.usage.output_tokens == 1


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_thinking_exhausts_budget(srv, stream):
    srv.push(Scripted(text="never shown", thinking="long musing", reasoning_exhausts_budget=True))
    a = ant(srv)
    if stream:
        with a.messages.stream(model="claude-sonnet-4-5", max_tokens=1500, messages=USER) as st:
            m = st.get_final_message()
    else:
        m = a.messages.create(model="claude-sonnet-4-5", max_tokens=1500, messages=USER)
    assert m.stop_reason == "max_tokens" and [b.type for b in m.content] == ["thinking"]
    assert m.usage.output_tokens == 1500


def test_anthropic_every_sdk_stop_reason_and_reported_model(srv):
    from anthropic.types import StopReason

    reasons = typing.get_args(StopReason)
    assert {"end_turn", "max_tokens", "refusal", "pause_turn", "model_context_window_exceeded"} <= set(reasons)
    for stream in (False, True):
        for reason in reasons:
            srv.push(Scripted(finish_reason=reason, model="claude-haiku-4-5-20251001"))
            kw = {"stop_sequences": ["END"]} if reason == "stop_sequence" else {}
            if stream:
                with ant(srv).messages.stream(model="claude-haiku-4-5", max_tokens=20, messages=USER, **kw) as st:
                    m = st.get_final_message()
            else:
                m = ant(srv).messages.create(model="claude-haiku-4-5", max_tokens=20, messages=USER, **kw)
            assert m.stop_reason == reason and m.model == "claude-haiku-4-5-20251001"
            if reason == "stop_sequence":
                assert m.stop_sequence == "END"
            if reason == "tool_use":
                assert m.content[-1].type == "tool_use"


# ---------------------------------------------------------------------------------------------------
# Gemini (google-genai) and the legacy transport
# ---------------------------------------------------------------------------------------------------


def test_gemini_generation_config_fields_come_from_the_sdk():
    fields = wire_rules.gemini_generation_config_fields()
    assert {"temperature", "maxOutputTokens", "thinkingConfig", "max_output_tokens"} <= fields
    assert "temprature" not in fields


def test_gemini_sdk_config_passes_and_unknown_field_fails(srv):
    cfg = gt.GenerateContentConfig(temperature=0.2, top_p=0.9, top_k=20, max_output_tokens=50, seed=3,
                                   stop_sequences=["X"], candidate_count=1, presence_penalty=0.1,
                                   response_mime_type="text/plain",
                                   thinking_config=gt.ThinkingConfig(thinking_budget=512, include_thoughts=True))
    g = gem(srv)
    assert g.models.generate_content(model="gemini-2.5-flash", contents="hi", config=cfg).text
    url = srv.url + "/v1beta/models/gemini-2.5-flash:generateContent"
    for path in ("", "?%24alt=json%3Benum-encoding%3Dint"):  # google-genai and the legacy transport
        with pytest.raises(urllib.error.HTTPError) as he:
            post(url + path, {"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": {"temprature": 0.2}},
                 {"x-goog-api-key": KEY})
        err = json.loads(he.value.read())["error"]
        assert (he.value.code, err["status"]) == (400, "INVALID_ARGUMENT")
        assert 'Unknown name "temprature"' in err["message"]
    ok = post(url, {"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": {"max_output_tokens": 5}},
              {"x-goog-api-key": KEY})
    assert ok.status == 200


@pytest.mark.parametrize("model,tc,needle", [
    ("gemini-2.0-flash", gt.ThinkingConfig(thinking_budget=512), "not supported"),
    ("gemini-2.5-flash", gt.ThinkingConfig(thinking_level="LOW"), "Thinking level is not supported"),
    ("gemini-2.5-pro", gt.ThinkingConfig(thinking_budget=0), "only works in thinking mode"),
    ("gemini-2.5-flash", gt.ThinkingConfig(thinking_budget=100000), "between"),
    ("gemini-3-pro-preview", gt.ThinkingConfig(thinking_level="MINIMAL"), "Invalid thinking level"),
    ("gemini-3-flash", gt.ThinkingConfig(thinking_level="LOW", thinking_budget=512), "only one of"),
])
def test_gemini_thinking_config_checked_per_model(srv, model, tc, needle):
    g = gem(srv)  # keep the client referenced: a temporary one closes under the request
    with pytest.raises(genai_errors.ClientError) as ei:
        g.models.generate_content(model=model, contents="hi", config=gt.GenerateContentConfig(thinking_config=tc))
    assert ei.value.code == 400 and needle in ei.value.message


def test_gemini_thinking_accepted_where_the_model_takes_it(srv):
    g = gem(srv)
    for model, tc in [("gemini-3-pro-preview", gt.ThinkingConfig(thinking_level="HIGH")),
                      ("gemini-2.5-flash", gt.ThinkingConfig(thinking_budget=0)),
                      ("gemini-2.5-pro", gt.ThinkingConfig(thinking_budget=-1))]:
        assert g.models.generate_content(model=model, contents="hi",
                                         config=gt.GenerateContentConfig(thinking_config=tc)).text


@pytest.mark.parametrize("stream", [False, True])
def test_gemini_thought_parts_and_usage(srv, stream):
    srv.push(Scripted(text="the answer", thinking="pondering this", cached_tokens=2, input_tokens=9))
    cfg = gt.GenerateContentConfig(thinking_config=gt.ThinkingConfig(include_thoughts=True))
    g = gem(srv)
    if stream:
        chunks = list(g.models.generate_content_stream(model="gemini-2.5-flash", contents="hi", config=cfg))
        parts = [p for c in chunks for p in c.candidates[0].content.parts or []]
        text, usage = "".join(c.text or "" for c in chunks), chunks[-1].usage_metadata
    else:
        r = g.models.generate_content(model="gemini-2.5-flash", contents="hi", config=cfg)
        parts, text, usage = r.candidates[0].content.parts, r.text, r.usage_metadata
    assert parts[0].thought is True and parts[0].text == "pondering this"
    assert text == "the answer"
    assert (usage.candidates_token_count, usage.thoughts_token_count, usage.cached_content_token_count) == (2, 2, 2)
    assert usage.total_token_count == 9 + 2 + 2


def test_gemini_thoughts_hidden_unless_asked(srv):
    srv.push(Scripted(text="the answer", thinking="pondering"))
    g = gem(srv)
    r = g.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert [p.thought for p in r.candidates[0].content.parts] == [None]
    assert r.usage_metadata.thoughts_token_count == 1


@pytest.mark.parametrize("stream", [False, True])
def test_gemini_thinking_exhausts_budget(srv, stream):
    srv.push(Scripted(text="never shown", reasoning_exhausts_budget=True))
    cfg = gt.GenerateContentConfig(max_output_tokens=256)
    g = gem(srv)
    if stream:
        chunks = list(g.models.generate_content_stream(model="gemini-2.5-flash", contents="hi", config=cfg))
        r = chunks[-1]
        assert all(c.text is None for c in chunks)
    else:
        r = g.models.generate_content(model="gemini-2.5-flash", contents="hi", config=cfg)
        assert r.text is None
    assert r.candidates[0].finish_reason == gt.FinishReason.MAX_TOKENS
    assert r.usage_metadata.thoughts_token_count == 256


def test_gemini_every_sdk_finish_reason_and_reported_model(srv, recwarn):
    g = gem(srv)
    for reason in gt.FinishReason:
        srv.push(Scripted(finish_reason=reason.value, model="gemini-3.5-flash-lite"))
        r = g.models.generate_content(model="gemini-2.5-flash", contents="hi")
        assert r.candidates[0].finish_reason == reason and r.model_version == "gemini-3.5-flash-lite"
    assert not [w for w in recwarn if "FinishReason" in str(w.message)]


def test_legacy_every_proto_finish_reason_parses(srv):
    glm = pytest.importorskip("google.ai.generativelanguage_v1beta")
    url = srv.url + "/v1beta/models/gemini-1.5-flash:generateContent?%24alt=json%3Benum-encoding%3Dint"
    for reason in glm.Candidate.FinishReason:
        srv.push(Scripted(finish_reason=reason.name, text="x"), protocol="gemini_legacy")
        obj = json.loads(post(url, {"contents": [{"parts": [{"text": "hi"}]}]}, {"x-goog-api-key": KEY}).read())
        parsed = glm.GenerateContentResponse.from_json(json.dumps(obj), ignore_unknown_fields=True)
        assert parsed.candidates[0].finish_reason == reason


def test_section_12_rejections_the_real_apis_make(srv):
    """Anthropic 2026-10-21 refuses document blocks in assistant turns and citations on user text; Gemini's
    Developer API refuses the Vertex-only generationConfig fields and the SDK's internal `_url` key."""
    url = srv.url + "/v1/messages"
    headers = {"x-api-key": KEY, "anthropic-version": "2026-10-21"}
    document = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x"}}
    cited = {"type": "text", "text": "hi", "citations": [{"type": "char_location", "cited_text": "x"}]}
    for messages, where in (([{"role": "user", "content": "hi"}, {"role": "assistant", "content": [document]},
                              {"role": "user", "content": "go on"}], "messages.1.content.0"),
                            ([{"role": "user", "content": [cited]}], "messages.0.content.0.citations")):
        with pytest.raises(urllib.error.HTTPError) as he:
            post(url, {"model": "claude-haiku-4-5", "max_tokens": 5, "messages": messages}, headers)
        assert he.value.code == 400 and json.loads(he.value.read())["error"]["message"].startswith(where)
    gurl = srv.url + "/v1beta/models/gemini-3.5-flash:generateContent"
    contents = [{"parts": [{"text": "hi"}]}]
    for body in ({"contents": contents, "generationConfig": {"routingConfig": {}}},
                 {"contents": contents, "_url": {"model": "x"}}):
        with pytest.raises(urllib.error.HTTPError) as he:
            post(gurl, body, {"x-goog-api-key": KEY})
        assert he.value.code == 400, body
