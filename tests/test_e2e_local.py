"""End to end through the real CLI, with real llama.cpp on a tiny GGUF the test writes."""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

import yaml

SUITE = {
    "name": "mini",
    "version": "3",
    "prompts": [
        {"id": "q1", "input": "What is 2 + 2?", "category": "math", "target": "4"},
        {"id": "q2", "input": "Capital of France?", "category": "geo", "target": "Paris"},
        {"id": "q3", "category": "geo", "target": "Rome",
         "input": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of Italy?"}]},
    ],
}


def write_eval(tmp_path: Path, gguf: Path, **extra) -> Path:
    (tmp_path / "mini.yaml").write_text(yaml.safe_dump(SUITE), encoding="utf-8")
    spec = {
        "name": "e2e",
        "suites": ["mini.yaml"],
        "defaults": {"temperature": 0, "max_tokens": 8, "seed": 3},
        "providers": [
            {"model": f"llama/{gguf}", "label": "tiny-a", "options": {"n_ctx": 256}},
            {"model": f"llama/{gguf}", "label": "tiny-b", "temperature": 0.8, "options": {"n_ctx": 256}},
        ],
        "scorers": ["match", "contains"],
        "repeats": 2,
        **extra,
    }
    path = tmp_path / "eval.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def test_run_stores_one_reply_per_sample_and_compare_counts(tmp_path, tiny_gguf, cli):
    eval_path = write_eval(tmp_path, tiny_gguf)
    results = tmp_path / "results"
    done = cli("run", str(eval_path), "--results", str(results), "--no-progress")
    assert done.returncode == 0, done.stderr

    db = sqlite3.connect(results / "harness.db")
    (run_id,) = db.execute("SELECT id FROM runs").fetchone()
    rows = db.execute(
        "SELECT s.prompt_id, s.provider, s.repeat, COUNT(p.sample_id) FROM samples s"
        " LEFT JOIN replies p ON p.sample_id = s.id GROUP BY s.prompt_id, s.provider, s.repeat").fetchall()
    expected = {(p["id"], prov, rep) for p in SUITE["prompts"] for prov in ("tiny-a", "tiny-b") for rep in (0, 1)}
    assert {(r[0], r[1], r[2]) for r in rows} == expected
    assert all(r[3] == 1 for r in rows), "every prompt x provider x repeat has exactly one reply"
    outcomes = {r[0] for r in db.execute("SELECT outcome FROM replies")}
    assert outcomes <= {"answered", "truncated"}, outcomes

    sha = hashlib.sha256(tiny_gguf.read_bytes()).hexdigest()
    for (identity,) in db.execute("SELECT identity_json FROM run_providers"):
        ident = json.loads(identity)
        assert ident["gguf_sha256"] == sha
        assert ident["quantisation"] == "F32"
        assert ident["chat_format"] == "chatml"
        assert "<|im_start|>" in ident["chat_template"]
    (suite_hash,) = db.execute("SELECT content_hash FROM run_suites").fetchone()
    assert suite_hash.startswith("sha256:") and len(suite_hash) == 71
    (status,) = db.execute("SELECT status FROM runs").fetchone()
    assert status == "finished"
    # Every reply was scored by both scorers.
    assert db.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == 12 * 2

    table = cli("compare", "--results", str(results), "--format", "json")
    assert table.returncode == 0, table.stderr
    groups = {(g["provider"], g["category"]): g for g in json.loads(table.stdout)["groups"]}
    for prov in ("tiny-a", "tiny-b"):
        assert groups[(prov, "(all)")]["planned"] == 6
        assert groups[(prov, "math")]["planned"] == 2
        assert groups[(prov, "geo")]["planned"] == 4
        assert groups[(prov, "(all)")]["pending"] == 0
        assert groups[(prov, "(all)")]["errors"] == 0
        assert groups[(prov, "(all)")]["scored"] == 6
        assert groups[(prov, "(all)")]["latency_p50_s"] > 0
        assert 0 < groups[(prov, "(all)")]["ttft_p50_s"] <= groups[(prov, "(all)")]["latency_p50_s"]
        assert groups[(prov, "(all)")]["replies_with_ttft"] == 6
        assert groups[(prov, "(all)")]["input_tokens"] > 0

    pretty = cli("compare", run_id[:10], "--results", str(results))
    assert pretty.returncode == 0, pretty.stderr
    lines = [l for l in pretty.stdout.splitlines() if re.search(r"│ tiny-[ab]\s+│\s+\d+ │\s+[\d.]+% \[", l)]
    assert len(lines) == 6  # 2 providers x ((all), geo, math)
    assert "paired on scorer" in pretty.stdout or "McNemar" in pretty.stdout
    assert any("(all)" in l and " 6 " in l for l in lines)

    exported = cli("export", "--results", str(results))
    records = [json.loads(l) for l in exported.stdout.splitlines()]
    assert len(records) == 12
    assert all(r["reply"] is not None and r["model_identity"]["gguf_sha256"] == sha for r in records)

    listing = cli("runs", "--results", str(results))
    assert run_id[:15] in listing.stdout and "12/12" in listing.stdout


def test_provider_and_limit_options_select_the_work(tmp_path, tiny_gguf, cli):
    eval_path = write_eval(tmp_path, tiny_gguf)
    results = tmp_path / "results"
    done = cli("run", str(eval_path), "--results", str(results), "--provider", "tiny-b", "--limit", "2",
               "--no-progress")
    assert done.returncode == 0, done.stderr
    db = sqlite3.connect(results / "harness.db")
    rows = db.execute("SELECT DISTINCT provider, prompt_id FROM samples").fetchall()
    assert sorted(rows) == [("tiny-b", "q1"), ("tiny-b", "q2")]
    assert db.execute("SELECT COUNT(*) FROM replies").fetchone()[0] == 4  # 2 prompts x 2 repeats


def test_temperature_zero_is_deterministic(tmp_path, tiny_gguf, cli):
    eval_path = write_eval(tmp_path, tiny_gguf)
    results = tmp_path / "results"
    assert cli("run", str(eval_path), "--results", str(results), "--provider", "tiny-a", "--no-progress").returncode == 0
    db = sqlite3.connect(results / "harness.db")
    texts = db.execute("SELECT s.prompt_id, s.repeat, p.text FROM samples s JOIN replies p ON p.sample_id = s.id").fetchall()
    by_prompt: dict[str, set[str]] = {}
    for pid, _, text in texts:
        by_prompt.setdefault(pid, set()).add(text)
    assert all(len(v) == 1 for v in by_prompt.values()), "repeats at temperature 0 must give the same text"


def test_thresholds_gate_the_exit_code(tmp_path, tiny_gguf, cli):
    # The tiny model answers gibberish: a match threshold of 0.5 cannot be met, an error-rate one is.
    eval_path = write_eval(tmp_path, tiny_gguf, thresholds={"match": 0.5, "error_rate": {"max": 0.0},
                                                          "critical_failures": {"max": 0}})
    results = tmp_path / "results"
    done = cli("run", str(eval_path), "--results", str(results), "--provider", "tiny-a", "--no-progress")
    assert done.returncode == 3, done.stderr
    assert "threshold match >= 0.5: tiny-a = 0 NOT MET" in done.stderr
    assert "threshold error_rate <= 0.0: tiny-a = 0 met" in done.stderr
    again = cli("compare", "--results", str(results), "--format", "json")
    assert again.returncode == 3 and '"groups"' in again.stdout


def test_eval_can_override_the_gguf_chat_template(tmp_path, tiny_gguf, cli):
    template = ("{% for m in messages %}<|im_start|>{{ m.role }} says: {{ m.content }}<|im_end|>{% endfor %}"
                "<|im_start|>assistant says:")
    eval_path = write_eval(tmp_path, tiny_gguf)
    spec = yaml.safe_load(eval_path.read_text())
    spec["providers"].append({"model": f"llama/{tiny_gguf}", "label": "tiny-custom",
                              "options": {"n_ctx": 256, "chat_template": template}})
    spec["repeats"] = 1
    eval_path.write_text(yaml.safe_dump(spec))
    results = tmp_path / "results"
    done = cli("run", str(eval_path), "-r", str(results), "-p", "tiny-a", "-p", "tiny-custom", "--no-progress")
    assert done.returncode == 0, done.stderr
    db = sqlite3.connect(results / "harness.db")
    identity = {label: json.loads(i) for label, i in db.execute("SELECT label, identity_json FROM run_providers")}
    assert identity["tiny-custom"]["chat_template"] == template
    assert identity["tiny-custom"]["chat_template_source"] == "eval file"
    assert identity["tiny-a"]["chat_template_source"] == "gguf"
    tokens = dict(db.execute("SELECT s.provider, SUM(p.input_tokens) FROM samples s JOIN replies p"
                             " ON p.sample_id = s.id GROUP BY s.provider"))
    assert tokens["tiny-custom"] != tokens["tiny-a"], "the prompt was rendered with the eval's template"

    both = yaml.safe_load(eval_path.read_text())
    both["providers"][-1]["options"]["chat_format"] = "chatml"
    eval_path.write_text(yaml.safe_dump(both))
    rejected = cli("run", str(eval_path), "-r", str(tmp_path / "r2"))
    assert rejected.returncode == 2 and "not both" in rejected.stderr
