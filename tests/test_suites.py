"""Suite formats, content hashes, and adding prompts from the command line."""
from __future__ import annotations

import json

import pytest

from harness.problems import InputError
from harness.suites import add_prompt, load_suite

YAML_SUITE = """\
# a comment the user wrote
name: geo
version: "2"
defaults:
  category: geography
prompts:
  - id: fr
    input: Capital of France?
    target: Paris
  - id: it
    input: Capital of Italy?
    target: Rome
    expect:
      - contains: Rome
"""


def test_same_prompts_hash_the_same_in_every_format(tmp_path):
    y = tmp_path / "geo.yaml"
    y.write_text(YAML_SUITE, encoding="utf-8")
    j = tmp_path / "geo.jsonl"
    j.write_text(
        json.dumps({"id": "fr", "input": "Capital of France?", "target": "Paris", "category": "geography"}) + "\n"
        + json.dumps({"id": "it", "input": "Capital of Italy?", "target": "Rome", "category": "geography",
                      "expect": [{"contains": "Rome"}]}) + "\n", encoding="utf-8")
    c = tmp_path / "geo.csv"
    c.write_text("id,prompt,target,category,expect\nfr,Capital of France?,Paris,geography,\n"
                 "it,Capital of Italy?,Rome,geography,\"{contains: Rome}\"\n", encoding="utf-8")
    hashes = {load_suite(p).content_hash for p in (y, j, c)}
    assert len(hashes) == 1
    suite = load_suite(y)
    assert suite.name == "geo" and suite.version == "2"
    assert suite.categories() == {"geography": 2}
    assert suite.prompts[1].expect == [{"contains": ["Rome"]}]


def test_any_visible_change_changes_the_hash(tmp_path):
    y = tmp_path / "geo.yaml"
    y.write_text(YAML_SUITE, encoding="utf-8")
    before = load_suite(y).content_hash
    y.write_text(YAML_SUITE.replace("Capital of Italy?", "Capital of Italy ?"), encoding="utf-8")
    assert load_suite(y).content_hash != before


def test_directory_suite_with_manifest(tmp_path):
    d = tmp_path / "teen"
    d.mkdir()
    (d / "suite.yaml").write_text("name: teen\nversion: '1.0'\ndefaults: {category: misc}\n", encoding="utf-8")
    (d / "a.yaml").write_text("prompts:\n  - id: a1\n    input: hi\n", encoding="utf-8")
    (d / "b.jsonl").write_text('{"id": "b1", "input": "yo", "category": "other"}\n', encoding="utf-8")
    suite = load_suite(d)
    assert [p.id for p in suite.prompts] == ["a1", "b1"]
    assert [p.category for p in suite.prompts] == ["misc", "other"]
    assert all(p.suite == "teen" for p in suite.prompts)


def test_duplicate_ids_across_files_of_a_directory(tmp_path):
    d = tmp_path / "s"
    d.mkdir()
    (d / "suite.yaml").write_text("name: s\n", encoding="utf-8")
    (d / "a.yaml").write_text("prompts:\n  - id: x\n    input: hi\n", encoding="utf-8")
    (d / "b.jsonl").write_text('{"id": "x", "input": "yo"}\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_suite(d)
    assert "b.jsonl:1" in str(err.value) and "a.yaml:2" in str(err.value)


def test_add_prompt_appends_keeping_the_file_and_validates(tmp_path):
    y = tmp_path / "geo.yaml"
    y.write_text(YAML_SUITE, encoding="utf-8")
    add_prompt(y, {"id": "es", "input": "Capital of Spain?", "target": "Madrid"})
    text = y.read_text(encoding="utf-8")
    assert text.startswith(YAML_SUITE), "existing content and comments are kept byte for byte"
    suite = load_suite(y)
    assert [p.id for p in suite.prompts] == ["fr", "it", "es"]
    assert suite.prompts[-1].category == "geography"  # the suite defaults apply to the new prompt


def test_add_prompt_refuses_an_id_collision_and_leaves_the_file_alone(tmp_path):
    y = tmp_path / "geo.yaml"
    y.write_text(YAML_SUITE, encoding="utf-8")
    with pytest.raises(InputError, match="already used"):
        add_prompt(y, {"id": "fr", "input": "again?"})
    with pytest.raises(InputError, match="unknown check"):
        add_prompt(y, {"id": "new", "input": "x", "expect": [{"contans": "y"}]})
    assert y.read_text(encoding="utf-8") == YAML_SUITE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["geo.yaml"], "no scratch files left behind"


def test_add_prompt_to_jsonl_and_csv(tmp_path):
    j = tmp_path / "s.jsonl"
    j.write_text('{"id": "a", "input": "hi"}\n', encoding="utf-8")
    add_prompt(j, {"id": "b", "input": "ho", "target": "x"})
    assert [p.id for p in load_suite(j).prompts] == ["a", "b"]
    c = tmp_path / "s.csv"
    c.write_text("id,input,target,category\na,\"hi, there\",x,c1\n", encoding="utf-8")
    add_prompt(c, {"id": "b", "input": "comma, inside", "target": "y", "category": "c2"})
    prompts = load_suite(c).prompts
    assert [(p.id, p.messages[0].content, p.category) for p in prompts] == [
        ("a", "hi, there", "c1"), ("b", "comma, inside", "c2")]


def test_prompts_add_command(tmp_path, cli):
    y = tmp_path / "geo.yaml"
    y.write_text(YAML_SUITE, encoding="utf-8")
    done = cli("prompts", "add", str(y), "--id", "de", "--input", "Capital of Germany?", "--target", "Berlin",
               "--expect", "contains: Berlin", "--category", "europe")
    assert done.returncode == 0, done.stderr
    added = load_suite(y).prompts[-1]
    assert (added.id, added.target, added.category, added.expect) == ("de", "Berlin", "europe", [{"contains": ["Berlin"]}])
    again = cli("prompts", "add", str(y), "--id", "de", "--input", "dup")
    assert again.returncode == 2 and "already used" in again.stderr
    listing = cli("prompts", "list", str(tmp_path))
    assert listing.returncode == 0 and "geo" in listing.stdout and "europe 1" in listing.stdout


def test_prompts_add_refuses_an_unknown_rule_id(tmp_path, cli):
    y = tmp_path / "geo.yaml"
    y.write_text(YAML_SUITE, encoding="utf-8")
    done = cli("prompts", "add", str(y), "--id", "new", "--input", "hi", "--rule", "T99")
    assert done.returncode == 2 and "unknown rule id 'T99'" in done.stderr
    assert y.read_text(encoding="utf-8") == YAML_SUITE
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: b\nprompts:\n  - {id: a, input: hi, rules: [T77]}\n", encoding="utf-8")
    checked = cli("prompts", "validate", str(bad))
    assert checked.returncode == 2 and "unknown rule id 'T77'" in checked.stderr and "bad.yaml" in checked.stderr


def test_defaults_after_the_prompts_still_apply(tmp_path):
    y = tmp_path / "late.yaml"
    y.write_text("name: late\nprompts:\n  - id: a\n    input: hi\n  - id: b\n    input: ho\n    category: own\n"
                 "defaults: {category: facts, rules: [T01]}\n", encoding="utf-8")
    suite = load_suite(y)
    assert [(p.category, p.rules) for p in suite.prompts] == [("facts", ["T01"]), ("own", ["T01"])]


def test_light_loading_validates_the_same_and_keeps_only_stubs(tmp_path):
    y = tmp_path / "s.yaml"
    y.write_text(YAML_SUITE, encoding="utf-8")
    full, light = load_suite(y), load_suite(y, light=True)
    assert [p.id for p in light.prompts] == [p.id for p in full.prompts]
    assert light.categories() == full.categories()
    with pytest.raises(ValueError):
        light.content_hash
    y.write_text(YAML_SUITE + "  - id: fr\n    input: again\n", encoding="utf-8")
    for kw in ({}, {"light": True}):
        with pytest.raises(InputError, match="duplicate prompt id 'fr'"):
            load_suite(y, **kw)


def test_validating_a_large_suite_keeps_memory_flat(tmp_path):
    """Prompts are validated one at a time as the file is read: validating 20,000 prompts of 1 KB
    (20 MB of YAML) holds far less than the file, so 100,000 stay within the issue's 300 MB."""
    import tracemalloc

    y = tmp_path / "big.yaml"
    with y.open("w", encoding="utf-8") as out:
        out.write("name: big\nprompts:\n")
        for i in range(20_000):
            out.write(f"  - id: p{i}\n    input: \"{'x' * 1000} {i}\"\n    expect: [{{contains: '{i}'}}]\n")
    tracemalloc.start()
    try:
        suite = load_suite(y, light=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(suite.prompts) == 20_000
    assert peak < 16_000_000, peak  # the file is 21 MB; its prompts as objects would be over 60 MB
