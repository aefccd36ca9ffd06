"""Google Gemini generateContent through the supported `google-genai` SDK (`Client(...).aio`).

Why it looks the way it does (shared/reference/provider-wire.md, section 4):
* The `Client` is kept on the provider: a temporary client is garbage-collected and closes its HTTP
  pool under a running request ("client has been closed").
* Retries are set to exactly one attempt (`HttpRetryOptions(attempts=1)`): the SDK's own default is
  none, but with aiohttp installed it silently retries a refused connection after 1-10 s unless
  retry options are set. The harness's RetryPolicy is the only one in force.
* HttpOptions.timeout is in *milliseconds*.
* Roles are user/model; system messages go to systemInstruction.
* Safety settings from `options.safety_settings` pass through unchanged; without them none are sent
  (the provider's defaults apply) and identity() says "provider default". Filters are never turned
  off behind the eval's back.
* A block is a 200: `promptFeedback.blockReason` with no candidates, or a candidate whose
  finishReason is safety-class. Both become PROVIDER_BLOCKED with the category in `reason`.
* Transport failures are raw httpx2 (or aiohttp) exceptions, not SDK errors: mapped here.
* Google's 429 carries its retry hint in the body (`google.rpc.RetryInfo.retryDelay: "2s"`).
"""
from __future__ import annotations

import asyncio
import enum
import json
import re
import time
from typing import Any

import pydantic

from harness.providers.base import (
    GenerationParams,
    Provider,
    ProviderConfig,
    resolve_api_key,
    safe_url,
    system_and_turns,
)
from harness.providers.finish_reasons import decide, finish_error
from harness.providers.finish_reasons import table as finish_table
from harness.providers.bounds import capping_hook
from harness.providers.errors import (
    ProviderError,
    body_message,
    kind_for_status,
    missing_key_error,
    retry_after_from_headers,
)
from harness.providers.reasoning import finish_reasoning
from harness.types import ErrorKind, Message, Outcome, Reply, Usage

KNOWN_OPTIONS = frozenset({"price", "safety_settings", "api_version"})

# Finish reasons meaning "a safety/policy layer stopped the answer" (not the model choosing to stop);
# every finish reason's meaning is in finish_reasons.yaml, this set is derived from it.
SAFETY_FINISH = frozenset(v for v, e in finish_table()["gemini"]["finish_reason"].items() if e["outcome"] == "blocked")
PROVIDER_DEFAULT = "provider default"


def _name(value: Any) -> str | None:
    """An enum as its plain name: google-genai's str enums, an unknown string the SDK let through,
    or the legacy SDK's proto int enums (where 0, *_UNSPECIFIED, means "not set")."""
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        name = value.name if isinstance(value.value, int) else str(value.value)
    else:
        name = str(value)
    return None if name.endswith("_UNSPECIFIED") else name


def _dump_one(item: Any) -> Any:
    if hasattr(item, "model_dump"):  # google-genai (pydantic)
        return item.model_dump(mode="json", exclude_none=True)
    if hasattr(type(item), "to_dict"):  # legacy SDK (proto-plus)
        return type(item).to_dict(item, use_integers_for_enums=False)
    return item


def _dump(items: Any) -> list[dict[str, Any]] | None:
    if not items:
        return None
    return [_dump_one(i) for i in items]


def google_retry_delay(details: Any) -> float | None:
    """Seconds from a `google.rpc.RetryInfo` detail of a Google error body ("2s", "0.5s", or
    {"seconds": 2, "nanos": 0}); None if there is none."""
    if isinstance(details, list) and len(details) == 1:
        details = details[0]
    if not isinstance(details, dict):
        return None
    inner = details.get("error", details)
    for item in (inner.get("details") or []) if isinstance(inner, dict) else []:
        if not isinstance(item, dict) or not str(item.get("@type", "")).endswith("google.rpc.RetryInfo"):
            continue
        delay = item.get("retryDelay")
        if isinstance(delay, str):
            m = re.fullmatch(r"\s*([0-9.]+)s\s*", delay)
            if m:
                return float(m.group(1))
        elif isinstance(delay, dict):
            return float(delay.get("seconds", 0)) + float(delay.get("nanos", 0)) / 1e9
    return None


def _error_reasons(details: Any) -> str:
    """ErrorInfo reasons (e.g. API_KEY_INVALID) of a Google error body, joined."""
    if isinstance(details, list) and len(details) == 1:
        details = details[0]
    inner = details.get("error", details) if isinstance(details, dict) else {}
    reasons = [str(i.get("reason")) for i in (inner.get("details") or []) if isinstance(i, dict) and i.get("reason")]
    return " ".join(reasons)


def transport_error(exc: BaseException, timeout_s: float, where: str) -> ProviderError | None:
    """TIMEOUT / CONNECTION for the raw transport exceptions these SDKs let through (httpx2, httpx,
    aiohttp, requests), recognised by class name so that no transport library must be imported."""
    names = {c.__name__ for c in type(exc).__mro__}
    modules = {c.__module__.split(".")[0] for c in type(exc).__mro__}
    if names & {"TimeoutException", "Timeout", "ReadTimeout", "ConnectTimeout", "ServerTimeoutError",
                "TimeoutError"} or isinstance(exc, asyncio.TimeoutError):
        return ProviderError(ErrorKind.TIMEOUT, f"timed out after {timeout_s:g}s waiting for {where}")
    if (names & {"TransportError", "ConnectError", "NetworkError", "RemoteProtocolError", "ClientError",
                 "ConnectionError"} and modules & {"httpx2", "httpx", "aiohttp", "requests", "builtins"}) \
            or isinstance(exc, OSError):
        return ProviderError(ErrorKind.CONNECTION, f"cannot connect to {where}: {type(exc).__name__}: {exc}")
    return None


def thinking_config(reasoning: Any) -> dict[str, Any] | None:
    """`reasoning:` as google-genai ThinkingConfig fields: an effort is a thinking_level (Gemini 3; the
    capability table says which a model takes), `none` is thinking_budget 0 (Gemini 2.5 Flash), a number
    is a thinking_budget in tokens. None: nothing sent, the model's default."""
    if reasoning is None:
        return None
    if reasoning == "none":
        return {"thinking_budget": 0}
    if isinstance(reasoning, str):
        return {"thinking_level": reasoning.upper()}
    return {"thinking_budget": int(reasoning)}


def check_safety_settings(settings: Any) -> str | None:
    """The problem with `options.safety_settings` (passed through to the API as given), if any."""
    if settings is None:
        return None
    if not isinstance(settings, list) or not all(
        isinstance(s, dict) and isinstance(s.get("category"), str) and isinstance(s.get("threshold"), str)
        for s in settings
    ):
        return ("options.safety_settings must be a list of {category: HARM_CATEGORY_..., threshold: BLOCK_...} "
                "mappings")
    return None


class GeminiProvider(Provider):
    kind = "gemini"
    supports_streaming = True
    key_envs = ("GOOGLE_API_KEY", "GEMINI_API_KEY")  # google-genai's own order
    known_options = KNOWN_OPTIONS

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self._client: Any = None  # the genai.Client: must outlive every request (see docstring)
        self._aio: Any = None
        self._secret: str | None = None
        self._sdk_version: str | None = None
        self.safety_settings: list[dict[str, Any]] | None = config.options.get("safety_settings") or None

    def preflight(self) -> list:
        from harness.providers.pricing import option_problem

        problems = super().preflight()
        problem = check_safety_settings(self.config.options.get("safety_settings"))
        if problem:
            problems.append(option_problem(self.config, problem))
        return problems

    async def start(self) -> None:
        from google import genai

        key, env_name, named = resolve_api_key(self.config, self.key_envs)
        if not key:
            raise missing_key_error(env_name, named_by_eval=named)
        self._secret = key
        self._sdk_version = getattr(genai, "__version__", None)
        self._client = self.make_client()
        self._aio = self._client.aio

    def make_client(self, max_reply_bytes: int | None = None) -> Any:
        """A genai.Client with this provider's key, base URL, API version, timeout and retries off,
        whose response bodies are capped at `max_reply_bytes` (default: the provider's bound). The
        batch backend asks for a second one with a larger cap to download a batch's results file,
        whose size is the sum of many replies."""
        from google import genai
        from google.genai import types

        if self._secret is None:
            raise ProviderError(ErrorKind.OTHER, "make_client() before start()", retryable=False)
        http = types.HttpOptions(
            base_url=self.config.base_url,  # None: the SDK reads GOOGLE_GEMINI_BASE_URL
            api_version=self.config.options.get("api_version"),  # None: the SDK's default (v1 in 3.x)
            timeout=int(self.config.timeout_s * 1000),  # milliseconds
            retry_options=types.HttpRetryOptions(attempts=1),
            # Bodies over max_reply_bytes are cut off while read (harness/providers/bounds.py).
            async_client_args={"event_hooks": {"response": [
                capping_hook(max_reply_bytes or self.config.max_reply_bytes)]}},
        )
        return genai.Client(api_key=self._secret, http_options=http)

    async def aclose(self) -> None:
        if self._aio is not None:
            await self._aio.aclose()
        if self._client is not None:
            self._client.close()
        self._client = self._aio = None

    def _http_options(self) -> Any:
        return getattr(getattr(self._client, "_api_client", None), "_http_options", None)

    def identity(self) -> dict[str, Any]:
        http = self._http_options()
        return {
            "provider": self.kind,
            "model": self.config.model_name,
            "base_url": safe_url(http.base_url if http is not None else self.config.base_url),
            "api_version": http.api_version if http is not None else self.config.options.get("api_version"),
            "sdk": "google-genai",
            "sdk_version": self._sdk_version,
            "safety_settings": self.safety_settings or PROVIDER_DEFAULT,
            "stream": self.config.stream,
        }

    # -- one attempt --------------------------------------------------------------------------
    def _request(self, messages: list[Message], params: GenerationParams) -> tuple[list[Any], Any]:
        from google.genai import types

        system, turns = system_and_turns(messages, params.system_prompt)
        contents = [
            types.Content(role="model" if m.role == "assistant" else "user", parts=[types.Part(text=m.content)])
            for m in turns
        ]
        config: dict[str, Any] = {}
        if system:
            config["system_instruction"] = system
        if params.temperature is not None:
            config["temperature"] = params.temperature
        if params.max_tokens is not None:
            # Thought tokens count against maxOutputTokens: the visible budget plus the reasoning allowance.
            config["max_output_tokens"] = params.budget()
        thinking = thinking_config(params.reasoning)
        if thinking is not None:
            config["thinking_config"] = types.ThinkingConfig(**thinking)
        if params.seed is not None:
            config["seed"] = params.seed
        if params.stop:
            config["stop_sequences"] = list(params.stop)
        if self.safety_settings:
            config["safety_settings"] = self.safety_settings
        if schema := getattr(params, "response_schema", None):   # a judge's structured answer
            config["response_mime_type"] = "application/json"
            config["response_json_schema"] = schema
        return contents, types.GenerateContentConfig(**config)

    async def _generate(self, messages: list[Message], params: GenerationParams) -> Reply:
        if self._client is None:
            await self.start()
        contents, config = self._request(messages, params)
        model = self.config.model_name
        started = time.perf_counter()
        state = GenerationState()
        try:
            if self.config.stream:
                stream = await self._aio.models.generate_content_stream(model=model, contents=contents, config=config)
                try:
                    async for chunk in stream:
                        state.add(chunk, started)
                finally:
                    # Close the SDK's generator now: left to the garbage collector after an error it
                    # closes the HTTP response from another task ("aclose(): ... already running").
                    aclose = getattr(stream, "aclose", None)
                    if aclose is not None:
                        try:
                            await aclose()
                        except Exception:
                            pass
            else:
                response = await self._aio.models.generate_content(model=model, contents=contents, config=config)
                return self.reply_from_response(response, time.perf_counter() - started)
        except ProviderError:
            raise
        except Exception as exc:
            err = self._map_error(exc)
            if self._secret:
                err.message = err.message.replace(self._secret, "[REDACTED]")
                err.args = (err.message,)
            raise err from exc
        return self._finish(state, time.perf_counter() - started, streamed=True)

    def reply_from_response(self, response: Any, latency_s: float = 0.0) -> Reply:
        """The Reply for one non-streamed GenerateContentResponse: a live call's, or one validated from
        a batch result line (harness/batch/gemini.py), so both paths give the same outcome for the
        same response. Raises ProviderError (MALFORMED, or a finish reason that is an error)."""
        state = GenerationState()
        state.add(response, time.perf_counter())
        return self._finish(state, latency_s, streamed=False)

    def _finish(self, state: GenerationState, latency_s: float, *, streamed: bool) -> Reply:
        reply = finish_reasoning(state.reply(latency_s, streamed=streamed), "".join(state.thoughts))
        reply.raw["safety_settings"] = self.safety_settings or PROVIDER_DEFAULT
        return reply

    # -- errors -------------------------------------------------------------------------------
    def _map_error(self, exc: Exception) -> ProviderError:
        from google.genai import errors

        http = self._http_options()
        where = safe_url(http.base_url) if http is not None else "the server"
        if isinstance(exc, errors.APIError):
            status = exc.code if isinstance(exc.code, int) else None
            reasons = _error_reasons(exc.details)
            msg = exc.message or body_message(exc.details)
            label = f"HTTP {status} {exc.status or ''}".strip()
            retryable = None
            if "API_KEY_INVALID" in reasons or "API key not valid" in (msg or ""):
                kind, retryable = ErrorKind.AUTH, False  # Google answers a bad key with 400
            elif status == 400 and re.search(r"token count|maximum number of tokens", msg or "", re.I):
                kind = ErrorKind.CONTEXT
            elif status is None:
                kind, retryable = ErrorKind.OTHER, False
            else:
                kind = kind_for_status(status)
            headers = getattr(getattr(exc, "response", None), "headers", None)
            retry_after = google_retry_delay(exc.details) or retry_after_from_headers(headers)
            return ProviderError(kind, f"{label} from {where}: {msg}", status=status,
                                 retry_after_s=retry_after, retryable=retryable)
        mapped = transport_error(exc, self.config.timeout_s, where)
        if mapped is not None:
            return mapped
        if isinstance(exc, (errors.UnknownApiResponseError, json.JSONDecodeError, UnicodeDecodeError,
                            pydantic.ValidationError)):
            # A 200 whose body is not a GenerateContentResponse: non-JSON (the SDK raises
            # JSONDecodeError, or UnknownApiResponseError in streams) or the wrong shape.
            return ProviderError(ErrorKind.MALFORMED, f"unusable response from {where}: "
                                 f"{type(exc).__name__}: {str(exc)[:200]}", retryable=True)
        return ProviderError(ErrorKind.OTHER, f"{type(exc).__name__}: {exc}", retryable=False)


class GenerationState:
    """Accumulates one reply from one response or from the chunks of a stream."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.thoughts: list[str] = []
        self.ttft: float | None = None
        self.finish: str | None = None
        self.block_reason: str | None = None
        self.prompt_ratings: Any = None
        self.ratings: Any = None
        self.usage: Any = None
        self.model: str | None = None
        self.response_id: str | None = None
        self.saw_candidate = False

    def add(self, chunk: Any, started: float) -> None:
        # Attribute access only, so that the legacy SDK's proto objects go through here as well.
        if not hasattr(chunk, "candidates"):
            raise ProviderError(ErrorKind.MALFORMED, "response is not a GenerateContentResponse", retryable=True)
        self.model = getattr(chunk, "model_version", None) or self.model
        self.response_id = getattr(chunk, "response_id", None) or self.response_id
        if getattr(chunk, "usage_metadata", None) is not None:
            self.usage = chunk.usage_metadata  # cumulative: the last chunk holds the final counts
        feedback = getattr(chunk, "prompt_feedback", None)
        if feedback is not None and _name(feedback.block_reason) is not None:
            self.block_reason = _name(feedback.block_reason)
            self.prompt_ratings = _dump(feedback.safety_ratings)
        for cand in chunk.candidates or []:
            if cand.index not in (0, None):
                continue
            self.saw_candidate = True
            if _name(cand.finish_reason) is not None:
                self.finish = _name(cand.finish_reason)
            if cand.safety_ratings:
                self.ratings = _dump(cand.safety_ratings)
            for part in (cand.content.parts or []) if cand.content is not None else []:
                if part.text and getattr(part, "thought", False):  # thoughts are not the answer
                    self.thoughts.append(part.text)
                elif part.text:
                    if self.ttft is None:
                        self.ttft = time.perf_counter() - started
                    self.parts.append(part.text)

    def reply(self, latency: float, *, streamed: bool) -> Reply:
        usage = Usage()
        thoughts = None
        if self.usage is not None:
            thoughts = getattr(self.usage, "thoughts_token_count", None)
            out = self.usage.candidates_token_count
            prompt_tokens = self.usage.prompt_token_count
            total = getattr(self.usage, "total_token_count", None)
            if out is None and thoughts is None and total is not None and prompt_tokens is not None:
                # Gemini omits candidatesTokenCount when nothing was generated (a blocked prompt);
                # the total still accounts for every token, so the output count is what remains.
                out = max(0, total - prompt_tokens)
            elif out is not None or thoughts is not None:
                out = (out or 0) + (thoughts or 0)  # thinking tokens are billed as output
            usage = Usage(input_tokens=prompt_tokens, output_tokens=out, reasoning_tokens=thoughts,
                          cached_input_tokens=getattr(self.usage, "cached_content_token_count", None))
        raw: dict[str, Any] = {"id": self.response_id, "finish_reason": self.finish}
        if thoughts:
            raw["thoughts_tokens"] = thoughts
        text = "".join(self.parts)
        common = dict(usage=usage, latency_s=latency, ttft_s=self.ttft if streamed else None,
                      model_reported=self.model)
        if self.block_reason is not None:
            raw["block_reason"] = self.block_reason
            if self.prompt_ratings:
                raw["safety_ratings"] = self.prompt_ratings
            return Reply(outcome=Outcome.PROVIDER_BLOCKED, reason=self.block_reason, finish_reason=self.finish,
                         raw=raw, **common)
        if not self.saw_candidate:
            raise ProviderError(ErrorKind.MALFORMED, "HTTP 200 without candidates or a block reason",
                                status=200, retryable=True)
        if self.ratings:
            raw["safety_ratings"] = self.ratings
        if self.finish is None:
            what = "stream ended" if streamed else "candidate came"
            raise ProviderError(ErrorKind.MALFORMED, f"{what} without a finishReason after "
                                f"{len(text)} characters (cut short?)", retryable=True)
        decision = decide("gemini", "finish_reason", self.finish)
        if decision.outcome == "blocked":
            if text:
                raw["partial_text"] = text[:2000]
            return Reply(outcome=Outcome.PROVIDER_BLOCKED, reason=decision.reason, finish_reason=self.finish,
                         raw=raw, **common)
        if decision.outcome == "truncated":
            return Reply(text=text, outcome=Outcome.TRUNCATED, reason=decision.reason, finish_reason=self.finish,
                         raw=raw, **common)
        if decision.outcome != "answered":
            raise finish_error(decision, "gemini", "finishReason")
        return Reply(text=text, outcome=Outcome.ANSWERED, finish_reason=self.finish, raw=raw, **common)
