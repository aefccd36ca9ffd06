"""OpenAI's Batch API on the loopback server: /v1/files and /v1/batches, strict like the real one.

What it does as api.openai.com does (late 2026; the SDK's types and docs are the reference):
* `POST /v1/files` takes multipart/form-data with `purpose` and `file`; for `purpose=batch` the file must
  be `.jsonl` with a JSON object on every line (else 400 at upload).
* `POST /v1/batches` needs `input_file_id` (a batch file), `endpoint` (one the API lists) and
  `completion_window` "24h"; metadata at most 16 keys (64/512 characters). The batch starts
  `validating`; the file is then checked line by line (custom_id present and unique, method POST, url
  equal to the endpoint, body an object, one model per file, at most 50,000 lines and 200 MB): any
  problem fails the whole batch with `errors.data` (code, message, line), as the real validation does.
* Each request runs like a non-streamed request to the live route: the same strict body checks
  (`harness.testing.loopback.openai.check`: a refusal becomes a 400 in the error file), then the server's
  scripting (queue, responder, default) rendered as a JSON chat completion, captured instead of sent. A
  scripted HTTP error lands in the error file with its status.
* Result lines are `{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}`;
  a request that never ran (expiry, cancel) is `{"response": null, "error": {"code": "batch_expired" |
  "batch_cancelled", ...}}` in the error file.

Test controls (`server.batch_state["openai"]`, an :class:`OpenAIBatches`): batches complete on the
`complete_after`-th retrieve or on demand (`complete()`), `expire(finished=k)`, `fail()` a whole batch;
and, for the results of the next completions: `duplicate` (repeat the first result line),
`unknown_ids` (extra lines with ids never submitted), `reorder` (reverse the order), `error_ids`
(custom ids answered with a per-request 400). `creates` counts accepted batch creations.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from harness.testing.loopback import openai as chat
from harness.testing.loopback.batches import batch_route
from harness.testing.loopback.scripting import Dropped, LoggedRequest, Scripted, Stopped, new_id

ENDPOINTS = ("/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions", "/v1/moderations",
             "/v1/images/generations", "/v1/images/edits", "/v1/videos")
PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
MAX_LINES = 50_000
MAX_BYTES = 200 * 1024 * 1024
_ROUTE = re.compile(r"(?:^|/)v1/(?P<kind>files|batches)(?:/(?P<id>[^/]+))?(?:/(?P<action>content|cancel))?$")


@dataclass
class _File:
    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int

    def obj(self) -> dict:
        return {"id": self.id, "object": "file", "bytes": len(self.data), "created_at": self.created_at,
                "filename": self.filename, "purpose": self.purpose, "status": "processed", "expires_at": None,
                "status_details": None}


@dataclass
class _Batch:
    id: str
    input_file_id: str
    endpoint: str
    metadata: dict | None
    created_at: int
    lines: list[dict] = field(default_factory=list)
    status: str = "validating"
    errors: list[dict] = field(default_factory=list)
    retrieves: int = 0
    done: dict[str, dict] = field(default_factory=dict)   # custom_id -> result line (in completion order)
    output_file_id: str | None = None
    error_file_id: str | None = None
    times: dict[str, int] = field(default_factory=dict)
    validated: str = "in_progress"   # what the batch becomes after `validating`

    def obj(self) -> dict:
        total = len(self.lines) if self.status != "failed" else 0
        ok = sum(1 for r in self.done.values() if r["response"] and r["response"]["status_code"] < 400)
        failed = sum(1 for r in self.done.values() if r["error"] or r["response"]["status_code"] >= 400)
        failed_unrun = sum(1 for r in self.done.values() if r["error"])
        return {
            "id": self.id, "object": "batch", "endpoint": self.endpoint, "model": None,
            "errors": {"object": "list", "data": self.errors} if self.errors else None,
            "input_file_id": self.input_file_id, "completion_window": "24h", "status": self.status,
            "output_file_id": self.output_file_id, "error_file_id": self.error_file_id,
            "created_at": self.created_at, "expires_at": self.created_at + 86400,
            **{f"{k}_at": self.times.get(k) for k in ("in_progress", "finalizing", "completed", "failed",
                                                        "expired", "cancelling", "cancelled")},
            "request_counts": {"total": total, "completed": ok, "failed": failed - failed_unrun},
            "metadata": self.metadata, "usage": None,
        }


class OpenAIBatches:
    """The state and the test controls of the loopback's OpenAI Batch API."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.lock = threading.RLock()
        self.files: dict[str, _File] = {}
        self.batches: dict[str, _Batch] = {}
        #: Complete a batch on its Nth retrieve (None: only when `complete()` is called).
        self.complete_after: int | None = None
        self.duplicate = False
        self.unknown_ids: list[str] = []
        self.reorder = False
        self.error_ids: set[str] = set()
        self.creates = 0

    # -- test controls ---------------------------------------------------------------------------
    def complete(self, batch_id: str | None = None) -> None:
        """Run every request of the batch (all open batches when None) and mark it completed."""
        for b in self._open(batch_id):
            self._finish(b, len(b.lines), "completed")

    def expire(self, batch_id: str | None = None, *, finished: int = 0) -> None:
        """The 24 hours pass: the first `finished` requests are answered, the rest expire."""
        for b in self._open(batch_id):
            self._finish(b, finished, "expired")

    def fail(self, batch_id: str | None = None, message: str = "The batch failed (loopback).") -> None:
        for b in self._open(batch_id):
            with self.lock:
                self._validated(b)
                b.status, b.errors = "failed", [{"code": "server_error", "message": message, "param": None,
                                                 "line": None}]
                b.times["failed"] = int(time.time())

    def _open(self, batch_id: str | None) -> list[_Batch]:
        with self.lock:
            if batch_id is not None:
                return [self.batches[batch_id]]
            return [b for b in self.batches.values() if b.status in ("validating", "in_progress", "finalizing",
                                                                      "cancelling")]

    # -- the work ----------------------------------------------------------------------------------
    def _validate(self, b: _Batch, data: bytes) -> None:
        """The real API's validation of a batch input file: a problem fails the whole batch."""
        problems: list[dict] = []
        seen: set[str] = set()
        models: set[str] = set()
        text_lines = [t for t in data.decode("utf-8", "replace").splitlines() if t.strip()]
        if len(text_lines) > MAX_LINES or len(data) > MAX_BYTES:
            problems.append({"code": "too_large", "message": f"The batch input file is larger than the {MAX_LINES} "
                             "requests / 200 MB limit.", "param": None, "line": None})
        for n, text in enumerate(text_lines, 1):
            def bad(code: str, message: str, param: str | None = None) -> None:
                problems.append({"code": code, "message": message, "param": param, "line": n})
            try:
                line = json.loads(text)
            except ValueError:
                bad("invalid_json_line", "This line is not parseable as valid JSON.")
                continue
            if not isinstance(line, dict):
                bad("invalid_json_line", "This line is not a JSON object.")
                continue
            extra = set(line) - {"custom_id", "method", "url", "body"}
            cid = line.get("custom_id")
            if extra:
                bad("invalid_request", f"Unrecognized key(s) in the request line: {', '.join(sorted(extra))}.")
            if not isinstance(cid, str) or not cid:
                bad("missing_required_parameter", "Missing required parameter: 'custom_id'.", "custom_id")
            elif cid in seen:
                bad("duplicate_custom_id", f"The custom_id {cid!r} is duplicated: each request needs a unique "
                    "custom_id.", "custom_id")
            else:
                seen.add(cid)
            if line.get("method") != "POST":
                bad("invalid_method", "Only the POST method is supported.", "method")
            if line.get("url") != b.endpoint:
                bad("mismatched_endpoint", f"The url {line.get('url')!r} does not match the batch's endpoint "
                    f"{b.endpoint!r}.", "url")
            if not isinstance(line.get("body"), dict):
                bad("invalid_body", "The body must be a JSON object.", "body")
            else:
                models.add(str(line["body"].get("model")))
            b.lines.append(line)
        if len(models) > 1:
            problems.append({"code": "mismatched_model", "message": "All requests in a batch file must use the "
                             f"same model; found {', '.join(sorted(models))}.", "param": "body.model", "line": None})
        if not text_lines:
            problems.append({"code": "empty_file", "message": "The batch input file is empty.", "param": None,
                             "line": None})
        b.errors, b.validated = problems[:100], "failed" if problems else "in_progress"
        if problems:
            b.lines = []

    def _validated(self, b: _Batch) -> None:
        """Validation's outcome shows once the batch leaves `validating` (its first retrieve)."""
        if b.status == "validating":
            b.status = b.validated
            b.times[b.status] = int(time.time())

    def _answer(self, b: _Batch, line: dict) -> dict:
        """One request of the batch, answered like a non-streamed request to the live route."""
        body = line["body"]
        cid = line["custom_id"]
        req = LoggedRequest(protocol="openai", method="POST", path=b.endpoint, query="",
                            headers={"x-loopback-batch": b.id}, body=body,
                            raw_body=json.dumps(body).encode(), stream=False, received_at=time.monotonic())
        self.server._log(req)
        status, obj = 200, None
        rejection = chat.check(body) if self.server.strict else None
        if body.get("stream"):
            rejection = rejection or chat._bad("Streaming is not supported in the Batch API.", None, "stream")
        if cid in self.error_ids:
            status, obj = 400, chat.error_body(400, Scripted(kind="error", message="Invalid request (loopback "
                                                                                    "batch error_ids)."))
        elif rejection is not None:
            req.rejected = rejection.message
            status = rejection.status
            obj = {"error": {"message": rejection.message, "type": rejection.error_type or "invalid_request_error",
                             "param": rejection.param, "code": rejection.code}}
        else:
            capture = _Capture(self.server)
            try:
                chat.OpenAIRenderer(capture, req, self.server._next_scripted(req), {}).render()
                status, obj = capture.status, capture.obj
            except (Dropped, Stopped):
                status, obj = 500, chat.error_body(500, Scripted(kind="error"))
        return {"id": new_id("batch_req_"), "custom_id": cid, "error": None,
                "response": {"status_code": status, "request_id": new_id("req_"), "body": obj}}

    def _finish(self, b: _Batch, answered: int, status: str) -> None:
        with self.lock:
            self._validated(b)
            if b.status not in ("validating", "in_progress", "finalizing", "cancelling"):
                return
            for line in b.lines[:answered]:
                if line["custom_id"] not in b.done:
                    b.done[line["custom_id"]] = self._answer(b, line)
            code = {"expired": "batch_expired", "cancelled": "batch_cancelled"}.get(status)
            for line in b.lines[answered:]:
                if code and line["custom_id"] not in b.done:
                    b.done[line["custom_id"]] = {
                        "id": new_id("batch_req_"), "custom_id": line["custom_id"], "response": None,
                        "error": {"code": code, "message": "This request could not be executed before the "
                                  "completion window expired." if code == "batch_expired" else
                                  "This request was cancelled before it could run."}}
            results = list(b.done.values())
            if self.reorder:
                results.reverse()
            ok = [r for r in results if r["response"] and r["response"]["status_code"] < 400]
            bad = [r for r in results if r not in ok]
            if self.duplicate and results:
                (ok if ok else bad).append(json.loads(json.dumps((ok or bad)[0])))
            for unknown in self.unknown_ids:
                ok.append({"id": new_id("batch_req_"), "custom_id": unknown, "error": None,
                           "response": {"status_code": 200, "request_id": new_id("req_"),
                                        "body": ok[0]["response"]["body"] if ok else {}}})
            b.output_file_id = self._file("batch_output.jsonl", ok) if ok else None
            b.error_file_id = self._file("batch_errors.jsonl", bad) if bad else None
            b.status = status
            b.times[status] = int(time.time())

    def _file(self, name: str, lines: list[dict]) -> str:
        data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
        f = _File(new_id("file-"), name, "batch_output", data, int(time.time()))
        self.files[f.id] = f
        return f.id

    # -- HTTP --------------------------------------------------------------------------------------
    def handle(self, h: Any, method: str, kind: str, oid: str | None, action: str | None, query: str,
               headers: dict[str, str], raw: bytes, body: Any) -> None:
        def err(status: int, message: str, param: str | None = None, code: str | None = None) -> None:
            h.send_json(status, {"error": {"message": message, "type": "invalid_request_error", "param": param,
                                           "code": code}}, None, {"x-request-id": new_id("req_")})

        ok = lambda obj: h.send_json(200, obj, None, {"x-request-id": new_id("req_")})  # noqa: E731
        with self.lock:
            if kind == "files":
                if method == "POST" and oid is None:
                    return self._upload(h, headers, raw, err, ok)
                f = self.files.get(oid or "")
                if f is None:
                    return err(404, f"No such File object: {oid}", "id")
                if method == "GET" and action == "content":
                    return h.send_bytes(200, f.data, "application/octet-stream", None, {"x-request-id": new_id("req_")})
                if method == "GET" and action is None:
                    return ok(f.obj())
                return err(405, "Method not allowed")
            if method == "POST" and oid is None:
                return self._create(body, err, ok)
            if method == "GET" and oid is None:
                return self._list(query, ok)
            b = self.batches.get(oid or "")
            if b is None:
                return err(404, f"No such Batch object: {oid}", "id")
            if method == "GET" and action is None:
                b.retrieves += 1
                if b.status == "validating":
                    self._validated(b)
                elif b.status == "in_progress" and self.complete_after and b.retrieves >= self.complete_after:
                    self._finish(b, len(b.lines), "completed")
                elif b.status == "cancelling":
                    self._finish(b, len(b.done), "cancelled")
                return ok(b.obj())
            if method == "POST" and action == "cancel":
                if b.status not in ("validating", "in_progress", "finalizing"):
                    return err(409, f"Cannot cancel a batch with status '{b.status}'.")
                b.status = "cancelling"
                b.times["cancelling"] = int(time.time())
                return ok(b.obj())
            return err(405, "Method not allowed")

    def _upload(self, h, headers, raw, err, ok) -> None:
        ctype = headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            return err(400, "The request must be multipart/form-data.")
        msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
        fields: dict[str, Any] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[name] = (part.get_filename(), part.get_payload(decode=True))
        purpose = (fields.get("purpose") or (None, b""))[1].decode()
        if "file" not in fields:
            return err(400, "Missing required parameter: 'file'.", "file")
        if purpose not in PURPOSES:
            return err(400, f"'{purpose}' is not one of {list(PURPOSES)} - 'purpose'", "purpose")
        filename, data = fields["file"]
        if purpose == "batch":
            if not (filename or "").endswith(".jsonl"):
                return err(400, "Invalid file format for Batch API. Must be .jsonl", "file")
            for n, text in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
                try:
                    if text.strip() and not isinstance(json.loads(text), dict):
                        raise ValueError
                except ValueError:
                    return err(400, f"Invalid file format for Batch API: line {n} is not a JSON object.", "file")
        f = _File(new_id("file-"), filename or "upload", purpose, data, int(time.time()))
        self.files[f.id] = f
        return ok(f.obj())

    def _create(self, body, err, ok) -> None:
        if not isinstance(body, dict):
            return err(400, "We could not parse the JSON body of your request.")
        extra = set(body) - {"input_file_id", "endpoint", "completion_window", "metadata", "output_expires_after"}
        if extra:
            return err(400, f"Unrecognized request argument supplied: {sorted(extra)[0]}")
        if body.get("completion_window") != "24h":
            return err(400, "Invalid value for 'completion_window': only '24h' is supported.", "completion_window")
        if body.get("endpoint") not in ENDPOINTS:
            return err(400, f"Invalid value for 'endpoint': {body.get('endpoint')!r}.", "endpoint")
        f = self.files.get(body.get("input_file_id") or "")
        if f is None:
            return err(400 if body.get("input_file_id") else 400,
                       f"Invalid 'input_file_id': {body.get('input_file_id')!r}.", "input_file_id")
        if f.purpose != "batch":
            return err(400, f"The file {f.id} was not uploaded with purpose 'batch'.", "input_file_id")
        meta = body.get("metadata")
        if meta is not None and (not isinstance(meta, dict) or len(meta) > 16 or any(
                not isinstance(k, str) or len(k) > 64 or not isinstance(v, str) or len(v) > 512
                for k, v in meta.items())):
            return err(400, "Invalid 'metadata': at most 16 string keys (64 chars) and values (512 chars).",
                       "metadata")
        b = _Batch(new_id("batch_"), f.id, body["endpoint"], meta, int(time.time()))
        self._validate(b, f.data)
        self.batches[b.id] = b
        self.creates += 1
        return ok(b.obj())

    def _list(self, query: str, ok) -> None:
        from urllib.parse import parse_qs

        qs = parse_qs(query)
        limit = max(1, min(100, int((qs.get("limit") or ["20"])[0])))
        newest = sorted(self.batches.values(), key=lambda b: (b.created_at, list(self.batches).index(b.id)),
                        reverse=True)
        after = (qs.get("after") or [None])[0]
        if after is not None:
            ids = [b.id for b in newest]
            newest = newest[ids.index(after) + 1:] if after in ids else []
        page = newest[:limit]
        ok({"object": "list", "data": [b.obj() for b in page], "first_id": page[0].id if page else None,
            "last_id": page[-1].id if page else None, "has_more": len(newest) > limit})


class _Capture:
    """Stands in for the HTTP handler while a batch request is rendered: keeps the JSON body."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.status, self.obj = 500, None

    def wait(self, seconds: float | None) -> None:
        if self.server._stopping.is_set():
            raise Stopped()

    def send_json(self, status: int, obj: Any, extra=None, base=None) -> None:
        self.status, self.obj = status, obj

    def send_bytes(self, status: int, data: bytes, content_type: str, extra=None, base=None) -> None:
        try:
            self.status, self.obj = status, json.loads(data)
        except ValueError:
            self.status, self.obj = (status if status >= 400 else 502), data.decode("utf-8", "replace")


def state(server: Any) -> OpenAIBatches:
    st = server.batch_state.get("openai")
    if st is None:
        st = server.batch_state["openai"] = OpenAIBatches(server)
    return st


@batch_route
def route(h: Any, server: Any, method: str, path: str, query: str, headers: dict[str, str], raw: bytes,
          body: Any) -> bool:
    m = _ROUTE.search(path)
    if m is None or "/messages/" in path:
        return False
    req = LoggedRequest(protocol="openai", method=method, path=path, query=query, headers=headers,
                        body=body, raw_body=raw, stream=False, received_at=time.monotonic())
    server._log(req)
    if not server._auth_ok(headers, query):
        status, obj, base = chat.auth_error()
        h.send_json(status, obj, None, base)
        return True
    state(server).handle(h, method, m["kind"], m["id"], m["action"], query, headers, raw, body)
    return True
