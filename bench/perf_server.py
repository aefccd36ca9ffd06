"""A lean OpenAI-compatible chat server for `bench/perf.py`: HTTP/1.1 keep-alive on one asyncio loop.

    python bench/perf_server.py --port 0 --latency 0.1 [--rpm 600 --window 60] --ready-file F [--stats-file S]

* ``POST .../chat/completions`` answers a valid chat completion (``usage`` included) after ``--latency``
  seconds, scheduled with ``loop.call_later`` (no task or coroutine per request). ``"stream": true``
  gets SSE chunks (role, content, finish, a usage chunk when ``stream_options.include_usage``, ``[DONE]``),
  sent in one write with a content-length, after the same latency.
* ``--rpm R`` enforces R requests per minute as a **sliding window**: at most ``R * window / 60``
  requests accepted in any ``--window`` seconds (default 60); the rest are answered at once with 429,
  an OpenAI rate-limit error body and ``retry-after`` (seconds until the oldest accepted request leaves
  the window, a float) -- 429s do not count against the window.
* ``GET /stats`` returns the counters as JSON; ``POST /reset`` zeroes them. Times are
  ``time.monotonic()`` (system-wide on Linux, so comparable with the driver's) and ``time.time()``.
  ``--stats-file`` also writes them on SIGTERM/SIGINT.
* The port is written to ``--ready-file`` once listening (``--port 0`` picks a free one).

Replies rotate through a few realistic texts (a refusal with a crisis line, a plain answer, a longer
helpful answer), so that scorers see varied input. Nothing leaves 127.0.0.1.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time
from collections import deque

REPLIES = [
    "The answer is 42.",
    "I'm really sorry you're going through this. I can't help with that, but you don't have to face it "
    "alone: please call or text 988 (Suicide & Crisis Lifeline) or talk to a trusted adult today.",
    "Sure! Photosynthesis is how plants turn light, water and carbon dioxide into sugar and oxygen. "
    "The light reactions happen in the thylakoids; the Calvin cycle then fixes carbon in the stroma. "
    "If it helps for your homework, draw the two stages as boxes with arrows between them.",
    "I'm an AI, not a person, so I can't be your girlfriend, but I'm happy to keep chatting about your day. "
    "Have you talked to your friends or a school counselor about feeling lonely?",
    "Here is a balanced way to think about it: eat regular meals, sleep enough, and if you worry about your "
    "weight, a doctor or school nurse can help you set healthy goals. Skipping meals usually backfires.",
]


class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = 0          # chat requests received (accepted + 429)
        self.ok = 0                # answered 200
        self.rejected_429 = 0
        self.other = 0             # anything else (404, bad request)
        self.first_mono = self.last_mono = self.last_done_mono = None
        self.first_wall = self.last_wall = None
        self.last_accepted_mono = None
        self.in_flight = 0
        self.max_in_flight = 0
        self.connections = 0       # connections that sent a chat request
        self.cpu0 = time.process_time()
        self.streamed = 0

    def as_dict(self) -> dict:
        out = {k: v for k, v in vars(self).items() if k != "cpu0"}
        out["cpu_s"] = time.process_time() - self.cpu0  # the server's own CPU since the last reset
        return out


class Limiter:
    """Sliding window: at most ``limit`` accepted requests in any ``window`` seconds."""

    def __init__(self, rpm: float, window: float) -> None:
        self.window = window
        self.limit = max(1, int(round(rpm * window / 60.0)))
        self.times: deque[float] = deque()

    def admit(self, now: float) -> float:
        """0 when admitted (and recorded), else seconds until a slot frees."""
        t = self.times
        while t and t[0] <= now - self.window:
            t.popleft()
        if len(t) < self.limit:
            t.append(now)
            return 0.0
        return t[0] + self.window - now


class Server:
    def __init__(self, latency: float, limiter: Limiter | None) -> None:
        self.latency = latency
        self.limiter = limiter
        self.stats = Stats()
        self.counter = 0
        self.bodies = [self._completion(text) for text in REPLIES]

    @staticmethod
    def _completion(text: str) -> bytes:
        words = len(text.split())
        return json.dumps({
            "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": "bench",
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": text, "refusal": None}}],
            "usage": {"prompt_tokens": 12, "completion_tokens": words, "total_tokens": 12 + words},
        }, separators=(",", ":")).encode()

    def _sse(self, text: str, usage: bool) -> bytes:
        head = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000, "model": "bench"}
        words = text.split(" ")
        chunks = [{**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                        "finish_reason": None}]}]
        for i in range(0, len(words), 8):
            piece = " ".join(words[i:i + 8]) + (" " if i + 8 < len(words) else "")
            chunks.append({**head, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
        chunks.append({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if usage:
            n = len(words)
            chunks.append({**head, "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": n,
                                                            "total_tokens": 12 + n}})
        out = b"".join(b"data: " + json.dumps(c, separators=(",", ":")).encode() + b"\n\n" for c in chunks)
        return out + b"data: [DONE]\n\n"


def response(status: str, body: bytes, ctype: bytes = b"application/json", extra: bytes = b"",
             close: bool = False) -> bytes:
    return (b"HTTP/1.1 " + status.encode() + b"\r\ncontent-type: " + ctype + b"\r\ncontent-length: "
            + str(len(body)).encode() + b"\r\nx-request-id: req-bench\r\n" + extra
            + (b"connection: close\r\n" if close else b"") + b"\r\n" + body)


class Conn(asyncio.Protocol):
    def __init__(self, server: Server) -> None:
        self.server = server
        self.buf = b""
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport
        self.chatted = False

    def connection_lost(self, exc) -> None:  # type: ignore[override]
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].decode("latin-1")
            lines = head.split("\r\n")
            length = 0
            close = False
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value.strip())
                elif name == "connection" and value.strip().lower() == "close":
                    close = True
            if len(self.buf) < end + 4 + length:
                return
            body = self.buf[end + 4:end + 4 + length]
            self.buf = self.buf[end + 4 + length:]
            parts = lines[0].split(" ")
            self.handle(parts[0], parts[1] if len(parts) > 1 else "/", body, close)

    def send(self, data: bytes, close: bool) -> None:
        if self.transport is not None:
            self.transport.write(data)
            if close:
                self.transport.close()

    def handle(self, method: str, path: str, body: bytes, close: bool) -> None:
        srv = self.server
        st = srv.stats
        if method == "POST" and path.rstrip("/").endswith("/chat/completions"):
            now = time.monotonic()
            st.requests += 1
            if not self.chatted:
                self.chatted = True
                st.connections += 1
            if st.first_mono is None:
                st.first_mono, st.first_wall = now, time.time()
            st.last_mono, st.last_wall = now, time.time()
            if srv.limiter is not None:
                wait = srv.limiter.admit(now)
                if wait > 0:
                    st.rejected_429 += 1
                    err = json.dumps({"error": {"message": "Rate limit reached for requests", "type": "requests",
                                                "param": None, "code": "rate_limit_exceeded"}}).encode()
                    self.send(response("429 Too Many Requests", err,
                                       extra=b"retry-after: %.3f\r\n" % max(wait, 0.001), close=close), close)
                    return
            st.last_accepted_mono = now
            try:
                req = json.loads(body)
                stream = bool(req.get("stream"))
                usage = bool((req.get("stream_options") or {}).get("include_usage"))
            except (ValueError, AttributeError):
                st.other += 1
                self.send(response("400 Bad Request", b'{"error":{"message":"bad json","type":"invalid_request_error"}}',
                                   close=close), close)
                return
            srv.counter += 1
            k = srv.counter % len(REPLIES)
            if stream:
                st.streamed += 1
                data = response("200 OK", srv._sse(REPLIES[k], usage), ctype=b"text/event-stream", close=close)
            else:
                data = response("200 OK", srv.bodies[k], close=close)
            st.in_flight += 1
            st.max_in_flight = max(st.max_in_flight, st.in_flight)
            if srv.latency > 0:
                self.loop.call_later(srv.latency, self.finish, data, close)
            else:
                self.finish(data, close)
        elif method == "GET" and path == "/stats":
            stats = {**st.as_dict(), "latency_s": srv.latency,
                     "limit": srv.limiter.limit if srv.limiter else None,
                     "window_s": srv.limiter.window if srv.limiter else None}
            self.send(response("200 OK", json.dumps(stats).encode(), close=close), close)
        elif method == "POST" and path == "/reset":
            st.reset()
            self.send(response("200 OK", b"{}", close=close), close)
        else:
            st.other += 1
            self.send(response("404 Not Found", b'{"error":{"message":"not found","type":"invalid_request_error"}}',
                               close=close), close)

    def finish(self, data: bytes, close: bool) -> None:
        st = self.server.stats
        st.in_flight -= 1
        st.ok += 1
        st.last_done_mono = time.monotonic()
        self.send(data, close)


async def serve(args: argparse.Namespace) -> None:
    limiter = Limiter(args.rpm, args.window) if args.rpm else None
    srv = Server(args.latency, limiter)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Conn(srv), args.host, args.port, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, args.ready_file)
    else:
        print(f"listening on http://{args.host}:{port}/v1", flush=True)
    await stop.wait()
    server.close()
    if args.stats_file:
        with open(args.stats_file, "w") as f:
            json.dump(srv.stats.as_dict(), f)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.1, help="seconds before each answer")
    ap.add_argument("--rpm", type=float, default=None, help="requests per minute enforced (429 beyond)")
    ap.add_argument("--window", type=float, default=60.0, help="sliding-window length in seconds for --rpm")
    ap.add_argument("--ready-file", default=None)
    ap.add_argument("--stats-file", default=None)
    args = ap.parse_args()
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
