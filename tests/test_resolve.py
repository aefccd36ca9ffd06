"""Parameter resolution (harness/providers/resolve.py): eval defaults apply only where the model accepts
them, an explicit value it rejects is bad input (exit 2, nothing sent), `field: null` removes a default,
reasoning settings are checked against the model, the reasoning allowance is added to the budget, and a
retired model is refused unless allow_retired."""
from __future__ import annotations

from datetime import date

import pytest
import yaml

from harness.evalfile import load_eval
from harness.problems import InputError
from harness.providers.base import GenerationParams, ProviderConfig
from harness.providers.resolve import PROVIDER_DEFAULT, judge_params, resolve

TODAY = date(2026, 12, 7)
DEFAULTS = GenerationParams(temperature=0, max_tokens=512, seed=7)


def res(model: str, defaults: GenerationParams = DEFAULTS, today: date = TODAY, **explicit):
    allow = explicit.pop("allow_retired", False)
    config = ProviderConfig(model=model, params=GenerationParams(**explicit), allow_retired=allow)
    return resolve(config, defaults, explicit=set(explicit), today=today)


def test_defaults_apply_where_accepted():
    r = res("openai/gpt-4o-mini")
    assert r.params.model_dump(exclude_none=True) == {"temperature": 0, "max_tokens": 512, "seed": 7}
    assert not r.problems and not r.warnings


@pytest.mark.parametrize("model, why", [
    ("anthropic/claude-sonnet-5", "rejected by the API at any value"),
    ("openai/gpt-5.5", "accepted only with reasoning: none"),
    ("openai/o3", "only the default value 1"),
    ("gemini/gemini-3.5-flash", "asks to keep its default"),
])
def test_a_default_the_model_rejects_is_left_to_the_provider_with_the_reason(model, why):
    r = res(model)
    assert r.params.temperature is None and not r.problems
    assert r.notes["temperature"].startswith(PROVIDER_DEFAULT) and why in r.notes["temperature"]


def test_anthropic_seed_is_left_out_and_said_so():
    r = res("anthropic/claude-haiku-4-5")
    assert r.params.seed is None and "no such field" in r.notes["seed"]
    assert r.params.max_tokens == 512 and r.params.reasoning_allowance is None  # Haiku 4.5 thinks only when asked


@pytest.mark.parametrize("model, field, value", [
    ("anthropic/claude-sonnet-5", "temperature", 1.0),   # 1.0 included: any value is a 400
    ("anthropic/claude-haiku-4-5", "seed", 3),
    ("openai/gpt-5.5", "temperature", 0.2),
    ("openai/o4-mini", "temperature", 0.0),
    ("openai/gpt-5.5", "stop", ["END"]),
])
def test_an_explicit_value_the_model_rejects_is_a_problem_naming_provider_model_and_field(model, field, value):
    r = res(model, today=date(2026, 1, 1), **{field: value})
    [(name, message)] = r.problems
    assert name == field and model in message and f"{field}:" in message


def test_temperature_with_reasoning_none_is_sent_on_gpt_5_1_and_later():
    r = res("openai/gpt-5.4-mini", reasoning="none")
    assert r.params.temperature == 0 and r.params.reasoning == "none" and not r.problems
    assert r.params.reasoning_allowance is None   # no reasoning, no allowance


def test_explicit_temperature_on_gemini_3_is_sent_against_the_advice():
    r = res("gemini/gemini-3.5-flash", temperature=0.0)
    assert r.params.temperature == 0 and "although" in r.notes["temperature"]


def test_null_on_a_provider_removes_a_default():
    r = res("openai/gpt-4o-mini", temperature=None, seed=None)
    assert r.params.temperature is None and r.params.seed is None
    assert "removed by the provider entry" in r.notes["temperature"]


def test_reasoning_allowance_is_added_to_the_sent_budget():
    r = res("openai/gpt-5.5", reasoning="high")
    assert (r.params.max_tokens, r.params.reasoning_allowance, r.params.budget()) == (512, 4096, 4608)
    assert "4608 sent as max_completion_tokens" in r.notes["max_tokens"]
    r = res("openai/gpt-5.5", reasoning="high", reasoning_allowance=1000)
    assert r.params.budget() == 1512
    r = res("anthropic/claude-sonnet-5", reasoning=2048)
    assert r.params.budget() == 512 + 2048   # budget_tokens < max_tokens, as the API requires


@pytest.mark.parametrize("model, value, fragment", [
    ("openai/gpt-5.5", 2048, "takes no thinking budget"),
    ("openai/o3", "none", "it takes low, medium, high"),
    ("gemini/gemini-3.1-pro-preview", "none", "it takes low, high"),
    ("anthropic/claude-haiku-4-5", "high", "it takes none"),
    ("anthropic/claude-sonnet-5", 100, "between 1024"),
    ("openai/gpt-4o-mini", "high", "no reasoning control"),
    ("llama/m.gguf", "low", "no reasoning control"),
])
def test_reasoning_the_model_does_not_take(model, value, fragment):
    r = res(model, today=date(2026, 1, 1), reasoning=value)
    assert [name for name, _ in r.problems] == ["reasoning"] and fragment in r.problems[0][1]
    # the same from the eval's defaults: left out, said why, nothing refused
    r = res(model, GenerationParams(reasoning=value), today=date(2026, 1, 1))
    assert not r.problems and r.params.reasoning is None and fragment in r.notes["reasoning"]


def test_retired_model_is_a_problem_unless_allowed_and_near_shutdown_warns():
    r = res("gemini/gemini-2.5-flash")
    assert [n for n, _ in r.problems] == ["model"]
    assert "shut down on 2026-12-01" in r.problems[0][1] and "allow_retired" in r.problems[0][1]
    r = res("gemini/gemini-2.5-flash", allow_retired=True)
    assert not r.problems and "shut down" in r.warnings[0]
    r = res("openai/gpt-5-mini")   # 2026-12-11, from the openai SDK
    assert not r.problems and "in 4 days" in r.warnings[0] and "openai SDK" in r.warnings[0]
    assert not res("openai/gpt-4o-mini").warnings        # 2027-01-14: 38 days away


def test_responses_only_and_unknown_models():
    [(name, message)] = res("openai/gpt-5-pro").problems
    assert name == "model" and "Responses" in message
    r = res("openai/ft:gpt-4o-mini:acme")
    assert not r.problems and "not in the capability table" in r.warnings[0]
    assert r.params.temperature == 0     # sent as given, and said so
    assert res("openai-compatible/qwen3").warnings == []   # local servers have no table


def test_judge_goes_through_the_same_resolution():
    params, r = judge_params(ProviderConfig(model="anthropic/claude-sonnet-5"), seed=7, max_tokens=400)
    assert params.temperature is None and params.seed is None and params.budget() == 400 + 4096
    params, _ = judge_params(ProviderConfig(model="openai/gpt-4o-mini"), seed=7, max_tokens=400)
    assert (params.temperature, params.seed, params.max_tokens) == (0, 7, 400)


def _eval(tmp_path, providers, defaults=None) -> str:
    (tmp_path / "s.yaml").write_text("name: s\nprompts:\n  - id: a\n    input: hi\n")
    spec = {"name": "e", "suites": ["s.yaml"], "defaults": defaults or {"temperature": 0, "max_tokens": 64},
            "providers": providers, "scorers": ["match"]}
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return str(path)


def test_eval_file_problems_name_the_line_and_field(tmp_path):
    path = _eval(tmp_path, [{"model": "openai/gpt-4o-mini"},
                            {"model": "anthropic/claude-sonnet-5", "label": "claude", "temperature": 0.7}])
    with pytest.raises(InputError) as err:
        load_eval(path)
    [p] = err.value.problems
    assert p.field == "providers[1].temperature" and p.line == 11 and "claude (anthropic/claude-sonnet-5)" in p.message


def test_eval_file_configs_carry_the_resolution(tmp_path):
    path = _eval(tmp_path, [{"model": "anthropic/claude-sonnet-5"}, {"model": "openai/gpt-4o-mini", "seed": None}])
    claude, gpt = load_eval(path).provider_configs(today=TODAY)
    assert claude.params.temperature is None and claude.params.budget() == 64 + 4096
    assert claude.resolution["temperature"].startswith(PROVIDER_DEFAULT)
    assert gpt.params.temperature == 0 and gpt.params.seed is None
    # the stored configuration round-trips (a resumed run sends the same)
    again = ProviderConfig.model_validate_json(claude.model_dump_json())
    assert again.params == claude.params and again.resolution == claude.resolution


def test_resolution_cannot_be_set_in_an_eval_file(tmp_path):
    path = _eval(tmp_path, [{"model": "openai/gpt-4o-mini", "resolution": {"temperature": "x"}}])
    with pytest.raises(InputError, match="written by the harness"):
        load_eval(path)


def test_cli_exits_2_before_anything_is_sent(tmp_path, cli):
    path = _eval(tmp_path, [{"model": "openai/gpt-5.5", "temperature": 0.3, "base_url": "http://127.0.0.1:9/v1"}])
    out = cli("run", path, "--results", str(tmp_path / "results"), "--no-progress")
    assert out.returncode == 2, out.stderr
    assert "openai/gpt-5.5" in out.stderr and "temperature" in out.stderr
    assert not (tmp_path / "results").exists() or not list((tmp_path / "results").iterdir())
