"""Text from files and from models is untrusted (issue 10, item 7): terminal control sequences, other
control characters and bidirectional overrides (U+202E) never reach an output raw."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
import yaml

from harness.report.escape import clean, csv_cell, json_dumps, md_escape, terminal_text
from harness.testing.loopback import LoopbackServer, Scripted
from tests.conftest import REPO

ESC = "\x1b"
RLO = "\u202e"
RAW = (ESC, RLO, "\x9b", "\x07", "\x00", "\u2066")
KEY = "sk-test-escape-0123456789"

LABEL = f"evil{ESC}[31m{RLO}lebal"
CATEGORY = f"facts{ESC}]0;pwned\x07"
REPLY = f"Paris{ESC}[2J{RLO}sirap\x9b"


def raw_in(text: str) -> list[str]:
    return [repr(c) for c in RAW if c in text]


def test_helpers_escape_controls_and_bidi_visibly():
    assert clean(f"a{ESC}[2Jb{RLO}c\x9bd\x00") == "a\\x1b[2Jb\\u202ec\\x9bd\\x00"
    assert clean("line\none\ttab") == "line\none\ttab"
    assert clean("line\none", keep_layout=False) == "line\\x0aone"
    assert terminal_text(None) == "" and terminal_text(f"x{ESC}") == "x\\x1b"
    assert md_escape(f"a|b{ESC}[0m{RLO}") == "a\\|b\\x1b\\[0m\\u202e"
    assert csv_cell(f"=cmd{ESC}") == "'=cmd\\x1b" and csv_cell(3) == 3 and csv_cell(None) == ""
    data = {"t": f"é {RLO}{ESC}\x85\u2028"}
    dumped = json_dumps(data)
    assert not raw_in(dumped) and "\u2028" not in dumped and "é" in dumped
    assert json.loads(dumped) == data, "JSON escapes: the data are unchanged once parsed"


def _run(tmp_path):
    suite = {"name": "s", "version": "1", "prompts": [
        {"id": f"p{i}", "input": f"capital {i}?", "target": "Paris", "category": CATEGORY,
         "metadata": {"note": f"meta{ESC}[5m{RLO}"}} for i in range(3)]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(suite, allow_unicode=False), encoding="utf-8")
    results = tmp_path / "r"
    env = {**os.environ, "PYTHONPATH": str(REPO), "ESC_KEY": KEY}
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = lambda req: Scripted(text=REPLY)
        spec = {"name": "esc", "suites": ["s.yaml"], "scorers": ["contains"], "providers": [
            {"model": "openai/m", "label": LABEL, "base_url": srv.openai_base_url, "api_key_env": "ESC_KEY",
             "stream": False},
            {"model": "openai/m2", "label": f"nokey{ESC}[1m", "base_url": srv.openai_base_url,
             "api_key_env": "UNSET_ESC_KEY"}]}
        (tmp_path / "e.yaml").write_text(yaml.safe_dump(spec, allow_unicode=False), encoding="utf-8")
        ran = subprocess.run([sys.executable, "-m", "harness", "run", str(tmp_path / "e.yaml"), "-r", str(results),
                              "--no-progress", "--no-cache"], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=120)

    def harness(*args):
        return subprocess.run([sys.executable, "-m", "harness", *args, "-r", str(results)], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)
    return ran, harness


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("escape"))


def test_run_messages_escape_labels_and_notes(hostile_run):
    ran, _ = hostile_run
    assert ran.returncode == 4, ran.stderr   # the second provider has no key: pending
    assert "nokey\\x1b[1m: skipped" in ran.stderr and "[exit 4]" in ran.stderr
    assert not raw_in(ran.stderr), raw_in(ran.stderr)


def test_markdown_and_csv_reports_escape_labels_and_categories(hostile_run):
    _, harness = hostile_run
    md = harness("compare", "--format", "markdown")
    assert md.returncode in (0, 4), md.stderr
    assert "evil\\x1b\\[31m\\u202elebal" in md.stdout
    assert not raw_in(md.stdout), raw_in(md.stdout)
    out = harness("compare", "--format", "csv")
    assert not raw_in(out.stdout), raw_in(out.stdout)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert {r["provider"] for r in rows} >= {"evil\\x1b[31m\\u202elebal"}
    assert any(r["category"] == "facts\\x1b]0;pwned\\x07" for r in rows)


def test_json_report_escapes_bidi(hostile_run):
    _, harness = hostile_run
    out = harness("compare", "--format", "json")
    assert not raw_in(out.stdout), raw_in(out.stdout)
    assert LABEL in {p["label"] for p in json.loads(out.stdout)["providers"]}


# The terminal tables (harness/report/layout.py) and `harness export` escape them too.

def test_terminal_table_escapes_labels_and_categories(hostile_run):
    _, harness = hostile_run
    out = harness("compare")
    assert not raw_in(out.stdout), raw_in(out.stdout)


def test_export_escapes_bidi_and_c1_in_replies(hostile_run):
    _, harness = hostile_run
    out = harness("export")
    assert out.returncode == 0, out.stderr
    assert not raw_in(out.stdout), raw_in(out.stdout)
    replies = [r["reply"]["text"] for r in map(json.loads, out.stdout.splitlines()) if r["reply"]]
    assert replies and set(replies) == {REPLY}, "JSON escapes: the reply is unchanged once parsed"
