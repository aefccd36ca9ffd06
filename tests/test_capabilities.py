"""The capability table (harness/providers/capabilities.yaml) against the installed SDKs, which carry
some of its facts themselves: an SDK upgrade that moves a shutdown date, adds a model or changes the
API version must fail here instead of passing silently."""
from __future__ import annotations

import typing
from datetime import date

import pytest

from harness.providers.capabilities import (
    EFFORTS,
    PARAM_RULES,
    TableError,
    anthropic_api_version,
    load_table,
    model_caps,
    openai_chat_models,
    openai_responses_only,
    table_caps,
)


def _literals(alias) -> set[str]:
    out: set[str] = set()
    for arg in typing.get_args(alias):
        if isinstance(arg, str):
            out.add(arg)
        else:
            out |= _literals(arg)
    return out


def test_table_loads_with_sources_for_every_entry():
    table = load_table()
    assert table.version == "2026-12-07"
    for kind, entries in table.entries.items():
        assert entries, kind
        for entry in entries:
            assert entry["source"] and all(s in table.sources for s in entry["source"])
            assert set((entry.get("params") or {}).values()) <= PARAM_RULES


def test_openai_shutdown_dates_agree_with_the_sdk():
    names, dates = openai_chat_models()
    assert len(names) > 50 and len(dates) > 40  # the SDK's ChatModel and its deprecation notes were read
    assert dates["gpt-5"] == date(2026, 12, 11) and dates["gpt-4o-mini"] == date(2027, 1, 14)
    for model, shutdown in dates.items():
        caps = table_caps("openai", model)
        assert caps is not None, f"{model}: SDK shutdown {shutdown}, not in the capability table"
        assert caps.shutdown == shutdown, f"{model}: table {caps.shutdown}, SDK {shutdown}"
        assert model_caps("openai", model).shutdown_source.startswith("openai SDK")


def test_every_openai_chat_model_of_the_sdk_without_a_date_is_current_in_the_table():
    names, dates = openai_chat_models()
    for model in names:
        if model in dates:
            continue
        caps = table_caps("openai", model)
        assert caps is not None, f"{model} (in the SDK's ChatModel) is not in the capability table"
        assert caps.shutdown is None, f"{model}: the table has a shutdown date the SDK does not"
        assert caps.api in ("chat", "unsupported"), model


def test_responses_only_models_are_marked_and_chat_models_are_not():
    only = openai_responses_only()
    assert "gpt-5-pro" in only and "o3-deep-research" in only
    for model in only:
        caps = table_caps("openai", model)
        assert caps is not None and caps.api == "responses", model
    for model in openai_chat_models()[0]:
        caps = table_caps("openai", model)
        assert caps is None or caps.api in ("chat", "unsupported"), model


def test_openai_reasoning_efforts_are_the_sdks():
    from openai.types.shared.reasoning_effort import ReasoningEffort

    sdk = _literals(ReasoningEffort)
    for entry in load_table().entries["openai"]:
        efforts = set((entry.get("reasoning") or {}).get("efforts") or ())
        assert efforts <= sdk, (entry["match"], efforts - sdk)


def test_anthropic_api_version_and_models_agree_with_the_sdk():
    from anthropic.types.model_param import ModelParam
    from anthropic.types.output_config_param import OutputConfigParam

    assert anthropic_api_version() == load_table().api_versions["anthropic"] == "2026-10-21"
    for model in _literals(ModelParam):
        caps = table_caps("anthropic", model)
        assert caps is not None, f"{model} (in the SDK's ModelParam) is not in the capability table"
        assert caps.rule("temperature") == "rejected"  # API 2026-10-21 rejects it for every model
        assert caps.shutdown is None or caps.shutdown > date(2026, 12, 7), model
    sdk_efforts = _literals(typing.get_type_hints(OutputConfigParam)["effort"])
    for entry in load_table().entries["anthropic"]:
        efforts = set((entry.get("reasoning") or {}).get("efforts") or ()) - {"none"}
        assert efforts <= sdk_efforts, (entry["match"], efforts - sdk_efforts)


def test_gemini_thinking_levels_are_the_sdks():
    from google.genai import types

    levels = {level.value for level in types.ThinkingLevel}
    for entry in load_table().entries["gemini"]:
        r = entry.get("reasoning") or {}
        if r.get("control") == "thinking_level":
            assert {e.upper() for e in r["efforts"] if e != "none"} <= levels


def test_first_match_wins_and_unknown_models_are_none():
    assert table_caps("openai", "gpt-5.5").reasons
    assert table_caps("openai", "gpt-5-pro").api == "responses"
    assert table_caps("openai", "gpt-4o-mini").rule("temperature") == "accepted"
    assert table_caps("gemini-legacy", "models/gemini-3.5-flash").rule("temperature") == "discouraged"
    assert table_caps("openai", "my-fine-tune") is None
    assert table_caps("llama", "x.gguf") is None


def test_a_broken_table_is_refused(tmp_path):
    bad = tmp_path / "caps.yaml"
    bad.write_text("version: x\nsources: {a: b}\nproviders:\n  openai:\n    models:\n"
                   "      - {match: [m], source: [a], params: {temperature: sometimes}}\n")
    with pytest.raises(TableError, match="temperature"):
        load_table(bad)
    bad.write_text("version: x\nsources: {a: b}\nproviders:\n  openai:\n    models:\n"
                   "      - {match: [m], source: [nowhere]}\n")
    with pytest.raises(TableError, match="unknown source"):
        load_table(bad)


def test_efforts_vocabulary_is_the_params_one():
    from harness.providers.base import REASONING_EFFORTS

    assert tuple(EFFORTS) == tuple(REASONING_EFFORTS)
