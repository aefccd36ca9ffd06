"""Small things a new user trips over (issue 19, item 9): a closed pipe, `-o -`, `--limit` across suites,
misspelt eval fields, `columns: {prompt: ...}`, an xlsx whose first sheet is not the prompts, a CSV
separated by semicolons."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.problems import InputError
from harness.runner.plan import plan_run
from harness.store import Store
from test_tables import accuracy_run

REPO = Path(__file__).resolve().parents[1]


def _harness(*args: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("args", [["compare", "--by-category"], ["export"], ["compare", "-f", "csv"]])
def test_a_reader_that_stops_early_is_not_an_error(tmp_path, args):
    """`harness compare | head` under `set -o pipefail`: the reader goes away before harness writes
    (its end of the pipe is closed at once, so the write always meets a closed pipe): exit 0, no traceback."""
    store = Store(tmp_path / "r" / "harness.db")
    accuracy_run(store, n=40)
    store.close()
    proc = _harness(*args, "-r", str(tmp_path / "r"), cwd=tmp_path)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "internal error" not in err


def test_export_dash_writes_to_stdout(tmp_path, cli):
    store = Store(tmp_path / "r" / "harness.db")
    accuracy_run(store, n=5)
    store.close()
    done = cli("export", "-r", str(tmp_path / "r"), "-o", "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 15 and json.loads(lines[0])["prompt_id"] == "p000"
    assert not (tmp_path / "-").exists()


def _eval(tmp_path: Path, suites: list, **extra) -> Path:
    spec = {"name": "cuts", "suites": suites, "scorers": ["contains"],
            "providers": [{"model": "openai/m", "base_url": "http://127.0.0.1:9/v1", "api_key_env": "CUTS_KEY"}],
            **extra}
    path = tmp_path / "eval.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def test_limit_takes_the_first_prompts_in_the_eval_files_suite_order(tmp_path):
    """A table suite with `columns:` is loaded after the plain ones; --limit still takes the first N
    prompts of the first suite the eval file names, then the next suite's."""
    (tmp_path / "mine.csv").write_text("text,target\n" + "".join(f"mine {i},x\n" for i in range(3)), encoding="utf-8")
    (tmp_path / "plain.yaml").write_text(yaml.safe_dump({"name": "plain", "prompts": [
        {"id": f"plain{i}", "input": f"plain {i}", "target": "x"} for i in range(4)]}), encoding="utf-8")
    path = _eval(tmp_path, [{"path": "mine.csv", "columns": {"prompt": "text"}}, "plain.yaml"])
    planned = plan_run(path, limit=5)
    texts = [p.messages[-1].content for _, p, _, _ in planned.samples]
    assert texts == ["mine 0", "mine 1", "mine 2", "plain 0", "plain 1"]
    assert [s.name for s in planned.suites] == ["mine", "plain"]


def test_a_misspelt_eval_field_gets_a_did_you_mean(tmp_path):
    (tmp_path / "plain.yaml").write_text(yaml.safe_dump({"name": "plain", "prompts": [
        {"id": "a", "input": "a", "target": "x"}]}), encoding="utf-8")
    path = _eval(tmp_path, ["plain.yaml"], category_maps={"A": "homework"})
    with pytest.raises(InputError) as err:
        plan_run(path)
    assert "category_maps: unknown field; did you mean 'category_map'?" in str(err.value)


def test_xlsx_whose_first_sheet_is_not_the_prompts_suggests_sheet(tmp_path):
    openpyxl = pytest.importorskip("openpyxl", reason="the xlsx extra is installed by .[dev]")
    book = openpyxl.Workbook()
    about = book.active
    about.title = "About"
    about.append(["This workbook holds the prompts of our study"])
    prompts = book.create_sheet("Prompts")
    prompts.append(["prompt", "category"])
    prompts.append(["hello", "homework"])
    book.save(tmp_path / "set.xlsx")
    path = _eval(tmp_path, ["set.xlsx"])
    with pytest.raises(InputError) as err:
        plan_run(path)
    text = str(err.value)
    assert "has no 'input' column" in text and "'About', 'Prompts'" in text and "sheet: 'Prompts'" in text


def test_a_semicolon_csv_gets_a_delimiter_hint(tmp_path):
    (tmp_path / "semi.csv").write_text("id;prompt;category\na;hello;homework\n", encoding="utf-8")
    path = _eval(tmp_path, ["semi.csv"])
    with pytest.raises(InputError) as err:
        plan_run(path)
    assert "separated by semicolons" in str(err.value) and "comma-separated" in str(err.value)
