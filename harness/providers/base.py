"""The one small interface every provider implements.

A provider turns a list of chat messages plus generation parameters into a normalised `Reply`.
Adapters implement `_generate` and raise `ProviderError` for anything that went wrong; the shared
`complete` wraps it with the harness's single retry policy and turns a final failure into a
`Reply(outcome=ERROR)`, so a provider failure is recorded as an error and never as model behaviour.
"""
from __future__ import annotations

import asyncio
import difflib
import json
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.problems import Problem
from harness.providers.bounds import (DEFAULT_MAX_REPLY_BYTES, DEFAULT_REPLY_TIMEOUT_S, text_bytes,
                                      too_large_in)
from harness.providers.errors import ProviderError
from harness.providers.retry import RetryPolicy, call_with_retry
from harness.redact import redact
from harness.surrogates import escape_reply
from harness.types import ErrorKind, Message, Outcome, Reply


#: Reasoning efforts a provider entry may ask for (mapped per provider by the adapters; which a model
#: takes is in capabilities.yaml).
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")


class GenerationParams(BaseModel):
    """What the eval asks of every call. None means "the provider's default", recorded as such.

    `max_tokens` is the visible answer's budget. `reasoning` is an effort (none|minimal|low|medium|high|
    xhigh|max) or a thinking budget in tokens; `reasoning_allowance` is what the harness adds to the sent
    budget for hidden reasoning (resolved from the capability table by harness.providers.resolve, which
    also drops what a model rejects before anything is sent)."""

    model_config = ConfigDict(extra="forbid")
    temperature: float | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None
    stop: list[str] | None = None
    system_prompt: str | None = None
    reasoning: Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"] | int | None = None
    reasoning_allowance: int | None = Field(default=None, ge=0)

    @field_validator("reasoning", mode="before")
    @classmethod
    def _reasoning(cls, value: Any) -> Any:
        # `reasoning: {budget_tokens: 2048}` is the same as `reasoning: 2048`.
        if isinstance(value, dict) and set(value) == {"budget_tokens"}:
            value = value["budget_tokens"]
        if isinstance(value, bool) or (isinstance(value, int) and value < 0):
            raise ValueError("reasoning is an effort (none, minimal, low, medium, high, xhigh, max) or a "
                             "thinking budget in tokens (>= 0)")
        if isinstance(value, str) and value.lower() in REASONING_EFFORTS:
            return value.lower()
        return value

    def budget(self) -> int | None:
        """The token budget to send: the visible answer's max_tokens plus the reasoning allowance."""
        if self.max_tokens is None:
            return None
        return self.max_tokens + (self.reasoning_allowance or 0)


class RetrySettings(BaseModel):
    """The harness's retry policy for one provider (defaults in harness.providers.retry.RetryPolicy)."""

    model_config = ConfigDict(extra="forbid")
    max_attempts: int = Field(default=6, ge=1, le=20)
    base_delay_s: float = Field(default=1.0, gt=0)
    max_delay_s: float = Field(default=30.0, gt=0)
    max_total_wait_s: float = Field(default=120.0, ge=0)
    max_retry_after_s: float = Field(default=120.0, ge=0)


class ProviderConfig(BaseModel):
    """One `providers:` entry of an eval file, after validation."""

    model_config = ConfigDict(extra="forbid")
    model: str = Field(description="provider/model, e.g. openai/gpt-4o-mini or llama/path/to/model.gguf")
    label: str | None = None
    params: GenerationParams = Field(default_factory=GenerationParams)
    base_url: str | None = None
    api_key_env: str | None = None
    # Requests in flight start at `concurrency`, halve on a 429 and grow by one after a run of
    # successes, up to `max_concurrency` (default: twice the start).
    concurrency: int = Field(default=4, ge=1, le=256)
    max_concurrency: int | None = Field(default=None, ge=1, le=512)
    rpm: float | None = Field(default=None, gt=0)
    tpm: float | None = Field(default=None, gt=0)
    timeout_s: float = Field(default=120.0, gt=0)
    # Whole-reply bounds (harness/providers/bounds.py): one attempt's deadline, and a body's size.
    reply_timeout_s: float = Field(default=DEFAULT_REPLY_TIMEOUT_S, gt=0)
    max_reply_bytes: int = Field(default=DEFAULT_MAX_REPLY_BYTES, ge=1)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    stream: bool = True
    # Provider-specific knobs (n_ctx, chat_format, safety_settings, ...), checked by the adapter.
    options: dict[str, Any] = Field(default_factory=dict)
    # Run a model past its shutdown date anyway (capabilities.yaml); without it such a run is bad input.
    allow_retired: bool = False
    # Send through the provider's batch API (harness/batch/): half the price, answers within 24 hours.
    # A provider without one (llama, openai-compatible) runs live. `harness run --batch` sets it on all.
    batch: bool = False
    # Set by the harness (harness.providers.resolve), never by an eval file: what was sent or left to the
    # provider's default for each parameter, and why. Stored with the run's provider configuration.
    resolution: dict[str, Any] = Field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.model.split("/", 1)[0]

    @property
    def model_name(self) -> str:
        return self.model.split("/", 1)[1] if "/" in self.model else ""

    @property
    def display(self) -> str:
        return self.label or self.model


WaitCallback = Callable[[str, float], None]

#: Attempts (first try included) for a MALFORMED reply: retried, but at most twice.
MALFORMED_MAX_ATTEMPTS = 3
# A connection error before the provider has answered anything (a dead base_url, a server not started)
# is tried this often, not the policy's full budget on every sample: it fails in seconds, with its message.
COLD_CONNECTION_MAX_ATTEMPTS = 2


class Provider(ABC):
    """Base class for every adapter. Subclasses set `kind` and implement `_generate`."""

    kind: str = ""
    #: Whether the SDK can stream, so that time to first token is measured.
    supports_streaming: bool = False
    _reached: bool = False   # the server has answered at least once (COLD_CONNECTION_MAX_ATTEMPTS)
    #: Whether `reply_timeout_s` applies: a remote server controls how long a reply takes. A model in
    #: this process does not, and cancelling it mid-generation would free it while a thread still runs it.
    reply_deadline: bool = True

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.retry_policy = RetryPolicy(**config.retry.model_dump())

    # -- for adapters -------------------------------------------------------------------------
    @abstractmethod
    async def _generate(self, messages: list[Message], params: GenerationParams) -> Reply:
        """One attempt. Return a Reply, or raise ProviderError."""

    #: `options:` keys this adapter reads; any other key is reported as a typo before the run.
    known_options: frozenset[str] = frozenset({"price"})

    def preflight(self) -> list[Problem]:
        """Problems with the configuration found before anything is written: unknown or malformed
        options, a missing model file. Subclasses extend it."""
        from harness.providers.pricing import option_problem, price_problems

        problems = price_problems(self.config)
        for key in sorted(set(self.config.options) - self.known_options):
            close = difflib.get_close_matches(key, self.known_options, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(self.known_options))}"
            problems.append(option_problem(self.config, f"unknown option {key!r}; {hint}"))
        return problems

    async def start(self) -> None:
        """Load models / open clients. Raises ProviderError(AUTH) when no credentials exist."""

    async def aclose(self) -> None:
        """Release clients and models."""

    def identity(self) -> dict[str, Any]:
        """What identifies the model exactly (recorded with the run): hashes, versions, templates."""
        return {"provider": self.kind, "model": self.config.model_name}

    # -- for the runner -----------------------------------------------------------------------
    async def complete(
        self,
        messages: list[Message],
        params: GenerationParams | None = None,
        on_wait: WaitCallback | None = None,
    ) -> Reply:
        """Send one sample, retrying per the harness policy. Never raises for provider failures."""
        params = params or self.config.params
        started = time.perf_counter()
        attempts = 0

        async def attempt() -> Reply:
            nonlocal attempts
            attempts += 1
            try:
                deadline = self.config.reply_timeout_s if self.reply_deadline else None
                reply = _bounded(await asyncio.wait_for(self._generate(messages, params), deadline), self.config)
            except ProviderError as err:
                if (big := too_large_in(err)) is not None:   # the adapter mapped the SDK's wrapper
                    raise _too_large(big) from None
                # A 200 we cannot use (non-JSON, no choices, a stream cut short) is often a proxy
                # or server hiccup worth one or two more tries, but not the policy's full budget.
                if err.kind is ErrorKind.MALFORMED and attempts >= MALFORMED_MAX_ATTEMPTS:
                    err.retryable = False
                if err.kind is ErrorKind.CONNECTION and not self._reached:
                    if attempts >= COLD_CONNECTION_MAX_ATTEMPTS and err.retryable:
                        err.retryable = False
                        err.message += f" (no reply from this provider yet: gave up after {attempts} attempts)"
                elif err.kind not in (ErrorKind.CONNECTION, ErrorKind.TIMEOUT):
                    self._reached = True   # the server answered, even if with an error
                raise
            except (asyncio.TimeoutError, TimeoutError):
                raise ProviderError(ErrorKind.TIMEOUT, f"no complete reply within reply_timeout_s="
                                    f"{self.config.reply_timeout_s:g}s (the whole reply's deadline)",
                                    retryable=False) from None
            except Exception as err:
                # An SDK wraps whatever its transport raised: a body cut at max_reply_bytes included.
                if (big := too_large_in(err)) is not None:
                    raise _too_large(big) from None
                raise
            self._reached = True
            return reply

        try:
            reply = await call_with_retry(attempt, self.retry_policy, on_wait=on_wait)
        except ProviderError as err:
            return escape_reply(Reply(
                outcome=Outcome.ERROR,
                error_kind=err.kind,
                reason=redact(err.message),
                latency_s=time.perf_counter() - started,
                attempts=attempts,
                raw={"status": err.status} if err.status else {},
            ))
        except Exception as err:  # an adapter bug must not kill the run or look like model output
            return escape_reply(Reply(
                outcome=Outcome.ERROR,
                error_kind=ErrorKind.OTHER,
                reason=redact(f"{type(err).__name__}: {err}"),
                latency_s=time.perf_counter() - started,
                attempts=attempts,
            ))
        reply.attempts = attempts
        # Hostile text is data: lone surrogates made storable (reversibly) after redaction.
        return escape_reply(_redacted(reply))


def _too_large(err) -> ProviderError:
    return ProviderError(ErrorKind.TOO_LARGE, str(err), retryable=False)


def _bounded(reply: Reply, config: ProviderConfig) -> Reply:
    """The reply, or ProviderError(TOO_LARGE) when its text passes max_reply_bytes (every adapter:
    local models and SDKs without a capped transport are bounded here, after the fact)."""
    size = text_bytes(reply.text)
    if size > config.max_reply_bytes:
        raise ProviderError(ErrorKind.TOO_LARGE, f"reply too large: {size:,} bytes of text, over "
                            f"max_reply_bytes={config.max_reply_bytes:,}", retryable=False)
    return reply


def _redacted(reply: Reply) -> Reply:
    """Model output is untrusted and may echo a key (from a prompt, or a provider error body): scrub
    it here, the one place every reply passes, before it can reach the store, the cache or a report."""
    reply.text = redact(reply.text)
    reply.reason = redact(reply.reason) if reply.reason else reply.reason
    raw = json.dumps(reply.raw, default=str)
    clean = redact(raw)
    if clean != raw:
        reply.raw = json.loads(clean)
    return reply


def system_and_turns(messages: list[Message], system_prompt: str | None) -> tuple[str | None, list[Message]]:
    """Split messages into one system text and the remaining turns.

    The eval's system prompt comes first, then any system messages of the prompt itself, joined by a
    blank line: providers such as Anthropic and Gemini take a single system field.
    """
    systems = [system_prompt] if system_prompt else []
    systems += [m.content for m in messages if m.role == "system"]
    turns = [m for m in messages if m.role != "system"]
    return ("\n\n".join(systems) if systems else None), turns


def with_system(messages: list[Message], system_prompt: str | None) -> list[Message]:
    """Messages with the eval's system prompt put first, for OpenAI-shaped chat APIs."""
    if not system_prompt:
        return list(messages)
    return [Message(role="system", content=system_prompt), *messages]


def resolve_api_key(config: ProviderConfig, default_envs: tuple[str, ...]) -> tuple[str | None, str, bool]:
    """(key, env name to mention in messages, whether the eval file named it).

    The eval's `api_key_env` wins and is the only variable read when given (falling back to a
    default variable could silently bill another account); otherwise the SDK's standard variables
    are tried in the SDK's own order. The key itself is never put into messages or records."""
    if config.api_key_env:
        return (os.environ.get(config.api_key_env) or None), config.api_key_env, True
    for name in default_envs:
        value = os.environ.get(name)
        if value:
            return value, name, False
    return None, (default_envs[0] if default_envs else "an API key variable"), False


def safe_url(url: object) -> str | None:
    """scheme://host[:port]/path of a base URL: no userinfo, no query (either could hold a secret)."""
    if url is None:
        return None
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}".rstrip("/") or None


Timed = Callable[[], Awaitable[Reply]]
