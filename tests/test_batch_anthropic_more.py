"""Anthropic Message Batches backend against the loopback server, part 2: expiry, cancel, odd result
files, `find` and list pagination (part 1, with the fixtures: tests/test_batch_anthropic.py). The real
`anthropic` SDK sends real HTTP to 127.0.0.1; nothing in the SDK is mocked."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from harness.batch.anthropic import CLOCK_SKEW_S, AnthropicBatches, normalised_state
from harness.providers.base import GenerationParams
from harness.providers.errors import ProviderError
from harness.testing.loopback.batches.anthropic import state_of
from harness.types import ErrorKind, Message, Outcome
from tests.helpers import complete
from tests.test_batch_anthropic import KEY, _server, collect, make, req, run, srv, submit_and_collect  # noqa: F401


# -- expiry, cancel, odd result files -------------------------------------------------------------


def test_expired_batch_with_some_answers_is_ended_and_the_rest_expired(srv):
    st = state_of(srv)
    st.end_on_retrieve = None

    async def go(backend):
        batch = await backend.submit([backend.request_line(req(c)) for c in ("a", "b", "c")], "t")
        still = await backend.retrieve(batch.remote_id)
        st.expire(srv, batch.remote_id, done=1)
        after = await backend.retrieve(batch.remote_id)
        return still, after, await collect(backend, batch.remote_id)
    still, after, results = run(go, make(srv))
    assert still.state == "in_progress" and still.counts["processing"] == 3
    assert after.state == "ended" and (after.counts["succeeded"], after.counts["expired"]) == (1, 2)
    assert [(r.custom_id, r.status, r.reply is None) for r in results] == [
        ("a", "done", False), ("b", "expired", True), ("c", "expired", True)]


def test_batch_that_expired_unanswered_is_expired(srv):
    st = state_of(srv)
    st.end_on_retrieve = None

    async def go(backend):
        batch = await backend.submit([backend.request_line(req(c)) for c in ("a", "b")], "t")
        st.expire(srv, batch.remote_id)
        return await backend.retrieve(batch.remote_id), await collect(backend, batch.remote_id)
    after, results = run(go, make(srv))
    assert after.state == "expired" and after.counts["expired"] == 2
    assert {r.status for r in results} == {"expired"}


@pytest.mark.parametrize("done, state", [(0, "cancelled"), (1, "ended")])
def test_cancel(srv, done, state):
    st = state_of(srv)
    st.end_on_retrieve, st.done_before_cancel = None, done

    async def go(backend):
        batch = await backend.submit([backend.request_line(req(c)) for c in ("a", "b")], "t")
        cancelling = await backend.cancel(batch.remote_id)
        st.end(srv, batch.remote_id)
        return cancelling, await backend.retrieve(batch.remote_id), await collect(backend, batch.remote_id)
    cancelling, after, results = run(go, make(srv))
    assert cancelling.state == "cancelling" and cancelling.raw["cancel_initiated_at"]
    assert after.state == state and after.counts["cancelled"] == 2 - done
    assert [r.status for r in results] == ["done"] * done + ["cancelled"] * (2 - done)
    assert [r.method + " " + r.path.rsplit("/", 1)[-1] for r in srv.requests if r.path.endswith("/cancel")] == \
        ["POST cancel"]


def test_cancel_of_an_ended_batch_is_a_provider_error(srv):
    async def go(backend):
        batch = await backend.submit([backend.request_line(req("a"))], "t")
        await backend.retrieve(batch.remote_id)
        await backend.cancel(batch.remote_id)
    with pytest.raises(ProviderError) as info:
        run(go, make(srv))
    assert info.value.kind is ErrorKind.BAD_REQUEST


def test_duplicate_unknown_and_reordered_lines_are_passed_through(srv):
    st = state_of(srv)
    st.duplicate, st.unknown, st.reorder = {"b"}, ["nobody-sent-this"], True

    async def go(backend):
        return (await submit_and_collect(backend, [req(c) for c in ("a", "b", "c")]))[2]
    results = run(go, make(srv))
    assert [r.custom_id for r in results] == ["c", "b", "b", "a", "nobody-sent-this"]
    assert all(r.status == "done" and r.reply.outcome is Outcome.ANSWERED for r in results)


def test_unusable_lines_are_errors_for_their_id_and_a_line_without_id_stops_the_download(srv):
    st = state_of(srv)
    st.raw_lines = [b'{"custom_id": "weird", "result": {"type": "mystery"}}',
                    b'{"custom_id": "nomsg", "result": {"type": "succeeded"}}',
                    b'{"custom_id": "badmsg", "result": {"type": "succeeded", "message": {"content": 5}}}']

    async def go(backend):
        return (await submit_and_collect(backend, [req("a")]))[2]
    results = {r.custom_id: r for r in run(go, make(srv))}
    assert results["a"].reply.outcome is Outcome.ANSWERED
    for cid in ("weird", "nomsg", "badmsg"):
        assert results[cid].status == "done"
        assert (results[cid].reply.outcome, results[cid].reply.error_kind) == (Outcome.ERROR, ErrorKind.MALFORMED)
    st.raw_lines = [b'{"result": {"type": "expired"}}']
    with pytest.raises(ProviderError, match="without a custom_id") as info:
        run(go, make(srv))
    assert info.value.kind is ErrorKind.MALFORMED


def test_request_notes_are_what_the_live_reply_records(srv):
    params = GenerationParams(temperature=0.3, seed=1)
    live = complete(make(srv), [Message(role="user", content="x")], params)[0]
    notes = AnthropicBatches(make(srv)).request_notes(req("a", "x", params))
    assert notes and all(live.raw[k] == v for k, v in notes.items())
    assert set(notes) == {"temperature", "seed", "max_tokens_defaulted"}


def test_unknown_batch_is_not_found(srv):
    async def go(backend):
        await backend.retrieve("msgbatch_doesnotexist")
    with pytest.raises(ProviderError) as info:
        run(go, make(srv))
    assert info.value.kind is ErrorKind.NOT_FOUND and KEY not in str(info.value)


# -- find and list ---------------------------------------------------------------------------------


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def test_find_matches_creation_time_and_request_count(srv):
    st = state_of(srv)
    st.end_on_retrieve = None

    async def go(backend):
        backend.list_page_size = 2       # several pages, so paging is exercised
        old = await backend.submit([backend.request_line(req(c)) for c in ("a", "b")], "t")
        st.batches[old.remote_id]["created_at"] -= 3600       # an hour before the window
        since = _iso(datetime.now(timezone.utc))
        other = await backend.submit([backend.request_line(req(c)) for c in ("a", "b", "c")], "t")
        first = await backend.submit([backend.request_line(req(c)) for c in ("x", "y")], "t")
        one = await backend.find("t", since=since, request_count=2)
        second = await backend.submit([backend.request_line(req(c)) for c in ("p", "q")], "t")
        for _ in range(3):
            await backend.submit([backend.request_line(req("z"))], "t")
        two = await backend.find("t", since=since, request_count=2)
        none = await backend.find("t", since=_iso(datetime.now(timezone.utc) + timedelta(hours=1)),
                                  request_count=2)
        return old, other, first, second, one, two, none
    old, other, first, second, one, two, none = run(go, make(srv))
    assert [b.remote_id for b in one] == [first.remote_id]
    assert one[0].counts["total"] == 2 and one[0].state == "in_progress" and one[0].tag is None
    assert [b.remote_id for b in two] == [second.remote_id, first.remote_id]     # newest first
    assert none == []
    lists = [r for r in srv.requests if r.method == "GET" and r.path == "/v1/messages/batches"]
    assert len(lists) > 3 and any("after_id=" in r.query for r in lists)


def test_find_allows_for_clock_skew(srv):
    async def go(backend):
        batch = await backend.submit([backend.request_line(req("a"))], "t")
        created = datetime.fromisoformat(batch.created_at.replace("Z", "+00:00"))
        near = await backend.find("t", since=_iso(created + timedelta(seconds=CLOCK_SKEW_S / 2)), request_count=1)
        far = await backend.find("t", since=_iso(created + timedelta(seconds=CLOCK_SKEW_S * 2)), request_count=1)
        return batch, near, far
    batch, near, far = run(go, make(srv))
    assert [b.remote_id for b in near] == [batch.remote_id] and far == []


def test_list_pagination_with_the_sdk(srv):
    import anthropic
    client = anthropic.Anthropic(api_key=KEY, base_url=srv.url, max_retries=0)
    line = {"custom_id": "a", "params": {"model": "claude-haiku-4-5", "max_tokens": 5,
                                         "messages": [{"role": "user", "content": "x"}]}}
    made = [client.messages.batches.create(requests=[line]).id for _ in range(5)]
    newest_first = list(reversed(made))
    assert [b.id for b in client.messages.batches.list(limit=2)] == newest_first
    page = client.messages.batches.list(limit=2)
    assert (page.has_more, page.first_id, page.last_id) == (True, newest_first[0], newest_first[1])
    page3 = page.get_next_page().get_next_page()
    assert [b.id for b in page3.data] == newest_first[4:] and page3.has_more is False
    back = client.messages.batches.list(limit=2, before_id=newest_first[4])
    assert [b.id for b in back.data] == newest_first[2:4] and back.has_more is True
    assert [b.id for b in back.get_next_page().data] == newest_first[0:2]
    with pytest.raises(anthropic.BadRequestError):
        client.messages.batches.list(limit=0)
    # results are not there before the batch ends
    st = state_of(srv)
    st.end_on_retrieve = None
    fresh = client.messages.batches.create(requests=[line])
    assert fresh.results_url is None
    with pytest.raises(anthropic.AnthropicError, match="results_url"):
        client.messages.batches.results(fresh.id)


def test_normalised_state_rule():
    counts = {"succeeded": 0, "errored": 0, "cancelled": 0, "expired": 0}
    assert normalised_state("in_progress", counts, False) == "in_progress"
    assert normalised_state("canceling", counts, True) == "cancelling"
    assert normalised_state("ended", dict(counts, succeeded=1, expired=3), False) == "ended"
    assert normalised_state("ended", dict(counts, errored=1, cancelled=3), True) == "ended"
    assert normalised_state("ended", dict(counts, expired=3), False) == "expired"
    assert normalised_state("ended", dict(counts, cancelled=3), True) == "cancelled"
    assert normalised_state("ended", dict(counts, cancelled=1, expired=2), True) == "cancelled"
    assert normalised_state("ended", dict(counts, cancelled=1, expired=2), False) == "expired"
    assert normalised_state("validating", counts, False) == "in_progress"   # unknown: keep polling, never "failed"


def test_an_archived_batch_says_its_results_are_gone(srv):
    st = state_of(srv)

    async def go(backend):
        batch = await backend.submit([backend.request_line(req("a"))], "t")
        await backend.retrieve(batch.remote_id)
        st.batches[batch.remote_id]["archived_at"] = time.time()
        return await backend.retrieve(batch.remote_id)
    after = run(go, make(srv))
    assert after.state == "ended" and after.note and "archived" in after.note
