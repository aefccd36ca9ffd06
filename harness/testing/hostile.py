"""A deliberately hostile OpenAI-style chat server, for the reliability tests (issue 22).

The loopback server (harness/testing/loopback.py) imitates well-behaved providers; this one sends
what a broken or malicious endpoint can: bodies written byte by byte (a trickle that never trips a
per-read timeout), bodies of any size generated on the fly (never held in memory), and reply text
given as raw JSON, so lone surrogates (``\\ud800``), noncharacters and invalid UTF-8 reach the SDK
exactly as a server would send them. Requests are answered in the OpenAI Chat Completions shape,
streamed (SSE) when the request asks for it.

    with HostileServer(Hostile(content_json='"a\\\\ud800b"')) as srv:
        ... base_url=srv.base_url ...
"""
from __future__ import annotations

import json
import threading
import time
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Hostile:
    """What every request gets.

    content_json: the reply text as a JSON string literal, written into the body as it is (so it may
      hold escapes no Python str can round-trip, e.g. ``"\\ud800"``).
    content_bytes: raw bytes spliced into the content string instead (invalid UTF-8, say).
    huge_bytes: a reply whose content is this many bytes of 'x', generated while it is sent.
    declare_length: send a Content-Length header (non-streamed replies).
    trickle_s: seconds between single bytes of the body (0: send at once).
    """

    content_json: str = '"hello"'
    content_bytes: bytes | None = None
    huge_bytes: int = 0
    declare_length: bool = True
    trickle_s: float = 0.0


_CHUNK = 64 * 1024


def _pieces(h: Hostile) -> list[bytes]:
    if h.content_bytes is not None:
        return [b'"', h.content_bytes, b'"']
    return [h.content_json.encode("utf-8")]


def _xs(n: int):
    """n bytes of 'x' in chunks, made as they are sent (a huge body is never in memory)."""
    for i in range(0, n, _CHUNK):
        yield b"x" * min(_CHUNK, n - i)


def _json_parts(h: Hostile, model: str) -> tuple[Iterable[bytes], int]:
    head = ('{"id":"chatcmpl-h","object":"chat.completion","created":1,"model":%s,"choices":[{"index":0,'
            '"message":{"role":"assistant","content":' % json.dumps(model)).encode()
    tail = b'},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}'
    if h.huge_bytes:
        return itertools.chain([head, b'"'], _xs(h.huge_bytes), [b'"', tail]), len(head) + h.huge_bytes + 2 + len(tail)
    body = [head, *_pieces(h), tail]
    return body, sum(map(len, body))


def _sse_parts(h: Hostile, model: str) -> Iterable[bytes]:
    def event(delta: bytes, finish: str | None) -> bytes:
        return (b'data: {"id":"chatcmpl-h","object":"chat.completion.chunk","created":1,"model":'
                + json.dumps(model).encode() + b',"choices":[{"index":0,"delta":' + delta
                + b',"finish_reason":' + json.dumps(finish).encode() + b'}]}\n\n')

    yield event(b'{"role":"assistant","content":""}', None)
    if h.huge_bytes:
        for xs in _xs(h.huge_bytes):
            yield event(b'{"content":"' + xs + b'"}', None)
    else:
        yield event(b'{"content":' + b"".join(_pieces(h)) + b"}", None)
    yield event(b"{}", "stop")
    yield b"data: [DONE]\n\n"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        server: HostileServer = self.server.owner  # type: ignore[attr-defined]
        with server.lock:
            server.requests += 1
        h = server.plan(request) if callable(server.plan) else server.plan
        model = str(request.get("model", "m"))
        try:
            if request.get("stream"):
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                self._send(_sse_parts(h, model), h.trickle_s)
            else:
                parts, size = _json_parts(h, model)
                self.send_response(200)
                self.send_header("content-type", "application/json")
                if h.declare_length:
                    self.send_header("content-length", str(size))
                self.send_header("connection", "close")
                self.end_headers()
                self._send(parts, h.trickle_s)
        except (BrokenPipeError, ConnectionResetError):
            pass   # the client gave up (its deadline, its size bound): that is the point
        self.close_connection = True

    def _send(self, parts: Iterable[bytes], trickle_s: float) -> None:
        server: HostileServer = self.server.owner  # type: ignore[attr-defined]
        for part in parts:
            if not trickle_s:
                self.wfile.write(part)
                continue
            for i in range(len(part)):
                if server.stopping.is_set():
                    return
                self.wfile.write(part[i:i + 1])
                self.wfile.flush()
                server.stopping.wait(trickle_s)


class HostileServer:
    def __init__(self, plan: "Hostile | Callable[[dict], Hostile]") -> None:
        """`plan`: what every request gets, or a function of the request's JSON body that says."""
        self.plan = plan
        self.requests = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> "HostileServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def wait_until(predicate, timeout_s: float = 10.0) -> bool:
    """Poll `predicate` until true or the timeout (for tests that watch another process)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
