"""OpenAI Chat Completions through the official `openai` SDK (AsyncOpenAI).

Why it looks the way it does (see shared/reference/provider-wire.md, section 2):
* SDK retries are off (`max_retries=0`): the harness's RetryPolicy is the only one in force, so the
  retry count in a Reply is the real number of requests sent.
* The SDK validates responses laxly: a 200 with a non-JSON body comes back as a *str*, and a 200 with
  `{"error": ..}` as a ChatCompletion with `choices=None`. Both are checked here, never trusted.
* A refusal is *not* an exception: `message.refusal` is set and finish_reason is "stop"; a content
  filter is finish_reason "content_filter". Both become PROVIDER_BLOCKED, never answered-empty.
* In streams, TTFT is the first chunk whose `delta.content` is non-empty (the first chunk usually
  carries only the role), and usage arrives only with `stream_options.include_usage`.
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
    with_system,
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
from harness.providers.reasoning import finish_reasoning, split_think
from harness.types import ErrorKind, Message, Outcome, Reply, Usage

# Options this adapter (or the shared pricing code) reads; anything else is probably a typo.
KNOWN_OPTIONS = frozenset({"price", "max_tokens_field"})

# In-stream errors and 200-with-error bodies carry no HTTP status: classify by the error's code/type.
_CODE_KINDS: list[tuple[str, ErrorKind, bool]] = [
    ("insufficient_quota", ErrorKind.QUOTA, False),
    ("context_length", ErrorKind.CONTEXT, False),
    ("rate_limit", ErrorKind.RATE_LIMIT, True),
    ("invalid_api_key", ErrorKind.AUTH, False),
    ("authentication", ErrorKind.AUTH, False),
    ("permission", ErrorKind.AUTH, False),
    ("model_not_found", ErrorKind.NOT_FOUND, False),
    ("not_found", ErrorKind.NOT_FOUND, False),
    ("invalid_request", ErrorKind.BAD_REQUEST, False),
    ("timeout", ErrorKind.TIMEOUT, True),
]


def _usage(usage: Any) -> Usage:
    """Usage with the reasoning and cached-input parts (completion_tokens_details.reasoning_tokens,
    prompt_tokens_details.cached_tokens); prompt_tokens includes the cached tokens."""
    if not usage:
        return Usage()
    out = getattr(usage, "completion_tokens_details", None)
    inp = getattr(usage, "prompt_tokens_details", None)
    return Usage(input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens,
                 reasoning_tokens=getattr(out, "reasoning_tokens", None) if out is not None else None,
                 cached_input_tokens=getattr(inp, "cached_tokens", None) if inp is not None else None)


def _reasoning_field(obj: Any) -> str | None:
    """`reasoning_content` (llama.cpp, vLLM, DeepSeek) or `reasoning` (Ollama, vLLM >= 0.10, OpenRouter) of
    an OpenAI-compatible message or delta: extra fields the SDK keeps as attributes."""
    for name in ("reasoning_content", "reasoning"):
        value = getattr(obj, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def kind_for_code(*names: object) -> tuple[ErrorKind, bool]:
    """(kind, retryable) for an error known only by code/type strings. Unknown → SERVER, retryable:
    an error the server reports mid-stream is most often a transient server fault."""
    text = " ".join(str(n).lower() for n in names if n)
    for needle, kind, retryable in _CODE_KINDS:
        if needle in text:
            return kind, retryable
    return ErrorKind.SERVER, True


class OpenAIChatProvider(Provider):
    kind = "openai"
    supports_streaming = True
    key_envs: tuple[str, ...] = ("OPENAI_API_KEY",)
    # OpenAI deprecated `max_tokens` for chat; newer models (o-series, gpt-5) reject it. Local
    # OpenAI-compatible servers know `max_tokens` best, so the subclass switches back.
    max_tokens_field = "max_completion_tokens"
    known_options = KNOWN_OPTIONS

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self._client: Any = None
        self._secret: str | None = None
        self._sdk_version: str | None = None

    # -- setup --------------------------------------------------------------------------------
    def _api_key(self) -> str:
        key, env_name, named = resolve_api_key(self.config, self.key_envs)
        if not key:
            raise missing_key_error(env_name, named_by_eval=named)
        self._secret = key
        return key

    def _scrub(self, text: str) -> str:
        # Servers sometimes echo the key back ("Incorrect API key provided: sk-...").
        return text.replace(self._secret, "[REDACTED]") if self._secret else text

    def _base_url(self) -> str | None:
        # None lets the SDK read OPENAI_BASE_URL itself (and default to api.openai.com).
        return self.config.base_url

    async def start(self) -> None:
        import openai

        self._sdk_version = openai.__version__
        self._client = openai.AsyncOpenAI(
            api_key=self._api_key(),
            base_url=self._base_url(),
            max_retries=0,  # the harness retries; see module docstring
            timeout=self.config.timeout_s,
            # Bodies over max_reply_bytes are cut off while read (harness/providers/bounds.py).
            http_client=capped_async_client(self.config.max_reply_bytes, openai.DefaultAsyncHttpxClient),
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def identity(self) -> dict[str, Any]:
        base = self._client.base_url if self._client is not None else self.config.base_url
        return {
            "provider": self.kind,
            "model": self.config.model_name,
            "base_url": safe_url(base),
            "sdk": "openai",
            "sdk_version": self._sdk_version,
            "api": "chat.completions",
            "max_tokens_field": self._max_tokens_field(),
            "stream": self.config.stream,
        }

    def _max_tokens_field(self) -> str:
        return str(self.config.options.get("max_tokens_field", self.max_tokens_field))

    # -- one attempt --------------------------------------------------------------------------
    def _request(self, messages: list[Message], params: GenerationParams) -> dict[str, Any]:
        msgs = with_system(messages, params.system_prompt)
        kwargs: dict[str, Any] = {
            "model": self.config.model_name,
            "messages": [{"role": m.role, "content": m.content} for m in msgs],
        }
        if params.temperature is not None:
            kwargs["temperature"] = params.temperature
        if params.max_tokens is not None:
            # The visible answer's budget plus the reasoning allowance (reasoning tokens count toward it).
            kwargs[self._max_tokens_field()] = params.budget()
        if isinstance(params.reasoning, str):
            kwargs["reasoning_effort"] = params.reasoning
        if params.seed is not None:
            kwargs["seed"] = params.seed
        if params.stop:
            kwargs["stop"] = list(params.stop)
        if schema := getattr(params, "response_schema", None):   # a judge's structured answer
            kwargs["response_format"] = {"type": "json_schema",
                                         "json_schema": {"name": "judge_answer", "strict": True, "schema": schema}}
        return kwargs

    async def _generate(self, messages: list[Message], params: GenerationParams) -> Reply:
        if self._client is None:
            await self.start()
        kwargs = self._request(messages, params)
        started = time.perf_counter()
        try:
            if self.config.stream:
                return await self._streamed(kwargs, started)
            return await self._whole(kwargs, started)
        except ProviderError:
            raise
        except Exception as exc:  # every SDK/transport failure leaves here normalised
            err = self._map_error(exc)
            err.message = self._scrub(err.message)
            err.args = (err.message,)
            raise err from exc

    async def _whole(self, kwargs: dict[str, Any], started: float) -> Reply:
        resp = await self._client.chat.completions.create(**kwargs)
        return self.parse_completion(resp, time.perf_counter() - started)

    def parse_completion(self, resp: Any, latency: float) -> Reply:
        """A non-streamed ChatCompletion as a Reply, or ProviderError when it is unusable. Shared by the
        live path and the Batch API (harness/batch/openai.py), so a reply means the same on either."""
        if isinstance(resp, str) or not hasattr(resp, "choices"):
            # The SDK hands back a 200's non-JSON body as a plain str instead of raising.
            raise ProviderError(
                ErrorKind.MALFORMED, f"HTTP 200 with a non-JSON body: {body_message(resp, 120)!r}",
                status=200, retryable=True,
            )
        if not resp.choices:
            error = getattr(resp, "error", None)
            if error:  # a 200 whose body is {"error": {...}}
                kind, retryable = kind_for_code(
                    *(error.get(k) for k in ("code", "type")) if isinstance(error, dict) else (error,)
                )
                raise ProviderError(kind, f"HTTP 200 with an error body: {body_message(error)}",
                                    status=200, retryable=retryable)
            raise ProviderError(ErrorKind.MALFORMED, "HTTP 200 without choices", status=200, retryable=True)
        choice = resp.choices[0]
        message = choice.message
        if message is None:
            raise ProviderError(ErrorKind.MALFORMED, "HTTP 200 with a choice but no message",
                                status=200, retryable=True)
        usage = resp.usage
        text, thought = split_think(message.content or "")
        reasoning = _reasoning_field(message) or ""
        reply = self._reply(
            text=text,
            refusal=getattr(message, "refusal", None),
            finish=choice.finish_reason,
            usage=_usage(usage),
            model=getattr(resp, "model", None),
            response_id=getattr(resp, "id", None),
            latency=latency,
            ttft=None,
        )
        return finish_reasoning(reply, "\n\n".join(t for t in (reasoning, thought) if t))

    async def _streamed(self, kwargs: dict[str, Any], started: float) -> Reply:
        stream = await self._client.chat.completions.create(
            **kwargs, stream=True, stream_options={"include_usage": True}
        )
        parts: list[str] = []
        refusal: list[str] = []
        reasoning: list[str] = []
        finish = model = response_id = None
        usage = Usage()  # stays unknown (None) when the server sends no usage chunk (llama_cpp.server)
        ttft = None
        async with stream:
            async for chunk in stream:
                if not hasattr(chunk, "choices"):
                    raise ProviderError(ErrorKind.MALFORMED, "stream chunk is not a chat.completion.chunk",
                                        retryable=True)
                response_id = response_id or getattr(chunk, "id", None)
                model = getattr(chunk, "model", None) or model
                if getattr(chunk, "usage", None):
                    usage = _usage(chunk.usage)
                for choice in chunk.choices or []:
                    if choice.index not in (0, None):
                        continue
                    delta = choice.delta
                    if delta is not None and delta.content:
                        if ttft is None:
                            ttft = time.perf_counter() - started
                        parts.append(delta.content)
                    if delta is not None and getattr(delta, "refusal", None):
                        refusal.append(delta.refusal)
                    if delta is not None and (piece := _reasoning_field(delta)):
                        reasoning.append(piece)
                    if choice.finish_reason:
                        finish = choice.finish_reason
        latency = time.perf_counter() - started
        if finish is None:
            # A stream cut short (e.g. llama_cpp.server with interrupt_requests) ends with [DONE] but
            # no finish_reason: the text is incomplete and must not be scored as a reply.
            raise ProviderError(ErrorKind.MALFORMED, f"stream ended without a finish_reason after "
                                f"{len(''.join(parts))} characters (cut short?)", retryable=True)
        text, thought = split_think("".join(parts))
        reply = self._reply(
            text=text, refusal="".join(refusal) or None, finish=finish, usage=usage,
            model=model, response_id=response_id, latency=latency, ttft=ttft,
        )
        return finish_reasoning(reply, "\n\n".join(t for t in ("".join(reasoning), thought) if t))

    def _reply(self, *, text: str, refusal: str | None, finish: str | None, usage: Usage, model: str | None,
               response_id: str | None, latency: float, ttft: float | None) -> Reply:
        raw: dict[str, Any] = {"id": response_id, "finish_reason": finish}
        if refusal:
            # A refusal carries no model answer: the text goes to raw, outcome says blocked.
            raw["refusal"] = refusal[:2000]
            outcome, reason, text = Outcome.PROVIDER_BLOCKED, "refusal", ""
        elif finish is None:
            # The SDK lets a reply without finish_reason through; a complete answer cannot be told
            # from a cut one, so it is not scored (retried like any unusable 200).
            raise ProviderError(ErrorKind.MALFORMED, f"reply without a finish_reason after {len(text)} characters",
                                status=200, retryable=True)
        else:
            decision = decide("openai", "finish_reason", finish)  # every value: finish_reasons.yaml
            if decision.outcome == "blocked":
                if text:
                    raw["partial_text"] = text[:2000]
                outcome, reason, text = Outcome.PROVIDER_BLOCKED, decision.reason, ""
            elif decision.outcome == "truncated":
                outcome, reason = Outcome.TRUNCATED, decision.reason
            elif decision.outcome == "answered":
                outcome, reason = Outcome.ANSWERED, None
            else:
                raise finish_error(decision, self.kind, "finish_reason")
        return Reply(text=text, outcome=outcome, reason=reason, finish_reason=finish, usage=usage,
                     latency_s=latency, ttft_s=ttft, model_reported=model, raw=raw)

    # -- errors -------------------------------------------------------------------------------
    def _map_error(self, exc: Exception) -> ProviderError:
        import openai

        where = safe_url(self._client.base_url) if self._client is not None else "the server"
        if isinstance(exc, openai.APITimeoutError):
            return ProviderError(ErrorKind.TIMEOUT, f"timed out after {self.config.timeout_s:g}s waiting for {where}")
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            detail = f": {type(cause).__name__}: {cause}" if cause else ""
            return ProviderError(ErrorKind.CONNECTION, f"cannot connect to {where}{detail}")
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            headers = exc.response.headers
            code, etype = getattr(exc, "code", None), getattr(exc, "type", None)
            msg = body_message(exc.body) or exc.response.reason_phrase
            label = f"HTTP {status}" + (f" {code or etype}" if (code or etype) else "")
            retryable = None
            if status == 429 and "insufficient_quota" in f"{code} {etype}":
                kind, retryable = ErrorKind.QUOTA, False
            elif status == 400 and "context_length" in f"{code} {etype}":
                kind = ErrorKind.CONTEXT
            else:
                kind = kind_for_status(status)
            should = headers.get("x-should-retry")
            if should in ("true", "false"):  # the server's explicit word wins, as in the SDK
                retryable = should == "true"
            return ProviderError(kind, f"{label} from {where}: {msg}", status=status,
                                 retry_after_s=retry_after_from_headers(headers), retryable=retryable)
        if isinstance(exc, openai.APIError):  # in-stream error event: no HTTP status to go by
            body = exc.body if isinstance(exc.body, dict) else {}
            kind, retryable = kind_for_code(body.get("code"), body.get("type"))
            return ProviderError(kind, f"error inside the stream from {where}: {exc.message}", retryable=retryable)
        if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)):
            return ProviderError(ErrorKind.MALFORMED, f"unparseable data from {where}: {exc}", retryable=True)
        return ProviderError(ErrorKind.OTHER, f"{type(exc).__name__}: {exc}", retryable=False)
