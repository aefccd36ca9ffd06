"""Anthropic Message Batches (`/v1/messages/batches`) through the live adapter's AsyncAnthropic client.

Why it looks the way it does (anthropic 2.17.0: resources/messages/batches.py, types/messages/):
* A request line is `{"custom_id", "params"}` where `params` is exactly what the live adapter sends for a
  non-streamed call (`AnthropicProvider._request`): no `temperature` under anthropic-version 2026-10-21,
  the same `max_tokens`, `thinking` and `output_config`. Nothing else is allowed in a line.
* Anthropic keeps no metadata on a batch, so `find` cannot match our tag: it lists the batches (newest
  first) created since the engine's intent was stored (less CLOCK_SKEW_S, for a local clock ahead of
  Anthropic's) whose total request count equals the submission's, and returns every one of them.
* The API validates each request's `params` only while processing ("validation errors are returned when
  processing of the entire batch has ended", batch-processing guide): a request the live API would refuse
  with a 400 comes back as an `errored` line with `invalid_request_error`, and is stored as an ERROR reply
  of kind bad_request, the kind the live call's 400 gets.
* A `succeeded` line's message goes through the live parsing (`AnthropicProvider.message_reply`) and the
  same finishing as `Provider.complete` (max_reply_bytes, redaction, lone surrogates), so the outcome
  (answered / provider_blocked on `stop_reason: refusal` / truncated on `max_tokens`) never depends on
  the path a sample took.
* The results file is read as a byte stream with a bound per line (max_reply_bytes plus the line's
  envelope), not through the live client's whole-body cap: a file of thousands of replies is legitimately
  larger than one reply, but no single line may be larger than a live reply could be.

Limits (batch-processing guide; the SDK's docstrings do not state them): 100,000 requests or 256 MB per
batch, whichever comes first; results for 29 days; batches end within 24 hours (`expires_at`).
"""
from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

from harness.batch.base import BatchBackend, BatchRequest, BatchResult, RemoteBatch, batch_backend
from harness.providers.anthropic_messages import error_kind_for_type
from harness.providers.base import _bounded, _redacted
from harness.providers.bounds import capped_async_client, too_large_in
from harness.providers.errors import ProviderError
from harness.redact import redact
from harness.surrogates import escape_reply
from harness.types import ErrorKind, Outcome, Reply

CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")   # fullmatch: `$` would let a trailing newline in
#: How far before the engine's `since` a batch may have been created and still be a `find` candidate:
#: Anthropic's `created_at` is its clock, `since` is ours.
CLOCK_SKEW_S = 60.0
#: Bytes a result line may carry around its message (custom_id, result type, JSON punctuation).
LINE_ENVELOPE_BYTES = 16 * 1024
_ID_IN_LINE = re.compile(rb'"custom_id"\s*:\s*"([a-zA-Z0-9_-]{1,64})"')


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


def normalised_state(processing_status: str, counts: dict[str, int], cancel_initiated: bool) -> str:
    """The engine's BatchState for an Anthropic batch.

    in_progress → in_progress; canceling → cancelling; ended → `ended`, except when no request
    succeeded or errored (nothing to store): then `cancelled` when every unanswered request was
    cancelled or a cancel was asked for, else `expired`. A batch that ended with some answers is `ended`
    even after a cancel or an expiry: its results must be downloaded, and its `canceled`/`expired`
    lines put those samples back to pending."""
    if processing_status == "in_progress":
        return "in_progress"
    if processing_status == "canceling":
        return "cancelling"
    if processing_status != "ended":
        # A status this SDK does not know: keep polling. "failed" could send the samples again while
        # the provider still processes (and bills) them.
        return "in_progress"
    if counts.get("succeeded", 0) or counts.get("errored", 0):
        return "ended"
    cancelled, expired = counts.get("cancelled", 0), counts.get("expired", 0)
    if cancelled and (not expired or cancel_initiated):
        return "cancelled"
    if expired:
        return "expired"
    return "ended"


@batch_backend("anthropic")
class AnthropicBatches(BatchBackend):
    max_requests = 100_000
    max_bytes = 256 * 1000 * 1000   # "256 MB": the smaller reading of it
    discount = 0.5
    #: Batches per list page while `find` looks back (the API allows 1-1000).
    list_page_size = 100

    # -- helpers ----------------------------------------------------------------------------------
    async def _client(self) -> Any:
        if self.provider._client is None:
            await self.provider.start()
        return self.provider._client

    def _error(self, exc: Exception) -> ProviderError:
        if isinstance(exc, ProviderError):
            return exc
        err = self.provider._map_error(exc)
        secret = getattr(self.provider, "_secret", None)
        if secret:
            err.message = err.message.replace(secret, "[REDACTED]")
        err.message = redact(err.message)
        err.args = (err.message,)
        return err

    @staticmethod
    def _remote(batch: Any) -> RemoteBatch:
        rc = batch.request_counts
        counts = {"processing": rc.processing, "succeeded": rc.succeeded, "errored": rc.errored,
                  "expired": rc.expired, "cancelled": rc.canceled}
        counts["total"] = sum(counts.values())
        state = normalised_state(batch.processing_status, counts, batch.cancel_initiated_at is not None)
        note = None
        if batch.processing_status not in ("in_progress", "canceling", "ended"):
            note = f"unknown processing_status {str(batch.processing_status)[:60]!r}: treated as in progress"
        elif batch.archived_at is not None:
            note = f"results archived at {iso(batch.archived_at)}: no longer downloadable"
        return RemoteBatch(remote_id=batch.id, state=state, counts=counts,  # type: ignore[arg-type]
                           created_at=iso(batch.created_at), expires_at=iso(batch.expires_at), tag=None,
                           note=note, raw=batch.model_dump(mode="json"))

    # -- the interface ----------------------------------------------------------------------------
    def request_line(self, request: BatchRequest) -> dict[str, Any]:
        if not isinstance(request.custom_id, str) or not CUSTOM_ID.fullmatch(request.custom_id):
            raise ValueError(f"custom_id {request.custom_id!r} does not match ^[a-zA-Z0-9_-]{{1,64}}$ "
                             "(Anthropic Message Batches)")
        params, _notes = self.provider._request(request.messages, request.params)
        return {"custom_id": request.custom_id, "params": params}

    def request_notes(self, request: BatchRequest) -> dict[str, Any]:
        """What the live path records in `reply.raw` about this request (`max_tokens_defaulted`,
        `temperature`/`seed` "not sent"): a batch result cannot carry them, so the engine may merge these
        into the reply it stores for `request.custom_id` to keep the record the same as live."""
        return self.provider._request(request.messages, request.params)[1]

    async def submit(self, lines: list[dict[str, Any]], tag: str) -> RemoteBatch:
        """One batch of `lines`; `tag` cannot be stored (Message Batches keep no metadata): `find`
        matches by creation time and request count instead."""
        client = await self._client()
        try:
            batch = await client.messages.batches.create(requests=lines)
        except Exception as exc:
            raise self._error(exc) from exc
        return self._remote(batch)

    async def retrieve(self, remote_id: str) -> RemoteBatch:
        client = await self._client()
        try:
            return self._remote(await client.messages.batches.retrieve(remote_id))
        except Exception as exc:
            raise self._error(exc) from exc

    async def cancel(self, remote_id: str) -> RemoteBatch:
        client = await self._client()
        try:
            return self._remote(await client.messages.batches.cancel(remote_id))
        except Exception as exc:
            raise self._error(exc) from exc

    async def find(self, tag: str, *, since: str, request_count: int) -> list[RemoteBatch]:
        """Every batch created at or after `since` (less CLOCK_SKEW_S) with `request_count` requests.
        The list comes newest first, so paging stops at the first older batch."""
        floor = parse_iso(since) - timedelta(seconds=CLOCK_SKEW_S)
        client = await self._client()
        found: list[RemoteBatch] = []
        try:
            async for batch in client.messages.batches.list(limit=self.list_page_size):
                created = batch.created_at if batch.created_at.tzinfo else \
                    batch.created_at.replace(tzinfo=timezone.utc)
                if created < floor:
                    break
                remote = self._remote(batch)
                if remote.counts["total"] == request_count:
                    found.append(remote)
        except Exception as exc:
            raise self._error(exc) from exc
        return found

    def results(self, remote_id: str) -> AsyncIterator[BatchResult]:
        return self._results(remote_id)

    async def _results(self, remote_id: str) -> AsyncIterator[BatchResult]:
        import anthropic

        client = await self._client()
        line_cap = self.provider.config.max_reply_bytes + LINE_ENVELOPE_BYTES
        try:
            batch = await client.messages.batches.retrieve(remote_id)
        except Exception as exc:
            raise self._error(exc) from exc
        if not batch.results_url:
            raise ProviderError(ErrorKind.OTHER, f"batch {remote_id} has no results yet "
                                f"(processing_status {batch.processing_status})", retryable=False)
        rc = batch.request_counts
        total = rc.processing + rc.succeeded + rc.errored + rc.expired + rc.canceled
        # The whole file: a line per request, room for repeated lines; beyond it the server is broken.
        reader = client.with_options(http_client=capped_async_client(
            (2 * total + 100) * line_cap, anthropic.DefaultAsyncHttpxClient))
        try:
            async with reader.messages.batches.with_streaming_response.results(remote_id) as resp:
                buf = bytearray()
                skipping = False   # inside a line past line_cap: its bytes are dropped up to the newline
                oversized = b""
                async for chunk in resp.iter_bytes():
                    start = 0
                    while start < len(chunk):
                        end = chunk.find(b"\n", start)
                        piece = chunk[start:] if end < 0 else chunk[start:end]
                        if skipping:
                            pass
                        elif len(buf) + len(piece) > line_cap:
                            oversized, skipping = bytes((buf + piece)[:4096]), True
                            buf.clear()
                        else:
                            buf += piece
                        if end < 0:
                            break
                        if skipping:
                            yield self._too_large(oversized, line_cap)
                            skipping = False
                        elif buf.strip():
                            yield self._result(bytes(buf))
                        buf.clear()
                        start = end + 1
                if skipping:
                    yield self._too_large(oversized, line_cap)
                elif buf.strip():
                    yield self._result(bytes(buf))
        except ProviderError:
            raise
        except Exception as exc:
            if (big := too_large_in(exc)) is not None:   # the whole file passed its bound
                raise ProviderError(ErrorKind.TOO_LARGE, f"batch results file: {big}", retryable=False) from None
            raise self._error(exc) from exc
        finally:
            await reader.close()

    # -- one result line ---------------------------------------------------------------------------
    def _too_large(self, head: bytes, line_cap: int) -> BatchResult:
        m = _ID_IN_LINE.search(head)
        if m is None:
            raise ProviderError(ErrorKind.MALFORMED, f"a result line passed {line_cap:,} bytes before naming "
                                "its custom_id", retryable=False)
        return BatchResult(custom_id=m.group(1).decode(), status="done", reply=escape_reply(Reply(
            outcome=Outcome.ERROR, error_kind=ErrorKind.TOO_LARGE, attempts=1,
            reason=f"reply too large: the batch result line passed {line_cap:,} bytes "
                   f"(max_reply_bytes={self.provider.config.max_reply_bytes:,})")))

    def _result(self, line: bytes) -> BatchResult:
        """One JSONL line. A line whose custom_id can be read but whose result cannot be used is that
        request's MALFORMED error (the engine may resubmit it); a line without a readable custom_id cannot
        be attributed to anything and stops the download (ProviderError), rather than be dropped unseen."""
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        custom_id = obj.get("custom_id") if isinstance(obj, dict) else None
        if not isinstance(custom_id, str):
            raise ProviderError(ErrorKind.MALFORMED, "a batch result line without a custom_id: "
                                f"{redact(line[:200].decode('utf-8', 'replace'))!r}", retryable=False)
        result = obj.get("result")
        rtype = result.get("type") if isinstance(result, dict) else None
        if rtype == "expired":
            return BatchResult(custom_id=custom_id, status="expired")
        if rtype == "canceled":
            return BatchResult(custom_id=custom_id, status="cancelled")
        if rtype == "succeeded":
            return BatchResult(custom_id=custom_id, status="done", reply=self._succeeded(result.get("message")))
        if rtype == "errored":
            return BatchResult(custom_id=custom_id, status="done", reply=self._errored(result.get("error")))
        return BatchResult(custom_id=custom_id, status="done", reply=self._error_reply(ProviderError(
            ErrorKind.MALFORMED, f"unusable batch result (type {str(rtype)[:80]!r})", retryable=False)))

    def _succeeded(self, message: Any) -> Reply:
        from anthropic._models import construct_type
        from anthropic.types import Message as SDKMessage

        try:
            if not isinstance(message, dict):
                raise ProviderError(ErrorKind.MALFORMED, "succeeded result without a message", retryable=False)
            # Built the way the SDK builds a non-streamed response, so message_reply sees what it sees live.
            parsed = construct_type(type_=SDKMessage, value=message)
            reply = _bounded(self.provider.message_reply(parsed, None), self.provider.config)
        except ProviderError as err:
            return self._error_reply(err)
        except Exception as exc:   # a shape the SDK's lenient construction let through but parsing cannot use
            return self._error_reply(ProviderError(ErrorKind.MALFORMED, f"unusable message in a batch result: "
                                                   f"{type(exc).__name__}: {exc}", retryable=False))
        reply.attempts = 1
        reply.raw["via"] = "batch"
        return escape_reply(_redacted(reply))

    def _errored(self, error: Any) -> Reply:
        """An `errored` line: `{"type": "error", "error": {"type", "message"}, "request_id"}`, the body the
        live call would have got with its HTTP error: the same ErrorKind from the error type."""
        inner = error.get("error") if isinstance(error, dict) else None
        etype = inner.get("type") if isinstance(inner, dict) else None
        message = inner.get("message") if isinstance(inner, dict) else None
        kind, retryable = error_kind_for_type(etype, message if isinstance(message, str) else None)
        reply = self._error_reply(ProviderError(kind, f"{etype or 'error'} in the batch result: "
                                                      f"{message or 'no message'}", retryable=retryable))
        reply.raw["error_type"] = etype
        if isinstance(error, dict) and isinstance(error.get("request_id"), str):
            reply.raw["request_id"] = error["request_id"]
        return reply

    def _error_reply(self, err: ProviderError) -> Reply:
        secret = getattr(self.provider, "_secret", None)
        message = err.message.replace(secret, "[REDACTED]") if secret else err.message
        return escape_reply(Reply(outcome=Outcome.ERROR, error_kind=err.kind, reason=redact(message),
                                  attempts=1, raw={"via": "batch"}))
