"""Gemini through the deprecated `google-generativeai` SDK (end of life 30 Nov 2025).

Kept only for teams that still pin it; use the `gemini` provider (google-genai) instead. The SDK is
an optional extra and is imported inside start(), so that this module imports without it.
Why it looks the way it does (shared/reference/provider-wire.md, section 5; not runnable here):
* `transport="rest"`: the default gRPC transport cannot reach a plain-HTTP endpoint, and fails as
  a 503 that the SDK's default policy retries for up to 600 s.
* `api_endpoint` keeps its scheme (`http://...`); without one REST uses https.
* `request_options={"retry": None, "timeout": ...}` on every call: the harness retries.
* `genai.configure` is process-global: two legacy providers with different endpoints or keys in
  one run would overwrite each other.
* The SDK is synchronous over REST, so calls run in a worker thread.
* `response.text` raises ValueError on blocks; the response is read field by field instead
  (through gemini.GenerationState, which also understands the proto enums).
"""
from __future__ import annotations

import asyncio
import time
import warnings
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
from harness.types import ErrorKind, Message, Reply

INSTALL_HINT = "pip install 'chatbot-eval-harness[gemini-legacy]'"
DEPRECATION = ("gemini-legacy uses google-generativeai, which reached end of life on 30 Nov 2025; "
               "switch to the 'gemini' provider (google-genai)")


class GeminiLegacyProvider(Provider):
    kind = "gemini-legacy"
    supports_streaming = True  # TTFT is the first *yielded* object: up to one chunk gap late
    key_envs = ("GEMINI_API_KEY", "GOOGLE_API_KEY")  # this SDK's order, the reverse of google-genai's
    known_options = frozenset({"price", "safety_settings"})

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self._genai: Any = None
        self._gexc: Any = None
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
        try:
            import google.generativeai as genai
            from google.api_core import exceptions as gexc
        except ImportError as err:
            raise ImportError(
                f"provider 'gemini-legacy' needs the deprecated google-generativeai SDK; install it with: "
                f"{INSTALL_HINT} (or use provider 'gemini')"
            ) from err
        warnings.warn(DEPRECATION, FutureWarning, stacklevel=2)  # one line, shown by default
        key, env_name, named = resolve_api_key(self.config, self.key_envs)
        if not key:
            raise missing_key_error(env_name, named_by_eval=named)
        base = self.config.base_url
        if base and not base.startswith(("http://", "https://")):
            raise ProviderError(ErrorKind.BAD_REQUEST, f"gemini-legacy base_url needs its scheme (http://...): {base}",
                                retryable=False)
        self._secret = key
        genai.configure(api_key=key, transport="rest",
                        client_options={"api_endpoint": base.rstrip("/")} if base else None)
        self._genai, self._gexc = genai, gexc

    def identity(self) -> dict[str, Any]:
        version = None
        if self._genai is not None:
            version = getattr(self._genai, "__version__", None)
        return {
            "provider": self.kind,
            "model": self.config.model_name,
            "base_url": safe_url(self.config.base_url) or "https://generativelanguage.googleapis.com",
            "api_version": "v1beta",  # fixed by this SDK
            "sdk": "google-generativeai (deprecated)",
            "sdk_version": version,
            "transport": "rest",
            "safety_settings": self.safety_settings or PROVIDER_DEFAULT,
            "stream": self.config.stream,
        }

    async def _generate(self, messages: list[Message], params: GenerationParams) -> Reply:
        if self._genai is None:
            await self.start()
        system, turns = system_and_turns(messages, params.system_prompt)
        contents = [{"role": "model" if m.role == "assistant" else "user", "parts": [m.content]} for m in turns]
        config: dict[str, Any] = {}
        if params.temperature is not None:
            config["temperature"] = params.temperature
        if params.max_tokens is not None:
            config["max_output_tokens"] = params.max_tokens
        if params.stop:
            config["stop_sequences"] = list(params.stop)
        model = self._genai.GenerativeModel(self.config.model_name, system_instruction=system,
                                            safety_settings=self.safety_settings)
        started = time.perf_counter()
        state = GenerationState()

        def call() -> None:  # blocking: runs in a worker thread
            response = model.generate_content(
                contents, generation_config=config or None, stream=self.config.stream,
                request_options={"retry": None, "timeout": self.config.timeout_s},
            )
            for chunk in (response if self.config.stream else [response]):
                state.add(chunk, started)

        try:
            await asyncio.to_thread(call)
        except ProviderError:
            raise
        except Exception as exc:
            err = self._map_error(exc)
            if self._secret:
                err.message = err.message.replace(self._secret, "[REDACTED]")
                err.args = (err.message,)
            raise err from exc
        reply = state.reply(time.perf_counter() - started, streamed=self.config.stream)
        reply.raw["safety_settings"] = self.safety_settings or PROVIDER_DEFAULT
        if params.seed is not None:
            # Whether this SDK's GenerationConfig takes a seed was never verified: not sent.
            reply.raw["seed"] = "not sent (legacy SDK)"
        return reply

    def _map_error(self, exc: Exception) -> ProviderError:
        where = safe_url(self.config.base_url) or "generativelanguage.googleapis.com"
        if isinstance(exc, self._gexc.GoogleAPICallError):
            response = getattr(exc, "response", None)  # a requests.Response over REST
            # 529 and other unmapped statuses arrive as the generic class, whose code may be unset.
            status = exc.code if isinstance(exc.code, int) else getattr(response, "status_code", None)
            body: Any = None
            try:
                body = response.json() if response is not None else None
            except ValueError:
                body = None
            msg = exc.message or body_message(body)
            if "API_KEY_INVALID" in str(body) or "API key not valid" in (msg or ""):
                kind, retryable = ErrorKind.AUTH, False
            else:
                kind, retryable = (kind_for_status(status), None) if status else (ErrorKind.OTHER, False)
            retry_after = google_retry_delay(body) or retry_after_from_headers(getattr(response, "headers", None))
            return ProviderError(kind, f"HTTP {status} from {where}: {msg}", status=status,
                                 retry_after_s=retry_after, retryable=retryable)
        mapped = transport_error(exc, self.config.timeout_s, where)
        if mapped is not None:
            return mapped
        if isinstance(exc, ValueError):  # e.g. "Can only parse array of JSON objects"
            return ProviderError(ErrorKind.MALFORMED, f"unusable response from {where}: {exc}", retryable=True)
        return ProviderError(ErrorKind.OTHER, f"{type(exc).__name__}: {exc}", retryable=False)
