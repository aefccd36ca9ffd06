"""The Gemini Developer API's batch mode on the loopback server, as google-genai 3.x calls it.

Routes (any version segment, any base-URL prefix):
* `POST /upload/{v}/files` with `X-Goog-Upload-Protocol: resumable`: `start` (answers the upload URL
  in `X-Goog-Upload-URL`), then `upload` / `upload, finalize` chunks to that URL (8 MiB each from
  the SDK), which end with `X-Goog-Upload-Status: final` and `{"file": File}`. Every upload answer
  carries `X-Goog-Upload-Status`: without it the SDK retries the chunk, sleeping.
* `GET /{v}/files/{id}`, `GET /{v}/files/{id}:download?alt=media` (only GENERATED files, a batch's
  results, can be downloaded).
* `POST /{v}/models/{m}:batchGenerateContent` with `{"batch": {"displayName", "inputConfig":
  {"fileName"} | {"requests": {"requests": [...]}}}}`: strict like the real API, the whole file is
  checked before the batch exists, and a bad line refuses the create with 400 INVALID_ARGUMENT
  "Error on line N: ...". Each request must pass the same checks as a live generateContent call
  (harness/testing/loopback/gemini.check); keys must be unique.
* `GET /{v}/batches/{id}`, `GET /{v}/batches?pageSize&pageToken` (`operations`, `nextPageToken`),
  `POST /{v}/batches/{id}:cancel` (`{}`), as long-running operations whose `metadata` is the
  GenerateContentBatch (state BATCH_STATE_*, batchStats counts as int64 strings, output).

Only requests that look like Google's claim a shared path (`/v1/files/..`, `/v1/batches..`, which
OpenAI's batch API also uses, and google-genai 3.x defaults to `v1`): a Google API key header or
query key, or the SDK's `x-goog-api-client` header. For that reason this route is asked first
(`ORDER` in batches/__init__.py): OpenAI's route claims every `/v1/files|batches` path, while no
OpenAI SDK request carries Google's headers.
"""
from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import parse_qs

from harness.testing.loopback import gemini as G
from harness.testing.loopback.batches import batch_route
from harness.testing.loopback.batches.gemini_state import (
    MAX_FILE_BYTES,
    TERMINAL,
    Batch,
    StoredFile,
    Upload,
    new_name,
    now_iso,
    state_of,
)
from harness.testing.loopback.scripting import LoggedRequest, strip_models_prefix

_UPLOAD = re.compile(r"/upload/(?:[^/]+/)?files$")
_DOWNLOAD = re.compile(r"/(?P<v>[^/]+)/files/(?P<id>[a-z0-9-]+):download$")
_FILE = re.compile(r"/(?P<v>[^/]+)/files/(?P<id>[a-z0-9-]+)$")
_CREATE = re.compile(r"/(?P<model>(?:models|tunedModels)/[^:/]+):batchGenerateContent$")
_BATCH = re.compile(r"/batches/(?P<id>[a-z0-9-]+)(?::(?P<verb>cancel))?$")
_LIST = re.compile(r"/batches$")
_BATCH_FIELDS = frozenset({"displayName", "display_name", "inputConfig", "input_config", "priority",
                           "webhookConfig", "webhook_config", "model", "name"})
_LINE_FIELDS = frozenset({"key", "request", "metadata"})


def _googly(headers: dict[str, str], query: str) -> bool:
    return ("x-goog-api-key" in headers or "x-goog-api-client" in headers
            or "key" in parse_qs(query) or "upload_id" in parse_qs(query))


def _error(h: Any, status: int, message: str, google_status: str | None = None,
           extra: dict[str, str] | None = None) -> None:
    h.send_json(status, {"error": {"code": status, "message": message,
                                   "status": google_status or G._STATUS.get(status, "UNKNOWN")}}, extra)


@batch_route
def route(h: Any, server: Any, method: str, path: str, query: str, headers: dict[str, str], raw: bytes,
          body: Any) -> bool:
    kind = _classify(path, query, headers)
    if kind is None:
        return False
    req = LoggedRequest(protocol="gemini", method=method, path=path, query=query, headers=headers, body=body,
                        raw_body=raw, stream=False, received_at=time.monotonic())
    server._log(req)
    st = state_of(server)
    if kind == "upload_chunk":   # the upload URL authorises itself (upload_id), as Google's does
        _upload_chunk(h, st, method, query, headers, raw)
        return True
    if not server._auth_ok(headers, query):
        status, obj, _ = G.auth_error()
        h.send_json(status, obj)
        return True
    version = path.strip("/").split("/")[0] if not path.startswith("/upload/") else "v1beta"
    handler = {"upload_start": lambda: _upload_start(h, st, server, method, path, headers, body),
               "download": lambda: _download(h, st, method, path),
               "file": lambda: _file_get(h, st, server, method, path, version),
               "create": lambda: _create(h, st, server, method, path, body, req),
               "batch": lambda: _batch(h, st, method, path),
               "list": lambda: _list(h, st, method, query)}[kind]
    handler()
    return True


def _classify(path: str, query: str, headers: dict[str, str]) -> str | None:
    if _UPLOAD.search(path):
        if "upload_id" in parse_qs(query):
            return "upload_chunk"
        return "upload_start" if headers.get("x-goog-upload-protocol") or _googly(headers, query) else None
    if _CREATE.search(path):
        return "create"
    if not _googly(headers, query):
        return None
    if _DOWNLOAD.search(path):
        return "download"
    if _FILE.search(path):
        return "file"
    if _BATCH.search(path):
        return "batch"
    if _LIST.search(path):
        return "list"
    return None


# -- files -------------------------------------------------------------------------------------------


def _upload_start(h: Any, st: Any, server: Any, method: str, path: str, headers: dict[str, str],
                  body: Any) -> None:
    if method != "POST":
        _error(h, 405, "Method not allowed.")
        return
    if headers.get("x-goog-upload-protocol") != "resumable" or headers.get("x-goog-upload-command") != "start":
        _error(h, 400, "Upload requests must use X-Goog-Upload-Protocol: resumable and start with "
                       "X-Goog-Upload-Command: start.")
        return
    try:
        size = int(headers.get("x-goog-upload-header-content-length", ""))
    except ValueError:
        _error(h, 400, "X-Goog-Upload-Header-Content-Length is required.")
        return
    mime = headers.get("x-goog-upload-header-content-type")
    if not mime:
        _error(h, 400, "X-Goog-Upload-Header-Content-Type is required.")
        return
    if size > MAX_FILE_BYTES:
        _error(h, 400, f"File size {size} exceeds the limit of {MAX_FILE_BYTES} bytes.")
        return
    meta = body.get("file") if isinstance(body, dict) and isinstance(body.get("file"), dict) else {}
    upload_id = new_name("up")
    with st.lock:
        st.uploads[upload_id] = Upload(meta=meta, size=size, mime_type=mime)
    url = f"{server.url}{path}?upload_id={upload_id}&upload_protocol=resumable"
    h.send_bytes(200, b"", "text/plain; charset=utf-8", {"x-goog-upload-url": url, "x-goog-upload-status": "active",
                                                         "x-goog-upload-chunk-granularity": "8388608"})


def _upload_chunk(h: Any, st: Any, method: str, query: str, headers: dict[str, str], raw: bytes) -> None:
    final = {"x-goog-upload-status": "final"}
    upload_id = parse_qs(query)["upload_id"][0]
    command = {c.strip() for c in headers.get("x-goog-upload-command", "").split(",")}
    with st.lock:
        up = st.uploads.get(upload_id)
        if method != "POST" or up is None:
            _error(h, 404, "Upload session not found.", extra=final)
            return
        if "upload" in command:
            try:
                offset = int(headers.get("x-goog-upload-offset", ""))
            except ValueError:
                offset = -1
            if offset != len(up.data):
                _error(h, 400, f"Invalid X-Goog-Upload-Offset {offset}: expected {len(up.data)}.", extra=final)
                return
            up.data += raw
        if len(up.data) > up.size:
            del st.uploads[upload_id]
            _error(h, 400, f"Received {len(up.data)} bytes, more than the declared {up.size}.", extra=final)
            return
        if "finalize" not in command:
            h.send_bytes(200, b"", "text/plain; charset=utf-8", {"x-goog-upload-status": "active",
                                                                 "x-goog-upload-size-received": str(len(up.data))})
            return
        del st.uploads[upload_id]
        if len(up.data) != up.size:
            _error(h, 400, f"Received {len(up.data)} bytes, declared {up.size}.", extra=final)
            return
        name = up.meta.get("name") or new_name("files/")
        stored = StoredFile(name=name, data=bytes(up.data), mime_type=up.mime_type,
                            display_name=up.meta.get("displayName") or up.meta.get("display_name"), source="UPLOADED")
        st.files[name] = stored
        resource = stored.resource(st.server.url, "v1beta")
    h.send_json(200, {"file": resource}, final)


def _file_get(h: Any, st: Any, server: Any, method: str, path: str, version: str) -> None:
    name = "files/" + _FILE.search(path).group("id")
    with st.lock:
        f = st.files.get(name)
        if method == "DELETE" and f is not None:
            del st.files[name]
            h.send_json(200, {})
            return
    if method != "GET":
        _error(h, 405, "Method not allowed.")
    elif f is None:
        _error(h, 403, f"You do not have permission to access the File {name.split('/')[1]} or it may not exist.",
               "PERMISSION_DENIED")
    else:
        h.send_json(200, f.resource(server.url, version))


def _download(h: Any, st: Any, method: str, path: str) -> None:
    name = "files/" + _DOWNLOAD.search(path).group("id")
    with st.lock:
        f = st.files.get(name)
    if method != "GET":
        _error(h, 405, "Method not allowed.")
    elif f is None:
        _error(h, 404, f"File {name} not found.")
    elif f.source != "GENERATED":
        _error(h, 400, f"Only generated files can be downloaded; {name} was uploaded.")
    else:
        h.send_bytes(200, f.data, "application/octet-stream")


# -- batches -----------------------------------------------------------------------------------------


def _create(h: Any, st: Any, server: Any, method: str, path: str, body: Any, req: LoggedRequest) -> None:
    with st.lock:
        st.creates += 1
    if method != "POST":
        _error(h, 405, "Method not allowed.")
        return
    model = strip_models_prefix(_CREATE.search(path).group("model"))
    if model not in server.models:
        _error(h, 404, f"models/{model} is not found for API version v1beta, or is not supported for "
                       f"batchGenerateContent.")
        return
    problem, batch = _parse_create(st, server, model, body)
    if problem is not None:
        req.rejected = problem
        _error(h, 400, problem)
        return
    with st.lock:
        st.batches[batch.name] = batch
        op = batch.operation()
    h.send_json(200, op)


def _parse_create(st: Any, server: Any, model: str, body: Any) -> tuple[str | None, Any]:
    if not isinstance(body, dict) or set(body) != {"batch"} or not isinstance(body["batch"], dict):
        extra = [k for k in body if k != "batch"] if isinstance(body, dict) else []
        if extra:
            return f'Invalid JSON payload received. Unknown name "{extra[0]}": Cannot find field.', None
        return "Invalid JSON payload received: expected {\"batch\": {...}}.", None
    spec = body["batch"]
    for key in spec:
        if key not in _BATCH_FIELDS:
            return f'Invalid JSON payload received. Unknown name "{key}" at \'batch\': Cannot find field.', None
    display = spec.get("displayName", spec.get("display_name"))
    if not isinstance(display, str) or not display:
        return "batch.display_name is required.", None
    ic = spec.get("inputConfig", spec.get("input_config"))
    if not isinstance(ic, dict) or len([k for k in ic if k in ("fileName", "file_name", "requests")]) != 1:
        return "batch.input_config must set exactly one of file_name and requests.", None
    file_name = ic.get("fileName", ic.get("file_name"))
    if file_name is not None:
        with st.lock:
            f = st.files.get(file_name)
        if f is None:
            return f"File {file_name} not found.", None
        raw_lines = f.data.decode("utf-8", "replace").splitlines()
        items: list[tuple[int, Any]] = []
        errors: list[str] = []
        for n, text in enumerate(raw_lines, 1):
            if not text.strip():
                continue
            try:
                items.append((n, json.loads(text)))
            except ValueError as exc:
                errors.append(f"Error on line {n}: invalid JSON: {exc}")
    else:
        reqs = ic["requests"].get("requests") if isinstance(ic["requests"], dict) else None
        if not isinstance(reqs, list):
            return "batch.input_config.requests.requests must be a list.", None
        errors = []
        items = [(n, {"key": (r.get("metadata") or {}).get("key", str(n)) if isinstance(r, dict) else None,
                      "request": r.get("request") if isinstance(r, dict) else None})
                 for n, r in enumerate(reqs, 1)]
    lines: list[tuple[str, dict]] = []
    seen: set[str] = set()
    for n, item in items:
        problem = _check_line(item, model, server.strict, seen)
        if problem:
            errors.append(f"Error on line {n}: {problem}")
        else:
            seen.add(item["key"])
            lines.append((item["key"], item["request"]))
    if errors:
        return "\n".join(errors[:20]), None
    if not lines:
        return "The batch has no requests.", None
    return None, Batch(name=new_name("batches/"), model=model, display_name=display, lines=lines,
                       input_file=file_name, succeed_on_get=st.succeed_on_get, finish_as=st.finish_as,
                       answered=st.answered)


def _check_line(item: Any, model: str, strict: bool, seen: set[str]) -> str | None:
    if not isinstance(item, dict):
        return "expected a JSON object with key and request."
    for k in item:
        if k not in _LINE_FIELDS:
            return f"no such field: '{k}'"
    key, request = item.get("key"), item.get("request")
    if not isinstance(key, str) or not key:
        return "key must be a non-empty string."
    if key in seen:
        return f"duplicate key '{key}'."
    if not isinstance(request, dict):
        return "request must be a GenerateContentRequest object."
    if not isinstance(request.get("contents"), list) or not request["contents"]:
        return "request.contents must not be empty."
    if strict:
        rejection = G.check({k: v for k, v in request.items() if k != "model"}, model)
        if rejection is not None:
            return rejection.message
    return None


def _batch(h: Any, st: Any, method: str, path: str) -> None:
    m = _BATCH.search(path)
    name, verb = "batches/" + m.group("id"), m.group("verb")
    with st.lock:
        b: Batch | None = st.batches.get(name)
        if b is None:
            _error(h, 404, f"Batch {name} not found.")
            return
        if verb == "cancel" and method == "POST":
            if b.state in TERMINAL:
                _error(h, 400, f"Batch {name} is already in a terminal state ({b.state}).", "FAILED_PRECONDITION")
                return
            st._end(b, "CANCELLED", st.cancel_answered, "", 0)
            h.send_json(200, {})
            return
        if verb is None and method == "GET":
            st.on_get(b)
            h.send_json(200, b.operation())
            return
        if verb is None and method == "DELETE":
            del st.batches[name]
            h.send_json(200, {})
            return
    _error(h, 405, "Method not allowed.")


def _list(h: Any, st: Any, method: str, query: str) -> None:
    if method != "GET":
        _error(h, 405, "Method not allowed.")
        return
    qs = parse_qs(query)
    try:
        size = int(qs.get("pageSize", ["10"])[0])
        start = int(qs.get("pageToken", ["0"])[0] or 0)
    except ValueError:
        _error(h, 400, "Invalid page token or page size.")
        return
    size = max(1, min(size, st.max_page_size))
    with st.lock:
        newest_first = list(reversed(st.batches.values()))
        page = [b.operation() for b in newest_first[start:start + size]]
        more = start + size < len(newest_first)
    out: dict[str, Any] = {"operations": page}
    if more:
        out["nextPageToken"] = str(start + size)
    h.send_json(200, out)


__all__ = ["route", "now_iso"]
