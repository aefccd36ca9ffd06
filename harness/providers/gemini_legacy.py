"""Gemini through the deprecated `google-generativeai` SDK (end of life 30 Nov 2025).

Kept only for teams that still pin it; use the `gemini` provider (google-genai) instead. The SDK is
an optional extra and is imported inside start(), so that this module imports without it.
Why it looks the way it does (shared/reference/provider-wire.md, section 5, checked against
google-generativeai 0.8.6 + google-ai-generativelanguage 0.6.15 through the loopback server):
* No `genai.configure`: it is process-global, and every GenerativeModel picks up whatever client
  the *last* configure() built when it first sends, so two legacy providers (or an eval and its
  judge) would send to each other's endpoint with each other's key. Each provider builds its own
  `GenerativeServiceClient` with the same arguments configure() would use and hands it to the
  GenerativeModel of each call through the model's `_client` slot. Both are internals of a
  package that is frozen (end of life; the SDK pins google-ai-generativelanguage==0.6.15).
* `transport="rest"`: the default gRPC transport cannot reach a plain-HTTP endpoint, and fails as
  a 503 that the SDK's default policy retries for up to 600 s.
* `api_endpoint` keeps its scheme (`http://...`); without one REST uses https.
* `request_options={"retry": None, "timeout": ...}` on every call: the harness retries.
* google-auth's session re-sends a request that got 401 twice more ("refreshing credentials"),
  which an API key can never fix: every 401 cost three requests (and, against a scripted server,
  the re-sends consumed the next scripted replies). The client's session is set to
  refresh on no status (`refresh_status_codes=()`), so one attempt is one request.
* The SDK is synchronous over REST, so calls run in a worker thread.
* `response.text` raises ValueError on blocks, and a *streamed* prompt block raises
  BlockedPromptException; the raw proto chunks are read instead (gemini.GenerationState, which
  understands the proto enums). The chunks are taken as the SDK's stream parser produces them,
  not from the response wrapper, which holds each chunk back until the next one has arrived: so
  ttft_s is when the first text arrived, not one chunk gap later.
* Proto3 reads an absent message as an empty one: a chunk without usageMetadata would otherwise
  reset the usage to zero.
* A Google error object inside the streamed array (`[..., {"error": {...}}]`) is parsed with
  unknown fields ignored, i.e. as an empty chunk: the SDK drops the error. Such a stream ends
  without a finishReason and is reported as MALFORMED (retried at most twice), with a hint.
* Known gaps of the SDK (not worked around): its GenerationConfig has no `seed` (not sent;
  recorded in raw), its Part has no `thought` flag (thought parts would count as answer text),
  and it rejects harm categories newer than it (e.g. HARM_CATEGORY_CIVIC_INTEGRITY) in
  options.safety_settings, which start() reports as a bad request.
"""
from __future__ import annotations

import asyncio
import re
import time
import warnings
from collections.abc import Iterator
from typing import Any

from harness.providers.base import (
    GenerationParams,
    Provider,
    ProviderConfig,
    resolve_api_key,
    safe_url,
    system_and_turns,
)
from harness.providers.errors import (
    ProviderError,
    body_message,
    kind_for_status,
    missing_key_error,
    retry_after_from_headers,
)
from harness.providers.gemini import PROVIDER_DEFAULT, GenerationState, google_retry_delay, transport_error
from harness.providers.reasoning import finish_reasoning
from harness.types import ErrorKind, Message, Reply

INSTALL_HINT = "pip install 'chatbot-eval-harness[gemini-legacy]'"
DEPRECATION = ("gemini-legacy uses google-generativeai, which reached end of life on 30 Nov 2025; "
               "switch to the 'gemini' provider (google-genai)")
DEFAULT_HOST = "https://generativelanguage.googleapis.com"

# The deprecation notice is shown once per process (tests reset this to see it again).
_warned = False
# api_core's message is "POST http://host/v1beta/models/m:generateContent?...: <the server's message>".
_METHOD_URL_PREFIX = re.compile(r"^[A-Z]+ \S+: ")


def _warn_deprecated() -> None:
    """The deprecation notice, once per process, as exactly one line on stderr: warnings.warn()
    would print the caller's source line underneath (a traceback-looking second line), and line
    0 of a pseudo-file has no source line."""
    global _warned
    if _warned:
        return
    _warned = True
    warnings.warn_explicit(DEPRECATION, FutureWarning, filename="gemini-legacy", lineno=0, module=__name__)


def _import_sdk() -> tuple[Any, Any, Any, Any]:
    """(genai, glm, google.api_core.exceptions, generation_types), without the SDK's own import-time
    notices: google.generativeai prints a multi-line FutureWarning and google.api_core one about
    the Python version. The adapter says it once, in one line, instead."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            import google.ai.generativelanguage as glm
            import google.generativeai as genai
            from google.api_core import exceptions as gexc
            from google.generativeai.types import generation_types
    except ImportError as err:
        raise ImportError(
            f"provider 'gemini-legacy' needs the deprecated google-generativeai SDK; install it with: "
            f"{INSTALL_HINT} (or use provider 'gemini')"
        ) from err
    return genai, glm, gexc, generation_types


class _LegacyState(GenerationState):
    """GenerationState over the legacy SDK's proto chunks."""

    def __init__(self) -> None:
        super().__init__()
        self.unreadable_chunks = 0

    def add(self, chunk: Any, started: float) -> None:
        usage = self.usage
        super().add(chunk, started)
        if "usage_metadata" not in chunk:  # proto3: absent reads as all zeros; keep the last real one
            self.usage = usage
        if not any(name in chunk for name in ("candidates", "prompt_feedback", "usage_metadata", "model_version")):
            self.unreadable_chunks += 1  # e.g. an in-stream {"error": ...}, parsed as an empty chunk


class _CallClient:
    """The provider's GenerativeServiceClient as one call's GenerativeModel sees it: every proto
    response goes to the call's state the moment the SDK has parsed it."""

    def __init__(self, client: Any, state: _LegacyState, started: float) -> None:
        self._client = client
        self._state = state
        self._started = started
        self.stream: Any = None
        self.finished = False

    def generate_content(self, request: Any, **kwargs: Any) -> Any:
        response = self._client.generate_content(request, **kwargs)
        self._state.add(response, self._started)
        return response

    def stream_generate_content(self, request: Any, **kwargs: Any) -> Iterator[Any]:
        self.stream = self._client.stream_generate_content(request, **kwargs)
        return self._chunks()

    def _chunks(self) -> Iterator[Any]:
        for chunk in self.stream:
            self._state.add(chunk, self._started)
            yield chunk
        self.finished = True

    def close_stream(self) -> None:
        """Close a stream left unfinished (an error, a block), instead of leaving it to the GC."""
        if self.stream is None or self.finished:
            return
        cancel = getattr(self.stream, "cancel", None)  # api_core's ResponseIterator: closes the response
        if cancel is not None:
            try:
                cancel()
            except Exception:
                pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _without_401_resend(client: Any) -> None:
    """Make the REST transport's google-auth session hand a 401 back instead of re-sending it.
    The session is configured in place: the transport's method stubs are keyed by it, so it cannot
    be replaced. These are google-auth's AuthorizedSession(refresh_status_codes=...,
    max_refresh_attempts=...) constructor settings; a test fails if a release renames them."""
    session = getattr(getattr(client, "transport", None), "_session", None)
    if session is not None and hasattr(session, "_refresh_status_codes"):
        session._refresh_status_codes = ()
        session._max_refresh_attempts = 0


class GeminiLegacyProvider(Provider):
    kind = "gemini-legacy"
    supports_streaming = True
    key_envs = ("GEMINI_API_KEY", "GOOGLE_API_KEY")  # this SDK's order, the reverse of google-genai's
    known_options = frozenset({"price", "safety_settings"})

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self._genai: Any = None
        self._gexc: Any = None
        self._gtypes: Any = None
        self._client: Any = None  # this provider's own GenerativeServiceClient
        self._secret: str | None = None
        self.safety_settings = config.options.get("safety_settings") or None

    def preflight(self) -> list:
        import importlib.util

        from harness.providers.gemini import check_safety_settings
        from harness.providers.pricing import option_problem

        problems = super().preflight()
        problem = check_safety_settings(self.config.options.get("safety_settings"))
        if problem:
            problems.append(option_problem(self.config, problem))
        try:
            installed = importlib.util.find_spec("google.generativeai") is not None
        except ModuleNotFoundError:  # no `google` namespace at all
            installed = False
        if not installed:
            problems.append(option_problem(
                self.config, f"gemini-legacy needs the deprecated google-generativeai SDK: {INSTALL_HINT} "
                             "(or use provider 'gemini')"))
        return problems

    async def start(self) -> None:
        genai, glm, gexc, gtypes = _import_sdk()
        _warn_deprecated()
        key, env_name, named = resolve_api_key(self.config, self.key_envs)
        if not key:
            raise missing_key_error(env_name, named_by_eval=named)
        base = self.config.base_url
        if base and not base.startswith(("http://", "https://")):
            raise ProviderError(ErrorKind.BAD_REQUEST, f"gemini-legacy base_url needs its scheme (http://...): {base}",
                                retryable=False)
        if self.safety_settings:
            try:  # the SDK maps categories itself and knows only those of its time
                genai.GenerativeModel(self.config.model_name, safety_settings=self.safety_settings)
            except (KeyError, ValueError, TypeError) as err:
                raise ProviderError(ErrorKind.BAD_REQUEST, f"gemini-legacy cannot send options.safety_settings: "
                                    f"{type(err).__name__}: {err} (the deprecated SDK knows only older categories; "
                                    "use provider 'gemini')", retryable=False) from err
        from google.api_core import client_options as client_options_lib
        from google.api_core import gapic_v1

        # What genai.configure(api_key=..., transport="rest", client_options=...) would build, but
        # owned by this provider instead of the process.
        options = client_options_lib.ClientOptions(api_key=key)
        if base:
            options.api_endpoint = base.rstrip("/")
        client_info = gapic_v1.client_info.ClientInfo(user_agent=f"genai-py/{getattr(genai, '__version__', '')}")
        client = glm.GenerativeServiceClient(transport="rest", client_options=options, client_info=client_info)
        _without_401_resend(client)
        await self.aclose()
        self._secret = key
        self._client = client
        self._genai, self._gexc, self._gtypes = genai, gexc, gtypes

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.transport.close()
            except Exception:
                pass

    def identity(self) -> dict[str, Any]:
        version = None
        if self._genai is not None:
            version = getattr(self._genai, "__version__", None)
        return {
            "provider": self.kind,
            "model": self.config.model_name,
            "base_url": safe_url(self.config.base_url) or DEFAULT_HOST,
            "api_version": "v1beta",  # fixed by this SDK
            "sdk": "google-generativeai (deprecated)",
            "sdk_version": version,
            "transport": "rest",
            "safety_settings": self.safety_settings or PROVIDER_DEFAULT,
            "stream": self.config.stream,
        }

    async def _generate(self, messages: list[Message], params: GenerationParams) -> Reply:
        if self._client is None:
            await self.start()
        system, turns = system_and_turns(messages, params.system_prompt)
        contents = [{"role": "model" if m.role == "assistant" else "user", "parts": [m.content]} for m in turns]
        config: dict[str, Any] = {}
        if params.temperature is not None:
            config["temperature"] = params.temperature
        if params.max_tokens is not None:
            config["max_output_tokens"] = params.budget()  # thought tokens count against it
        if params.stop:
            config["stop_sequences"] = list(params.stop)
        model = self._genai.GenerativeModel(self.config.model_name, system_instruction=system,
                                            safety_settings=self.safety_settings)
        started = time.perf_counter()
        state = _LegacyState()
        # Private slot, read by generate_content; see the module docstring.
        model._client = calls = _CallClient(self._client, state, started)
        stream = self.config.stream

        def call() -> None:  # blocking: runs in a worker thread
            try:
                response = model.generate_content(
                    contents, generation_config=config or None, stream=stream,
                    request_options={"retry": None, "timeout": self.config.timeout_s},
                )
                if stream:
                    for _ in response:  # drives the stream; the chunks reach `state` through `calls`
                        pass
            except self._gtypes.BlockedPromptException:
                pass  # a streamed prompt block: its chunk is already in `state`
            finally:
                calls.close_stream()

        try:
            await asyncio.to_thread(call)
            reply = finish_reasoning(state.reply(time.perf_counter() - started, streamed=stream),
                                     "".join(state.thoughts))
        except ProviderError as err:
            if state.unreadable_chunks and err.kind is ErrorKind.MALFORMED:
                err.message += (f"; the stream held {state.unreadable_chunks} object(s) this SDK could not read "
                                "(an in-stream error, which google-generativeai drops?)")
                err.args = (err.message,)
            raise
        except Exception as exc:
            err = self._map_error(exc)
            if self._secret:
                err.message = err.message.replace(self._secret, "[REDACTED]")
                err.args = (err.message,)
            raise err from exc
        reply.raw["safety_settings"] = self.safety_settings or PROVIDER_DEFAULT
        if params.seed is not None:
            reply.raw["seed"] = "not sent (the legacy SDK's GenerationConfig has no seed)"
        return reply

    def _map_error(self, exc: Exception) -> ProviderError:
        from google.protobuf import json_format

        where = safe_url(self.config.base_url) or DEFAULT_HOST
        unreadable = (json_format.ParseError, AttributeError)
        if isinstance(exc, self._gexc.BadRequest) and getattr(exc, "response", None) is None \
                and isinstance(exc.__context__, unreadable):
            # The SDK rewrites an unparsable first stream chunk as a 400 that no server sent.
            return ProviderError(ErrorKind.MALFORMED, f"unusable stream from {where}: "
                                 f"{type(exc.__context__).__name__}: {str(exc.__context__)[:200]}", retryable=True)
        if isinstance(exc, self._gexc.GoogleAPICallError):
            response = getattr(exc, "response", None)  # a requests.Response over REST
            # api_core's code is an HTTPStatus; 529 and other unmapped statuses arrive as the
            # generic class, whose code is unset.
            code = exc.code if exc.code is not None else getattr(response, "status_code", None)
            status = int(code) if code is not None else None
            body: Any = None
            try:
                body = response.json() if response is not None else None
            except ValueError:
                body = None
            msg = _METHOD_URL_PREFIX.sub("", exc.message or "") or body_message(body)
            if "API_KEY_INVALID" in str(body) or "API key not valid" in (msg or ""):
                kind, retryable = ErrorKind.AUTH, False  # Google answers a bad key with 400
            elif status == 400 and re.search(r"token count|maximum number of tokens", msg or "", re.I):
                kind, retryable = ErrorKind.CONTEXT, None
            else:
                kind, retryable = (kind_for_status(status), None) if status else (ErrorKind.OTHER, False)
            google_status = (body or {}).get("error", {}).get("status") if isinstance(body, dict) else None
            label = f"HTTP {status} {google_status or ''}".strip()
            retry_after = google_retry_delay(body) or retry_after_from_headers(getattr(response, "headers", None))
            return ProviderError(kind, f"{label} from {where}: {msg}", status=status,
                                 retry_after_s=retry_after, retryable=retryable)
        if type(exc).__name__ == "ConnectionError" and exc.args and "ReadTimeout" in type(exc.args[0]).__name__:
            # requests reports a read timeout inside a streamed body as a ConnectionError
            return ProviderError(ErrorKind.TIMEOUT, f"timed out after {self.config.timeout_s:g}s waiting for {where}")
        mapped = transport_error(exc, self.config.timeout_s, where)
        if mapped is not None:
            return mapped
        if isinstance(exc, json_format.ParseError) or (
                isinstance(exc, ValueError) and "Can only parse array of JSON objects" in str(exc)):
            # A 200 that is not a GenerateContentResponse (non-JSON; SSE or a bare object in a stream)
            return ProviderError(ErrorKind.MALFORMED, f"unusable response from {where}: "
                                 f"{type(exc).__name__}: {str(exc)[:200]}", retryable=True)
        return ProviderError(ErrorKind.OTHER, f"{type(exc).__name__}: {exc}", retryable=False)
