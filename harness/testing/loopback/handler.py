"""HTTP plumbing of the loopback server: routing a request to its wire protocol, logging it,
authentication, the strict checks, and the low-level writers (JSON, chunked streams) that every
protocol's renderer uses.
"""
from __future__ import annotations

import json
import logging
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from harness.testing.loopback import anthropic, batches, gemini, gemini_legacy, openai
from harness.testing.loopback.render import Renderer
from harness.testing.loopback.scripting import (
    GEMINI_RE,
    MODEL_GET_RE,
    Dropped,
    LoggedRequest,
    Rejection,
    Scripted,
    Stopped,
    strip_models_prefix,
)

if TYPE_CHECKING:
    from harness.testing.loopback.server import LoopbackServer

log = logging.getLogger("harness.testing.loopback")

RENDERERS: dict[str, type[Renderer]] = {
    "openai": openai.OpenAIRenderer,
    "anthropic": anthropic.AnthropicRenderer,
    "gemini": gemini.GeminiRenderer,
    "gemini_legacy": gemini_legacy.LegacyGeminiRenderer,
}
_AUTH_ERRORS = {"openai": openai.auth_error, "anthropic": anthropic.auth_error}
_MODELS = {"openai": openai.models_body, "anthropic": anthropic.models_body, "gemini": gemini.models_body}


def strict_check(route: str, protocol: str, body: Any, headers: dict[str, str], extra: dict) -> Rejection | None:
    """What the real API of this protocol would refuse in this request (None: accepted)."""
    if protocol == "openai":
        return openai.check(body, completions=bool(extra.get("completions")))
    if protocol == "anthropic":
        return anthropic.check(body, headers)
    if route == "generate":
        return gemini.check(body, extra.get("model", ""))
    return None


class HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256

    owner: LoopbackServer

    def handle_error(self, request, client_address):  # noqa: D401 - quiet on client disconnects
        log.debug("loopback: error while handling a request from %s", client_address, exc_info=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, every reused keep-alive connection
    # stalls ~40 ms waiting for the client's delayed ACK. Real servers send with TCP_NODELAY too.
    disable_nagle_algorithm = True
    server_version = "LoopbackLLM/1.0"
    sys_version = ""

    server: HTTPServer

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
        except (OSError, Stopped, Dropped):
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

    def wait(self, seconds: float | None) -> None:
        if seconds and seconds > 0:
            if self.server.owner._stopping.wait(seconds):
                raise Stopped()
        elif self.server.owner._stopping.is_set():
            raise Stopped()

    def _send_headers(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            if v is not None:
                self.send_header(k, str(v))
        self.end_headers()

    @staticmethod
    def _merge_headers(base: dict[str, str], extra: dict[str, str] | None) -> dict[str, str]:
        out = {k.lower(): v for k, v in base.items()}
        for k, v in (extra or {}).items():
            out[k.lower()] = v
        return out

    def send_bytes(self, status: int, data: bytes, content_type: str, extra: dict[str, str] | None = None,
                   base: dict[str, str] | None = None) -> None:
        headers = self._merge_headers({**(base or {}), "content-type": content_type}, extra)
        headers["content-length"] = str(len(data))
        self._send_headers(status, headers)
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def send_json(self, status: int, obj: Any, extra: dict[str, str] | None = None,
                  base: dict[str, str] | None = None) -> None:
        self.send_bytes(status, json.dumps(obj).encode(), "application/json", extra, base)

    def start_stream(self, status: int, content_type: str, extra: dict[str, str] | None,
                     base: dict[str, str] | None = None) -> None:
        headers = self._merge_headers({**(base or {}), "content-type": content_type,
                                       "cache-control": "no-cache", "transfer-encoding": "chunked"}, extra)
        headers.pop("content-length", None)
        self._send_headers(status, headers)
        self.wfile.flush()

    def write_chunk(self, data: bytes) -> None:
        if self.server.owner._stopping.is_set():
            raise Stopped()
        if not data:
            return
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_stream(self) -> None:
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
                    while True:  # trailers until blank line
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

        # The batch APIs (harness/testing/loopback/batches/) claim their own paths first.
        if batches.dispatch(self, owner, self.command, path, query, headers, raw, body):
            return
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
        req = LoggedRequest(protocol=protocol, method=self.command, path=path, query=query, headers=headers,
                            body=body, raw_body=raw, stream=stream, received_at=time.monotonic(),
                            retry_count=retry_count)
        owner._log(req)

        if route == "unknown":
            self.send_json(404, {"error": {"code": 404, "message": f"loopback: no route for {self.command} {path}",
                                           "status": "NOT_FOUND", "type": "not_found_error"}})
            return
        if not owner._auth_ok(headers, query):
            status, obj, base = _AUTH_ERRORS.get(protocol, gemini.auth_error)()
            self.send_json(status, obj, base=base)
            return
        if route == "models":
            self.send_json(200, _MODELS.get(protocol, gemini.models_body)(list(owner.models), extra.get("id")))
            return
        renderer_cls = RENDERERS[protocol]
        if self.command != "POST":
            r = renderer_cls(self, req, Scripted(kind="error", message="Method not allowed"), extra)
            self.send_json(405, r.error_body(405, r.s))
            return
        if owner.strict:
            rejection = strict_check(route, protocol, body, headers, extra)
            if rejection is not None:
                req.rejected = rejection.message
                renderer_cls(self, req, Scripted(), extra).send_rejection(rejection)
                return
        scripted = owner._next_scripted(req)
        try:
            renderer_cls(self, req, scripted, extra).render()
        except Dropped:
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
        m = GEMINI_RE.search(path)
        if m:
            action = m.group("action")
            qs = parse_qs(decoded_q.replace(";", "&"))
            legacy = gemini_legacy.is_legacy(qs, action)
            return "generate", ("gemini_legacy" if legacy else "gemini"), {
                "model": strip_models_prefix(m.group("model")), "action": action}
        if self.command == "GET":
            is_google = "x-goog-api-key" in headers or "key=" in query or "/v1beta/" in path + "/" \
                or "x-goog-api-client" in headers
            is_anthropic = "anthropic-version" in headers
            proto = "gemini" if is_google else "anthropic" if is_anthropic else "openai"
            if path.endswith("/models"):
                return "models", proto, {}
            mg = MODEL_GET_RE.search(path)
            if mg:
                return "models", proto, {"id": mg.group("id")}
        return "unknown", "unknown", {}
