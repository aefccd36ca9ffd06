"""The one small interface every provider's batch service implements.

Why it is shaped like this:
* A batch request is built by the *live* adapter (`Provider._request`-style code), and a batch result
  is parsed by the live adapter's own response parsing: a reply that came through a batch is the same
  `Reply` (answered, provider_blocked, truncated, error with its kind) the live path would have stored,
  so the tables never depend on which path a sample took.
* The engine (harness/batch/engine.py) owns the custom ids, the store and exactly-once; a backend only
  speaks its provider's wire: build lines, submit, read status, stream results, cancel, and find our
  batches again after a crash (`find`, by the tag the engine stored *before* submitting).
* Every SDK call goes through the official SDK client the live adapter already configured (base_url,
  key, retries off, capped bodies), so loopback tests exercise the real SDK code.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.providers.base import GenerationParams, Provider
from harness.types import Message, Reply

#: A batch's state, normalised across providers.
#: in_progress: accepted, not all requests done (validating/queued/running/finalizing all map here);
#: ended: every request has a result to download; expired: the 24-hour window passed (results for the
#: requests that finished may still be downloadable); cancelling/cancelled: after `cancel`;
#: failed: the provider refused the batch as a whole (bad input file, ...), `note` says why.
BatchState = Literal["in_progress", "ended", "expired", "cancelling", "cancelled", "failed"]
OPEN_STATES = frozenset({"in_progress", "cancelling"})


@dataclass
class BatchRequest:
    """One sample (or one judge question) to put in a batch. `custom_id` is the engine's key for it:
    `^[A-Za-z0-9_-]{1,64}$` (Anthropic's rule, the strictest of the three)."""

    custom_id: str
    messages: list[Message]
    params: GenerationParams


@dataclass
class RemoteBatch:
    """What the provider says about one batch."""

    remote_id: str
    state: BatchState
    #: Normalised request counts: total, succeeded, errored, processing, expired, cancelled (absent = unknown).
    counts: dict[str, int] = field(default_factory=dict)
    created_at: str | None = None   # ISO 8601, UTC
    expires_at: str | None = None   # ISO 8601, UTC: when the provider gives up on unfinished requests
    #: The engine's tag read back (OpenAI metadata, Gemini display name); None where the provider keeps none.
    tag: str | None = None
    note: str | None = None         # why a batch failed, in the provider's words (redacted)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class BatchResult:
    """One line of a batch's results. `reply` is None when the request has no answer (`expired`,
    `cancelled`): the engine puts that sample back to pending. A per-request failure (a 400 inside a
    successful batch) is `done` with an ERROR reply of the right kind: a provider failure, never
    model behaviour."""

    custom_id: str
    status: Literal["done", "expired", "cancelled"]
    reply: Reply | None = None


class BatchBackend(ABC):
    """A provider's batch service. Construct with the live `Provider` (already `start()`ed): the backend
    reuses its SDK client, its request building and its reply parsing."""

    kind: str = ""
    #: The provider's limits for one batch; the engine splits a run's samples to stay under both.
    max_requests: int = 50_000
    max_bytes: int = 200 * 1024 * 1024
    #: Price factor against live prices (0.5 = half); the price table may override it per model.
    discount: float = 0.5

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    @abstractmethod
    def request_line(self, request: BatchRequest) -> dict[str, Any]:
        """The provider's per-request JSON object (a JSONL line of the input file, or one inline
        request), exactly what the live path would send, plus the custom id."""

    @abstractmethod
    async def submit(self, lines: list[dict[str, Any]], tag: str) -> RemoteBatch:
        """Upload (where the provider takes a file) and create one batch; carry `tag` where the
        provider can hold it. Raises ProviderError (the batch was not created) on failure."""

    @abstractmethod
    async def retrieve(self, remote_id: str) -> RemoteBatch:
        """The batch's state and counts now. Raises ProviderError."""

    @abstractmethod
    def results(self, remote_id: str) -> AsyncIterator[BatchResult]:
        """Every result line of an ended/expired/cancelled batch, in the provider's order (which is not
        the submission order); unknown or repeated ids are passed through for the engine to count."""

    @abstractmethod
    async def cancel(self, remote_id: str) -> RemoteBatch:
        """Ask the provider to cancel; requests already done keep their results."""

    @abstractmethod
    async def find(self, tag: str, *, since: str, request_count: int) -> list[RemoteBatch]:
        """Batches at the provider that may be the one an interrupted submission created: those carrying
        `tag`, or (where the provider keeps no tag) those created at or after `since` with `request_count`
        requests. The engine adopts exactly one match and refuses to guess between several."""


_BACKENDS: dict[str, type[BatchBackend]] = {}


def batch_backend(kind: str) -> Callable[[type[BatchBackend]], type[BatchBackend]]:
    """Register a backend class for a provider kind (`openai`, `anthropic`, `gemini`)."""

    def register(cls: type[BatchBackend]) -> type[BatchBackend]:
        cls.kind = kind
        _BACKENDS[kind] = cls
        return cls

    return register


def backend_for(provider: Provider) -> BatchBackend | None:
    """The batch backend for a provider, or None when it has no batch API (local Llama, an
    OpenAI-compatible server: `openai` entries with a base_url that is not OpenAI's run live)."""
    _load()
    cls = _BACKENDS.get(provider.config.kind)
    if cls is None or not supports_batch(provider):
        return None
    return cls(provider)


def supports_batch(provider: Provider) -> bool:
    """Whether this provider entry can go through a batch service: its kind has a registered backend
    (`openai-compatible` and `llama` have none: their servers have no batch API, so they run live)."""
    _load()
    return provider.config.kind in _BACKENDS and bool(getattr(provider, "batch_capable", True))


def backend_kinds() -> frozenset[str]:
    """The provider kinds that have a batch backend (an eval file's `batch: true` is checked against them)."""
    _load()
    return frozenset(_BACKENDS)


def _load() -> None:
    """Import the backend modules that exist (each registers itself)."""
    import importlib

    for name in ("openai", "anthropic", "gemini"):
        try:
            importlib.import_module(f"harness.batch.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"harness.batch.{name}":
                raise
