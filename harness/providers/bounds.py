"""Bounds on what a provider controls: how long one reply may take and how many bytes it may be.

The SDKs' own `timeout` is per read: a server that sends one byte a second never trips it, and a
sample hung that way holds its slot (and the run) forever. Nor does anything stop a 200 MiB body:
it was read whole, parsed, stored in the results and again in the cache, and embedded in a report
no browser could open. Two settings per provider bound both (defaults below, README "Reliability"):

* ``reply_timeout_s``: one attempt, from sending the request to its last byte. An attempt past it
  ends the sample as ``error/timeout`` naming the bound. It is not retried: a server that trickles
  would otherwise hold the sample for attempts x the deadline.
* ``max_reply_bytes``: bytes of one response body. For the httpx-based SDKs (OpenAI, Anthropic,
  Gemini) a response hook (:func:`capping_hook`) stops reading at the bound, so memory stays bounded; for every
  provider the finished reply's text is checked too. Either ends the sample as ``error/too_large``
  with the figure. Not retried: the same request gets the same answer.
"""
from __future__ import annotations

from typing import Any

DEFAULT_REPLY_TIMEOUT_S = 300.0
DEFAULT_MAX_REPLY_BYTES = 4 * 1024 * 1024


class ReplyTooLarge(Exception):
    """A response body passed max_reply_bytes (raised inside the SDK's read; mapped by the base class)."""

    def __init__(self, limit: int, seen: int, declared: bool = False) -> None:
        self.limit, self.seen, self.declared = limit, seen, declared
        what = f"declares {seen:,} bytes" if declared else f"passed {seen:,} bytes"
        super().__init__(f"reply too large: the response body {what}, over max_reply_bytes={limit:,}")


def too_large_in(exc: BaseException | None) -> ReplyTooLarge | None:
    """The ReplyTooLarge an SDK wrapped (as __cause__ or __context__) in its own error, if any."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, ReplyTooLarge):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _http_library(client_class: Any = None):
    """The httpx-like package a client class comes from (the SDKs of late 2026 use the httpx2 fork)."""
    import importlib

    for cls in getattr(client_class, "__mro__", ()):
        package = (cls.__module__ or "").split(".")[0]
        if package in ("httpx2", "httpx"):
            return importlib.import_module(package)
    try:
        return importlib.import_module("httpx2")
    except ImportError:
        return importlib.import_module("httpx")


def capping_hook(max_bytes: int, client_class: Any = None):
    """An httpx response event hook that bounds the body: a declared Content-Length over `max_bytes`
    is refused before reading, and the body stream stops the moment it passes `max_bytes`. A hook,
    not a transport: the client keeps its own transports (proxies from the environment included).
    `client_class` says which httpx package (httpx or httpx2) the client that runs it is from."""
    httpx = _http_library(client_class)

    class _CappedStream(httpx.AsyncByteStream):
        def __init__(self, inner: Any) -> None:
            self.inner, self.seen = inner, 0

        async def __aiter__(self):
            async for chunk in self.inner:
                self.seen += len(chunk)
                if self.seen > max_bytes:
                    raise ReplyTooLarge(max_bytes, self.seen)
                yield chunk

        async def aclose(self) -> None:
            await self.inner.aclose()

    async def hook(response: httpx.Response) -> None:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise ReplyTooLarge(max_bytes, int(declared), declared=True)
        response.stream = _CappedStream(response.stream)

    return hook


def capped_async_client(max_bytes: int, client_class: Any = None, **kwargs: Any):
    """An httpx.AsyncClient (the SDK's own default class when given, which keeps the SDK's timeouts,
    connection limits and redirect settings) whose response bodies are bounded by `max_bytes`."""
    cls = client_class or _http_library().AsyncClient
    return cls(event_hooks={"response": [capping_hook(max_bytes, cls)]}, **kwargs)


def text_bytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))
