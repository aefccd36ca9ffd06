"""OpenAI's Batch API (`/v1/files` + `/v1/batches`) through the official `openai` SDK.

Why it looks the way it does:
* Each JSONL line is `{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}` where the
  body is exactly what the live adapter sends non-streamed (`OpenAIChatProvider._request`).
* A result line's `response.body` is validated as a `ChatCompletion` and parsed by the live adapter's
  own `parse_completion`, so a batch reply is the same answered/blocked/truncated/error as a live one.
  A line with a 4xx/5xx `status_code` (the error file) or an `error` object is an ERROR reply with the
  live mapping (`kind_for_status`, `kind_for_code`); `batch_expired`/`batch_cancelled` lines are no
  reply at all: the engine puts those samples back to pending.
* Limits, from the SDK's own docs (openai/resources/batches.py, files.py): "up to 50,000 requests, and
  can be up to 200 MB in size".
* Files are moved with a client copy whose body cap is large (the live cap, max_reply_bytes, is sized
  for one reply, not a results file) and are read as a stream of lines, never whole into memory.
* The engine's tag travels in the batch's `metadata` (`harness_tag`), which `batches.list` returns:
  `find` reads it back after a crash between create and storing the id.
"""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from harness.batch.base import BatchBackend, BatchRequest, BatchResult, RemoteBatch, batch_backend
from harness.providers.bounds import capped_async_client
from harness.providers.errors import ProviderError, body_message, kind_for_status
from harness.redact import redact
from harness.types import ErrorKind, Outcome, Reply

ENDPOINT = "/v1/chat/completions"
TAG_KEY = "harness_tag"
#: A results file is read as a stream; this only bounds a runaway server.
FILE_MAX_BYTES = 8 * 1024 ** 3

_STATES = {"validating": "in_progress", "in_progress": "in_progress", "finalizing": "in_progress",
           "completed": "ended", "expired": "expired", "cancelling": "cancelling", "cancelled": "cancelled",
           "failed": "failed"}
#: `error.code` of a request that never ran (the engine puts its sample back to pending).
_UNRUN = {"batch_expired": "expired", "batch_cancelled": "cancelled"}


def _iso(ts: int | None) -> str | None:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds") if ts else None


def _epoch(iso: str) -> float:
    dt = datetime.fromisoformat(iso)
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()


@batch_backend("openai")
class OpenAIBatchBackend(BatchBackend):
    max_requests = 50_000
    max_bytes = 200 * 1024 * 1024

    def __init__(self, provider) -> None:
        super().__init__(provider)
        self._files: Any = None

    # -- clients --------------------------------------------------------------------------------
    def _client(self) -> Any:
        client = getattr(self.provider, "_client", None)
        if client is None:
            raise ProviderError(ErrorKind.OTHER, "the OpenAI provider was not started", retryable=False)
        return client

    def _file_client(self) -> Any:
        if self._files is None:
            import openai

            self._files = self._client().with_options(
                http_client=capped_async_client(FILE_MAX_BYTES, openai.DefaultAsyncHttpxClient),
                timeout=max(self.provider.config.timeout_s, 600.0))
        return self._files

    async def _call(self, what: str, coro):
        """Await an SDK call; every failure leaves as the live adapter's ProviderError (secrets scrubbed)."""
        try:
            return await coro
        except ProviderError:
            raise
        except Exception as exc:
            err = self.provider._map_error(exc)
            err.message = redact(self.provider._scrub(f"{what}: {err.message}"))
            err.args = (err.message,)
            raise err from exc

    # -- the interface --------------------------------------------------------------------------
    def request_line(self, request: BatchRequest) -> dict[str, Any]:
        body = self.provider._request(request.messages, request.params)
        return {"custom_id": request.custom_id, "method": "POST", "url": ENDPOINT, "body": body}

    async def submit(self, lines: list[dict[str, Any]], tag: str) -> RemoteBatch:
        data = b"".join(json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in lines)
        files = self._file_client()
        uploaded = await self._call("uploading the batch file", files.files.create(
            file=("batch.jsonl", data, "application/jsonl"), purpose="batch"))
        batch = await self._call("creating the batch", self._client().batches.create(
            input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window="24h", metadata={TAG_KEY: tag}))
        return self._remote(batch)

    async def retrieve(self, remote_id: str) -> RemoteBatch:
        return self._remote(await self._call(f"reading batch {remote_id}", self._client().batches.retrieve(remote_id)))

    async def cancel(self, remote_id: str) -> RemoteBatch:
        return self._remote(await self._call(f"cancelling batch {remote_id}", self._client().batches.cancel(remote_id)))

    async def find(self, tag: str, *, since: str, request_count: int) -> list[RemoteBatch]:
        found: list[RemoteBatch] = []
        floor = _epoch(since) - 60   # clock skew between this host and the provider

        async def scan() -> None:
            async for batch in self._client().batches.list(limit=100):   # newest first, paged by `after`
                if batch.created_at < floor:
                    return
                if (batch.metadata or {}).get(TAG_KEY) == tag:
                    found.append(self._remote(batch))

        await self._call("listing batches", scan())
        return found

    async def results(self, remote_id: str) -> AsyncIterator[BatchResult]:
        batch = await self._call(f"reading batch {remote_id}", self._client().batches.retrieve(remote_id))
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            async for line in self._lines(file_id):
                yield self._result(line)

    # -- helpers --------------------------------------------------------------------------------
    async def _lines(self, file_id: str) -> AsyncIterator[dict[str, Any]]:
        files = self._file_client()
        try:
            async with files.files.with_streaming_response.content(file_id) as resp:
                async for text in resp.iter_lines():
                    if not text.strip():
                        continue
                    try:
                        line = json.loads(text)
                    except ValueError:
                        raise ProviderError(ErrorKind.MALFORMED, f"batch results file {file_id} has a line that is "
                                            f"not JSON: {body_message(text, 120)!r}", retryable=True) from None
                    if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str):
                        raise ProviderError(ErrorKind.MALFORMED, f"batch results file {file_id} has a line "
                                            "without a custom_id", retryable=True)
                    yield line
        except ProviderError:
            raise
        except Exception as exc:
            err = self.provider._map_error(exc)
            err.message = redact(self.provider._scrub(f"downloading {file_id}: {err.message}"))
            raise err from exc

    def _result(self, line: dict[str, Any]) -> BatchResult:
        custom_id = line["custom_id"]
        error = line.get("error") if isinstance(line.get("error"), dict) else None
        response = line.get("response") if isinstance(line.get("response"), dict) else None
        if error and error.get("code") in _UNRUN:
            return BatchResult(custom_id, _UNRUN[error["code"]])
        raw = {"batch_request_id": line.get("id")}
        if response is None:
            from harness.providers.openai_chat import kind_for_code

            kind, _ = kind_for_code((error or {}).get("code"), (error or {}).get("type"))
            if not error:
                kind = ErrorKind.MALFORMED
            why = body_message(error) if error else "a result line with neither response nor error"
            return BatchResult(custom_id, "done", _error(kind, f"batch request failed: {why}", None, raw))
        status = response.get("status_code")
        body = response.get("body")
        raw["request_id"] = response.get("request_id")
        if not isinstance(status, int) or status >= 400:
            status = status if isinstance(status, int) else 0
            message = body.get("error") if isinstance(body, dict) and body.get("error") is not None else body
            kind = kind_for_status(status) if status else ErrorKind.MALFORMED
            text = f"HTTP {status} inside the batch: {body_message(message)}"
            if status == 400 and "context_length" in json.dumps(message, default=str):
                kind = ErrorKind.CONTEXT
            return BatchResult(custom_id, "done", _error(kind, self.provider._scrub(text), status, raw))
        try:
            from openai.types.chat import ChatCompletion

            completion = ChatCompletion.model_validate(body) if isinstance(body, dict) else body
            reply = self.provider.parse_completion(completion, 0.0)
        except ProviderError as err:
            return BatchResult(custom_id, "done", _error(err.kind, self.provider._scrub(err.message), status, raw))
        except Exception as err:   # a body the SDK's type refuses: the provider's fault, never model behaviour
            return BatchResult(custom_id, "done", _error(ErrorKind.MALFORMED, f"unusable batch result body: "
                                                         f"{type(err).__name__}: {str(err)[:200]}", status, raw))
        reply.latency_s = None   # a batch answer's latency is not the model's
        reply.raw.update({k: v for k, v in raw.items() if v})
        return BatchResult(custom_id, "done", reply)

    def _remote(self, batch: Any) -> RemoteBatch:
        counts: dict[str, int] = {}
        rc = batch.request_counts
        state = _STATES.get(batch.status, "in_progress")
        if rc is not None:
            counts = {"total": rc.total, "succeeded": rc.completed, "errored": rc.failed}
            rest = max(0, rc.total - rc.completed - rc.failed)
            counts[{"expired": "expired", "cancelled": "cancelled"}.get(state, "processing")] = rest
        note = None
        if batch.status == "failed" and batch.errors is not None and batch.errors.data:
            note = redact("; ".join(f"{e.code or 'error'}: {e.message}" + (f" (line {e.line})" if e.line else "")
                                    for e in batch.errors.data[:5]))
        return RemoteBatch(
            remote_id=batch.id, state=state, counts=counts, created_at=_iso(batch.created_at),
            expires_at=_iso(batch.expires_at), tag=(batch.metadata or {}).get(TAG_KEY), note=note,
            raw={"status": batch.status, "output_file_id": batch.output_file_id,
                 "error_file_id": batch.error_file_id})


def _error(kind: ErrorKind, message: str, status: int | None, raw: dict[str, Any]) -> Reply:
    out = {k: v for k, v in raw.items() if v}
    if status:
        out["status"] = status
    return Reply(outcome=Outcome.ERROR, error_kind=kind, reason=redact(message), attempts=1, raw=out)
