"""Anthropic Messages API through the official `anthropic` SDK (AsyncAnthropic, 2.x).

Why it looks the way it does (shared/reference/provider-wire.md, section 3):
* The SDK sends `anthropic-version: 2026-10-21`, under which `temperature`, `top_p` and `top_k` are a
  400 at any value (provider-wire.md section 12): they are never sent. Parameter resolution
  (harness.providers.resolve) already leaves them to the provider's default, or refuses an explicit one.
* `reasoning:` maps to `thinking`: none → {type: disabled}; an effort → {type: adaptive} with
  `output_config.effort`; a budget → {type: enabled, budget_tokens}. Thinking tokens count toward
  `max_tokens`, so the reasoning allowance is added to the visible answer's max_tokens.
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
from harness.providers.finish_reasons import decide, finish_error
from harness.providers.reasoning import finish_reasoning
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


def error_kind_for_type(etype: Any, message: str | None = None) -> tuple[ErrorKind, bool]:
    """(kind, retryable) for an error known only by its `error.type`: an in-stream error (HTTP 200) or a
    Message Batches `errored` result. An invalid request whose message says the prompt is too long is a
    CONTEXT error, as it is for an HTTP 400 (`_map_error`)."""
    kind, retryable = _TYPE_KINDS.get(str(etype), (ErrorKind.SERVER, True))
    if kind is ErrorKind.BAD_REQUEST and "too long" in (message or "").lower():
        kind = ErrorKind.CONTEXT
    return kind, retryable


def _usage(usage: Any, input_tokens: int | None, fallback: Any = None) -> Usage:
    """Usage with every input token counted (the API's input_tokens excludes cache reads and writes, which
    are reported apart) and the thinking part of output_tokens (output_tokens_details.thinking_tokens)."""
    def pick(name: str) -> Any:
        value = getattr(usage, name, None)
        return value if value is not None else getattr(fallback, name, None)

    read, write = pick("cache_read_input_tokens"), pick("cache_creation_input_tokens")
    details = pick("output_tokens_details")
    total_in = None if input_tokens is None else input_tokens + (read or 0) + (write or 0)
    return Usage(input_tokens=total_in, output_tokens=getattr(usage, "output_tokens", None),
                 reasoning_tokens=getattr(details, "thinking_tokens", None) if details is not None else None,
                 cached_input_tokens=read, cache_write_input_tokens=write)


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
        max_tokens = params.budget()
        if max_tokens is None:
            max_tokens = DEFAULT_MAX_TOKENS + (params.reasoning_allowance or 0)
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
            notes["temperature"] = "not sent: rejected at any value under anthropic-version 2026-10-21"
        if params.reasoning == "none":
            kwargs["thinking"] = {"type": "disabled"}
        elif isinstance(params.reasoning, str):
            kwargs["thinking"] = {"type": "adaptive"}
            kwargs["output_config"] = {"effort": params.reasoning}
        elif isinstance(params.reasoning, int):
            kwargs["thinking"] = {"type": "enabled", "budget_tokens": params.reasoning}
        if params.seed is not None:
            notes["seed"] = "not sent: the Messages API has no seed"
        if schema := getattr(params, "response_schema", None):   # a judge's structured answer (message text)
            kwargs["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
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
        return self.message_reply(resp, time.perf_counter() - started)

    def message_reply(self, resp: Any, latency: float | None) -> Reply:
        """A non-streamed Messages response (an SDK `Message`) as a Reply: the live path's parsing, also
        used for a Message Batches `succeeded` result (harness/batch/anthropic.py), so a reply that came
        through a batch gets exactly the outcome the live call would have given. Raises ProviderError."""
        content = getattr(resp, "content", None)
        if isinstance(resp, str):  # the SDK hands back a 200's non-JSON body as a str
            raise ProviderError(ErrorKind.MALFORMED, f"HTTP 200 with a non-JSON body: {body_message(resp, 120)!r}",
                                status=200, retryable=True)
        if content is None:
            raise ProviderError(ErrorKind.MALFORMED, "HTTP 200 without message content", status=200, retryable=True)
        text = "".join(b.text for b in content if getattr(b, "type", None) == "text" and b.text)
        thinking = "".join(b.thinking for b in content if getattr(b, "type", None) == "thinking"
                           and getattr(b, "thinking", None))
        usage = getattr(resp, "usage", None)
        reply = self._reply(
            text=text,
            stop_reason=resp.stop_reason,
            stop_details=getattr(resp, "stop_details", None),
            usage=_usage(usage, usage.input_tokens if usage else None) if usage else Usage(),
            model=getattr(resp, "model", None),
            response_id=getattr(resp, "id", None),
            latency=latency,
            ttft=None,
        )
        return finish_reasoning(reply, thinking)

    async def _streamed(self, kwargs: dict[str, Any], started: float) -> Reply:
        stream = await self._client.messages.create(**kwargs, stream=True)
        parts: list[str] = []
        thinking: list[str] = []
        stop_reason = stop_details = model = response_id = None
        input_tokens = output_tokens = None
        start_usage = last_usage = None
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
                        start_usage = msg.usage
                elif etype == "content_block_delta":
                    # Only text_delta counts, for TTFT and for the answer (not thinking_delta).
                    if getattr(event.delta, "type", None) == "text_delta" and event.delta.text:
                        if ttft is None:
                            ttft = time.perf_counter() - started
                        parts.append(event.delta.text)
                    elif getattr(event.delta, "type", None) == "thinking_delta" and event.delta.thinking:
                        thinking.append(event.delta.thinking)
                elif etype == "message_delta":
                    stop_reason = event.delta.stop_reason or stop_reason
                    stop_details = getattr(event.delta, "stop_details", None) or stop_details
                    if event.usage is not None:
                        # output_tokens is cumulative; input_tokens may be repeated here (or None).
                        output_tokens = event.usage.output_tokens
                        if getattr(event.usage, "input_tokens", None) is not None:
                            input_tokens = event.usage.input_tokens
                        last_usage = event.usage
        latency = time.perf_counter() - started
        if stop_reason is None:
            raise ProviderError(ErrorKind.MALFORMED, f"stream ended without a stop_reason after "
                                f"{len(''.join(parts))} characters (cut short?)", retryable=True)
        usage = _usage(last_usage or start_usage, input_tokens, fallback=start_usage) \
            if (last_usage or start_usage) is not None else Usage()
        usage.output_tokens = output_tokens
        reply = self._reply(
            text="".join(parts), stop_reason=stop_reason, stop_details=stop_details,
            usage=usage, model=model, response_id=response_id, latency=latency, ttft=ttft,
        )
        return finish_reasoning(reply, "".join(thinking))

    def _reply(self, *, text: str, stop_reason: str | None, stop_details: Any, usage: Usage, model: str | None,
               response_id: str | None, latency: float | None, ttft: float | None) -> Reply:
        raw: dict[str, Any] = {"id": response_id, "stop_reason": stop_reason}
        details = stop_details.model_dump() if hasattr(stop_details, "model_dump") else stop_details
        if details:
            raw["stop_details"] = details
        if stop_reason == "refusal":
            if text:
                raw["partial_text"] = text[:2000]
            category = details.get("category") if isinstance(details, dict) else None
            outcome, reason, text = Outcome.PROVIDER_BLOCKED, category or "refusal", ""
        elif stop_reason is None:
            raise ProviderError(ErrorKind.MALFORMED, f"reply without a stop_reason after {len(text)} characters",
                                status=200, retryable=True)
        else:
            decision = decide("anthropic", "stop_reason", stop_reason)  # every value: finish_reasons.yaml
            if decision.outcome == "truncated":
                outcome, reason = Outcome.TRUNCATED, decision.reason
            elif decision.outcome == "answered":
                outcome, reason = Outcome.ANSWERED, None
            elif decision.outcome == "blocked":
                if text:
                    raw["partial_text"] = text[:2000]
                outcome, reason, text = Outcome.PROVIDER_BLOCKED, decision.reason, ""
            else:
                raise finish_error(decision, self.kind, "stop_reason")
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
                kind, retryable = error_kind_for_type(etype)
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
