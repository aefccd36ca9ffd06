"""The part of rendering one `Scripted` response that every protocol shares.

Each wire protocol subclasses `Renderer` in its own module (openai, anthropic, gemini,
gemini_legacy) and supplies `error_body`, `render_json` and `render_stream`; this base handles the
kinds that look the same everywhere (delays, dropped and hung connections, raw bodies, HTTP errors)
and the token bookkeeping, so that usage adds up the same way in all four protocols.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from harness.testing.loopback.scripting import (
    DEFAULT_MALFORMED_BODY,
    DEFAULT_REASONING_BUDGET,
    Dropped,
    LoggedRequest,
    Rejection,
    Scripted,
    all_text,
    split_text,
    words,
)

if TYPE_CHECKING:
    from harness.testing.loopback.handler import Handler


class Renderer:
    """Renders one Scripted response for one request. Subclasses: one per wire protocol."""

    protocol = ""
    #: Scripted kinds this protocol cannot express, mapped onto the nearest one it can.
    kind_map: dict[str, str] = {}

    def __init__(self, h: Handler, req: LoggedRequest, s: Scripted, extra: dict) -> None:
        self.h = h
        self.req = req
        self.s = s
        body = req.body if isinstance(req.body, dict) else {}
        requested = body.get("model") if isinstance(body.get("model"), str) else extra.get("model")
        self.model = s.model or requested or "loopback-model"
        self.in_tok = s.input_tokens if s.input_tokens is not None else max(1, words(all_text(req.protocol, body)))
        self.body = body
        self.extra = extra

    # -- for subclasses --

    def error_body(self, status: int, s: Scripted) -> dict:
        raise NotImplementedError

    def rejection_body(self, r: Rejection) -> dict:
        raise NotImplementedError

    def render_json(self) -> None:
        raise NotImplementedError

    def render_stream(self) -> None:
        raise NotImplementedError

    def base_headers(self) -> dict[str, str]:
        return {}

    def requested_budget(self) -> int | None:
        """The output-token budget the request set (None: the provider's default)."""
        return None

    # -- token bookkeeping --

    def out_tokens(self, text: str) -> int:
        """Visible output tokens."""
        return self.s.output_tokens if self.s.output_tokens is not None else words(text)

    def exhausted(self) -> bool:
        return self.s.reasoning_exhausts_budget

    def visible_text(self) -> str:
        """The answer text: none at all when hidden reasoning ate the whole budget."""
        return "" if self.exhausted() else self.s.text

    def reasoning_tokens(self) -> int:
        """Hidden reasoning tokens: the whole budget when it was exhausted, else as scripted."""
        s = self.s
        if self.exhausted():
            return self.requested_budget() or DEFAULT_REASONING_BUDGET
        if s.reasoning_tokens is not None:
            return s.reasoning_tokens
        return words(s.thinking or "")

    def cached_tokens(self) -> int:
        return min(self.s.cached_tokens or 0, self.in_tok)

    def effective_kind(self) -> str:
        """Map a kind onto what this protocol can express; an exhausted budget is a truncation."""
        k = self.kind_map.get(self.s.kind, self.s.kind)
        if self.exhausted() and k == "reply":
            return "truncated"
        return k

    def pieces(self, text: str) -> list[str]:
        return split_text(text, self.s.chunks)

    # -- entry --

    def send_rejection(self, r: Rejection) -> None:
        self.h.send_json(r.status, self.rejection_body(r), None, self.base_headers())

    def render(self) -> None:
        s, h = self.s, self.h
        h.wait(s.delay_s)
        kind = s.kind
        if kind == "drop":
            raise Dropped()
        if kind == "hang":
            # delay_s already elapsed: drop now. With no delay, hang until the server stops.
            if not s.delay_s:
                h.wait(365 * 24 * 3600.0)
            raise Dropped()
        if s.body is not None:
            self.render_raw(s.body, s.status or 200)
            return
        if kind == "malformed":
            self.render_raw(DEFAULT_MALFORMED_BODY, s.status or 200, default_ct="text/html; charset=utf-8")
            return
        if kind == "error" or (kind == "stream_error" and not self.req.stream):
            status = s.status or self.default_error_status(kind)
            h.send_json(status, self.error_body(status, s), s.headers, self.base_headers())
            return
        if self.req.stream:
            self.render_stream()
        else:
            self.render_json()

    def default_error_status(self, kind: str) -> int:
        return 503 if kind == "stream_error" else 500

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
        self.h.send_bytes(status, data, ct, self.s.headers, self.base_headers())
