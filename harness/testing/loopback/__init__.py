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

Strict by default: each server refuses what the real API of late 2026 refuses (sampling fields
under Anthropic's 2026-10-21 API version, ``max_tokens`` and non-default temperature on OpenAI
reasoning models, unknown ``generationConfig`` fields and misplaced thinking settings on Gemini),
with the real error shape; ``LoopbackServer(strict=False)`` is the escape hatch for a test that must
send something the real API would reject. Replies can carry thinking blocks, thought parts,
reasoning and cached-token usage, every finish/stop reason, and a reported model other than the one
requested (see `Scripted`).

Modules: ``scripting`` (Scripted, LoggedRequest, text helpers), ``server`` (LoopbackServer, main),
``handler`` (HTTP routing and writers), ``render`` (what all protocols share), one module per wire
protocol (``openai``, ``anthropic``, ``gemini``, ``gemini_legacy``), and ``rules`` with
``wire_rules.yaml`` (what the real APIs refuse, and the SDK-derived field sets).

Run standalone for manual testing: ``python -m harness.testing.loopback --port 8999``.
"""
from __future__ import annotations

from harness.testing.loopback.scripting import KINDS, PROTOCOLS, LoggedRequest, Scripted
from harness.testing.loopback.server import LoopbackServer, main

__all__ = ["LoopbackServer", "Scripted", "LoggedRequest", "PROTOCOLS", "KINDS", "main"]
