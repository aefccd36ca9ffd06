"""Hostile and careless input files (issue 10 items 1-3): alias bombs, oversized fields, duplicate keys,
checks that used to drop out silently, and every problem reported at once. Each case is checked through
`harness prompts validate` and `harness run` (the same checks, exit code 2, nothing written)."""
from __future__ import annotations

import json
import resource
import time

import pytest
import yaml

from harness.problems import InputError
from harness.suites import load_suite
from harness.yamlfile import MAX_FIELD_CHARS, parse_yaml

GOOD = "name: s\nversion: '1'\nprompts:\n  - id: a\n    input: hello\n    target: hi\n"

# The 437-byte "billion laughs" of the issue, in metadata: nine levels of nine aliases each.
BOMB = "name: s\nprompts:\n  - id: a\n    input: hi\n    metadata:\n      l0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"      l{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 9))


def _write_eval(tmp_path, tiny_gguf, suite_name: str, **extra) -> None:
    (tmp_path / "model.gguf").write_bytes(tiny_gguf.read_bytes())
    spec = {"name": "e", "suites": [suite_name], "providers": ["llama/model.gguf"], "scorers": ["match"], **extra}
    (tmp_path / "eval.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")


def _validate_and_run(tmp_path, cli, suite_path) -> tuple[str, str]:
    checked = cli("prompts", "validate", str(suite_path), timeout=60)
    assert checked.returncode == 2, (checked.stdout, checked.stderr)
    results = tmp_path / "results"
    ran = cli("run", str(tmp_path / "eval.yaml"), "--results", str(results), "--no-progress", timeout=60)
    assert ran.returncode == 2, (ran.stdout, ran.stderr)
    assert "Traceback" not in checked.stderr + ran.stderr
    assert not results.exists(), "a rejected run must not write anything"
    return checked.stderr, ran.stderr


def test_billion_laughs_is_refused_by_validate_and_run(tmp_path, tiny_gguf, cli):
    suite = tmp_path / "bomb.yaml"
    suite.write_text(BOMB, encoding="utf-8")
    assert len(BOMB.encode()) < 600
    _write_eval(tmp_path, tiny_gguf, "bomb.yaml")
    started = time.monotonic()
    checked, ran = _validate_and_run(tmp_path, cli, suite)
    assert time.monotonic() - started < 60
    for err in (checked, ran):
        assert "bomb.yaml:" in err and "aliases" in err and "alias bomb" in err


def test_alias_bomb_is_refused_without_using_memory(tmp_path):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InputError) as err:
        parse_yaml(tmp_path / "x.yaml", BOMB)
    assert "expand" in str(err.value)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB: nothing was expanded


def test_a_few_aliases_are_still_fine(tmp_path):
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\nprompts:\n  - id: a\n    input: hi\n    expect: &e [{contains: hi}]\n"
                     "  - id: b\n    input: ho\n    expect: *e\n", encoding="utf-8")
    assert load_suite(suite).prompts[1].expect == [{"contains": ["hi"]}]


@pytest.mark.parametrize("text, fragment", [
    ("a: &x [1, *x]\n", "recursive"),
    ("a: *nothing\n", "no anchor"),
    ("a: !!python/object/apply:os.system [echo hi]\n", "not allowed"),
    ("a: " + "[" * 200 + "]" * 200 + "\n", "nested more than"),
    ("a: 1\n---\na: 2\n", "more than one YAML document"),
])
def test_other_hostile_yaml(tmp_path, text, fragment):
    with pytest.raises(InputError) as err:
        parse_yaml(tmp_path / "x.yaml", text)
    assert fragment in str(err.value)


@pytest.mark.parametrize("name, content", [
    ("big.yaml", "name: s\nprompts:\n  - id: a\n    input: hi\n    metadata: {blob: " + "x" * (MAX_FIELD_CHARS + 1) + "}\n"),
    ("big.jsonl", json.dumps({"id": "a", "input": "y" * (MAX_FIELD_CHARS + 1)}) + "\n"),
    ("big.csv", "id,input\na," + "z" * (MAX_FIELD_CHARS + 1) + "\n"),
])
def test_a_field_longer_than_the_cap_is_refused(tmp_path, tiny_gguf, cli, name, content):
    suite = tmp_path / name
    suite.write_text(content, encoding="utf-8")
    _write_eval(tmp_path, tiny_gguf, name)
    checked, ran = _validate_and_run(tmp_path, cli, suite)
    for err in (checked, ran):
        assert name in err and f"{MAX_FIELD_CHARS:,}" in err


def test_many_small_metadata_values_count_towards_the_cap(tmp_path):
    suite = tmp_path / "s.jsonl"
    suite.write_text(json.dumps({"id": "a", "input": "hi", "metadata": {"v": ["x" * 1000] * 1100}}) + "\n")
    with pytest.raises(InputError) as err:
        load_suite(suite)
    assert "metadata" in str(err.value) and "allowed in one field" in str(err.value)


# ---------------------------------------------------------------------------------------------
# Duplicate keys


def test_duplicate_key_in_a_prompt_names_both_lines(tmp_path, tiny_gguf, cli):
    suite = tmp_path / "dup.yaml"
    suite.write_text("name: s\nprompts:\n  - id: a\n    target: hello\n    input: hi\n    target: goodbye\n",
                     encoding="utf-8")
    _write_eval(tmp_path, tiny_gguf, "dup.yaml")
    checked, ran = _validate_and_run(tmp_path, cli, suite)
    for err in (checked, ran):
        assert "dup.yaml:6" in err and "duplicate key 'target'" in err and "line 4" in err


def test_duplicate_key_in_the_eval_file(tmp_path, tiny_gguf, cli):
    (tmp_path / "suite.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "model.gguf").write_bytes(tiny_gguf.read_bytes())
    (tmp_path / "eval.yaml").write_text("name: e\nsuites: [suite.yaml]\nproviders: [llama/model.gguf]\n"
                                        "scorers: [match]\nscorers: [exact]\n", encoding="utf-8")
    ran = cli("run", str(tmp_path / "eval.yaml"), "--results", str(tmp_path / "results"), "--no-progress")
    assert ran.returncode == 2
    assert "eval.yaml:5" in ran.stderr and "duplicate key 'scorers'" in ran.stderr and "line 4" in ran.stderr
    assert not (tmp_path / "results").exists()


def test_duplicate_key_in_a_rules_file(tmp_path):
    from harness.scoring.rules import load_rules

    path = tmp_path / "rules.yaml"
    path.write_text("version: '1'\nversion: '2'\nrules: []\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_rules(path)
    assert any(p.line == 2 and "duplicate key 'version'" in p.message and "line 1" in p.message
               for p in err.value.problems)


def test_duplicate_key_in_suite_yaml_of_a_directory(tmp_path):
    d = tmp_path / "s"
    d.mkdir()
    (d / "suite.yaml").write_text("name: s\nversion: '1'\nname: t\n", encoding="utf-8")
    (d / "a.yaml").write_text("prompts:\n  - id: a\n    input: hi\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_suite(d)
    assert "suite.yaml:3" in str(err.value) and "line 1" in str(err.value)


# ---------------------------------------------------------------------------------------------
# Checks that used to drop out, and every problem at once


@pytest.mark.parametrize("body, fragments", [
    ("  - id: a\n    input: hi\n    expect: [{regex: '([a-z'}]\n", ["s.yaml:3", "expect", "'([a-z'", "invalid regex"]),
    ("  - id: a\n    input: 5\n", ["s.yaml:3", "input", "must be a text"]),
    ("  - id: a\n    input: hi\n    rules: T01\n", ["s.yaml:3", "rules", "rules: [T01]"]),
])
def test_checks_that_used_to_be_accepted(tmp_path, tiny_gguf, cli, body, fragments):
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\nprompts:\n" + body, encoding="utf-8")
    _write_eval(tmp_path, tiny_gguf, "s.yaml")
    checked, ran = _validate_and_run(tmp_path, cli, suite)
    for err in (checked, ran):
        for fragment in fragments:
            assert fragment in err, (fragment, err)


def test_every_problem_of_a_directory_suite_at_once(tmp_path, cli):
    d = tmp_path / "s"
    d.mkdir()
    (d / "suite.yaml").write_text("name: s\nversion: '1'\n", encoding="utf-8")
    (d / "a.yaml").write_text("prompts:\n  - id: a\n    input: [unclosed\n", encoding="utf-8")
    (d / "b.yaml").write_text("prompts:\n  - id: b\n    input: hi\n    catgory: x\n", encoding="utf-8")
    (d / "c.jsonl").write_text('{"id": "c", "input": 5}\n', encoding="utf-8")
    checked = cli("prompts", "validate", str(d))
    assert checked.returncode == 2
    assert "a.yaml:" in checked.stderr and "not valid YAML" in checked.stderr
    assert "b.yaml:2" in checked.stderr and "catgory" in checked.stderr
    assert "c.jsonl:1" in checked.stderr and "must be a text" in checked.stderr


def test_every_problem_of_an_eval_file_at_once(tmp_path, tiny_gguf, cli):
    (tmp_path / "suite.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "model.gguf").write_bytes(tiny_gguf.read_bytes())
    (tmp_path / "eval.yaml").write_text(
        "name: e\nsuites: [suite.yaml, missing.yaml]\nrepeats: 0\nproviders:\n  - mistral/large\n"
        "  - model: openai-compatible/m\n    base_url: 127.0.0.1:8080/v1\n  - model: llama/model.gguf\n"
        "    options:\n      n_ctx: 512\n      n_ctxx: 512\nscorers: [match, macth]\n", encoding="utf-8")
    ran = cli("run", str(tmp_path / "eval.yaml"), "--results", str(tmp_path / "results"), "--no-progress")
    assert ran.returncode == 2
    expected = ["eval.yaml:3 repeats", "eval.yaml:2 suites[1]", "'missing.yaml' not found",
                "eval.yaml:5 providers[0].model", "unknown provider 'mistral'",
                "eval.yaml:7 providers[1].base_url", "is not a URL", "eval.yaml:11 providers[2].options.n_ctxx",
                "unknown option 'n_ctxx'; did you mean 'n_ctx'?", "eval.yaml:12 scorers[1]",
                "unknown scorer 'macth'; did you mean 'match'?"]
    for fragment in expected:
        assert fragment in ran.stderr, (fragment, ran.stderr)
    assert not (tmp_path / "results").exists()


def test_base_url_with_a_key_in_it_is_not_echoed(tmp_path, tiny_gguf, cli):
    (tmp_path / "suite.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "eval.yaml").write_text("name: e\nsuites: [suite.yaml]\nproviders:\n  - model: openai-compatible/m\n"
                                        "    base_url: user:pw-secret123@host/v1?key=pw-secret456\n", encoding="utf-8")
    ran = cli("run", str(tmp_path / "eval.yaml"), "--results", str(tmp_path / "results"), "--no-progress")
    assert ran.returncode == 2 and "is not a URL" in ran.stderr
    assert "pw-secret123" not in ran.stderr and "pw-secret456" not in ran.stderr
