"""Any OpenAI-compatible chat server: llama.cpp `llama-server`, `llama_cpp.server`, Ollama, vLLM.

The wire is OpenAI Chat Completions, so this is the OpenAI adapter with three differences
(shared/reference/provider-wire.md, section 7):
* `base_url` is required: there is no sensible default host, and silently falling back to
  api.openai.com (or OPENAI_BASE_URL) would send local-model prompts to a paid cloud API.
* The key is optional: local servers usually ignore it, but the SDK refuses to start without one.
* `max_tokens` (not `max_completion_tokens`) is sent, the field these servers have always known.
llama_cpp.server sends no usage chunk when streaming even when asked; usage then stays None
(unknown), never 0, so that cost and token reports do not show a false zero.
"""
from __future__ import annotations

import os

from harness.providers.errors import ProviderError
from harness.providers.openai_chat import OpenAIChatProvider
from harness.types import ErrorKind

# Sent when no key is configured; the SDK needs a non-empty string, local servers ignore it.
PLACEHOLDER_KEY = "no-key-needed"


class OpenAICompatibleProvider(OpenAIChatProvider):
    kind = "openai-compatible"
    key_envs = ("OPENAI_COMPATIBLE_API_KEY",)
    max_tokens_field = "max_tokens"

    def preflight(self) -> list:
        from harness.providers.pricing import option_problem

        problems = super().preflight()
        if not self.config.base_url:
            problems.append(option_problem(self.config, "openai-compatible needs base_url, e.g. http://127.0.0.1:8080/v1"))
        return problems

    def _base_url(self) -> str | None:
        if not self.config.base_url:
            raise ProviderError(
                ErrorKind.BAD_REQUEST,
                "openai-compatible needs base_url in the eval file, e.g. http://127.0.0.1:8080/v1 "
                "(llama.cpp server), http://localhost:11434/v1 (Ollama), http://127.0.0.1:8000/v1 (vLLM)",
                retryable=False,
            )
        return self.config.base_url

    def _api_key(self) -> str:
        # Fallback chain: the variable the eval names, then OPENAI_COMPATIBLE_API_KEY, then a placeholder.
        key = (os.environ.get(self.config.api_key_env) if self.config.api_key_env else None) or os.environ.get(
            "OPENAI_COMPATIBLE_API_KEY"
        )
        if key:
            self._secret = key
            return key
        # A server started with --api-key will answer 401, which is reported as AUTH.
        return PLACEHOLDER_KEY

    def identity(self) -> dict:
        ident = super().identity()
        ident["api_key"] = "configured" if self._secret else "placeholder (server presumably needs none)"
        return ident
