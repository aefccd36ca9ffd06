"""A loopback HTTP server that imitates the LLM providers' wire protocols, for offline tests.

The real SDK clients (openai, anthropic, google-genai, and the legacy google-generativeai REST
transport) are pointed at ``127.0.0.1`` and talk to this server exactly as they would talk to the
real service; nothing in the SDKs is mocked. See ``shared/reference/provider-wire.md`` for the
shapes imitated here and how each SDK reacts to them.

Routes (any path prefix before the well-known suffix is ignored, and so is the query string except
where noted):

* ``POST …/chat/completions``                      OpenAI Chat Completions and compatible servers
* ``POST …/v1/completions``                        OpenAI legacy text completions (raw prompts, e.g. Llama
  Guard), protocol "openai", unstreamed JSON only
* ``POST …/v1/messages``                           Anthropic Messages
* ``POST …/models/{m}:generateContent``            Gemini (google-genai, or legacy when ``$alt=`` is in the query)
* ``POST …/models/{m}:streamGenerateContent``      SSE with ``alt=sse`` (google-genai); a chunked JSON
  array otherwise (legacy google-generativeai REST transport)
* ``GET  …/models`` and ``GET …/models/{id}``       a model list in the shape of the caller's provider

Typical use::

    with LoopbackServer(api_key="test-key") as srv:
        srv.push(Scripted(kind="error", status=429, headers={"retry-after": "1"}), protocol="openai")
        client = openai.OpenAI(api_key="test-key", base_url=srv.openai_base_url, max_retries=0)
        ...
        assert srv.requests_for("openai")[0].body["model"] == "gpt-4o-mini"

Run standalone for manual testing: ``python -m harness.testing.loopback --port 8999``.
"""
from __future__ import annotations

import argparse
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["LoopbackServer", "Scripted", "LoggedRequest", "PROTOCOLS", "KINDS", "main"]

log = logging.getLogger(__name__)

PROTOCOLS = ("openai", "anthropic", "gemini", "gemini_legacy")
KINDS = (
    "reply",
    "refusal",
    "content_filter",
    "block",
    "safety_stop",
    "truncated",
    "error",
    "malformed",
    "drop",
    "hang",
    "stream_error",
)

_DEFAULT_MALFORMED_BODY = b"<html><body><h1>502 Bad Gateway</h1>loopback: not JSON</body></html>"


# --------------------------------------------------------------------------------------------------
# Public data types
# --------------------------------------------------------------------------------------------------


@dataclass
class Scripted:
    """One scripted response, rendered in the protocol of whichever request consumes it.

    See the module docstring of this file and the task brief for the meaning of each ``kind``.
    """

    kind: str = "reply"
    text: str = "hello"
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retry_delay: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    message: str | None = None
    block_reason: str = "SAFETY"
    category: str | None = None
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    model: str | None = None
    delay_s: float = 0.0
    first_chunk_delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    chunks: int | None = None
    body: str | bytes | dict | list | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown Scripted kind {self.kind!r}; expected one of {KINDS}")
        if self.chunks is not None and self.chunks < 1:
            raise ValueError("chunks must be >= 1")


@dataclass
class LoggedRequest:
    """One request as the server received it."""

    protocol: str  # "openai" | "anthropic" | "gemini" | "gemini_legacy" | "unknown"
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    raw_body: bytes
    stream: bool
    received_at: float
    retry_count: int = 0

    @property
    def model(self) -> str | None:
        """The model the request asked for (from the body, or the Gemini path)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("model"), str):
            return self.body["model"]
        m = _GEMINI_RE.search(self.path)
        if m:
            return _strip_models_prefix(m.group("model"))
        return None


# --------------------------------------------------------------------------------------------------
# Helpers: routing, text extraction, token counts
# --------------------------------------------------------------------------------------------------

_GEMINI_RE = re.compile(r"(?P<model>(?:models|tunedModels)/[^:/]+):(?P<action>generateContent|streamGenerateContent)$")
_MODEL_GET_RE = re.compile(r"/models/(?P<id>[^/:]+)$")


def _strip_models_prefix(name: str) -> str:
    return name.split("/", 1)[1] if name.startswith("models/") else name


def _words(text: str) -> int:
    return len(re.findall(r"\S+", text or ""))


def _split_text(text: str, chunks: int | None) -> list[str]:
    """Pieces whose concatenation is exactly ``text`` (empty text gives no pieces)."""
    if not text:
        return []
    if chunks is None:
        pieces = re.findall(r"\s*\S+", text)
        tail = text[len("".join(pieces)):]
        if tail:
            if pieces:
                pieces[-1] += tail
            else:
                pieces = [tail]
        return pieces
    n = max(1, min(chunks, len(text)))
    size, rest = divmod(len(text), n)
    out, pos = [], 0
    for i in range(n):
        step = size + (1 if i < rest else 0)
        out.append(text[pos:pos + step])
        pos += step
    return out


def _content_text(content: Any) -> str:
    """Text of an OpenAI/Anthropic message content or a Gemini parts list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_content_text(p) for p in content)
    if isinstance(content, dict):
        if isinstance(content.get("text"), str) and content.get("type", "text") == "text":
            return content["text"]
        if "parts" in content:
            return _content_text(content["parts"])
        if "content" in content:
            return _content_text(content["content"])
    return ""


def _all_text(protocol: str, body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    parts: list[str] = []
    if protocol in ("openai", "anthropic"):
        parts.append(_content_text(body.get("system")))
        parts.append(body.get("prompt") if isinstance(body.get("prompt"), str) else "")
        for m in body.get("messages") or []:
            if isinstance(m, dict):
                parts.append(_content_text(m.get("content")))
    else:
        parts.append(_content_text(body.get("systemInstruction") or body.get("system_instruction")))
        for c in body.get("contents") or []:
            parts.append(_content_text(c))
    return " ".join(p for p in parts if p)


def _last_user_text(protocol: str, body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    if protocol in ("openai", "anthropic"):
        for m in reversed(body.get("messages") or []):
            if isinstance(m, dict) and m.get("role") == "user":
                return _content_text(m.get("content"))
        return ""
    for c in reversed(body.get("contents") or []):
        if isinstance(c, dict) and c.get("role", "user") == "user":
            return _content_text(c)
        if isinstance(c, str):
            return c
    return ""


def _new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


# Per-provider defaults for error bodies.
_OPENAI_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    408: ("timeout", None),
    409: ("conflict", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}
_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_DEFAULT_MESSAGES = {
    400: "Invalid request (loopback).",
    401: "Invalid API key (loopback).",
    403: "Permission denied (loopback).",
    404: "Not found (loopback).",
    408: "Request timed out (loopback).",
    409: "Conflict (loopback).",
    413: "Request too large (loopback).",
    422: "Unprocessable entity (loopback).",
    429: "Rate limit exceeded (loopback).",
    500: "Internal server error (loopback).",
    502: "Bad gateway (loopback).",
    503: "Service unavailable (loopback).",
    504: "Gateway timeout (loopback).",
    529: "Overloaded (loopback).",
}


def _openai_error(status: int, s: Scripted) -> dict:
    etype, ecode = _OPENAI_ERROR_TYPES.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
    return {
        "error": {
            "message": s.message or _DEFAULT_MESSAGES.get(status, f"Error {status} (loopback)."),
            "type": s.error_type or etype,
            "param": None,
            "code": s.error_code if s.error_code is not None else ecode,
        }
    }


def _anthropic_error(status: int, s: Scripted) -> dict:
    etype = s.error_type or _ANTHROPIC_ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    err: dict[str, Any] = {"type": etype, "message": s.message or _DEFAULT_MESSAGES.get(status, f"Error {status} (loopback).")}
    if s.error_code:
        err["details"] = {"error_code": s.error_code}
    return {"type": "error", "error": err, "request_id": _new_id("req_")}


def _google_error(status: int, s: Scripted) -> dict:
    details: list[dict] = []
    if s.error_code:
        details.append({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": s.error_code,
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        })
    if s.retry_delay:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": s.retry_delay})
    err: dict[str, Any] = {
        "code": status,
        "message": s.message or _DEFAULT_MESSAGES.get(status, f"Error {status} (loopback)."),
        "status": s.error_type or _GOOGLE_STATUS.get(status, "UNKNOWN"),
    }
    if details:
        err["details"] = details
    return {"error": err}


def _error_body(protocol: str, status: int, s: Scripted) -> dict:
    if protocol == "openai":
        return _openai_error(status, s)
    if protocol == "anthropic":
        return _anthropic_error(status, s)
    return _google_error(status, s)


_SAFETY_RATINGS_BLOCKED = [
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
]


def _safety_ratings(category: str | None) -> list[dict]:
    if not category:
        return [dict(r) for r in _SAFETY_RATINGS_BLOCKED]
    cat = category if category.startswith("HARM_CATEGORY_") else "HARM_CATEGORY_" + category.upper()
    out = [dict(r) for r in _SAFETY_RATINGS_BLOCKED if r["category"] != cat]
    for r in out:
        r.pop("blocked", None)
        r["probability"] = "NEGLIGIBLE"
    out.append({"category": cat, "probability": "HIGH", "blocked": True})
    return out


class _Stopped(Exception):
    """Raised inside a handler when the server is stopping."""


class _Dropped(Exception):
    """Raised inside a handler to close the connection without (further) response."""


# --------------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256

    owner: LoopbackServer

    def handle_error(self, request, client_address):  # noqa: D401 - quiet on client disconnects
        log.debug("loopback: error while handling a request from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, every reused keep-alive connection
    # stalls ~40 ms waiting for the client's delayed ACK. Real servers send with TCP_NODELAY too.
    disable_nagle_algorithm = True
    server_version = "LoopbackLLM/1.0"
    sys_version = ""

    server: _HTTPServer

    # -- connection tracking, so stop() can cut idle keep-alive connections --------------------------

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.owner._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("loopback: " + format, *args)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (OSError, _Stopped, _Dropped):
            self.close_connection = True

    # -- verbs -----------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # -- low-level writers -----------------------------------------------------------------------------

    def _wait(self, seconds: float | None) -> None:
        if seconds and seconds > 0:
            if self.server.owner._stopping.wait(seconds):
                raise _Stopped()
        elif self.server.owner._stopping.is_set():
            raise _Stopped()

    def _send_headers(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            if v is not None:
                self.send_header(k, str(v))
        self.end_headers()

    def _merge_headers(self, base: dict[str, str], extra: dict[str, str] | None) -> dict[str, str]:
        out = {k.lower(): v for k, v in base.items()}
        for k, v in (extra or {}).items():
            out[k.lower()] = v
        return out

    def _send_bytes(self, status: int, data: bytes, content_type: str, extra: dict[str, str] | None = None,
                    base: dict[str, str] | None = None) -> None:
        headers = self._merge_headers({**(base or {}), "content-type": content_type}, extra)
        headers["content-length"] = str(len(data))
        self._send_headers(status, headers)
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def _send_json(self, status: int, obj: Any, extra: dict[str, str] | None = None,
                   base: dict[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(obj).encode(), "application/json", extra, base)

    def _start_stream(self, status: int, content_type: str, extra: dict[str, str] | None,
                      base: dict[str, str] | None = None) -> None:
        headers = self._merge_headers({**(base or {}), "content-type": content_type,
                                       "cache-control": "no-cache", "transfer-encoding": "chunked"}, extra)
        headers.pop("content-length", None)
        self._send_headers(status, headers)
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        if self.server.owner._stopping.is_set():
            raise _Stopped()
        if not data:
            return
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _read_body(self) -> bytes:
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    break
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # trailers until blank line
                    while True:
                        t = self.rfile.readline(65537)
                        if not t or t in (b"\r\n", b"\n"):
                            break
                    break
                out += self.rfile.read(size)
                self.rfile.readline(65537)
            return bytes(out)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    # -- dispatch --------------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        owner = self.server.owner
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        query = split.query
        raw = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError):
            body = None

        route, protocol, extra = self._classify(path, query, headers)
        stream = False
        if route == "generate":
            stream = extra["action"] == "streamGenerateContent"
        elif route in ("openai_chat", "anthropic_messages") and isinstance(body, dict):
            stream = bool(body.get("stream"))
        try:
            retry_count = int(headers.get("x-stainless-retry-count", "0"))
        except ValueError:
            retry_count = 0
        req = LoggedRequest(
            protocol=protocol,
            method=self.command,
            path=path,
            query=query,
            headers=headers,
            body=body,
            raw_body=raw,
            stream=stream,
            received_at=time.monotonic(),
            retry_count=retry_count,
        )
        owner._log(req)

        if route == "unknown":
            self._send_json(404, {"error": {"code": 404, "message": f"loopback: no route for {self.command} {path}",
                                            "status": "NOT_FOUND", "type": "not_found_error"}})
            return

        if not owner._auth_ok(headers, query):
            self._send_auth_error(protocol)
            return

        if route == "models":
            self._send_models(protocol, extra.get("id"))
            return

        if self.command != "POST":
            self._send_json(405, _error_body(protocol, 405, Scripted(kind="error", message="Method not allowed")))
            return

        scripted = owner._next_scripted(req)
        try:
            _Renderer(self, req, scripted, extra).render()
        except _Dropped:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _classify(self, path: str, query: str, headers: dict[str, str]) -> tuple[str, str, dict]:
        decoded_q = unquote(query)
        if path.endswith("/chat/completions"):
            return "openai_chat", "openai", {}
        if path.endswith("/completions"):
            return "openai_completions", "openai", {"completions": True}
        if path.endswith("/v1/messages"):
            return "anthropic_messages", "anthropic", {}
        m = _GEMINI_RE.search(path)
        if m:
            action = m.group("action")
            qs = parse_qs(decoded_q.replace(";", "&"))
            legacy = "$alt" in qs or (action == "streamGenerateContent" and "sse" not in qs.get("alt", []))
            return "generate", ("gemini_legacy" if legacy else "gemini"), {
                "model": _strip_models_prefix(m.group("model")), "action": action}
        if self.command == "GET":
            is_google = "x-goog-api-key" in headers or "key=" in query or "/v1beta/" in path + "/" \
                or "x-goog-api-client" in headers
            is_anthropic = "anthropic-version" in headers
            proto = "gemini" if is_google else "anthropic" if is_anthropic else "openai"
            if path.endswith("/models"):
                return "models", proto, {}
            mg = _MODEL_GET_RE.search(path)
            if mg:
                return "models", proto, {"id": mg.group("id")}
        return "unknown", "unknown", {}

    def _send_auth_error(self, protocol: str) -> None:
        if protocol == "openai":
            self._send_json(401, {"error": {
                "message": "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
                "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}},
                base={"x-request-id": _new_id("req_")})
        elif protocol == "anthropic":
            self._send_json(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"},
                                  "request_id": _new_id("req_")}, base={"request-id": _new_id("req_")})
        else:
            self._send_json(400, {"error": {
                "code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
                "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                             "domain": "googleapis.com",
                             "metadata": {"service": "generativelanguage.googleapis.com"}}]}})

    def _send_models(self, protocol: str, model_id: str | None) -> None:
        models = list(self.server.owner.models)
        if protocol == "gemini":
            def g(m: str) -> dict:
                return {"name": f"models/{m}", "displayName": m, "version": "001",
                        "inputTokenLimit": 1048576, "outputTokenLimit": 8192,
                        "supportedGenerationMethods": ["generateContent", "countTokens"]}
            if model_id is not None:
                self._send_json(200, g(model_id))
            else:
                self._send_json(200, {"models": [g(m) for m in models]})
        elif protocol == "anthropic":
            def a(m: str) -> dict:
                return {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
            if model_id is not None:
                self._send_json(200, a(model_id))
            else:
                data = [a(m) for m in models]
                self._send_json(200, {"data": data, "has_more": False,
                                      "first_id": data[0]["id"] if data else None,
                                      "last_id": data[-1]["id"] if data else None})
        else:
            def o(m: str) -> dict:
                return {"id": m, "object": "model", "created": 1700000000, "owned_by": "loopback"}
            if model_id is not None:
                self._send_json(200, o(model_id))
            else:
                self._send_json(200, {"object": "list", "data": [o(m) for m in models]})


# --------------------------------------------------------------------------------------------------
# Rendering one Scripted response in one protocol
# --------------------------------------------------------------------------------------------------


class _Renderer:
    def __init__(self, h: _Handler, req: LoggedRequest, s: Scripted, extra: dict) -> None:
        self.h = h
        self.req = req
        self.s = s
        self.protocol = req.protocol
        body = req.body if isinstance(req.body, dict) else {}
        requested = body.get("model") if isinstance(body.get("model"), str) else extra.get("model")
        self.model = s.model or requested or "loopback-model"
        self.in_tok = s.input_tokens if s.input_tokens is not None else max(1, _words(_all_text(self.protocol, body)))
        self.body = body
        self.extra = extra

    # -- helpers --

    def out_tokens(self, text: str) -> int:
        return self.s.output_tokens if self.s.output_tokens is not None else _words(text)

    def base_headers(self) -> dict[str, str]:
        if self.protocol == "openai":
            return {"x-request-id": _new_id("req_")}
        if self.protocol == "anthropic":
            return {"request-id": _new_id("req_")}
        return {}

    def effective_kind(self) -> str:
        """Map a kind onto what this protocol can express."""
        k = self.s.kind
        p = self.protocol
        if p == "openai":
            return {"block": "content_filter", "safety_stop": "content_filter"}.get(k, k)
        if p == "anthropic":
            return {"block": "refusal", "safety_stop": "refusal", "content_filter": "refusal"}.get(k, k)
        # gemini / gemini_legacy
        return {"refusal": "block", "content_filter": "safety_stop"}.get(k, k)

    def pieces(self, text: str) -> list[str]:
        return _split_text(text, self.s.chunks)

    # -- entry --

    def render(self) -> None:
        s, h = self.s, self.h
        h._wait(s.delay_s)
        kind = s.kind
        if kind == "drop":
            raise _Dropped()
        if kind == "hang":
            # delay_s already elapsed: drop now. With no delay, hang until the server stops.
            if not s.delay_s:
                h._wait(365 * 24 * 3600.0)
            raise _Dropped()
        if s.body is not None:
            self.render_raw(s.body, s.status or 200)
            return
        if kind == "malformed":
            self.render_raw(_DEFAULT_MALFORMED_BODY, s.status or 200, default_ct="text/html; charset=utf-8")
            return
        if kind == "error" or (kind == "stream_error" and not self.req.stream):
            status = s.status or (529 if self.protocol == "anthropic" and kind == "stream_error" else
                                  503 if kind == "stream_error" else 500)
            h._send_json(status, _error_body(self.protocol, status, s), s.headers, self.base_headers())
            return
        if self.extra.get("completions"):
            self.completions_json()
            return
        fn = {
            "openai": (self.openai_stream if self.req.stream else self.openai_json),
            "anthropic": (self.anthropic_stream if self.req.stream else self.anthropic_json),
            "gemini": (self.gemini_stream if self.req.stream else self.gemini_json),
            "gemini_legacy": (self.legacy_stream if self.req.stream else self.gemini_json),
        }[self.protocol]
        fn()

    def render_raw(self, body: Any, status: int, default_ct: str | None = None) -> None:
        if isinstance(body, (dict, list)):
            data, ct = json.dumps(body).encode(), "application/json"
        else:
            data = body.encode() if isinstance(body, str) else bytes(body)
            stripped = data.lstrip()
            if default_ct:
                ct = default_ct
            elif stripped.startswith((b"data:", b"event:")):
                ct = "text/event-stream"
            else:
                try:
                    json.loads(data)
                    ct = "application/json"
                except ValueError:
                    ct = "text/plain; charset=utf-8"
        self.h._send_bytes(status, data, ct, self.s.headers, self.base_headers())

    # -- OpenAI --

    def openai_finish(self, kind: str) -> str:
        if self.s.finish_reason:
            return self.s.finish_reason
        return {"content_filter": "content_filter", "truncated": "length"}.get(kind, "stop")

    def openai_usage(self, out: int) -> dict:
        return {"prompt_tokens": self.in_tok, "completion_tokens": out, "total_tokens": self.in_tok + out}

    def openai_json(self) -> None:
        kind = self.effective_kind()
        s = self.s
        content: str | None = s.text
        refusal = None
        if kind == "refusal":
            content, refusal = None, s.text
        elif kind == "content_filter":
            content = ""
        out = self.out_tokens(content or refusal or "")
        obj = {
            "id": _new_id("chatcmpl-"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "logprobs": None,
                "finish_reason": self.openai_finish(kind),
            }],
            "usage": self.openai_usage(out),
            "system_fingerprint": "fp_loopback",
        }
        self.h._send_json(200, obj, s.headers, self.base_headers())

    def completions_json(self) -> None:
        """A legacy text completion (``/v1/completions``): a refusal or filter is finish_reason
        content_filter with no text, since this API has no refusal field."""
        kind = self.effective_kind()
        text = "" if kind in ("refusal", "content_filter") else self.s.text
        finish = "content_filter" if kind == "refusal" else self.openai_finish(kind)
        self.h._send_json(200, {
            "id": _new_id("cmpl-"), "object": "text_completion", "created": int(time.time()), "model": self.model,
            "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish}],
            "usage": self.openai_usage(self.out_tokens(text)), "system_fingerprint": "fp_loopback",
        }, self.s.headers, self.base_headers())

    def openai_stream(self) -> None:
        h, s = self.h, self.s
        kind = self.effective_kind()
        cid, created = _new_id("chatcmpl-"), int(time.time())
        include_usage = bool((self.body.get("stream_options") or {}).get("include_usage"))

        def event(obj: dict) -> None:
            h._write_chunk(b"data: " + json.dumps(obj).encode() + b"\n\n")

        def chunk(delta: dict, finish: str | None = None) -> dict:
            return {"id": cid, "object": "chat.completion.chunk", "created": created, "model": self.model,
                    "system_fingerprint": "fp_loopback",
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

        text = "" if kind == "content_filter" else s.text
        field_name = "refusal" if kind == "refusal" else "content"
        h._start_stream(200, "text/event-stream; charset=utf-8", s.headers, self.base_headers())
        first = {"role": "assistant", "content": None if kind == "refusal" else ""}
        if kind == "refusal":
            first["refusal"] = ""
        event(chunk(first))
        h._wait(s.first_chunk_delay_s)
        for i, piece in enumerate(self.pieces(text)):
            if i:
                h._wait(s.chunk_delay_s)
            event(chunk({field_name: piece}))
        if kind == "stream_error":
            status = s.status or 500
            event(_openai_error(status, s))
            h._end_stream()
            return
        event(chunk({}, self.openai_finish(kind)))
        if include_usage:
            event({"id": cid, "object": "chat.completion.chunk", "created": created, "model": self.model,
                   "choices": [], "usage": self.openai_usage(self.out_tokens(text))})
        h._write_chunk(b"data: [DONE]\n\n")
        h._end_stream()

    # -- Anthropic --

    def anthropic_stop(self, kind: str) -> str:
        if self.s.finish_reason:
            return self.s.finish_reason
        return {"refusal": "refusal", "truncated": "max_tokens"}.get(kind, "end_turn")

    def anthropic_stop_details(self, kind: str) -> dict | None:
        if kind != "refusal":
            return None
        return {"type": "refusal", "category": self.s.category, "explanation": self.s.message}

    def anthropic_json(self) -> None:
        kind = self.effective_kind()
        s = self.s
        content = [{"type": "text", "text": s.text}] if s.text else []
        obj: dict[str, Any] = {
            "id": _new_id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": self.anthropic_stop(kind),
            "stop_sequence": None,
            "usage": {"input_tokens": self.in_tok, "output_tokens": self.out_tokens(s.text)},
        }
        details = self.anthropic_stop_details(kind)
        if details:
            obj["stop_details"] = details
        self.h._send_json(200, obj, s.headers, self.base_headers())

    def anthropic_stream(self) -> None:
        h, s = self.h, self.s
        kind = self.effective_kind()

        def event(name: str, obj: dict) -> None:
            h._write_chunk(f"event: {name}\ndata: ".encode() + json.dumps(obj).encode() + b"\n\n")

        h._start_stream(200, "text/event-stream; charset=utf-8", s.headers, self.base_headers())
        event("message_start", {"type": "message_start", "message": {
            "id": _new_id("msg_"), "type": "message", "role": "assistant", "model": self.model, "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": self.in_tok, "output_tokens": 1}}})
        pieces = self.pieces(s.text)
        if pieces:
            event("content_block_start", {"type": "content_block_start", "index": 0,
                                          "content_block": {"type": "text", "text": ""}})
        event("ping", {"type": "ping"})
        h._wait(s.first_chunk_delay_s)
        for i, piece in enumerate(pieces):
            if i:
                h._wait(s.chunk_delay_s)
            event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                          "delta": {"type": "text_delta", "text": piece}})
        if kind == "stream_error":
            status = s.status or 529
            err = _anthropic_error(status, s)
            event("error", {"type": "error", "error": err["error"]})
            h._end_stream()
            return
        if pieces:
            event("content_block_stop", {"type": "content_block_stop", "index": 0})
        delta: dict[str, Any] = {"stop_reason": self.anthropic_stop(kind), "stop_sequence": None}
        details = self.anthropic_stop_details(kind)
        if details:
            delta["stop_details"] = details
        event("message_delta", {"type": "message_delta", "delta": delta,
                                "usage": {"output_tokens": self.out_tokens(s.text)}})
        event("message_stop", {"type": "message_stop"})
        h._end_stream()

    # -- Gemini --

    def gemini_finish(self, kind: str) -> str:
        if self.s.finish_reason:
            return self.s.finish_reason
        return {"truncated": "MAX_TOKENS", "safety_stop": "SAFETY"}.get(kind, "STOP")

    def gemini_usage(self, out: int | None) -> dict:
        if out is None:
            return {"promptTokenCount": self.in_tok, "totalTokenCount": self.in_tok}
        return {"promptTokenCount": self.in_tok, "candidatesTokenCount": out, "totalTokenCount": self.in_tok + out}

    def gemini_block(self, rid: str) -> dict:
        return {"promptFeedback": {"blockReason": self.s.block_reason or "SAFETY",
                                   "safetyRatings": _safety_ratings(self.s.category)},
                "usageMetadata": self.gemini_usage(None), "modelVersion": self.model, "responseId": rid}

    def gemini_safety_stop(self, rid: str) -> dict:
        return {"candidates": [{"finishReason": self.gemini_finish("safety_stop"), "index": 0,
                                "safetyRatings": _safety_ratings(self.s.category)}],
                "usageMetadata": self.gemini_usage(0), "modelVersion": self.model, "responseId": rid}

    def gemini_text_chunk(self, text: str, rid: str, finish: str | None, out: int | None) -> dict:
        cand: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
        if finish:
            cand["finishReason"] = finish
        return {"candidates": [cand], "usageMetadata": self.gemini_usage(out), "modelVersion": self.model,
                "responseId": rid}

    def gemini_objects(self) -> tuple[list[dict], dict | None]:
        """The response as a list of stream chunks, plus a trailing error object for stream_error."""
        kind = self.effective_kind()
        rid = uuid.uuid4().hex[:22]
        if kind == "block":
            return [self.gemini_block(rid)], None
        if kind == "safety_stop":
            return [self.gemini_safety_stop(rid)], None
        pieces = self.pieces(self.s.text) or [""]
        out = self.out_tokens(self.s.text)
        if kind == "stream_error":
            chunks = [self.gemini_text_chunk(p, rid, None, None) for p in pieces if p]
            status = self.s.status or 503
            return chunks, _google_error(status, self.s)
        finish = self.gemini_finish(kind)
        chunks = [self.gemini_text_chunk(p, rid, None, None) for p in pieces[:-1]]
        chunks.append(self.gemini_text_chunk(pieces[-1], rid, finish, out))
        return chunks, None

    def gemini_json(self) -> None:
        kind = self.effective_kind()
        rid = uuid.uuid4().hex[:22]
        if kind == "block":
            obj = self.gemini_block(rid)
        elif kind == "safety_stop":
            obj = self.gemini_safety_stop(rid)
        else:
            obj = self.gemini_text_chunk(self.s.text, rid, self.gemini_finish(kind), self.out_tokens(self.s.text))
        self.h._send_json(200, obj, self.s.headers, self.base_headers())

    def gemini_stream(self) -> None:
        h, s = self.h, self.s
        chunks, error = self.gemini_objects()
        h._start_stream(200, "text/event-stream", s.headers, self.base_headers())
        h._wait(s.first_chunk_delay_s)
        for i, obj in enumerate(chunks):
            if i:
                h._wait(s.chunk_delay_s)
            h._write_chunk(b"data: " + json.dumps(obj).encode() + b"\r\n\r\n")
        if error is not None:
            h._write_chunk(b"data: " + json.dumps(error).encode() + b"\r\n\r\n")
        h._end_stream()

    def legacy_stream(self) -> None:
        h, s = self.h, self.s
        chunks, error = self.gemini_objects()
        if error is not None:
            chunks = chunks + [error]
        h._start_stream(200, "application/json; charset=UTF-8", s.headers, self.base_headers())
        h._write_chunk(b"[")
        h._wait(s.first_chunk_delay_s)
        for i, obj in enumerate(chunks):
            if i:
                h._wait(s.chunk_delay_s)
            h._write_chunk((b",\r\n" if i else b"") + json.dumps(obj).encode())
        h._write_chunk(b"]")
        h._end_stream()


# --------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 speaking the providers' protocols.

    ``api_key=None`` accepts any key (or none). ``port=0`` picks a free port.
    """

    def __init__(self, api_key: str | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 models: Iterable[str] = ("loopback-model",)) -> None:
        self.api_key = api_key
        self.host = host
        self.port = port
        self.models: list[str] = list(models)
        self.responder: Callable[[LoggedRequest], Scripted | None] | None = None
        self.default: Scripted | None = None
        self._lock = threading.Lock()
        self._queue: list[tuple[str | None, Scripted]] = []
        self._requests: list[LoggedRequest] = []
        self._conns: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    def start(self) -> LoopbackServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"loopback-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd = self._httpd
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            conns = list(self._conns)
            self._conns.clear()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    # -- scripting --

    def push(self, scripted: Scripted, protocol: str | None = None) -> None:
        if protocol is not None and protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS} or None")
        if not isinstance(scripted, Scripted):
            raise TypeError("push() takes a Scripted")
        with self._lock:
            self._queue.append((protocol, scripted))

    def push_many(self, scripted: Iterable[Scripted], protocol: str | None = None) -> None:
        for s in scripted:
            self.push(s, protocol)

    @property
    def pending(self) -> int:
        """How many scripted responses are still queued."""
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        """Forget logged requests and queued scripts (the responder and default stay)."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()

    @property
    def requests(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, protocol: str) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self._requests if r.protocol == protocol]

    # -- used by handlers --

    def _log(self, req: LoggedRequest) -> None:
        with self._lock:
            self._requests.append(req)

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    def _auth_ok(self, headers: dict[str, str], query: str) -> bool:
        if self.api_key is None:
            return True
        offered: list[str] = []
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            offered.append(auth[7:].strip())
        for h in ("x-api-key", "x-goog-api-key", "api-key"):
            if h in headers:
                offered.append(headers[h].strip())
        offered.extend(parse_qs(query).get("key", []))
        return self.api_key in offered

    def _next_scripted(self, req: LoggedRequest) -> Scripted:
        with self._lock:
            for i, (proto, s) in enumerate(self._queue):
                if proto is None or proto == req.protocol or (proto == "gemini" and req.protocol == "gemini_legacy"):
                    del self._queue[i]
                    return s
        if self.responder is not None:
            try:
                s = self.responder(req)
            except Exception as exc:  # a broken responder shows up as a 500, not a hung client
                log.exception("loopback: responder raised")
                return Scripted(kind="error", status=500, message=f"loopback responder raised: {exc!r}")
            if s is not None:
                return s
        if self.default is not None:
            return self.default
        return Scripted(text="echo: " + _last_user_text(req.protocol, req.body))


# --------------------------------------------------------------------------------------------------
# Standalone
# --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.testing.loopback",
                                description="Serve the OpenAI, Anthropic and Gemini wire protocols on 127.0.0.1.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8999)
    p.add_argument("--api-key", default=None, help="expected key (default: accept any)")
    p.add_argument("--text", default=None, help="reply with this text instead of echoing the prompt")
    p.add_argument("--first-chunk-delay", type=float, default=0.0, help="seconds before the first streamed text")
    p.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between streamed pieces")
    p.add_argument("--delay", type=float, default=0.0, help="seconds before every response")
    args = p.parse_args(argv)

    srv = LoopbackServer(api_key=args.api_key, host=args.host, port=args.port)
    if args.text is not None or args.first_chunk_delay or args.chunk_delay or args.delay:
        def responder(req: LoggedRequest) -> Scripted:
            text = args.text if args.text is not None else "echo: " + _last_user_text(req.protocol, req.body)
            return Scripted(text=text, delay_s=args.delay, first_chunk_delay_s=args.first_chunk_delay,
                            chunk_delay_s=args.chunk_delay)
        srv.responder = responder
    srv.start()
    print(f"loopback provider server on {srv.url}  (OpenAI base URL {srv.openai_base_url})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
