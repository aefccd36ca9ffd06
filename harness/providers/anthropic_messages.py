"""Anthropic Messages API through the official `anthropic` SDK (AsyncAnthropic, 2.x).

Why it looks the way it does (shared/reference/provider-wire.md, section 3):
* `messages.create()` in 2.x has no `temperature` argument (passing it is a TypeError); it is sent
  through `extra_body` only when the eval sets it, and the raw record says so.
* `max_tokens` is required by the API: when the eval gives none, DEFAULT_MAX_TOKENS is sent and
  recorded, so a truncation is never a mystery.
* The Messages API has no seed: a requested seed is recorded as "not sent", not silently dropped.
* A refusal is a 200 with `stop_reason: "refusal"` (and optional `stop_details.category`).
* Errors inside a stream arrive as APIStatusError with status_code 200; they are classified by the
  error *type* (overloaded_error → SERVER, retryable), never by that meaningless 200.
* Only `text` blocks are joined: thinking and tool blocks are not the answer.
"""
from __future__ import annotations

import json
import time
from typing import Any

from harness.providers.base import (
    GenerationParams,
    Provider,
    ProviderConfig,
    resolve_api_key,
    safe_url,
    system_and_turns,
)
from harness.providers.bounds import capped_async_client
from harness.providers.errors import (
    ProviderError,
    body_message,
    kind_for_status,
    missing_key_error,
    retry_after_from_headers,
)
from harness.types import ErrorKind, Message, Outcome, Reply, Usage

DEFAULT_MAX_TOKENS = 1024

# error.type → (kind, retryable), for errors whose HTTP status says nothing (in-stream: 200).
_TYPE_KINDS: dict[str, tuple[ErrorKind, bool]] = {
    "invalid_request_error": (ErrorKind.BAD_REQUEST, False),
    "request_too_large": (ErrorKind.BAD_REQUEST, False),
    "authentication_error": (ErrorKind.AUTH, False),
    "permission_error": (ErrorKind.AUTH, False),
    "billing_error": (ErrorKind.QUOTA, False),
    "not_found_error": (ErrorKind.NOT_FOUND, False),
    "rate_limit_error": (ErrorKind.RATE_LIMIT, True),
    "timeout_error": (ErrorKind.TIMEOUT, True),
    "api_error": (ErrorKind.SERVER, True),
    "overloaded_error": (ErrorKind.SERVER, True),
}


class AnthropicProvider(Provider):
    kind = "anthropic"
    supports_streaming = True
    key_envs = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self._client: Any = None
        self._secret: str | None = None
        self._sdk_version: str | None = None

    async def start(self) -> None:
        import anthropic

        key, env_name, named = resolve_api_key(self.config, self.key_envs)
        if not key:
            raise missing_key_error(env_name, named_by_eval=named)
        self._secret = key
        self._sdk_version = anthropic.__version__
        # Passing the key explicitly also keeps the SDK from picking up a profile on disk.
        self._client = anthropic.AsyncAnthropic(
            api_key=key,
            base_url=self.config.base_url,  # None: the SDK reads ANTHROPIC_BASE_URL
            max_retries=0,  # the harness retries
            timeout=self.config.timeout_s,  # explicit, which also lifts the SDK's non-streaming cap
            # Bodies over max_reply_bytes are cut off while read (harness/providers/bounds.py).
            http_client=capped_async_client(self.config.max_reply_bytes, anthropic.DefaultAsyncHttpxClient),
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def identity(self) -> dict[str, Any]:
        client = self._client
        return {
            "provider": self.kind,
            "model": self.config.model_name,
            "base_url": safe_url(client.base_url if client is not None else self.config.base_url),
            "sdk": "anthropic",
            "sdk_version": self._sdk_version,
            # Only this one header: default_headers also holds Authorization.
            "api_version": client.default_headers.get("anthropic-version") if client is not None else None,
            "api": "messages",
            "default_max_tokens": DEFAULT_MAX_TOKENS,
            "stream": self.config.stream,
        }

    # -- one attempt --------------------------------------------------------------------------
    def _request(self, messages: list[Message], params: GenerationParams) -> tuple[dict[str, Any], dict[str, Any]]:
        system, turns = system_and_turns(messages, params.system_prompt)
        notes: dict[str, Any] = {}
        max_tokens = params.max_tokens
        if max_tokens is None:
            max_tokens = DEFAULT_MAX_TOKENS
            notes["max_tokens_defaulted"] = DEFAULT_MAX_TOKENS
        kwargs: dict[str, Any] = {
            "model": self.config.model_name,
            "max_tokens": max_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in turns],
        }
        if system:
            kwargs["system"] = system
        if params.stop:
            kwargs["stop_sequences"] = list(params.stop)
        if params.temperature is not None:
            kwargs["extra_body"] = {"temperature": params.temperature}
            notes["temperature_sent_via"] = "extra_body"
        if params.seed is not None:
            notes["seed"] = "not sent: the Messages API has no seed"
        return kwargs, notes

    async def _generate(self, messages: list[Message], params: GenerationParams) -> Reply:
        if self._client is None:
            await self.start()
        kwargs, notes = self._request(messages, params)
        started = time.perf_counter()
        try:
            if self.config.stream:
                reply = await self._streamed(kwargs, started)
            else:
                reply = await self._whole(kwargs, started)
        except ProviderError:
            raise
        except Exception as exc:
            err = self._map_error(exc)
            if self._secret:
                err.message = err.message.replace(self._secret, "[REDACTED]")
                err.args = (err.message,)
            raise err from exc
        reply.raw.update(notes)
        return reply

    async def _whole(self, kwargs: dict[str, Any], started: float) -> Reply:
        resp = await self._client.messages.create(**kwargs)
        latency = time.perf_counter() - started
        content = getattr(resp, "content", None)
        if isinstance(resp, str):  # the SDK hands back a 200's non-JSON body as a str
            raise ProviderError(ErrorKind.MALFORMED, f"HTTP 200 with a non-JSON body: {body_message(resp, 120)!r}",
                                status=200, retryable=True)
        if content is None:
            raise ProviderError(ErrorKind.MALFORMED, "HTTP 200 without message content", status=200, retryable=True)
        text = "".join(b.text for b in content if getattr(b, "type", None) == "text" and b.text)
        usage = getattr(resp, "usage", None)
        return self._reply(
            text=text,
            stop_reason=resp.stop_reason,
            stop_details=getattr(resp, "stop_details", None),
            usage=Usage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens) if usage else Usage(),
            model=getattr(resp, "model", None),
            response_id=getattr(resp, "id", None),
            latency=latency,
            ttft=None,
        )

    async def _streamed(self, kwargs: dict[str, Any], started: float) -> Reply:
        stream = await self._client.messages.create(**kwargs, stream=True)
        parts: list[str] = []
        stop_reason = stop_details = model = response_id = None
        input_tokens = output_tokens = None
        ttft = None
        async with stream:
            async for event in stream:
                etype = getattr(event, "type", None)
                if etype == "message_start":
                    msg = event.message
                    response_id, model = msg.id, msg.model
                    if msg.usage is not None:
                        input_tokens = msg.usage.input_tokens
                        output_tokens = msg.usage.output_tokens
                elif etype == "content_block_delta":
                    # Only text_delta counts, for TTFT and for the answer (not thinking_delta).
                    if getattr(event.delta, "type", None) == "text_delta" and event.delta.text:
                        if ttft is None:
                            ttft = time.perf_counter() - started
                        parts.append(event.delta.text)
                elif etype == "message_delta":
                    stop_reason = event.delta.stop_reason or stop_reason
                    stop_details = getattr(event.delta, "stop_details", None) or stop_details
                    if event.usage is not None:
                        # output_tokens is cumulative; input_tokens may be repeated here (or None).
                        output_tokens = event.usage.output_tokens
                        if getattr(event.usage, "input_tokens", None) is not None:
                            input_tokens = event.usage.input_tokens
        latency = time.perf_counter() - started
        if stop_reason is None:
            raise ProviderError(ErrorKind.MALFORMED, f"stream ended without a stop_reason after "
                                f"{len(''.join(parts))} characters (cut short?)", retryable=True)
        return self._reply(
            text="".join(parts), stop_reason=stop_reason, stop_details=stop_details,
            usage=Usage(input_tokens=input_tokens, output_tokens=output_tokens),
            model=model, response_id=response_id, latency=latency, ttft=ttft,
        )

    def _reply(self, *, text: str, stop_reason: str | None, stop_details: Any, usage: Usage, model: str | None,
               response_id: str | None, latency: float, ttft: float | None) -> Reply:
        raw: dict[str, Any] = {"id": response_id, "stop_reason": stop_reason}
        details = stop_details.model_dump() if hasattr(stop_details, "model_dump") else stop_details
        if details:
            raw["stop_details"] = details
        if stop_reason == "refusal":
            if text:
                raw["partial_text"] = text[:2000]
            category = details.get("category") if isinstance(details, dict) else None
            outcome, reason, text = Outcome.PROVIDER_BLOCKED, category or "refusal", ""
        elif stop_reason == "max_tokens":
            outcome, reason = Outcome.TRUNCATED, "max_tokens"
        elif stop_reason == "model_context_window_exceeded":
            outcome, reason = Outcome.TRUNCATED, "context_window"
        else:
            outcome, reason = Outcome.ANSWERED, None
        return Reply(text=text, outcome=outcome, reason=reason, finish_reason=stop_reason, usage=usage,
                     latency_s=latency, ttft_s=ttft, model_reported=model, raw=raw)

    # -- errors -------------------------------------------------------------------------------
    def _map_error(self, exc: Exception) -> ProviderError:
        import anthropic

        where = safe_url(self._client.base_url) if self._client is not None else "the server"
        if isinstance(exc, anthropic.APITimeoutError):
            return ProviderError(ErrorKind.TIMEOUT, f"timed out after {self.config.timeout_s:g}s waiting for {where}")
        if isinstance(exc, anthropic.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            detail = f": {type(cause).__name__}: {cause}" if cause else ""
            return ProviderError(ErrorKind.CONNECTION, f"cannot connect to {where}{detail}")
        if isinstance(exc, anthropic.APIStatusError):
            status, etype = exc.status_code, exc.type
            msg = exc.api_message or body_message(exc.body) or exc.response.reason_phrase
            if status == 200 or status is None:
                # In-stream `event: error`: the 200 is the stream's status, not the error's.
                kind, retryable = _TYPE_KINDS.get(str(etype), (ErrorKind.SERVER, True))
                return ProviderError(kind, f"{etype or 'error'} inside the stream from {where}: {msg}",
                                     retryable=retryable)
            retryable = None
            if etype == "billing_error":
                kind, retryable = ErrorKind.QUOTA, False
            elif status == 400 and "too long" in (msg or "").lower():
                kind = ErrorKind.CONTEXT
            else:
                kind = kind_for_status(status)
            headers = exc.response.headers
            should = headers.get("x-should-retry")
            if should in ("true", "false"):
                retryable = should == "true"
            label = f"HTTP {status}" + (f" {etype}" if etype else "")
            return ProviderError(kind, f"{label} from {where}: {msg}", status=status,
                                 retry_after_s=retry_after_from_headers(headers), retryable=retryable)
        if isinstance(exc, (anthropic.APIError, json.JSONDecodeError, UnicodeDecodeError)):
            return ProviderError(ErrorKind.MALFORMED, f"unusable response from {where}: {exc}", retryable=True)
        return ProviderError(ErrorKind.OTHER, f"{type(exc).__name__}: {exc}", retryable=False)
