"""Where the strict servers' knowledge comes from: `wire_rules.yaml` for facts about models and API
versions, and the installed SDKs' own request types for which fields exist at all.

Why read field sets from the SDKs: the real APIs reject unknown fields ("Extra inputs are not
permitted", "Unrecognized request argument", "Unknown name ... Cannot find field"), and the SDKs'
request types are the best local record of what the APIs accept. A hand-kept list would drift.
When an SDK is not installed its field set is None and that one check is not made (the loopback
also serves protocols whose SDK a test environment lacks).
"""
from __future__ import annotations

import re
import typing
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

_RULES_FILE = Path(__file__).with_name("wire_rules.yaml")


@lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    with _RULES_FILE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def matches(model: str | None, patterns: list[str] | None) -> bool:
    """Whether the model id starts with one of the regexes ("models/" prefixes ignored)."""
    if not model or not patterns:
        return False
    name = model.split("/", 1)[1] if model.startswith("models/") else model
    return any(re.match(p, name) for p in patterns)


def first_match(model: str | None, entries: list[dict]) -> dict | None:
    for entry in entries or []:
        if matches(model, [entry["pattern"]]):
            return entry
    return None


def _typed_dict_keys(td: Any) -> frozenset[str]:
    return frozenset(getattr(td, "__required_keys__", set()) | getattr(td, "__optional_keys__", set()))


def _literals(tp: Any) -> set[str]:
    """Every string Literal inside a (possibly nested Union/Literal) type alias."""
    out: set[str] = set()
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        out |= {a for a in typing.get_args(tp) if isinstance(a, str)}
    elif origin is not None:
        for arg in typing.get_args(tp):
            out |= _literals(arg)
    return out


# -- OpenAI ----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def openai_chat_fields() -> frozenset[str] | None:
    try:
        from openai.types.chat import completion_create_params as p
    except ImportError:
        return None
    return _typed_dict_keys(p.CompletionCreateParamsBase) | {"stream"}


@lru_cache(maxsize=1)
def openai_completion_fields() -> frozenset[str] | None:
    try:
        from openai.types import completion_create_params as p
    except ImportError:
        return None
    return _typed_dict_keys(p.CompletionCreateParamsBase) | {"stream"}


@lru_cache(maxsize=1)
def openai_chat_models() -> frozenset[str]:
    try:
        from openai.types.shared.chat_model import ChatModel
    except ImportError:
        return frozenset()
    return frozenset(_literals(ChatModel))


@lru_cache(maxsize=1)
def openai_responses_only_models() -> frozenset[str]:
    """Models the SDK lists for the Responses API and not for Chat Completions (pro, codex, ...)."""
    try:
        from openai.types.shared.responses_model import ResponsesModel
    except ImportError:
        return frozenset()
    return frozenset(_literals(ResponsesModel) - openai_chat_models())


@lru_cache(maxsize=1)
def openai_efforts() -> frozenset[str]:
    try:
        from openai.types.shared.reasoning_effort import ReasoningEffort
    except ImportError:
        return frozenset()
    return frozenset(_literals(ReasoningEffort))


def openai_is_reasoning(model: str | None) -> bool:
    return matches(model, rules()["openai"]["reasoning_models"])


# -- Anthropic -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def anthropic_message_fields() -> frozenset[str] | None:
    try:
        from anthropic.types import message_create_params as p
    except ImportError:
        return None
    return _typed_dict_keys(p.MessageCreateParamsBase) | {"stream"}


@lru_cache(maxsize=1)
def anthropic_sdk_version_header() -> str | None:
    """The anthropic-version the installed SDK sends (anthropic/_constants.py), if it says."""
    try:
        from anthropic import _constants
    except ImportError:
        return None
    return getattr(_constants, "ANTHROPIC_API_VERSION", None)


@lru_cache(maxsize=1)
def anthropic_thinking_types() -> frozenset[str] | None:
    """The `thinking.type` values the SDK's ThinkingConfigParam union allows."""
    try:
        from anthropic.types.thinking_config_param import ThinkingConfigParam
    except ImportError:
        return None
    out: set[str] = set()
    for td in typing.get_args(ThinkingConfigParam):
        out |= _literals(typing.get_type_hints(td, include_extras=True).get("type"))
    return frozenset(out) or None


# -- Gemini ----------------------------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _converter_keys(func_name: str, target: str) -> set[str]:
    """The wire keys google-genai's own request converter writes into `target` (its generated
    `setv(to_object, ['key'], ...)` calls): what the SDK actually sends, read from the SDK."""
    import inspect

    from google.genai import models

    func = getattr(models, func_name, None)
    if func is None:
        return set()
    return set(re.findall(r"setv\(\s*" + target + r",\s*\[\s*'(\w+)'", inspect.getsource(func)))


@lru_cache(maxsize=1)
def gemini_generation_config_fields() -> frozenset[str] | None:
    """generationConfig keys the API knows: google-genai's GenerationConfig fields plus what its
    request converter puts into generationConfig, in camelCase (what the SDK sends) and snake_case
    (which the proto3 JSON mapping of the real API also reads)."""
    try:
        from google.genai import types
    except ImportError:
        return None
    # The Developer API's own converter only: GenerationConfig's model fields also cover Vertex
    # (routingConfig, modelSelectionConfig, audioTimestamp), which the Developer API rejects.
    names = _converter_keys("_GenerateContentConfig_to_mldev", "to_object")
    if not names:
        names = set(types.GenerationConfig.model_fields)
    return frozenset(names | {_camel(n) for n in names} | {_snake(n) for n in names})


@lru_cache(maxsize=1)
def gemini_request_fields() -> frozenset[str] | None:
    """Top-level generateContent body keys google-genai sends (contents, systemInstruction, tools, ...)."""
    try:
        from google.genai import models  # noqa: F401
    except ImportError:
        return None
    names = (_converter_keys("_GenerateContentConfig_to_mldev", "parent_object")
             | _converter_keys("_GenerateContentParameters_to_mldev", "to_object"))
    names = {n for n in names if not n.startswith("_")}   # the SDK's internal keys (_url) are not body fields
    if not names:
        return None
    return frozenset(names | {_snake(n) for n in names})


@lru_cache(maxsize=1)
def gemini_thinking_config_fields() -> frozenset[str] | None:
    try:
        from google.genai import types
    except ImportError:
        return None
    names = set(types.ThinkingConfig.model_fields)
    return frozenset(names | {_camel(n) for n in names})


def gemini_model_rule(model: str | None) -> dict | None:
    return first_match(model, rules()["gemini"]["models"])


def preload() -> None:
    """Read the rules and the SDK field sets now (importing the SDKs takes seconds), so the first
    requests are not delayed past a test client's short timeout by the imports."""
    rules()
    for fn in (openai_chat_fields, openai_completion_fields, openai_responses_only_models, openai_efforts,
               anthropic_message_fields, anthropic_sdk_version_header, anthropic_thinking_types,
               gemini_generation_config_fields, gemini_thinking_config_fields, gemini_request_fields):
        fn()
