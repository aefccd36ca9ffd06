"""What a test scripts and what the server logs: `Scripted`, `LoggedRequest`, and the text helpers
every protocol module shares (token counts, chunking, prompt text).

Kept apart from the HTTP plumbing so that the protocol modules can import it without a cycle.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

PROTOCOLS = ("openai", "anthropic", "gemini", "gemini_legacy")
KINDS = (
    "reply",
    "refusal",
    "content_filter",
    "block",
    "safety_stop",
    "truncated",
    "error",
    "malformed",
    "drop",
    "hang",
    "stream_error",
)

DEFAULT_MALFORMED_BODY = b"<html><body><h1>502 Bad Gateway</h1>loopback: not JSON</body></html>"

#: The budget assumed when a request names none and `reasoning_exhausts_budget` is scripted.
DEFAULT_REASONING_BUDGET = 4096


@dataclass
class Scripted:
    """One scripted response, rendered in the protocol of whichever request consumes it.

    ``kind`` picks the shape (a reply, a refusal, a block, an HTTP error, a dropped connection, ...);
    the other fields fill it in. Reasoning fields model what today's thinking models return:

    * ``thinking``: reasoning text shown to the client (an Anthropic ``thinking`` block, a Gemini
      ``"thought": true`` part when the request asks for thoughts); OpenAI never shows it.
    * ``redacted_thinking``: an Anthropic ``redacted_thinking`` block as well.
    * ``reasoning_tokens``: hidden reasoning tokens billed as output (default: the words of ``thinking``).
    * ``reasoning_exhausts_budget``: reasoning used the whole output budget of the request, so the
      visible text is empty and the reply ends ``length`` / ``max_tokens`` / ``MAX_TOKENS``.
    * ``cached_tokens``: input tokens served from the prompt cache.
    * ``model``: the model the response says served it (``model`` / ``modelVersion``), which may
      differ from the one requested, as when a retired model is routed to its successor.
    """

    kind: str = "reply"
    text: str = "hello"
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retry_delay: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    message: str | None = None
    block_reason: str = "SAFETY"
    category: str | None = None
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    model: str | None = None
    delay_s: float = 0.0
    first_chunk_delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    chunks: int | None = None
    body: str | bytes | dict | list | None = None
    thinking: str | None = None
    redacted_thinking: bool = False
    reasoning_tokens: int | None = None
    reasoning_exhausts_budget: bool = False
    cached_tokens: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown Scripted kind {self.kind!r}; expected one of {KINDS}")
        if self.chunks is not None and self.chunks < 1:
            raise ValueError("chunks must be >= 1")
        for name in ("reasoning_tokens", "cached_tokens", "input_tokens", "output_tokens"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0")


@dataclass
class LoggedRequest:
    """One request as the server received it.

    ``rejected`` holds the reason when strict checking refused the request the way the real API
    would (None when it was accepted), so a test can see why its client got a 400.
    """

    protocol: str  # "openai" | "anthropic" | "gemini" | "gemini_legacy" | "unknown"
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    raw_body: bytes
    stream: bool
    received_at: float
    retry_count: int = 0
    rejected: str | None = None

    @property
    def model(self) -> str | None:
        """The model the request asked for (from the body, or the Gemini path)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("model"), str):
            return self.body["model"]
        m = GEMINI_RE.search(self.path)
        if m:
            return strip_models_prefix(m.group("model"))
        return None


class Stopped(Exception):
    """Raised inside a handler when the server is stopping."""


class Dropped(Exception):
    """Raised inside a handler to close the connection without (further) response."""


GEMINI_RE = re.compile(r"(?P<model>(?:models|tunedModels)/[^:/]+):(?P<action>generateContent|streamGenerateContent)$")
MODEL_GET_RE = re.compile(r"/models/(?P<id>[^/:]+)$")


def strip_models_prefix(name: str) -> str:
    return name.split("/", 1)[1] if name.startswith("models/") else name


def words(text: str) -> int:
    """Token count stand-in: whitespace-separated words (stable and easy to assert on)."""
    return len(re.findall(r"\S+", text or ""))


def split_text(text: str, chunks: int | None) -> list[str]:
    """Pieces whose concatenation is exactly ``text`` (empty text gives no pieces)."""
    if not text:
        return []
    if chunks is None:
        pieces = re.findall(r"\s*\S+", text)
        tail = text[len("".join(pieces)):]
        if tail:
            if pieces:
                pieces[-1] += tail
            else:
                pieces = [tail]
        return pieces
    n = max(1, min(chunks, len(text)))
    size, rest = divmod(len(text), n)
    out, pos = [], 0
    for i in range(n):
        step = size + (1 if i < rest else 0)
        out.append(text[pos:pos + step])
        pos += step
    return out


def content_text(content: Any) -> str:
    """Text of an OpenAI/Anthropic message content or a Gemini parts list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(content_text(p) for p in content)
    if isinstance(content, dict):
        if isinstance(content.get("text"), str) and content.get("type", "text") == "text":
            return content["text"]
        if "parts" in content:
            return content_text(content["parts"])
        if "content" in content:
            return content_text(content["content"])
    return ""


def all_text(protocol: str, body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    parts: list[str] = []
    if protocol in ("openai", "anthropic"):
        parts.append(content_text(body.get("system")))
        parts.append(body.get("prompt") if isinstance(body.get("prompt"), str) else "")
        for m in body.get("messages") or []:
            if isinstance(m, dict):
                parts.append(content_text(m.get("content")))
    else:
        parts.append(content_text(body.get("systemInstruction") or body.get("system_instruction")))
        for c in body.get("contents") or []:
            parts.append(content_text(c))
    return " ".join(p for p in parts if p)


def last_user_text(protocol: str, body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    if protocol in ("openai", "anthropic"):
        for m in reversed(body.get("messages") or []):
            if isinstance(m, dict) and m.get("role") == "user":
                return content_text(m.get("content"))
        return ""
    for c in reversed(body.get("contents") or []):
        if isinstance(c, dict) and c.get("role", "user") == "user":
            return content_text(c)
        if isinstance(c, str):
            return c
    return ""


def new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


DEFAULT_MESSAGES = {
    400: "Invalid request (loopback).",
    401: "Invalid API key (loopback).",
    403: "Permission denied (loopback).",
    404: "Not found (loopback).",
    408: "Request timed out (loopback).",
    409: "Conflict (loopback).",
    413: "Request too large (loopback).",
    422: "Unprocessable entity (loopback).",
    429: "Rate limit exceeded (loopback).",
    500: "Internal server error (loopback).",
    502: "Bad gateway (loopback).",
    503: "Service unavailable (loopback).",
    504: "Gateway timeout (loopback).",
    529: "Overloaded (loopback).",
}


def default_message(status: int) -> str:
    return DEFAULT_MESSAGES.get(status, f"Error {status} (loopback).")


@dataclass
class Rejection:
    """A request the real API would refuse: the status and the provider-shaped error fields."""

    status: int
    message: str
    error_type: str | None = None  # OpenAI error.type / Anthropic error.type / Google status
    code: str | None = None  # OpenAI error.code
    param: str | None = None  # OpenAI error.param
