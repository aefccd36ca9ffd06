"""The loopback server object (lifecycle, scripting queue, request log) and its command line.

Run it by hand with ``python -m harness.testing.loopback --port 8999``.
"""
from __future__ import annotations

import argparse
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from harness.testing.loopback.handler import Handler, HTTPServer
from harness.testing.loopback.rules import preload
from harness.testing.loopback.scripting import PROTOCOLS, LoggedRequest, Scripted, last_user_text

log = logging.getLogger("harness.testing.loopback")


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 speaking the providers' protocols.

    ``api_key=None`` accepts any key (or none). ``port=0`` picks a free port. ``strict=True`` (the
    default) refuses requests the real APIs refuse, with the real error shape, so an adapter that
    drifts from the API fails its tests; ``strict=False`` accepts anything well-routed.
    """

    def __init__(self, api_key: str | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 models: Iterable[str] = ("loopback-model",), strict: bool = True) -> None:
        self.api_key = api_key
        #: Refuse what the real APIs refuse (provider-wire.md section 12). Off only for a test that
        #: needs to send something the real API would reject.
        self.strict = strict
        self.host = host
        self.port = port
        self.models: list[str] = list(models)
        self.responder: Callable[[LoggedRequest], Scripted | None] | None = None
        self.default: Scripted | None = None
        self._lock = threading.Lock()
        self._queue: list[tuple[str | None, Scripted]] = []
        self._requests: list[LoggedRequest] = []
        #: Per provider kind, the state of its batch API (harness/testing/loopback/batches/).
        self.batch_state: dict[str, Any] = {}
        self._conns: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    def start(self) -> LoopbackServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        if self.strict:
            preload()
        httpd = HTTPServer((self.host, self.port), Handler)
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
        return Scripted(text="echo: " + last_user_text(req.protocol, req.body))


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
    p.add_argument("--lenient", action="store_true",
                   help="accept requests the real APIs would refuse (default: strict, like the real APIs)")
    args = p.parse_args(argv)

    srv = LoopbackServer(api_key=args.api_key, host=args.host, port=args.port, strict=not args.lenient)
    if args.text is not None or args.first_chunk_delay or args.chunk_delay or args.delay:
        def responder(req: LoggedRequest) -> Scripted:
            text = args.text if args.text is not None else "echo: " + last_user_text(req.protocol, req.body)
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
