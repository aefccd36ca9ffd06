"""Anthropic Message Batches on the loopback server, as anthropic 2.17.0 speaks them.

Routes (any path prefix before `/v1` is kept, as for the chat routes):
  POST /v1/messages/batches                  create   (body `{"requests": [{"custom_id", "params"}]}`)
  GET  /v1/messages/batches                  list     (newest first; `limit` 1-1000, `after_id`, `before_id`;
                                                       `data`, `has_more`, `first_id`, `last_id`)
  GET  /v1/messages/batches/{id}             retrieve
  POST /v1/messages/batches/{id}/cancel      cancel   (→ canceling; ends on the next retrieve)
  GET  /v1/messages/batches/{id}/results     the JSONL results file (`results_url`, absolute, once ended)
  DELETE /v1/messages/batches/{id}           delete   (ended batches only)

Faithful where a client could tell (batch-processing guide, SDK types):
* create checks the envelope at once: auth, the `anthropic-version` header, `requests` present and
  non-empty, at most 100,000 requests and 256 MB (413 `request_too_large`), each request exactly
  `custom_id` + `params`, custom ids matching ^[a-zA-Z0-9_-]{1,64}$ and unique, `params` an object.
* each request's `params` is validated *while processing*, as the real API does ("validation errors are
  returned when processing of the entire batch has ended"): what the live Messages route refuses in
  strict mode (`harness.testing.loopback.anthropic.check`, under the create's anthropic-version: e.g.
  `temperature` under 2026-10-21) and `stream: true` come back as `errored` lines with the real error body.
* request counts stay `processing` until the whole batch ends; the other counts are zero until then.
* each request is answered by the server's own scripting (queue, responder, default) as a non-streamed
  Messages call, rendered by the Messages renderer; an error scripted for it becomes an `errored` line.

Test controls live in `server.batch_state["anthropic"]`, an `AnthropicBatchState` (see its fields).
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from harness.testing.loopback import anthropic as wire
from harness.testing.loopback import rules as R
from harness.testing.loopback.batches import batch_route
from harness.testing.loopback.scripting import Dropped, LoggedRequest, Rejection, Scripted, new_id

_PATH = re.compile(r"^(?P<prefix>.*?)/v1/messages/batches(?:/(?P<id>[^/]+)(?:/(?P<action>cancel|results))?)?$")
_CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
DAY_S = 24 * 3600.0


@dataclass
class AnthropicBatchState:
    """What a test scripts and inspects. Batches are dicts (see `_create`) kept in creation order;
    `created_at` etc. are epoch seconds a test may move (e.g. to put a batch outside `find`'s window)."""

    batches: dict[str, dict] = field(default_factory=dict)
    #: POSTs to /v1/messages/batches received (refused ones included), and batches created.
    creates_received: int = 0
    creates_accepted: int = 0
    #: A batch ends on its Nth retrieve (the SDK's results() retrieves too); None: only by `end()`.
    end_on_retrieve: int | None = 1
    #: custom_id → (error type, message): that request comes back `errored` with this error.
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: custom ids whose result line is written twice.
    duplicate: set[str] = field(default_factory=set)
    #: custom ids of extra `succeeded` lines no request had.
    unknown: list[str] = field(default_factory=list)
    #: Raw lines appended to the results file as they are (a broken server's output).
    raw_lines: list[bytes] = field(default_factory=list)
    #: Write the result lines in reverse submission order.
    reorder: bool = False
    #: How many requests (in submission order) finished before a cancel took effect; the rest are canceled.
    done_before_cancel: int = 0
    max_requests: int = 100_000
    max_bytes: int = 256 * 1000 * 1000
    #: The per-request Messages calls the batches' requests were answered as (not in server.requests).
    processed: list[LoggedRequest] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # -- controls ----------------------------------------------------------------------------------
    def end(self, server: Any, batch_id: str | None = None) -> None:
        """End a batch now (the newest when no id): every request answered (after a cancel: the first
        `done_before_cancel`, the rest canceled)."""
        with self.lock:
            _settle(server, self, self._pick(batch_id))

    def expire(self, server: Any, batch_id: str | None = None, done: int = 0) -> None:
        """The 24 hours pass: the first `done` requests were answered, every other one `expired`."""
        with self.lock:
            _finish(server, self, self._pick(batch_id), answered=done, rest="expired")

    def _pick(self, batch_id: str | None) -> dict:
        if batch_id is None:
            return list(self.batches.values())[-1]
        return self.batches[batch_id]


def state_of(server: Any) -> AnthropicBatchState:
    st = server.batch_state.get("anthropic")
    if st is None:
        st = server.batch_state.setdefault("anthropic", AnthropicBatchState())
    return st


# -- the route --------------------------------------------------------------------------------------


@batch_route
def route(h: Any, server: Any, method: str, path: str, query: str, headers: dict[str, str], raw: bytes,
          body: Any) -> bool:
    m = _PATH.match(path)
    if m is None:
        return False
    req = LoggedRequest(protocol="anthropic", method=method, path=path, query=query, headers=headers, body=body,
                        raw_body=raw, stream=False, received_at=time.monotonic(),
                        retry_count=_int(headers.get("x-stainless-retry-count"), 0))
    server._log(req)
    st = state_of(server)
    batch_id, action = m.group("id"), m.group("action")
    if method == "POST" and batch_id is None:
        with st.lock:
            st.creates_received += 1
    if not server._auth_ok(headers, query):
        status, obj, base = wire.auth_error()
        h.send_json(status, obj, base=base)
        return True
    if server.strict:
        rejection = _version(headers)
        if rejection is not None:
            return _reject(h, req, rejection)
    with st.lock:
        if batch_id is None:
            if method == "POST":
                return _create(h, server, st, req, m.group("prefix"), headers, raw, body)
            if method == "GET":
                return _list(h, server, st, req, query)
            return _send_error(h, 405, "invalid_request_error", f"Method {method} not allowed")
        batch = st.batches.get(batch_id)
        if batch is None:
            return _send_error(h, 404, "not_found_error", f"message_batch {batch_id!r} not found")
        if action is None and method == "GET":
            batch["retrieves"] += 1
            if (batch["processing_status"] != "ended" and st.end_on_retrieve is not None
                    and batch["retrieves"] >= st.end_on_retrieve):
                _settle(server, st, batch)
            h.send_json(200, _public(server, batch), base=wire_headers())
            return True
        if action is None and method == "DELETE":
            if batch["processing_status"] != "ended":
                return _send_error(h, 400, "invalid_request_error",
                                   "Message Batches can only be deleted once they've finished processing.")
            del st.batches[batch_id]
            h.send_json(200, {"id": batch_id, "type": "message_batch_deleted"}, base=wire_headers())
            return True
        if action == "cancel" and method == "POST":
            if batch["processing_status"] == "ended":
                return _send_error(h, 400, "invalid_request_error",
                                   f"Batch {batch_id} cannot be canceled: processing has ended.")
            if batch["processing_status"] == "in_progress":
                batch["processing_status"] = "canceling"
                batch["cancel_initiated_at"] = time.time()
            h.send_json(200, _public(server, batch), base=wire_headers())
            return True
        if action == "results" and method == "GET":
            if batch["processing_status"] != "ended":
                return _send_error(h, 400, "invalid_request_error",
                                   f"Batch {batch_id} has not finished processing; results are not available.")
            h.send_bytes(200, _results_file(st, batch), "application/binary", base=wire_headers())
            return True
        return _send_error(h, 405, "invalid_request_error", f"Method {method} not allowed")


def wire_headers() -> dict[str, str]:
    return {"request-id": new_id("req_")}


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _version(headers: dict[str, str]) -> Rejection | None:
    """The Messages route's header check: `anthropic-version` required, and a version the API knows."""
    version = headers.get("anthropic-version")
    if not version:
        return Rejection(400, "anthropic-version: header is required", "invalid_request_error")
    if version not in R.rules()["anthropic"]["known_versions"] and version != R.anthropic_sdk_version_header():
        return Rejection(400, f"anthropic-version: {version!r} is not a valid version", "invalid_request_error")
    return None


def _reject(h: Any, req: LoggedRequest, r: Rejection) -> bool:
    req.rejected = r.message
    return _send_error(h, r.status, r.error_type or "invalid_request_error", r.message)


def _send_error(h: Any, status: int, etype: str, message: str) -> bool:
    h.send_json(status, {"type": "error", "error": {"type": etype, "message": message},
                         "request_id": new_id("req_")}, base=wire_headers())
    return True


def _rfc3339(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat().replace("+00:00", "Z")


# -- create ------------------------------------------------------------------------------------------


def _create(h: Any, server: Any, st: AnthropicBatchState, req: LoggedRequest, prefix: str,
            headers: dict[str, str], raw: bytes, body: Any) -> bool:
    def bad(message: str) -> bool:
        return _reject(h, req, Rejection(400, message, "invalid_request_error"))

    if len(raw) > st.max_bytes:
        return _reject(h, req, Rejection(413, f"Request exceeds the maximum size of {st.max_bytes:,} bytes.",
                                         "request_too_large"))
    if not isinstance(body, dict):
        return bad("There was an error parsing the body of your request as JSON.")
    for key in body:
        if key != "requests":
            return bad(f"{key}: Extra inputs are not permitted")
    requests = body.get("requests")
    if requests is None:
        return bad("requests: Field required")
    if not isinstance(requests, list):
        return bad("requests: Input should be a valid list")
    if not requests:
        return bad("requests: List should have at least 1 item after validation, not 0")
    if len(requests) > st.max_requests:
        return bad(f"requests: List should have at most {st.max_requests} items after validation, "
                   f"not {len(requests)}")
    seen: set[str] = set()
    items: list[dict] = []
    for i, item in enumerate(requests):
        if not isinstance(item, dict):
            return bad(f"requests.{i}: Input should be a valid dictionary")
        for key in item:
            if key not in ("custom_id", "params"):
                return bad(f"requests.{i}.{key}: Extra inputs are not permitted")
        for key in ("custom_id", "params"):
            if key not in item:
                return bad(f"requests.{i}.{key}: Field required")
        cid, params = item["custom_id"], item["params"]
        if not isinstance(cid, str) or not _CUSTOM_ID.fullmatch(cid):
            return bad(f"requests.{i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'")
        if cid in seen:
            return bad(f"requests.{i}.custom_id: Duplicate custom_id {cid!r}; custom_id must be unique within "
                       "a Message Batch.")
        seen.add(cid)
        if not isinstance(params, dict):
            return bad(f"requests.{i}.params: Input should be a valid dictionary")
        # The params' own checks happen while processing (as on the real API): kept for then.
        rejection = None
        if server.strict:
            if params.get("stream"):
                rejection = Rejection(400, "stream: Streaming is not supported in Message Batches requests",
                                      "invalid_request_error")
            else:
                rejection = wire.check({k: v for k, v in params.items() if k != "stream"}, headers)
        items.append({"custom_id": cid, "params": params, "rejection": rejection, "result": None})
    now = time.time()
    batch = {
        "id": new_id("msgbatch_"),
        "prefix": prefix,
        "headers": dict(headers),
        "requests": items,
        "created_at": now,
        "expires_at": now + DAY_S,
        "ended_at": None,
        "cancel_initiated_at": None,
        "archived_at": None,
        "processing_status": "in_progress",
        "retrieves": 0,
    }
    st.batches[batch["id"]] = batch
    st.creates_accepted += 1
    h.send_json(200, _public(server, batch), base=wire_headers())
    return True


# -- processing -------------------------------------------------------------------------------------


def _settle(server: Any, st: AnthropicBatchState, batch: dict) -> None:
    """End a batch whose time has come: all answered, or after a cancel the first done_before_cancel."""
    if batch["processing_status"] == "canceling":
        _finish(server, st, batch, answered=st.done_before_cancel, rest="canceled")
    else:
        _finish(server, st, batch, answered=None, rest="expired")


def _finish(server: Any, st: AnthropicBatchState, batch: dict, *, answered: int | None, rest: str) -> None:
    if batch["processing_status"] == "ended":
        return
    for i, item in enumerate(batch["requests"]):
        if answered is None or i < answered:
            item["result"] = _answer(server, st, batch, item)
        else:
            item["result"] = {"type": rest}
    batch["processing_status"] = "ended"
    batch["ended_at"] = time.time()


class _Capture:
    """Stands in for the HTTP handler while the Messages renderer renders one batch request."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.obj: Any = None

    def send_json(self, status: int, obj: Any, extra: Any = None, base: Any = None) -> None:
        self.status, self.obj = status, obj

    def send_bytes(self, status: int, data: bytes, content_type: str, extra: Any = None, base: Any = None) -> None:
        self.status = status
        try:
            self.obj = json.loads(data)
        except ValueError:
            self.obj = None

    def wait(self, seconds: float | None) -> None:   # delays mean nothing inside a batch
        return None


def _errored(etype: str, message: str) -> dict:
    return {"type": "errored", "error": {"type": "error", "error": {"type": etype, "message": message},
                                         "request_id": new_id("req_")}}


def _answer(server: Any, st: AnthropicBatchState, batch: dict, item: dict) -> dict:
    cid = item["custom_id"]
    if cid in st.errors:
        etype, message = st.errors[cid]
        return _errored(etype, message)
    r: Rejection | None = item["rejection"]
    if r is not None:
        return _errored(r.error_type or "invalid_request_error", r.message)
    params = item["params"]
    req = LoggedRequest(protocol="anthropic", method="POST", path=batch["prefix"] + "/v1/messages", query="",
                        headers=batch["headers"], body=params, raw_body=json.dumps(params).encode(),
                        stream=False, received_at=time.monotonic())
    st.processed.append(req)
    scripted = server._next_scripted(req)
    cap = _Capture()
    try:
        wire.AnthropicRenderer(cap, req, scripted, {}).render()  # type: ignore[arg-type]
    except Dropped:
        return _errored("api_error", "Internal server error (loopback: a dropped connection has no batch form).")
    obj = cap.obj
    if cap.status == 200 and isinstance(obj, dict) and obj.get("type") == "message":
        return {"type": "succeeded", "message": obj}
    if isinstance(obj, dict) and obj.get("type") == "error" and isinstance(obj.get("error"), dict):
        return {"type": "errored", "error": obj}
    if cap.status == 200 and isinstance(scripted, Scripted) and isinstance(scripted.body, dict):
        return {"type": "succeeded", "message": scripted.body}
    return _errored("api_error", f"Internal server error (loopback: scripted kind {scripted.kind!r} gave "
                                 f"HTTP {cap.status} without a message).")


def _results_file(st: AnthropicBatchState, batch: dict) -> bytes:
    items = list(batch["requests"])
    if st.reorder:
        items.reverse()
    lines: list[dict] = []
    for item in items:
        line = {"custom_id": item["custom_id"], "result": item["result"]}
        lines.append(line)
        if item["custom_id"] in st.duplicate:
            lines.append(line)
    for cid in st.unknown:
        lines.append({"custom_id": cid, "result": {"type": "succeeded", "message": {
            "id": new_id("msg_"), "type": "message", "role": "assistant", "model": "loopback-model",
            "content": [{"type": "text", "text": "a result for a request nobody sent"}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 9}}}})
    return b"".join([json.dumps(line).encode() + b"\n" for line in lines] + [raw + b"\n" for raw in st.raw_lines])


# -- what a client sees -------------------------------------------------------------------------------


def _counts(batch: dict) -> dict[str, int]:
    counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
    for item in batch["requests"]:
        result = item["result"]
        counts["processing" if result is None else result["type"]] += 1
    return counts


def _public(server: Any, batch: dict) -> dict:
    ended = batch["processing_status"] == "ended"
    return {
        "id": batch["id"],
        "type": "message_batch",
        "processing_status": batch["processing_status"],
        "request_counts": _counts(batch),
        "created_at": _rfc3339(batch["created_at"]),
        "expires_at": _rfc3339(batch["expires_at"]),
        "ended_at": _rfc3339(batch["ended_at"]),
        "cancel_initiated_at": _rfc3339(batch["cancel_initiated_at"]),
        "archived_at": _rfc3339(batch["archived_at"]),
        "results_url": f"{server.url}{batch['prefix']}/v1/messages/batches/{batch['id']}/results" if ended else None,
    }


def _list(h: Any, server: Any, st: AnthropicBatchState, req: LoggedRequest, query: str) -> bool:
    qs = {k: v[-1] for k, v in parse_qs(query).items()}
    limit = _int(qs.get("limit", "20"), -1)
    if not 1 <= limit <= 1000:
        return _reject(h, req, Rejection(400, "limit: Input should be greater than or equal to 1 and less than "
                                              "or equal to 1000", "invalid_request_error"))
    if "after_id" in qs and "before_id" in qs:
        return _reject(h, req, Rejection(400, "Only one of after_id and before_id may be given.",
                                         "invalid_request_error"))
    ordered = sorted(st.batches.values(), key=lambda b: b["created_at"], reverse=True)   # newest first
    ids = [b["id"] for b in ordered]
    for key in ("after_id", "before_id"):
        if key in qs and qs[key] not in ids:
            return _reject(h, req, Rejection(400, f"{key}: {qs[key]!r} is not a valid message_batch id",
                                             "invalid_request_error"))
    if "before_id" in qs:
        end = ids.index(qs["before_id"])
        start = max(0, end - limit)
        page, has_more = ordered[start:end], start > 0
    else:
        start = ids.index(qs["after_id"]) + 1 if "after_id" in qs else 0
        page, has_more = ordered[start:start + limit], start + limit < len(ordered)
    data = [_public(server, b) for b in page]
    h.send_json(200, {"data": data, "has_more": has_more, "first_id": data[0]["id"] if data else None,
                      "last_id": data[-1]["id"] if data else None}, base=wire_headers())
    return True
