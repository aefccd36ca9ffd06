"""Gemini batch mode (Developer API) through google-genai's `client.aio.files` and `client.aio.batches`.

Why it is built this way:
* **The file route**, not inlined requests: a batch's requests go up as one JSONL file
  (`{"key": custom_id, "request": GenerateContentRequest}` per line) with `files.upload` (the
  resumable protocol), and the batch is created from `files/...`. Inlined requests share the create
  call's 20 MB body; the file takes up to 2 GB, so a large run is not limited by the inline size.
* Each line's `request` is the JSON the live path sends: the live adapter's own `_request` (SDK
  types) converted by the SDK's own Developer-API converter, camelCase, exactly as `generate_content`
  puts it on the wire (tests compare the two bodies byte for byte).
* `batches.get` / `batches.list` of google-genai 3.6 drop `metadata.batchStats` (the request counts)
  and the operation's `error` (why a batch failed) on the Developer API. So the backend asks for the
  operation through the same SDK API client (`_api_client.async_request`, what `batches.get` itself
  calls) and reads the SDK's own conversion (state, display name, times, output) plus those two.
* A result line's `response` is validated into the SDK's GenerateContentResponse and parsed by the
  live adapter (`GeminiProvider.reply_from_response`): finish reasons from finish_reasons.yaml, a
  blocked prompt as provider_blocked, thoughts apart. An `error` line (google.rpc.Status, or an HTTP
  code with a status) becomes an ERROR reply through the live error mapping (400 -> bad_request...).
  Every reply is then bounded, redacted and escaped as `Provider.complete` does it.
* The results file can be far larger than one reply: it is downloaded (streamed to a temporary file,
  never held whole in memory) with a second client whose body cap is `RESULTS_MAX_BYTES`; each line
  is still held to the provider's `max_reply_bytes`.
"""
from __future__ import annotations

import io
import json
import logging
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from harness.batch.base import BatchBackend, BatchRequest, BatchResult, RemoteBatch, batch_backend
from harness.providers.base import _bounded, _redacted
from harness.providers.errors import ProviderError
from harness.redact import redact
from harness.surrogates import escape_reply
from harness.types import ErrorKind, Outcome, Reply

log = logging.getLogger("harness.batch.gemini")

#: The Developer API's input file limit is 2 GB; a batch's file is built in memory, so the engine
#: splits well below it.
MAX_FILE_BYTES = 2 * 1024 ** 3
#: Bound on a results file download (streamed to disk).
RESULTS_MAX_BYTES = 8 * 1024 ** 3
#: A job still pending or running 48 hours after creation expires (JOB_STATE_EXPIRED).
EXPIRY = timedelta(hours=48)
#: HTTP status for each google.rpc.Code a per-request error may carry.
_HTTP_FOR_RPC = {1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 11: 400,
                 12: 501, 13: 500, 14: 503, 15: 500, 16: 401}
_STATUS_NAME = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED", 500: "INTERNAL",
                501: "UNIMPLEMENTED", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
_STATES = {
    "JOB_STATE_SUCCEEDED": "ended", "JOB_STATE_PARTIALLY_SUCCEEDED": "ended",
    "JOB_STATE_EXPIRED": "expired", "JOB_STATE_CANCELLING": "cancelling", "JOB_STATE_CANCELLED": "cancelled",
    "JOB_STATE_FAILED": "failed",
}


@batch_backend("gemini")
class GeminiBatchBackend(BatchBackend):
    #: Requests per batch: the API states no count limit but bounds the tokens a project may have
    #: enqueued per model; 10,000 keeps one batch of long prompts within the lower tiers' bound.
    max_requests = 10_000
    max_bytes = 256 * 1024 * 1024
    discount = 0.5

    # -- requests -----------------------------------------------------------------------------------

    def request_line(self, request: BatchRequest) -> dict[str, Any]:
        return {"key": request.custom_id, "request": self._wire_request(request)}

    def _wire_request(self, request: BatchRequest) -> dict[str, Any]:
        """The generateContent body the live path sends, built by the live adapter and the SDK."""
        from google.genai import _common, models, types

        contents, config = self.provider._request(request.messages, request.params)
        params = types._GenerateContentParameters(model=self.provider.config.model_name, contents=contents,
                                                  config=config)
        body = models._GenerateContentParameters_to_mldev(self._api(), params, None, params)
        for internal in ("_url", "_query", "config"):
            body.pop(internal, None)
        # Plain JSON, as the SDK's own json.dumps puts it on the wire (its str enums become strings).
        return json.loads(json.dumps(_common.encode_unserializable_types(_common.convert_to_dict(body))))

    # -- the batch ----------------------------------------------------------------------------------

    async def submit(self, lines: list[dict[str, Any]], tag: str) -> RemoteBatch:
        data = "".join(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n" for line in lines)
        blob = data.encode("utf-8", "surrogatepass")
        if len(blob) > MAX_FILE_BYTES:
            raise ProviderError(ErrorKind.TOO_LARGE, f"batch input file of {len(blob):,} bytes is over the "
                                f"Gemini limit of {MAX_FILE_BYTES:,}", retryable=False)
        aio = self._aio()
        try:
            uploaded = await aio.files.upload(file=io.BytesIO(blob),
                                              config={"mime_type": "jsonl", "display_name": tag})
            job = await aio.batches.create(model=self.provider.config.model_name, src=uploaded.name,
                                           config={"display_name": tag})
        except ProviderError:
            raise
        except Exception as exc:
            raise self._error(exc) from exc
        remote = self._remote_from_job(job, {})
        remote.counts = {"total": len(lines), "processing": len(lines)}
        return remote

    async def retrieve(self, remote_id: str) -> RemoteBatch:
        return self._remote(await self._get_operation(remote_id))

    async def cancel(self, remote_id: str) -> RemoteBatch:
        try:
            await self._aio().batches.cancel(name=remote_id)
        except Exception as exc:
            err = self._error(exc)
            # Already ended (FAILED_PRECONDITION): nothing to cancel; say what it is now.
            if err.status not in (400, 409):
                raise err from exc
        return await self.retrieve(remote_id)

    async def find(self, tag: str, *, since: str, request_count: int) -> list[RemoteBatch]:
        """Every batch whose display name is `tag` (the engine's tag), across all pages."""
        found: list[RemoteBatch] = []
        token: str | None = None
        for _ in range(10_000):
            query = urlencode({"pageSize": 100, **({"pageToken": token} if token else {})})
            page = await self._call("get", f"batches?{query}")
            for op in page.get("operations") or []:
                remote = self._remote(op)
                if remote.tag == tag:
                    found.append(remote)
            token = page.get("nextPageToken")
            if not token:
                break
        return found

    async def results(self, remote_id: str) -> AsyncIterator[BatchResult]:
        from google.genai import types

        job = types.BatchJob._from_response(response=self._convert(await self._get_operation(remote_id)),
                                            kwargs={})
        dest = job.dest
        if dest is not None and dest.file_name:
            async for result in self._file_results(dest.file_name):
                yield result
        elif dest is not None and dest.inlined_responses:
            for item in dest.inlined_responses:
                key = (item.metadata or {}).get("key") or ""   # "" : unknown to the engine, counted there
                line: dict[str, Any] = {"key": key}
                if item.error is not None:
                    line["error"] = item.error.model_dump(exclude_none=True)
                elif item.response is not None:
                    line["response"] = item.response
                yield BatchResult(custom_id=key, status="done", reply=self._line_reply(line))

    async def _file_results(self, file_name: str) -> AsyncIterator[BatchResult]:
        client = self.provider.make_client(RESULTS_MAX_BYTES)
        try:
            with tempfile.TemporaryDirectory(prefix="harness-gemini-batch-") as tmp:
                path = Path(tmp) / "results.jsonl"
                try:
                    await client.aio.files.download(file=file_name, destination=str(path))
                except Exception as exc:
                    raise self._error(exc) from exc
                with path.open("rb") as fh:
                    for n, raw in enumerate(fh, 1):
                        result = self._parse_line(raw, n, file_name)
                        if result is not None:
                            yield result
        finally:
            try:
                await client.aio.aclose()
            finally:
                client.close()

    def _parse_line(self, raw: bytes, n: int, file_name: str) -> BatchResult | None:
        if not raw.strip():
            return None
        try:
            line = json.loads(raw)
        except ValueError:
            line = None
        key = line.get("key") if isinstance(line, dict) else None
        if not isinstance(key, str) or not isinstance(line, dict):
            # No id to put it on: passed through under the empty id, which no request has, so the engine
            # counts it as unknown; the sample it belonged to stays pending. Never guessed.
            log.warning("gemini batch results %s line %d has no key", file_name, n)
            return BatchResult(custom_id="", status="done", reply=self._error_reply(ProviderError(
                ErrorKind.MALFORMED, f"batch result line {n} has no key", retryable=False)))
        if len(raw) > self.provider.config.max_reply_bytes:
            return BatchResult(custom_id=key, status="done", reply=self._error_reply(ProviderError(
                ErrorKind.TOO_LARGE, f"reply too large: the result line has {len(raw):,} bytes, over "
                f"max_reply_bytes={self.provider.config.max_reply_bytes:,}", retryable=False)))
        return BatchResult(custom_id=key, status="done", reply=self._line_reply(line))

    # -- one result line -> Reply --------------------------------------------------------------------

    def _line_reply(self, line: dict[str, Any]) -> Reply:
        """The Reply the live path would have stored for this result line."""
        from google.genai import models, types

        try:
            if isinstance(line.get("error"), dict):
                raise self._error(self._api_error(line["error"]))
            response = line.get("response")
            if isinstance(response, dict):
                response = types.GenerateContentResponse._from_response(
                    response=models._GenerateContentResponse_from_mldev(response), kwargs={})
            if response is None:
                raise ProviderError(ErrorKind.MALFORMED, "batch result line with neither a response nor an error",
                                    retryable=False)
            reply = self.provider.reply_from_response(response, latency_s=0.0)
            reply.latency_s = None   # a batch has no per-request latency
            reply.raw["batch"] = True
            return escape_reply(_redacted(_bounded(reply, self.provider.config)))
        except ProviderError as err:
            return self._error_reply(err)
        except Exception as err:   # a response the SDK cannot validate: unusable, never an answer
            return self._error_reply(ProviderError(ErrorKind.MALFORMED, f"unusable batch result: "
                                                   f"{type(err).__name__}: {str(err)[:200]}", retryable=False))

    @staticmethod
    def _error_reply(err: ProviderError) -> Reply:
        raw: dict[str, Any] = {"batch": True}
        if err.status:
            raw["status"] = err.status
        return escape_reply(Reply(outcome=Outcome.ERROR, error_kind=err.kind, reason=redact(err.message),
                                  raw=raw))

    @staticmethod
    def _api_error(status: dict[str, Any]) -> Exception:
        """A per-request error as the SDK's APIError, so the live mapping applies: google.rpc.Status
        (a gRPC code) or an HTTP code with its status name."""
        from google.genai import errors

        code = status.get("code")
        code = code if isinstance(code, int) else 500
        http = _HTTP_FOR_RPC.get(code, 500) if code < 100 else code
        name = status.get("status") if isinstance(status.get("status"), str) else _STATUS_NAME.get(http, "UNKNOWN")
        body = {"error": {"code": http, "message": str(status.get("message") or ""), "status": name,
                          "details": status.get("details") or []}}
        return errors.APIError(http, body)

    # -- plumbing -----------------------------------------------------------------------------------

    def _aio(self) -> Any:
        aio = getattr(self.provider, "_aio", None)
        if aio is None:
            raise ProviderError(ErrorKind.OTHER, "the Gemini provider was not started", retryable=False)
        return aio

    def _api(self) -> Any:
        return self._aio()._api_client

    def _error(self, exc: BaseException) -> ProviderError:
        if isinstance(exc, ProviderError):
            return exc
        err = self.provider._map_error(exc) if isinstance(exc, Exception) else ProviderError(
            ErrorKind.OTHER, str(exc), retryable=False)
        secret = getattr(self.provider, "_secret", None)
        if secret:
            err.message = err.message.replace(secret, "[REDACTED]")
            err.args = (err.message,)
        return err

    async def _call(self, method: str, path: str) -> dict[str, Any]:
        try:
            response = await self._api().async_request(method, path, {}, None)
            return json.loads(response.body) if response.body else {}
        except Exception as exc:
            raise self._error(exc) from exc

    async def _get_operation(self, remote_id: str) -> dict[str, Any]:
        if not remote_id.startswith("batches/") or "/" in remote_id[len("batches/"):]:
            raise ProviderError(ErrorKind.BAD_REQUEST, f"not a Gemini batch name: {remote_id!r}", retryable=False)
        return await self._call("get", remote_id)

    @staticmethod
    def _convert(op: dict[str, Any]) -> dict[str, Any]:
        from google.genai import batches

        return batches._BatchJob_from_mldev(json.loads(json.dumps(op)))

    def _remote(self, op: dict[str, Any]) -> RemoteBatch:
        from google.genai import types

        job = types.BatchJob._from_response(response=self._convert(op), kwargs={})
        return self._remote_from_job(job, op)

    def _remote_from_job(self, job: Any, op: dict[str, Any]) -> RemoteBatch:
        state_name = getattr(job.state, "value", job.state) or "JOB_STATE_UNSPECIFIED"
        state = _STATES.get(str(state_name), "in_progress")
        meta = op.get("metadata") if isinstance(op.get("metadata"), dict) else {}
        stats = meta.get("batchStats") if isinstance(meta.get("batchStats"), dict) else None
        counts: dict[str, int] = {}
        if stats is not None:
            for ours, theirs in (("total", "requestCount"), ("succeeded", "successfulRequestCount"),
                                 ("errored", "failedRequestCount"), ("processing", "pendingRequestCount")):
                try:
                    counts[ours] = int(stats.get(theirs, 0))
                except (TypeError, ValueError):
                    pass
            rest = counts.get("total", 0) - counts.get("succeeded", 0) - counts.get("errored", 0)
            if state in ("expired", "cancelled") and rest > 0:
                counts[state] = rest
                counts["processing"] = 0
        note = None
        if state == "failed":
            error = op.get("error") if isinstance(op.get("error"), dict) else {}
            note = redact(str(error.get("message") or "the batch failed (no reason given)"))[:500]
        elif state == "in_progress" and state_name not in ("JOB_STATE_PENDING", "JOB_STATE_QUEUED",
                                                            "JOB_STATE_RUNNING", "JOB_STATE_UPDATING"):
            note = f"state {state_name}"
        created = _iso(job.create_time)
        expires = _iso(job.create_time + EXPIRY) if job.create_time is not None else None
        return RemoteBatch(remote_id=job.name or "", state=state, counts=counts, created_at=created,
                           expires_at=expires, tag=job.display_name, note=note,
                           raw={"state": str(state_name), "update_time": _iso(job.update_time),
                                "end_time": _iso(job.end_time),
                                "output_file": job.dest.file_name if job.dest is not None else None})


def _iso(when: Any) -> str | None:
    if when is None:
        return None
    if isinstance(when, datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return str(when)
