"""Gemini batch mode: the real google-genai SDK (files.upload, batches.create/get/list/cancel,
files.download) against the loopback server's Gemini batch API; nothing in the SDK is mocked.

What must hold: a batch line is exactly the body the live path sends; a result comes back as the
same Reply the live path would have stored (answered, blocked, truncated, a 2026 finish reason, an
error of the right kind); expiry, cancel, duplicates, unknown keys and paging reach the engine as the
provider reported them; the strict loopback refuses what the real API refuses, with its error shape.
"""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from harness.batch.base import BatchRequest, RemoteBatch, backend_for
from harness.batch.gemini import GeminiBatchBackend
from harness.providers.base import GenerationParams, ProviderConfig
from harness.providers.errors import ProviderError
from harness.providers.gemini import GeminiProvider
from harness.testing.loopback import LoopbackServer, Scripted
from harness.testing.loopback.batches.gemini_state import GeminiBatchState, state_of
from harness.types import ErrorKind, Message, Outcome, Reply
from tests.helpers import loopback_fixtures

KEY = "AIza-test-batch-0123456789"
MODEL = "gemini-3.5-flash"


_server, srv = loopback_fixtures(KEY, env=("GOOGLE_API_KEY",), models=[MODEL, "gemini-2.5-flash"],
                                 unset=("GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL", "GOOGLE_GENAI_API_VERSION"))


def provider(srv: LoopbackServer, **cfg: Any) -> GeminiProvider:
    cfg.setdefault("timeout_s", 5.0)
    return GeminiProvider(ProviderConfig(model=f"gemini/{cfg.pop('model', MODEL)}", base_url=srv.url, **cfg))


def state(srv: LoopbackServer) -> GeminiBatchState:
    return state_of(srv)


def ask(i: int | str, params: GenerationParams | None = None) -> BatchRequest:
    return BatchRequest(custom_id=f"s{i}", messages=[Message(role="user", content=f"prompt {i}")],
                        params=params or GenerationParams())


async def _with_backend(srv: LoopbackServer, fn, **cfg: Any):
    p = provider(srv, **cfg)
    await p.start()
    try:
        backend = backend_for(p)
        assert isinstance(backend, GeminiBatchBackend)
        return await fn(p, backend)
    finally:
        await p.aclose()


def with_backend(srv: LoopbackServer, fn, **cfg: Any):
    return asyncio.run(_with_backend(srv, fn, **cfg))


async def collect(backend: GeminiBatchBackend, remote_id: str) -> list:
    return [r async for r in backend.results(remote_id)]


def comparable(reply: Reply) -> dict:
    """What the tables use of a reply (ids and timings differ between two calls)."""
    d = reply.model_dump(exclude={"latency_s", "ttft_s", "attempts"})
    d["raw"] = {k: v for k, v in d["raw"].items() if k not in ("id", "batch")}
    return d


# -- request lines ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_request_line_is_the_body_the_live_path_sends(srv, stream):
    params = GenerationParams(temperature=0.3, max_tokens=64, reasoning_allowance=100, seed=7, stop=["END"],
                              system_prompt="You are careful.", reasoning="low")
    messages = [Message(role="system", content="Answer briefly."), Message(role="user", content="Hi"),
                Message(role="assistant", content="Hello."), Message(role="user", content="How do I stay safe?")]
    safety = [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": "BLOCK_LOW_AND_ABOVE"}]

    async def go(p, backend):
        live = await p.complete(messages, params)
        assert live.outcome is Outcome.ANSWERED
        return backend.request_line(BatchRequest(custom_id="sample-1_a", messages=messages, params=params))

    line = with_backend(srv, go, stream=stream, options={"safety_settings": safety})
    [live_req] = srv.requests
    assert live_req.path == f"/v1/models/{MODEL}:{'streamGenerateContent' if stream else 'generateContent'}"
    assert line == {"key": "sample-1_a", "request": live_req.body}
    # The fields are all there as on the wire: camelCase, except inside thinkingConfig, which google-genai
    # 3.6 passes through as the pydantic model's own (snake_case) dump; the API reads both spellings.
    assert line["request"]["generationConfig"]["thinkingConfig"] == {"thinking_level": "LOW"}
    assert line["request"]["generationConfig"]["maxOutputTokens"] == 164
    assert line["request"]["safetySettings"] == safety
    assert line["request"]["systemInstruction"]["parts"][0]["text"] == "You are careful.\n\nAnswer briefly."
    assert [c["role"] for c in line["request"]["contents"]] == ["user", "model", "user"]


def test_backend_registered_for_gemini_with_its_limits(srv):
    async def go(p, backend):
        return backend

    backend = with_backend(srv, go)
    assert backend.kind == "gemini" and backend.discount == 0.5
    assert backend.max_bytes < 2 * 1024 ** 3 and 0 < backend.max_requests <= 50_000


# -- round trip ------------------------------------------------------------------------------------

SCRIPTS = {
    "prompt answered": Scripted(text="Here is a safe answer.", input_tokens=5, output_tokens=5),
    "prompt blocked": Scripted(kind="block", block_reason="PROHIBITED_CONTENT"),
    "prompt stopped": Scripted(kind="safety_stop", category="DANGEROUS_CONTENT"),
    "prompt truncated": Scripted(kind="truncated", text="The first part of", output_tokens=4),
    "prompt escalated": Scripted(text="partial", finish_reason="ESCALATION"),
    "prompt continued": Scripted(text="to be continued", finish_reason="CONTINUATION"),
    "prompt unknown": Scripted(text="?", finish_reason="BRAND_NEW_2027_REASON"),
}


def _responder(req):
    text = req.body["contents"][-1]["parts"][0]["text"]
    return SCRIPTS[text]


def test_round_trip_gives_the_live_outcomes(srv):
    srv.responder = _responder
    prompts = list(SCRIPTS)
    params = GenerationParams(max_tokens=32)

    async def go(p, backend):
        live = [await p.complete([Message(role="user", content=t)], params) for t in prompts]
        reqs = [BatchRequest(custom_id=f"k{i}", messages=[Message(role="user", content=t)], params=params)
                for i, t in enumerate(prompts)]
        submitted = await backend.submit([backend.request_line(r) for r in reqs], tag="run-rt")
        assert submitted.state == "in_progress" and submitted.tag == "run-rt"
        assert submitted.counts == {"total": len(prompts), "processing": len(prompts)}
        ended = await backend.retrieve(submitted.remote_id)
        return live, submitted, ended, await collect(backend, submitted.remote_id)

    live, submitted, ended, results = with_backend(srv, go, stream=False)
    assert submitted.remote_id.startswith("batches/")
    assert ended.state == "ended"
    assert ended.counts == {"total": 7, "succeeded": 7, "errored": 0, "processing": 0}
    assert ended.created_at and ended.expires_at > ended.created_at
    by_key = {r.custom_id: r for r in results}
    assert sorted(by_key) == [f"k{i}" for i in range(7)] and len(results) == 7
    assert [r.custom_id for r in results] != sorted(by_key)   # the loopback's order is not the input's
    for i, live_reply in enumerate(live):
        got = by_key[f"k{i}"]
        assert got.status == "done"
        assert comparable(got.reply) == comparable(live_reply), prompts[i]
        assert got.reply.raw["batch"] is True
    outcomes = [by_key[f"k{i}"].reply for i in range(7)]
    assert outcomes[0].outcome is Outcome.ANSWERED and outcomes[0].text == "Here is a safe answer."
    assert (outcomes[1].outcome, outcomes[1].reason) == (Outcome.PROVIDER_BLOCKED, "PROHIBITED_CONTENT")
    assert (outcomes[2].outcome, outcomes[2].finish_reason) == (Outcome.PROVIDER_BLOCKED, "SAFETY")
    assert (outcomes[3].outcome, outcomes[3].reason) == (Outcome.TRUNCATED, "max_tokens")
    assert (outcomes[4].outcome, outcomes[4].finish_reason) == (Outcome.PROVIDER_BLOCKED, "ESCALATION")
    assert outcomes[5].outcome is Outcome.TRUNCATED and outcomes[5].finish_reason == "CONTINUATION"
    assert outcomes[6].outcome is Outcome.ERROR and "BRAND_NEW_2027_REASON" in outcomes[6].reason
    # Each request of the batch was answered through the server's scripting, as a live call is.
    assert [r.body["contents"][-1]["parts"][0]["text"] for r in state(srv).processed] == prompts


@pytest.mark.parametrize("style", ["rpc", "http"])
@pytest.mark.parametrize(("status", "kind"), [(400, ErrorKind.BAD_REQUEST), (404, ErrorKind.NOT_FOUND),
                                              (429, ErrorKind.RATE_LIMIT), (503, ErrorKind.SERVER)])
def test_per_request_error_is_an_error_reply_of_the_live_kind(srv, style, status, kind):
    st = state(srv)
    st.error_style = style
    st.errors = {"s1": (status, "Request contains an invalid argument.")}

    async def go(p, backend):
        remote = await backend.submit([backend.request_line(ask(i)) for i in range(3)], tag="run-err")
        ended = await backend.retrieve(remote.remote_id)
        return ended, await collect(backend, remote.remote_id)

    ended, results = with_backend(srv, go)
    assert ended.state == "ended" and ended.counts["errored"] == 1 and ended.counts["succeeded"] == 2
    by_key = {r.custom_id: r.reply for r in results}
    bad = by_key["s1"]
    assert bad.outcome is Outcome.ERROR and bad.error_kind is kind
    assert bad.raw["status"] == status and "invalid argument" in bad.reason
    assert by_key["s0"].outcome is by_key["s2"].outcome is Outcome.ANSWERED


def test_expired_job_returns_the_finished_lines_and_counts_the_rest(srv):
    st = state(srv)
    st.succeed_on_get = None

    async def go(p, backend):
        remote = await backend.submit([backend.request_line(ask(i)) for i in range(4)], tag="run-exp")
        running = await backend.retrieve(remote.remote_id)
        nothing_yet = await collect(backend, remote.remote_id)
        st.complete(remote.remote_id, "EXPIRED", answered={"s2"})
        expired = await backend.retrieve(remote.remote_id)
        return running, nothing_yet, expired, await collect(backend, remote.remote_id)

    running, nothing_yet, expired, results = with_backend(srv, go)
    assert running.state == "in_progress" and running.raw["state"] == "JOB_STATE_RUNNING"
    assert nothing_yet == []
    assert expired.state == "expired"
    assert expired.counts == {"total": 4, "succeeded": 1, "errored": 0, "processing": 0, "expired": 3}
    assert [(r.custom_id, r.reply.outcome) for r in results] == [("s2", Outcome.ANSWERED)]


def test_expired_with_nothing_done_has_no_results_file(srv):
    st = state(srv)
    st.finish_as = "EXPIRED"

    async def go(p, backend):
        remote = await backend.submit([backend.request_line(ask(i)) for i in range(2)], tag="run-exp0")
        return await backend.retrieve(remote.remote_id), await collect(backend, remote.remote_id)

    expired, results = with_backend(srv, go)
    assert expired.state == "expired" and expired.counts["expired"] == 2 and results == []


def test_failed_job_carries_the_reason(srv):
    st = state(srv)
    st.succeed_on_get = None

    async def go(p, backend):
        remote = await backend.submit([backend.request_line(ask(0))], tag="run-fail")
        st.complete(remote.remote_id, "FAILED", message="Internal error while reading the input file.",
                    code=500)
        return await backend.retrieve(remote.remote_id), await collect(backend, remote.remote_id)

    failed, results = with_backend(srv, go)
    assert failed.state == "failed" and failed.note == "Internal error while reading the input file."
    assert results == []


def test_duplicate_unknown_and_reordered_lines_pass_through(srv):
    st = state(srv)
    st.duplicate = {"s1"}
    st.unknown = ["never-sent"]
    st.order = "shuffle"

    async def go(p, backend):
        remote = await backend.submit([backend.request_line(ask(i)) for i in range(3)], tag="run-dup")
        await backend.retrieve(remote.remote_id)
        return await collect(backend, remote.remote_id)

    results = with_backend(srv, go)
    keys = sorted(r.custom_id for r in results)
    assert keys == ["never-sent", "s0", "s1", "s1", "s2"]
    assert all(r.status == "done" and r.reply.outcome is Outcome.ANSWERED for r in results)


def test_cancel_keeps_what_was_done(srv):
    st = state(srv)
    st.succeed_on_get = None
    st.cancel_answered = 1

    async def go(p, backend):
        remote = await backend.submit([backend.request_line(ask(i)) for i in range(3)], tag="run-cancel")
        cancelled = await backend.cancel(remote.remote_id)
        again = await backend.cancel(remote.remote_id)   # already ended: says so, does not raise
        return cancelled, again, await collect(backend, remote.remote_id)

    cancelled, again, results = with_backend(srv, go)
    assert cancelled.state == again.state == "cancelled"
    assert cancelled.counts == {"total": 3, "succeeded": 1, "errored": 0, "processing": 0, "cancelled": 2}
    assert [r.custom_id for r in results] == ["s0"]
    assert any(r.path.endswith(":cancel") and r.method == "POST" for r in srv.requests)


def test_find_by_display_name_across_pages(srv):
    st = state(srv)
    st.max_page_size = 2
    st.succeed_on_get = None

    async def go(p, backend):
        made = [await backend.submit([backend.request_line(ask(0))], tag=tag)
                for tag in ("run-x", "other", "run-x", "other", "other")]
        return made, await backend.find("run-x", since="2026-01-01T00:00:00Z", request_count=1)

    made, found = with_backend(srv, go)
    assert sorted(b.remote_id for b in found) == sorted([made[0].remote_id, made[2].remote_id])
    assert all(isinstance(b, RemoteBatch) and b.tag == "run-x" and b.counts["total"] == 1 for b in found)
    lists = [r for r in srv.requests if r.path.endswith("/batches") and r.method == "GET"]
    assert len(lists) == 3 and "pageToken=2" in lists[1].query and "pageToken=4" in lists[2].query


# -- strict checks ---------------------------------------------------------------------------------


def test_strict_create_refuses_a_vertex_only_field_with_the_real_error(srv):
    async def go(p, backend):
        good = backend.request_line(ask(0))
        bad = backend.request_line(ask(1))
        bad["request"]["generationConfig"] = {"routingConfig": {"autoMode": {}}}
        with pytest.raises(ProviderError) as info:
            await backend.submit([good, bad], tag="run-strict")
        return info.value

    err = with_backend(srv, go)
    assert err.kind is ErrorKind.BAD_REQUEST and err.status == 400
    assert "Error on line 2" in err.message and 'Unknown name "routingConfig"' in err.message
    assert state(srv).creates == 1 and state(srv).batches == {}
    [create] = [r for r in srv.requests if r.path.endswith(":batchGenerateContent")]
    assert create.rejected and "routingConfig" in create.rejected


def test_strict_create_refuses_duplicate_keys_and_an_unknown_model(srv):
    async def go(p, backend):
        line = backend.request_line(ask(0))
        with pytest.raises(ProviderError) as dup:
            await backend.submit([line, line], tag="run-dupkey")
        with pytest.raises(ProviderError) as unknown_model:
            p.config.model = "gemini/gemini-9-nonexistent"
            await backend.submit([line], tag="run-model")
        return dup.value, unknown_model.value

    dup, unknown_model = with_backend(srv, go)
    assert dup.kind is ErrorKind.BAD_REQUEST and "duplicate key 's0'" in dup.message
    assert unknown_model.kind is ErrorKind.NOT_FOUND
    assert state(srv).creates == 2


def test_wrong_key_is_an_auth_error_and_creates_nothing(srv):
    async def go(p, backend):
        with pytest.raises(ProviderError) as info:
            await backend.submit([backend.request_line(ask(0))], tag="run-auth")
        return info.value

    srv.api_key = "AIza-another-key"
    try:
        err = with_backend(srv, go)
    finally:
        srv.api_key = KEY
    assert err.kind is ErrorKind.AUTH and KEY not in err.message
    assert state(srv).batches == {}


# -- sizes -----------------------------------------------------------------------------------------


def test_large_file_goes_up_in_chunks_and_an_oversized_result_is_too_large(srv):
    srv.default = Scripted(text="ok")
    big = "word " * (1_800_000)   # ~9 MB over two lines: more than the SDK's 8 MiB upload chunk

    def reply_for(req):
        text = req.body["contents"][-1]["parts"][0]["text"]
        return Scripted(text="long answer " * 600) if text == "long" else Scripted(text="ok")

    srv.responder = reply_for

    async def go(p, backend):
        lines = [backend.request_line(BatchRequest(custom_id=f"b{i}", messages=[Message(role="user", content=t)],
                                                   params=GenerationParams()))
                 for i, t in enumerate([big[: len(big) // 2], big[len(big) // 2:], "long"])]
        remote = await backend.submit(lines, tag="run-big")
        await backend.retrieve(remote.remote_id)
        return await collect(backend, remote.remote_id)

    results = with_backend(srv, go, max_reply_bytes=4000)
    chunks = [r for r in srv.requests if "upload_id=" in r.query]
    assert [r.headers["x-goog-upload-command"] for r in chunks] == ["upload", "upload, finalize"]
    by_key = {r.custom_id: r.reply for r in results}
    assert by_key["b0"].outcome is by_key["b1"].outcome is Outcome.ANSWERED
    assert by_key["b2"].outcome is Outcome.ERROR and by_key["b2"].error_kind is ErrorKind.TOO_LARGE


def test_a_result_line_without_a_key_is_passed_through_as_unknown(srv):
    st = state(srv)

    async def go(p, backend):
        remote = await backend.submit([backend.request_line(ask(0))], tag="run-nokey")
        await backend.retrieve(remote.remote_id)
        out = st.files[st.batches[remote.remote_id].output_file]
        out.data += b'{"response": {"candidates": []}}\n'
        return await collect(backend, remote.remote_id)

    results = with_backend(srv, go)
    assert sorted(r.custom_id for r in results) == ["", "s0"]
    [orphan] = [r for r in results if r.custom_id == ""]
    assert orphan.reply.outcome is Outcome.ERROR and orphan.reply.error_kind is ErrorKind.MALFORMED


# -- the loopback as the SDK's own public methods see it ---------------------------------------------


def test_sdk_public_methods_parse_the_loopback_batch_api(srv):
    st = state(srv)
    st.max_page_size = 1
    srv.default = Scripted(text="inline answer")

    async def go(p, backend):
        aio = p._aio
        remote = await backend.submit([backend.request_line(ask(0))], tag="run-sdk")
        job = await aio.batches.get(name=remote.remote_id)
        assert job.display_name == "run-sdk" and job.state.name == "JOB_STATE_SUCCEEDED"
        assert job.dest.file_name and job.done and job.model == f"models/{MODEL}"
        output = await aio.files.download(file=job.dest.file_name)
        inline = await aio.batches.create(model=MODEL, config={"display_name": "run-inline"}, src=[
            {"contents": [{"role": "user", "parts": [{"text": "inline prompt"}]}], "metadata": {"key": "i0"}}])
        names = [b.name async for b in await aio.batches.list(config={"page_size": 1})]
        inline_results = await collect(backend, inline.name)
        uploaded = st.batches[remote.remote_id].input_file
        got = await aio.files.get(name=uploaded)
        with pytest.raises(Exception) as refused:
            await aio.files.download(file=uploaded)
        return remote, output, inline, names, inline_results, got, refused.value

    remote, output, inline, names, inline_results, got, refused = with_backend(srv, go)
    assert b'"key": "s0"' in output and b'"response"' in output
    assert names == [inline.name, remote.remote_id]                  # newest first, one per page
    assert [(r.custom_id, r.reply.text) for r in inline_results] == [("i0", "inline answer")]
    assert got.source.name == "UPLOADED" and got.size_bytes > 0 and got.display_name == "run-sdk"
    assert getattr(refused, "code", None) == 400


def test_connection_refused_on_submit_is_a_connection_error(srv):
    from tests.helpers import closed_port

    async def go(p, backend):
        with pytest.raises(ProviderError) as info:
            await backend.submit([backend.request_line(ask(0))], tag="run-down")
        return info.value

    p_cfg = {"base_url": f"http://127.0.0.1:{closed_port()}"}

    async def run():
        p = GeminiProvider(ProviderConfig(model=f"gemini/{MODEL}", timeout_s=2.0, **p_cfg))
        await p.start()
        try:
            return await go(p, backend_for(p))
        finally:
            await p.aclose()

    err = asyncio.run(run())
    assert err.kind is ErrorKind.CONNECTION
