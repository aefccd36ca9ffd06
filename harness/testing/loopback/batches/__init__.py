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

#: Asked in this order, whatever order the modules were imported in: Gemini's and Anthropic's routes
#: claim only requests shaped like theirs (Google's key or client headers, /v1/messages/batches), while
#: OpenAI's claims every /v1/files and /v1/batches path, which google-genai 3.x also uses.
ORDER = ("gemini", "anthropic", "openai")

_ROUTES: dict[str, BatchRoute] = {}
_loaded = False


def batch_route(fn: BatchRoute) -> BatchRoute:
    _ROUTES[fn.__module__.rsplit(".", 1)[-1]] = fn
    return fn


def dispatch(handler: Any, server: Any, method: str, path: str, query: str, headers: dict[str, str],
             raw: bytes, body: Any) -> bool:
    """Give the request to the provider batch module whose route it is; False when none claims it."""
    global _loaded
    if not _loaded:
        for name in ORDER:
            try:
                importlib.import_module(f"{__name__}.{name}")
            except ModuleNotFoundError as err:
                if err.name != f"{__name__}.{name}":
                    raise
        _loaded = True
    routes = [_ROUTES[n] for n in ORDER if n in _ROUTES] + [r for n, r in _ROUTES.items() if n not in ORDER]
    return any(route(handler, server, method, path, query, headers, raw, body) for route in routes)
