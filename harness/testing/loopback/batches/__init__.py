"""Batch APIs on the loopback server: one module per provider (`openai.py`: /v1/files + /v1/batches;
`anthropic.py`: /v1/messages/batches; `gemini.py`: the batches of google-genai), each registering a
route function with `@batch_route`.

A route function is called for every request before the chat routes: it returns False when the path is
not its own, or handles the request fully (auth, strict checks, the provider's error shapes) and returns
True; it logs what it handled with `server._log(LoggedRequest(...))` like the chat routes. Batch state (files, batches, scripted expiry, duplicates, reordering, per-request errors) lives in
`server.batch_state[kind]`, so tests can script and inspect it. Each request in a batch is answered by
the server's normal scripting (queue, responder, default), as a non-streamed request of that protocol
would be, so fake providers with known behaviour behave the same through a batch.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

#: (handler, server, method, path, query, headers, raw body, parsed body) -> handled?
BatchRoute = Callable[[Any, Any, str, str, str, dict[str, str], bytes, Any], bool]

_ROUTES: list[BatchRoute] = []
_loaded = False


def batch_route(fn: BatchRoute) -> BatchRoute:
    _ROUTES.append(fn)
    return fn


def dispatch(handler: Any, server: Any, method: str, path: str, query: str, headers: dict[str, str],
             raw: bytes, body: Any) -> bool:
    """Give the request to the provider batch module whose route it is; False when none claims it."""
    global _loaded
    if not _loaded:
        for name in ("openai", "anthropic", "gemini"):
            try:
                importlib.import_module(f"{__name__}.{name}")
            except ModuleNotFoundError as err:
                if err.name != f"{__name__}.{name}":
                    raise
        _loaded = True
    return any(route(handler, server, method, path, query, headers, raw, body) for route in _ROUTES)
