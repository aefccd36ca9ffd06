"""Gemini through the deprecated google-generativeai REST transport on the loopback server.

It talks to the same generateContent API as google-genai (so the same strict checks apply, see
gemini.py); what differs is the wire: requests carry `$alt=json;enum-encoding=int`, and streaming is
one chunked JSON array, not SSE (an SSE body makes the SDK raise "Can only parse array of JSON
objects", provider-wire.md section 5.2).
"""
from __future__ import annotations

import json

from harness.testing.loopback.gemini import GeminiRenderer


class LegacyGeminiRenderer(GeminiRenderer):
    protocol = "gemini_legacy"

    def render_stream(self) -> None:
        h, s = self.h, self.s
        chunks, error = self.objects()
        if error is not None:
            chunks = chunks + [error]
        h.start_stream(200, "application/json; charset=UTF-8", s.headers, self.base_headers())
        h.write_chunk(b"[")
        h.wait(s.first_chunk_delay_s)
        for i, obj in enumerate(chunks):
            if i:
                h.wait(s.chunk_delay_s)
            h.write_chunk((b",\r\n" if i else b"") + json.dumps(obj).encode())
        h.write_chunk(b"]")
        h.end_stream()


def is_legacy(query: dict[str, list[str]], action: str) -> bool:
    """Whether a generate request came from the legacy SDK: it asks for `$alt=json`, and it streams
    without `alt=sse`."""
    return "$alt" in query or (action == "streamGenerateContent" and "sse" not in query.get("alt", []))
