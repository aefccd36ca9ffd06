"""Bad input: each kind gives its own clear message naming the file and line or field, exit code 2,
and nothing written to the results store."""
from __future__ import annotations


import pytest
import yaml

GOOD_SUITE = "name: s\nversion: '1'\nprompts:\n  - id: a\n    input: hello\n    target: hi\n"


def eval_text(suite: str = "suite.yaml", model: str = "llama/model.gguf", **extra) -> str:
    spec = {"name": "bad", "suites": [suite], "providers": [{"model": model}], "scorers": ["match"], **extra}
    return yaml.safe_dump(spec, sort_keys=False)


# (suite file name, content, expected fragments of the message)
BAD_SUITES = {
    "malformed-yaml": ("suite.yaml", "name: s\nprompts:\n  - id: a\n    input: [unclosed\n", ["suite.yaml:", "not valid YAML"]),
    "unknown-field": ("suite.yaml", GOOD_SUITE + "    catgory: x\n", ["suite.yaml:4", "catgory", "did you mean 'category'"]),
    "duplicate-id": ("suite.yaml", GOOD_SUITE + "  - id: a\n    input: again\n", ["suite.yaml:7", "duplicate prompt id 'a'", "suite.yaml:4"]),
    "missing-input": ("suite.yaml", "name: s\nprompts:\n  - id: a\n    target: x\n", ["suite.yaml:3", "input", "is missing"]),
    "missing-id": ("suite.yaml", "name: s\nprompts:\n  - input: hi\n", ["suite.yaml:3", "id", "is missing"]),
    "empty-suite": ("suite.yaml", "name: s\nprompts: []\n", ["suite.yaml", "has no prompts"]),
    "bad-role": ("suite.yaml", "name: s\nprompts:\n  - id: a\n    input:\n      - {role: bot, content: hi}\n",
                 ["suite.yaml:3", "'bot' is not a role"]),
    "assistant-last": ("suite.yaml", "name: s\nprompts:\n  - id: a\n    input:\n      - {role: user, content: hi}\n"
                       "      - {role: assistant, content: yo}\n", ["suite.yaml:3", "last message must be from the user"]),
    "bad-expect": ("suite.yaml", GOOD_SUITE + "    expect: [{contians: x}]\n", ["suite.yaml:4", "unknown check 'contians'"]),
    "jsonl-bad-line": ("suite.jsonl", '{"id": "a", "input": "hi"}\n{"id": "b", "input": \n', ["suite.jsonl:2", "not valid JSON"]),
    "csv-extra-cells": ("suite.csv", "id,input\na,hello\nb,hi,extra\n", ["suite.csv:3", "more cells"]),
    "not-utf8": ("suite.yaml", None, ["suite.yaml:3", "not UTF-8"]),
    "unknown-suite-field": ("suite.yaml", "name: s\nversoin: 1\nprompts:\n  - id: a\n    input: hi\n", ["unknown suite field 'versoin'"]),
}


@pytest.mark.parametrize("case", sorted(BAD_SUITES))
def test_bad_suite_is_reported_with_location_and_nothing_is_written(case, tmp_path, tiny_gguf, cli):
    name, content, fragments = BAD_SUITES[case]
    suite = tmp_path / name
    if content is None:
        suite.write_bytes(b"name: s\nprompts:\n  - id: caf\xe9\n    input: hi\n")
    else:
        suite.write_text(content, encoding="utf-8")
    (tmp_path / "model.gguf").write_bytes(tiny_gguf.read_bytes())
    (tmp_path / "eval.yaml").write_text(eval_text(suite=name), encoding="utf-8")

    checked = cli("prompts", "validate", str(suite))
    assert checked.returncode == 2
    for fragment in fragments:
        assert fragment in checked.stderr, (fragment, checked.stderr)

    results = tmp_path / "results"
    ran = cli("run", str(tmp_path / "eval.yaml"), "--results", str(results), "--no-progress")
    assert ran.returncode == 2, ran.stderr
    assert fragments[-1] in ran.stderr
    assert not results.exists(), "a rejected run must not write anything"


# eval file mutations: (content builder, expected fragments)
BAD_EVALS = {
    "unknown-provider": (lambda: eval_text(model="mistral/large"), ["eval.yaml", "unknown provider 'mistral'"]),
    "no-slash": (lambda: eval_text(model="gpt-4o"), ["provider/model"]),
    "unknown-scorer": (lambda: eval_text(scorers=["bleu"]), ["eval.yaml", "unknown scorer 'bleu'"]),
    "missing-suite": (lambda: eval_text(suite="nope.yaml"), ["eval.yaml", "suites[0]", "'nope.yaml' not found"]),
    "zero-repeats": (lambda: eval_text(repeats=0), ["eval.yaml:", "repeats", "greater than or equal to 1"]),
    "unknown-field": (lambda: eval_text(scorrers=["match"]), ["eval.yaml:", "scorrers", "unknown field"]),
    "unknown-param": (lambda: eval_text().replace("- model: llama/model.gguf", "- model: llama/model.gguf\n  temprature: 0"),
                      ["eval.yaml:", "temprature", "unknown field"]),
    "duplicate-label": (lambda: yaml.safe_dump({"name": "d", "suites": ["suite.yaml"],
                                                "providers": ["llama/model.gguf", "llama/model.gguf"]}),
                        ["listed twice"]),
    "missing-gguf": (lambda: eval_text(model="llama/absent.gguf"), ["absent.gguf", "GGUF file not found"]),
    "corrupt-gguf": (lambda: eval_text(model="llama/corrupt.gguf"), ["corrupt.gguf", "not a GGUF file"]),
    "unknown-option": (lambda: eval_text().replace("- model: llama/model.gguf", "- model: llama/model.gguf\n  options: {n_ctxx: 512}"),
                       ["eval.yaml", "unknown option 'n_ctxx'; did you mean 'n_ctx'?"]),
    "bad-price": (lambda: eval_text().replace("- model: llama/model.gguf", "- model: llama/model.gguf\n  options: {price: {input: 1}}"),
                  ["eval.yaml", "options.price needs exactly"]),
    "not-a-mapping": (lambda: "- just\n- a list\n", ["eval.yaml", "must be a YAML mapping"]),
    "missing-name": (lambda: yaml.safe_dump({"suites": ["suite.yaml"], "providers": ["llama/model.gguf"]}),
                     ["eval.yaml:", "name", "is required"]),
}


@pytest.mark.parametrize("case", sorted(BAD_EVALS))
def test_bad_eval_is_reported_and_nothing_is_written(case, tmp_path, tiny_gguf, cli):
    build, fragments = BAD_EVALS[case]
    (tmp_path / "suite.yaml").write_text(GOOD_SUITE, encoding="utf-8")
    (tmp_path / "model.gguf").write_bytes(tiny_gguf.read_bytes())
    (tmp_path / "corrupt.gguf").write_bytes(b"not a model at all")
    (tmp_path / "eval.yaml").write_text(build(), encoding="utf-8")
    results = tmp_path / "results"
    ran = cli("run", str(tmp_path / "eval.yaml"), "--results", str(results), "--no-progress")
    assert ran.returncode == 2, (ran.stdout, ran.stderr)
    for fragment in fragments:
        assert fragment in ran.stderr, (fragment, ran.stderr)
    assert "Traceback" not in ran.stderr
    assert not results.exists()


def test_unwritable_results_directory(tmp_path, tiny_gguf, cli):
    (tmp_path / "suite.yaml").write_text(GOOD_SUITE, encoding="utf-8")
    (tmp_path / "model.gguf").write_bytes(tiny_gguf.read_bytes())
    (tmp_path / "eval.yaml").write_text(eval_text(), encoding="utf-8")
    blocker = tmp_path / "results"
    blocker.write_text("a file where the results directory should be")
    ran = cli("run", str(tmp_path / "eval.yaml"), "--results", str(blocker / "sub"), "--no-progress")
    assert ran.returncode == 2
    assert "cannot open the results store" in ran.stderr and "--results" in ran.stderr


def test_compare_without_store_is_a_clear_error(tmp_path, cli):
    ran = cli("compare", "--results", str(tmp_path / "none"))
    assert ran.returncode == 2
    assert "no results store" in ran.stderr
    assert not (tmp_path / "none").exists()


def test_suite_and_provider_problems_are_reported_together(tmp_path, cli):
    """A broken suite no longer hides a broken provider entry (and the other way round)."""
    (tmp_path / "suite.yaml").write_text("name: s\nprompts:\n  - id: a\n    target: x\n")
    (tmp_path / "eval.yaml").write_text(eval_text(model="llama/no-such-model.gguf"))
    done = cli("run", str(tmp_path / "eval.yaml"), "-r", str(tmp_path / "r"), "--no-progress")
    assert done.returncode == 2
    assert "is missing" in done.stderr and "no-such-model.gguf" in done.stderr
    assert not (tmp_path / "r").exists()
