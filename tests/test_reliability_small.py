"""Issue 22 item 11, the smaller defects: requests counted as requests, a list as an id, a huge CSV
cell, a base_url with a query string."""
from __future__ import annotations

import yaml

from harness.testing.loopback import LoopbackServer, Scripted


def test_requests_sent_counts_retries_not_samples(tmp_path, cli):
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump({"name": "s", "prompts": [
        {"id": "a", "input": "hi", "target": "hello"}]}), encoding="utf-8")
    with LoopbackServer() as srv:
        srv.push_many([Scripted(kind="error", status=500), Scripted(kind="error", status=503), Scripted(text="hello")],
                      protocol="openai")
        spec = {"name": "e", "suites": ["suite.yaml"], "scorers": ["match"],
                "providers": [{"model": "openai-compatible/m", "base_url": srv.openai_base_url,
                               "retry": {"base_delay_s": 0.01, "max_delay_s": 0.02}}]}
        (tmp_path / "eval.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
        ran = cli("run", str(tmp_path / "eval.yaml"), "--results", str(tmp_path / "r"), "--no-progress", "--no-cache")
        received = len(srv.requests)
    assert ran.returncode == 0, ran.stderr
    assert received == 3
    assert "3 requests sent" in ran.stderr, ran.stderr


def test_a_list_as_an_id_is_named_as_such(tmp_path, cli):
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\nprompts:\n  - id: [1, 2]\n    input: hi\n", encoding="utf-8")
    done = cli("prompts", "validate", str(suite))
    assert done.returncode == 2
    assert "s.yaml:3 id: must be a text or a number, not a list" in done.stderr
    assert "is missing" not in done.stderr


def test_score_names_the_line_of_a_huge_csv_cell(tmp_path, cli):
    src = tmp_path / "t.csv"
    src.write_text("prompt,reply\nhi,ok\nhello," + "x" * 1_200_000 + "\nbye,ok\n", encoding="utf-8")
    done = cli("score", str(src), "-o", str(tmp_path / "out.jsonl"))
    assert done.returncode == 2
    assert "t.csv:3 has a cell longer than 1,000,000 characters" in done.stderr, done.stderr
    assert "field limit" not in done.stderr and not (tmp_path / "out.jsonl").exists()


def test_a_base_url_with_a_query_string_is_refused(tmp_path, cli):
    (tmp_path / "suite.yaml").write_text("name: s\nprompts:\n  - id: a\n    input: hi\n", encoding="utf-8")
    (tmp_path / "eval.yaml").write_text("name: e\nsuites: [suite.yaml]\nproviders:\n  - model: openai-compatible/m\n"
                                        "    base_url: http://127.0.0.1:9/v1?token=sekrit-123\n", encoding="utf-8")
    ran = cli("run", str(tmp_path / "eval.yaml"), "--results", str(tmp_path / "r"), "--no-progress")
    assert ran.returncode == 2 and "has a query string" in ran.stderr and "eval.yaml:5" in ran.stderr, ran.stderr
    assert "sekrit-123" not in ran.stderr and not (tmp_path / "r").exists()
