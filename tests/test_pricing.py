"""The price table and cost rule: unknown is None, never 0; the eval file can override."""
from __future__ import annotations

from datetime import date

import pytest

from harness.providers.base import ProviderConfig
from harness.providers.pricing import (
    Price,
    check_price_option,
    cost,
    load_prices,
    price_for,
    price_problems,
    reply_cost,
)
from harness.types import Outcome, Reply, Usage

REQUIRED = ["openai/gpt-4o-mini", "openai/gpt-4.1-mini", "anthropic/claude-haiku-4-5",
            "anthropic/claude-sonnet-4-5", "gemini/gemini-2.5-flash"]


def test_table_has_the_usual_models_with_checked_dates():
    table = load_prices()
    for model in REQUIRED:
        assert model in table, model
    for model, price in table.items():
        assert price.input_per_mtok >= 0 and price.output_per_mtok >= 0, model
        assert isinstance(price.checked, date), f"{model} needs a checked: YYYY-MM-DD date"
        assert price.output_per_mtok >= price.input_per_mtok, model  # true of every listed model


def test_cost_from_table():
    usage = Usage(input_tokens=1_000_000, output_tokens=500_000)
    price = load_prices()["openai/gpt-4o-mini"]
    expected = price.input_per_mtok + price.output_per_mtok / 2
    assert cost("openai/gpt-4o-mini", usage) == pytest.approx(expected)


def test_cost_with_a_given_table():
    table = {"openai/m": Price(2.0, 8.0)}
    assert cost("openai/m", Usage(input_tokens=1000, output_tokens=250), table=table) == pytest.approx(0.004)


def test_unknown_model_is_none_not_zero():
    assert cost("openai/no-such-model", Usage(input_tokens=10, output_tokens=10)) is None
    assert cost("llama/models/tiny.gguf", Usage(input_tokens=10, output_tokens=10)) is None


def test_dated_snapshot_is_not_matched_to_alias():
    assert price_for("openai/gpt-4o-mini-2024-07-18") is None


def test_unknown_tokens_are_none_not_zero():
    assert cost("openai/gpt-4o-mini", Usage()) is None
    assert cost("openai/gpt-4o-mini", Usage(input_tokens=5)) is None  # e.g. a stream without usage
    assert cost("openai/gpt-4o-mini", None) is None


def test_zero_tokens_cost_zero_when_priced():
    assert cost("openai/gpt-4o-mini", Usage(input_tokens=0, output_tokens=0)) == 0.0


def test_eval_file_override_wins():
    override = {"input_per_mtok": 1.0, "output_per_mtok": 2.0}
    usage = Usage(input_tokens=2_000_000, output_tokens=1_000_000)
    assert cost("openai/gpt-4o-mini", usage, override) == pytest.approx(4.0)
    assert cost("openai-compatible/anything", usage, override) == pytest.approx(4.0)
    assert price_for("openai/gpt-4o-mini", override).source == "eval file"


def test_local_llama_is_free_only_when_priced_explicitly():
    usage = Usage(input_tokens=100, output_tokens=100)
    assert cost("llama/tiny.gguf", usage) is None
    assert cost("llama/tiny.gguf", usage, {"input_per_mtok": 0, "output_per_mtok": 0}) == 0.0


def test_gemini_names_and_legacy_share_prices():
    table = load_prices()
    assert price_for("gemini/models/gemini-2.5-flash") == table["gemini/gemini-2.5-flash"]
    assert price_for("gemini-legacy/gemini-2.5-flash") == table["gemini/gemini-2.5-flash"]


@pytest.mark.parametrize("bad", [
    {"input_per_mtok": 1.0},
    {"input_per_mtok": 1.0, "output_per_mtok": "2"},
    {"input_per_mtok": -1, "output_per_mtok": 2},
    {"input_per_mtok": 1, "output_per_mtok": 2, "currency": "EUR"},
    [1, 2],
])
def test_bad_override_is_reported(bad):
    problem = check_price_option({"price": bad})
    assert problem and "options.price" in problem
    with pytest.raises(ValueError):
        cost("openai/gpt-4o-mini", Usage(input_tokens=1, output_tokens=1), bad)


def test_no_override_is_fine():
    assert check_price_option({}) is None


class _FakeProvider:
    def __init__(self, config: ProviderConfig) -> None:
        self.config = config


def test_reply_cost_reads_config_options():
    config = ProviderConfig(model="openai-compatible/llama", base_url="http://127.0.0.1:1/v1",
                            options={"price": {"input_per_mtok": 1, "output_per_mtok": 1}})
    reply = Reply(outcome=Outcome.ANSWERED, text="x", usage=Usage(input_tokens=500_000, output_tokens=500_000))
    assert reply_cost(_FakeProvider(config), reply) == pytest.approx(1.0)
    error = Reply(outcome=Outcome.ERROR)
    assert reply_cost(_FakeProvider(config), error) is None


def test_reply_cost_with_broken_override_warns_and_is_none():
    config = ProviderConfig(model="openai/gpt-4o-mini", options={"price": {"input_per_mtok": 1}})
    reply = Reply(outcome=Outcome.ANSWERED, usage=Usage(input_tokens=1, output_tokens=1))
    with pytest.warns(UserWarning, match="cost unknown"):
        assert reply_cost(_FakeProvider(config), reply) is None
    assert price_problems(config)


def test_preflight_of_adapters_reports_option_problems():
    from harness.providers.gemini import GeminiProvider
    from harness.providers.openai_compatible import OpenAICompatibleProvider

    compat = OpenAICompatibleProvider(ProviderConfig(model="openai-compatible/llama"))
    assert any("needs base_url" in p.message for p in compat.preflight())
    gemini = GeminiProvider(ProviderConfig(model="gemini/gemini-2.5-flash",
                                           options={"safety_settings": "off", "price": {"x": 1}}))
    messages = [p.message for p in gemini.preflight()]
    assert any("safety_settings" in m for m in messages) and any("options.price" in m for m in messages)
