"""Your own scorer and provider (issue 11 item 6): `module:function` scorers validated when the eval is
loaded, and an installed package that adds a scorer and a provider through the entry point groups
`harness.scorers` and `harness.providers`. The package is written by the test into tmp_path with its
dist-info (what `pip install` leaves), and put on the path of the process under test."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from harness.problems import InputError

REPO = Path(__file__).resolve().parents[1]

PLUGIN = '''
"""A tiny harness plugin: one scorer, one provider."""
from harness.providers.base import Provider
from harness.types import Outcome, Reply, Score


def shouty(prompt, reply):
    """Passes when the reply is in capitals."""
    return Score(scorer="shouty", passed=reply.text.isupper(), explanation="all capitals?")


def polite(prompt, reply):
    """Passes when the reply says please."""
    return Score(scorer="whatever-name", passed="please" in reply.text.lower())


def not_a_scorer(text):
    return text


def wrong_type(prompt, reply):
    return 1


class EchoProvider(Provider):
    """Answers with the last user message in capitals."""
    kind = "echo"

    async def _generate(self, messages, params):
        return Reply(text=messages[-1].content.upper(), outcome=Outcome.ANSWERED)
'''


def make_plugin(root: Path) -> Path:
    """harness_demo_plugin installed into `root` as pip would leave it: the module and its dist-info."""
    root.mkdir()
    (root / "harness_demo_plugin.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    info = root / "harness_demo_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: harness-demo-plugin\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "[harness.scorers]\nshouty = harness_demo_plugin:shouty\nbroken = harness_demo_plugin:missing\n\n"
        "[harness.providers]\necho = harness_demo_plugin:EchoProvider\n", encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")
    return root


def run(*args: str, path: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": f"{path}{os.pathsep}{REPO}"}
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd or REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def write_eval(tmp_path: Path, scorers: list[str], model: str = "echo/v1") -> Path:
    (tmp_path / "s.yaml").write_text("name: s\nprompts:\n  - {id: a, input: hello please}\n  - {id: b, input: bye}\n",
                                     encoding="utf-8")
    path = tmp_path / "eval.yaml"
    path.write_text(yaml.safe_dump({"name": "p", "suites": ["s.yaml"], "providers": [model], "scorers": scorers}),
                    encoding="utf-8")
    return path


def test_installed_plugin_provider_and_scorers_run_end_to_end(tmp_path):
    site = make_plugin(tmp_path / "site")
    listed = run("providers", path=site)
    assert listed.returncode == 0, listed.stderr
    assert "echo" in listed.stdout and "harness-demo-plugin" in listed.stdout

    eval_path = write_eval(tmp_path, ["shouty", "harness_demo_plugin:polite", "match"])
    done = run("run", str(eval_path), "-r", str(tmp_path / "r"), "--no-progress", path=site)
    assert done.returncode == 0, done.stderr
    db = sqlite3.connect(tmp_path / "r" / "harness.db")
    rows = db.execute("SELECT s.scorer, s.passed, p.prompt_id FROM scores s JOIN samples p ON p.id = s.sample_id "
                      "ORDER BY p.prompt_id, s.scorer").fetchall()
    got = {(r[0], r[2]): r[1] for r in rows}
    assert got[("shouty", "a")] == 1 and got[("shouty", "b")] == 1  # the echo provider answers in capitals
    # The module:function scorer's verdict is filed under the name the eval used.
    assert got[("harness_demo_plugin:polite", "a")] == 1 and got[("harness_demo_plugin:polite", "b")] == 0


@pytest.mark.parametrize("name, fragment", [
    ("harness_demo_plugin:nothing", "has no 'nothing'"),
    ("harness_demo_plugin:not_a_scorer", "must take two arguments (prompt, reply)"),
    ("no_such_module_xyz:f", "cannot import module 'no_such_module_xyz'"),
    ("broken", "cannot be loaded"),
    ("shoutey", "did you mean 'shouty'?"),
])
def test_bad_scorer_names_fail_when_the_eval_is_loaded(tmp_path, name, fragment):
    site = make_plugin(tmp_path / "site")
    eval_path = write_eval(tmp_path, [name])
    done = run("run", str(eval_path), "-r", str(tmp_path / "r"), "--no-progress", path=site)
    assert done.returncode == 2, done.stderr
    assert "eval.yaml" in done.stderr and fragment in done.stderr, done.stderr
    assert not (tmp_path / "r").exists()


def test_scorers_command_lists_built_in_and_installed_scorers(tmp_path, monkeypatch):
    import typer
    from typer.testing import CliRunner

    from harness.cli.scorers import scorers

    monkeypatch.syspath_prepend(str(make_plugin(tmp_path / "site")))
    app = typer.Typer()
    app.command()(scorers)
    app.command("noop")(lambda: None)
    result = CliRunner().invoke(app, ["scorers"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "teen_safety" in result.output and "built in" in result.output
    assert "shouty" in result.output and "harness-demo-plugin" in result.output
    assert "Passes when the reply is in capitals" in result.output
    assert "broken" in result.output and "cannot be loaded" in result.output


def test_module_function_scorer_is_checked_in_process(tmp_path, monkeypatch):
    from harness.scoring import get_scorer, score_reply, scorer_problem
    from harness.types import Message, Outcome, Prompt, Reply

    monkeypatch.syspath_prepend(str(make_plugin(tmp_path / "site")))
    assert scorer_problem("harness_demo_plugin:polite") is None
    fn = get_scorer("harness_demo_plugin:polite")
    prompt = Prompt(id="a", messages=[Message(role="user", content="hi")])
    (score,) = score_reply(["harness_demo_plugin:polite"], prompt, Reply(text="Please.", outcome=Outcome.ANSWERED))
    assert score.scorer == "harness_demo_plugin:polite" and score.passed is True and fn is get_scorer("harness_demo_plugin:polite")
    assert "two arguments" in scorer_problem("harness_demo_plugin:not_a_scorer")
    # A scorer that returns something else is recorded as a scorer error, never as a pass or a fail.
    (bad,) = score_reply(["harness_demo_plugin:wrong_type"], prompt, Reply(text="x", outcome=Outcome.ANSWERED))
    assert bad.passed is None and bad.label == "scorer_error" and "not a Score" in bad.explanation


def test_unknown_provider_kind_says_how_to_add_one(tmp_path):
    from harness.evalfile import load_eval

    eval_path = write_eval(tmp_path, ["match"], model="echoo/v1")
    with pytest.raises(InputError, match="unknown provider 'echoo'"):
        load_eval(eval_path)


def test_scorers_command_is_registered(cli):
    done = cli("scorers")
    assert done.returncode == 0, done.stderr
    assert "teen_safety" in done.stdout and "module:function" in done.stdout
