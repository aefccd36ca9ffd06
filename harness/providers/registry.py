"""Which provider kinds exist and where their adapters live.

Adapters are imported lazily: each SDK is an optional dependency, and `harness prompts validate`
should not pay for importing four SDKs. Installed packages add provider kinds through the entry point
group `harness.providers` (name: the kind, value: "module:Class"); only their names are read here.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from harness.providers.base import Provider, ProviderConfig


@dataclass(frozen=True)
class ProviderInfo:
    kind: str
    target: str            # "module:Class"
    extra: str             # the pip extra that installs its SDK
    key_envs: tuple[str, ...]
    description: str
    plugin: str | None = None  # the installed package that adds it (entry point `harness.providers`)


PROVIDERS: dict[str, ProviderInfo] = {
    info.kind: info
    for info in [
        ProviderInfo("llama", "harness.providers.llama_local:LlamaLocalProvider", "llama", (),
                     "local GGUF in process with llama-cpp-python (llama/PATH.gguf or llama/REPO/FILE.gguf)"),
        ProviderInfo("openai", "harness.providers.openai_chat:OpenAIChatProvider", "openai",
                     ("OPENAI_API_KEY",), "OpenAI Chat Completions (openai SDK)"),
        ProviderInfo("anthropic", "harness.providers.anthropic_messages:AnthropicProvider", "anthropic",
                     ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"), "Anthropic Messages (anthropic SDK)"),
        ProviderInfo("gemini", "harness.providers.gemini:GeminiProvider", "gemini",
                     ("GOOGLE_API_KEY", "GEMINI_API_KEY"), "Google Gemini generateContent (google-genai SDK)"),
        ProviderInfo("gemini-legacy", "harness.providers.gemini_legacy:GeminiLegacyProvider", "gemini-legacy",
                     ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
                     "Gemini through the deprecated google-generativeai SDK (end of life 30 Nov 2025)"),
        ProviderInfo("openai-compatible", "harness.providers.openai_compatible:OpenAICompatibleProvider",
                     "openai", ("OPENAI_COMPATIBLE_API_KEY",),
                     "any OpenAI-compatible server (llama.cpp server, Ollama, vLLM); needs base_url"),
    ]
}


ENTRY_POINT_GROUP = "harness.providers"


def _plugin_providers() -> dict[str, ProviderInfo]:
    """Providers that installed packages add: an entry point `kind = "module:Class"` in the group
    `harness.providers`, the class a `harness.providers.base.Provider`. Built-in kinds win."""
    from importlib.metadata import entry_points

    found: dict[str, ProviderInfo] = {}
    try:
        eps = list(entry_points(group=ENTRY_POINT_GROUP))
    except Exception:  # noqa: BLE001 - broken metadata of some package must not stop the harness
        return found
    for ep in eps:
        if ep.name in PROVIDERS or ep.name in found or ":" not in ep.value:
            continue
        dist = getattr(getattr(ep, "dist", None), "name", None) or "an installed package"
        found[ep.name] = ProviderInfo(ep.name, ep.value, "", (), f"from {dist}", plugin=dist)
    return found


PROVIDERS.update(_plugin_providers())


class UnknownProvider(ValueError):
    pass


def provider_info(kind: str) -> ProviderInfo:
    try:
        return PROVIDERS[kind]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise UnknownProvider(f"unknown provider {kind!r}; known providers: {known}") from None


def create_provider(config: ProviderConfig) -> Provider:
    info = provider_info(config.kind)
    module_name, class_name = info.target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        if info.plugin:
            raise ImportError(f"provider {config.kind!r} (from {info.plugin}) cannot be imported: {err}") from err
        raise ImportError(
            f"provider {config.kind!r} needs an optional dependency ({err.name}); "
            f"install it with: pip install 'chatbot-eval-harness[{info.extra}]'"
        ) from err
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise ValueError(f"provider {config.kind!r}: {info.target} is not a harness Provider class")
    return cls(config)
