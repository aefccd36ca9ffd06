"""The loopback's OpenAI Batch API refuses what the real one refuses (the real `openai` SDK as client), and
the OpenAI batch backend turns each kind of result line into the live path's outcome."""
from __future__ import annotations

import asyncio
import json

import openai
import pytest

from harness.batch.base import BatchRequest, backend_for
from harness.providers.base import GenerationParams, ProviderConfig
from harness.providers.registry import create_provider
from harness.testing.loopback import LoopbackServer, Scripted
from harness.testing.loopback.batches.openai import state
from harness.types import ErrorKind, Message, Outcome

KEY = "sk-batch-loop-0000000000"


def _line(cid: str, **body) -> dict:
    return {"custom_id": cid, "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], **body}}


def _upload(client, lines, name="b.jsonl", purpose="batch"):
    data = "".join(json.dumps(x) + "\n" for x in lines).encode()
    return client.files.create(file=(name, data, "application/jsonl"), purpose=purpose)


@pytest.fixture
def srv():
    with LoopbackServer(api_key=KEY) as s:
        yield s


@pytest.fixture
def client(srv):
    return openai.OpenAI(api_key=KEY, base_url=srv.openai_base_url, max_retries=0)


def test_upload_and_create_refuse_what_the_api_refuses(client):
    with pytest.raises(openai.BadRequestError, match="Must be .jsonl"):
        _upload(client, [_line("a")], name="b.json")
    with pytest.raises(openai.BadRequestError, match="purpose"):
        _upload(client, [_line("a")], purpose="batches")
    f = _upload(client, [_line("a")])
    with pytest.raises(openai.BadRequestError, match="completion_window"):
        client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="48h")
    other = _upload(client, [_line("a")], purpose="user_data")
    with pytest.raises(openai.BadRequestError, match="purpose 'batch'"):
        client.batches.create(input_file_id=other.id, endpoint="/v1/chat/completions", completion_window="24h")
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(api_key="sk-wrong", base_url=client.base_url, max_retries=0).batches.list().data


def test_validation_fails_the_whole_batch_on_a_duplicate_custom_id_or_wrong_url(client):
    f = _upload(client, [_line("a"), _line("a"), {**_line("b"), "url": "/v1/embeddings"}])
    b = client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert b.status == "validating"
    b = client.batches.retrieve(b.id)
    assert b.status == "failed"
    assert {e.code for e in b.errors.data} == {"duplicate_custom_id", "mismatched_endpoint"}
    assert [e.line for e in b.errors.data] == [2, 3]


def test_strict_body_checks_land_in_the_error_file_and_list_pages_by_after(srv, client):
    f = _upload(client, [_line("ok"), _line("bad", max_tokens=10, model="gpt-4o-mini", frobnicate=1)])
    ids = [client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h").id
           for _ in range(3)]
    state(srv).complete(ids[0])
    b = client.batches.retrieve(ids[0])
    assert b.status == "completed" and (b.request_counts.completed, b.request_counts.failed) == (1, 1)
    errors = [json.loads(x) for x in client.files.content(b.error_file_id).text.splitlines()]
    assert errors[0]["custom_id"] == "bad" and errors[0]["response"]["status_code"] == 400
    assert "frobnicate" in errors[0]["response"]["body"]["error"]["message"]
    page = client.batches.list(limit=2)
    assert [x.id for x in page.data] == ids[::-1][:2] and page.has_more
    assert [x.id for x in client.batches.list(limit=2)] == ids[::-1]   # the SDK follows `after`


def _backend(srv):
    provider = create_provider(ProviderConfig(model="openai/gpt-4o-mini", base_url=srv.openai_base_url,
                                              api_key_env="LOOP_KEY", params=GenerationParams(max_tokens=32)))
    return provider, backend_for(provider)


def test_backend_maps_every_kind_of_result_line(srv, monkeypatch):
    monkeypatch.setenv("LOOP_KEY", KEY)
    srv.push_many([Scripted(kind="content_filter"), Scripted(kind="truncated", text="cut"),
                   Scripted(kind="error", status=429),
                   Scripted(body={"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": []})])

    async def go():
        provider, backend = _backend(srv)
        await provider.start()
        msgs = [Message(role="user", content="hi")]
        lines = [backend.request_line(BatchRequest(f"s{i}", msgs, provider.config.params)) for i in range(6)]
        assert lines[0]["body"] == provider._request(msgs, provider.config.params)   # what live sends
        remote = await backend.submit(lines, "tag-x")
        state(srv).expire(remote.remote_id, finished=5)
        remote = await backend.retrieve(remote.remote_id)
        got = {r.custom_id: r async for r in backend.results(remote.remote_id)}
        found = await backend.find("tag-x", since=remote.created_at, request_count=6)
        await provider.aclose()
        return remote, got, found

    remote, got, found = asyncio.run(go())
    assert remote.state == "expired" and [f.remote_id for f in found] == [remote.remote_id]
    assert got["s0"].reply.outcome is Outcome.PROVIDER_BLOCKED
    assert got["s1"].reply.outcome is Outcome.TRUNCATED
    assert got["s2"].reply.error_kind is ErrorKind.RATE_LIMIT and got["s2"].reply.outcome is Outcome.ERROR
    assert got["s3"].reply.outcome is Outcome.ERROR and got["s3"].reply.error_kind is ErrorKind.MALFORMED
    assert "without choices" in got["s3"].reply.reason   # the live adapter's own check
    assert got["s4"].reply.outcome is Outcome.ANSWERED
    assert got["s5"].status == "expired" and got["s5"].reply is None
