"""The Gemini batch API's state on the loopback server (`server.batch_state["gemini"]`), and the
test controls that script it.

What a test can do with it (all thread-safe; the server's handler threads read it too):
* `succeed_on_get` (default 1): a new batch is RUNNING until its Nth `batches.get`, when it ends as
  `finish_as` (default SUCCEEDED). None: it runs until the test calls `complete(name, ...)`.
* `complete(name, state=..., answered=...)`: end a batch now as SUCCEEDED, EXPIRED, FAILED or
  CANCELLED; for EXPIRED/CANCELLED `answered` (a count in input order, or a set of keys) says which
  requests were done before the end (the others have no result line, as on the real service).
* `order` ("reverse" by default, "input", "shuffle"): the order of result lines (the real service
  does not promise the input order). `duplicate` (keys whose line is written twice), `unknown` (keys
  never submitted, appended), `errors` (key -> (HTTP status, message): that request gets an error
  line instead of a response), `error_style` ("rpc": google.rpc.Status with a gRPC code, as the
  output file's proto JSON has it; "http": an HTTP code and a status string).
* `creates` counts the create calls received (accepted or not); `processed` logs each request a
  batch answered (the same LoggedRequest shape as a live generateContent call).
"""
from __future__ import annotations

import base64
import hashlib
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from harness.testing.loopback.scripting import Dropped, LoggedRequest, Scripted

TERMINAL = frozenset({"BATCH_STATE_SUCCEEDED", "BATCH_STATE_FAILED", "BATCH_STATE_CANCELLED",
                      "BATCH_STATE_EXPIRED"})
#: The input file limit of the Gemini batch API (its docs: a JSONL file of up to 2 GB).
MAX_FILE_BYTES = 2 * 1024 ** 3
#: google.rpc.Code for the HTTP statuses a per-request error may carry.
RPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 408: 4, 409: 10, 429: 8, 499: 1, 500: 13, 501: 12,
             503: 14, 504: 4}
_BATCH_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"
_OUTPUT_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput"


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_name(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:16]


@dataclass
class StoredFile:
    name: str                 # "files/abc123"
    data: bytes
    mime_type: str
    display_name: str | None
    source: str               # UPLOADED (input files) or GENERATED (a batch's results)
    created: str = field(default_factory=now_iso)

    def resource(self, base_url: str, version: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "mimeType": self.mime_type, "sizeBytes": str(len(self.data)),
            "createTime": self.created, "updateTime": self.created,
            "sha256Hash": base64.b64encode(hashlib.sha256(self.data).hexdigest().encode()).decode(),
            "uri": f"{base_url}/{version}/{self.name}", "state": "ACTIVE", "source": self.source,
        }
        if self.display_name:
            out["displayName"] = self.display_name
        if self.source == "GENERATED":
            out["downloadUri"] = f"{base_url}/download/{version}/{self.name}:download?alt=media"
        return out


@dataclass
class Upload:
    meta: dict[str, Any]
    size: int
    mime_type: str
    data: bytearray = field(default_factory=bytearray)


@dataclass
class Batch:
    name: str                           # "batches/abc"
    model: str                          # without "models/"
    display_name: str | None
    lines: list[tuple[str, dict]]       # (key, GenerateContentRequest) in input order
    input_file: str | None              # "files/..." (file route) or None (inlined requests)
    succeed_on_get: int | None
    finish_as: str
    answered: Any = None                # for an EXPIRED/CANCELLED end: a count or a set of keys
    state: str = "BATCH_STATE_PENDING"
    created: str = field(default_factory=now_iso)
    updated: str = field(default_factory=now_iso)
    ended: str | None = None
    gets: int = 0
    output_file: str | None = None
    inlined: list[dict] | None = None
    error: dict | None = None
    ok: int = 0
    failed: int = 0

    def operation(self) -> dict[str, Any]:
        """The long-running operation the API returns for create, get and list (the SDK reads
        `name` and `metadata`; `done`/`response`/`error` are the Operation's own fields)."""
        done = self.state in TERMINAL
        total = len(self.lines)
        meta: dict[str, Any] = {
            "@type": _BATCH_TYPE, "model": f"models/{self.model}", "name": self.name,
            "inputConfig": {"fileName": self.input_file} if self.input_file else {"requests": {}},
            "createTime": self.created, "updateTime": self.updated, "state": self.state,
            "batchStats": {"requestCount": str(total), "successfulRequestCount": str(self.ok),
                           "failedRequestCount": str(self.failed),
                           "pendingRequestCount": str(0 if done else total - self.ok - self.failed)},
        }
        if self.display_name is not None:
            meta["displayName"] = self.display_name
        if self.ended:
            meta["endTime"] = self.ended
        output: dict[str, Any] | None = None
        if self.output_file:
            output = {"responsesFile": self.output_file}
        elif self.inlined is not None:
            output = {"inlinedResponses": {"inlinedResponses": self.inlined}}
        if output is not None:
            meta["output"] = output
        op: dict[str, Any] = {"name": self.name, "metadata": meta}
        if done:
            op["done"] = True
            if self.error is not None:
                op["error"] = self.error
            else:
                op["response"] = {"@type": _OUTPUT_TYPE, **(output or {})}
        return op


class GeminiBatchState:
    """Files, uploads and batches of one loopback server, plus the test controls (module docstring)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.files: dict[str, StoredFile] = {}
        self.uploads: dict[str, Upload] = {}
        self.batches: dict[str, Batch] = {}
        self.creates = 0
        self.succeed_on_get: int | None = 1
        self.finish_as = "SUCCEEDED"
        self.answered: Any = None
        #: Requests done before a `batches.cancel` (a count in input order, or a set of keys).
        self.cancel_answered: Any = 0
        self.order = "reverse"
        self.duplicate: set[str] = set()
        self.unknown: list[str] = []
        self.errors: dict[str, tuple[int, str]] = {}
        self.error_style = "rpc"
        self.max_page_size = 100
        self.processed: list[LoggedRequest] = []
        self.server: Any = None

    # -- controls --

    def complete(self, name: str, state: str = "SUCCEEDED", answered: Any = None,
                 message: str = "The batch failed (loopback).", code: int = 400) -> Batch:
        """End batch `name` now (see the module docstring)."""
        with self.lock:
            b = self.batches[name if name.startswith("batches/") else "batches/" + name]
            self._end(b, state.upper().removeprefix("BATCH_STATE_"), answered, message, code)
            return b

    def lines_of(self, name: str) -> list[dict]:
        """The result lines of a batch's output file, parsed (for assertions)."""
        with self.lock:
            b = self.batches[name]
            if b.output_file is None:
                return []
            return [json.loads(x) for x in self.files[b.output_file].data.decode().splitlines() if x.strip()]

    # -- used by the routes --

    def on_get(self, b: Batch) -> None:
        with self.lock:
            if b.state in TERMINAL:
                return
            b.gets += 1
            if b.succeed_on_get is not None and b.gets >= b.succeed_on_get:
                self._end(b, b.finish_as, b.answered, "The batch failed (loopback).", 400)
            else:
                b.state, b.updated = "BATCH_STATE_RUNNING", now_iso()

    def _end(self, b: Batch, state: str, answered: Any, message: str, code: int) -> None:
        if b.state in TERMINAL:
            raise ValueError(f"{b.name} already ended ({b.state})")
        b.state, b.updated = f"BATCH_STATE_{state}", now_iso()
        b.ended = b.updated
        if state == "FAILED":
            b.error = {"code": RPC_CODES.get(code, 2), "message": message}
            return
        if state == "SUCCEEDED":
            todo = list(b.lines)
        elif isinstance(answered, int):
            todo = b.lines[:answered]
        else:
            keys = set(answered or ())
            todo = [(k, r) for k, r in b.lines if k in keys]
        results = [self._answer(b, key, request) for key, request in todo]
        b.ok = sum(1 for r in results if "response" in r)
        b.failed = len(results) - b.ok
        results += [r for r in results if r["key"] in self.duplicate]
        results += [self._answer(b, key, {"contents": [{"role": "user", "parts": [{"text": "unknown"}]}]})
                    for key in self.unknown]
        if self.order == "reverse":
            results.reverse()
        elif self.order == "shuffle":
            random.Random(len(results)).shuffle(results)
        if not results and state != "SUCCEEDED":
            return
        if b.input_file is None:
            b.inlined = [{**{k: v for k, v in r.items() if k != "key"}, "metadata": {"key": r["key"]}}
                         for r in results]
            return
        out = StoredFile(name=new_name("files/batch-"), mime_type="application/json",
                         data="".join(json.dumps(r) + "\n" for r in results).encode(),
                         display_name=f"{b.name.split('/')[-1]}-output", source="GENERATED")
        self.files[out.name] = out
        b.output_file = out.name

    def _answer(self, b: Batch, key: str, request: dict) -> dict:
        """One request answered through the server's normal scripting, rendered exactly as a
        non-streamed generateContent response (or an error line)."""
        if key in self.errors:
            status, message = self.errors[key]
            return {"key": key, "error": self._error(status, message)}
        from harness.testing.loopback.gemini import GeminiRenderer

        req = LoggedRequest(protocol="gemini", method="POST", path=f"/batch/models/{b.model}:generateContent",
                            query="", headers={}, body=request, raw_body=json.dumps(request).encode(),
                            stream=False, received_at=time.monotonic())
        self.processed.append(req)
        scripted = self.server._next_scripted(req)
        capture = _Capture()
        try:
            GeminiRenderer(capture, req, scripted, {"model": b.model, "action": "generateContent"}).render()
        except Dropped:
            return {"key": key, "error": self._error(500, "Internal error encountered.")}
        status, body = capture.status, capture.body
        if status == 200 and isinstance(body, dict) and "error" not in body:
            return {"key": key, "response": body}
        err = body.get("error") if isinstance(body, dict) else None
        message = err.get("message") if isinstance(err, dict) else "Internal error encountered."
        return {"key": key, "error": self._error(status if status >= 400 else 500, str(message))}

    def _error(self, status: int, message: str) -> dict:
        from harness.testing.loopback.gemini import _STATUS

        if self.error_style == "http":
            return {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}
        return {"code": RPC_CODES.get(status, 2), "message": message}


class _Capture:
    """Stands in for the HTTP handler while a batch request is rendered: keeps the response body
    instead of writing it to a socket."""

    def __init__(self) -> None:
        self.status = 500
        self.body: Any = None

    def wait(self, seconds: float | None) -> None:
        """Batch requests have no wall-clock: scripted delays do not apply."""

    def send_json(self, status: int, obj: Any, extra: Any = None, base: Any = None) -> None:
        self.status, self.body = status, obj

    def send_bytes(self, status: int, data: bytes, content_type: str, extra: Any = None, base: Any = None) -> None:
        try:
            body: Any = json.loads(data)
        except ValueError:
            body = {"error": {"message": "Internal error encountered."}}
            status = 500
        self.status, self.body = status, body


def state_of(server: Any) -> GeminiBatchState:
    """The server's Gemini batch state, created on first use."""
    with server._lock:
        st = server.batch_state.get("gemini")
        if st is None:
            st = server.batch_state["gemini"] = GeminiBatchState()
        st.server = server
        return st
