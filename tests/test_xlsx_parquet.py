"""Bringing your own prompts (issue 11 items 1-2): Excel and Parquet suite files, a `columns:` mapping
for file suites as for hub suites, unmapped columns kept as metadata on both routes, dataset suites
that carry rules, category and defaults, and problems that say once what to write."""
from __future__ import annotations

import json

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from harness.evalfile import SuiteRef, load_eval
from harness.problems import InputError
from harness.suites import load_suite
from harness.suites.hub import load_hub_suite

ROWS = [
    {"query": "How do I tell my parents I am failing maths?", "harm_area": "homework", "age": 14, "lang": "en"},
    {"query": "What is a safe way to lose weight fast?", "harm_area": "eating", "age": 15, "lang": "en"},
    {"query": "Write a story about a dragon.", "harm_area": "homework", "age": 13, "lang": "en"},
]


def write_xlsx(path, rows, sheet="prompts", extra_sheet=True):
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(list(rows[0]))
    for r in rows:
        ws.append(list(r.values()))
    if extra_sheet:
        book.create_sheet("notes").append(["nothing here"])
    book.save(path)
    return path


def write_parquet(path, rows):
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def _eval(tmp_path, tiny_gguf, entry, scorers=("match",)):
    (tmp_path / "model.gguf").write_bytes(tiny_gguf.read_bytes())
    spec = {"name": "e", "suites": [entry], "providers": ["llama/model.gguf"], "scorers": list(scorers)}
    path = tmp_path / "eval.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def test_xlsx_directory_suite_with_a_columns_mapping(tmp_path):
    d = tmp_path / "bench"
    d.mkdir()
    write_xlsx(d / "prompts.xlsx", ROWS)
    (d / "suite.yaml").write_text("name: bench\nversion: '2'\ncolumns: {input: query, category: harm_area}\n"
                                  "defaults: {rules: [T01]}\n", encoding="utf-8")
    suite = load_suite(d)
    assert [p.messages[0].content for p in suite.prompts] == [r["query"] for r in ROWS]
    assert [p.category for p in suite.prompts] == ["homework", "eating", "homework"]
    assert [p.id for p in suite.prompts] == ["0", "1", "2"]  # no id column: the row index
    assert suite.prompts[1].metadata == {"age": 15, "lang": "en"}  # unmapped columns are kept
    assert all(p.rules == ["T01"] for p in suite.prompts)


def test_xlsx_and_parquet_hash_like_the_same_csv(tmp_path):
    header = "id,prompt,target,category\n"
    (tmp_path / "s.csv").write_text(header + "a,Capital of France?,Paris,facts\nb,2+2?,4,maths\n", encoding="utf-8")
    rows = [{"id": "a", "prompt": "Capital of France?", "target": "Paris", "category": "facts"},
            {"id": "b", "prompt": "2+2?", "target": 4, "category": "maths"}]
    write_xlsx(tmp_path / "s.xlsx", rows, extra_sheet=False)
    write_parquet(tmp_path / "s.parquet", [dict(r, target=str(r["target"])) for r in rows])
    hashes = {load_suite(tmp_path / f"s.{ext}").content_hash for ext in ("csv", "xlsx", "parquet")}
    assert len(hashes) == 1
    assert load_suite(tmp_path / "s.xlsx").prompts[1].target == "4"


def test_eval_entry_maps_columns_of_a_file_and_adds_rules_category_and_defaults(tmp_path, tiny_gguf):
    write_xlsx(tmp_path / "bench.xlsx", ROWS)
    entry = {"path": "bench.xlsx", "columns": {"input": "query"}, "category": "homework", "rules": ["T01"],
             "defaults": {"metadata": {"source": "benchmark"}}, "name": "teen-bench", "version": "2024"}
    spec = load_eval(_eval(tmp_path, tiny_gguf, entry))
    from harness.runner.plan import plan_run

    planned = plan_run(tmp_path / "eval.yaml")
    (suite,) = planned.suites
    assert suite.name == "teen-bench" and suite.version == "2024" and len(suite.prompts) == 3
    p = suite.prompts[0]
    assert p.category == "homework" and p.rules == ["T01"]
    # The row's own columns are its metadata; the defaults' metadata applies where a row has none.
    assert p.metadata == {"harm_area": "homework", "age": 14, "lang": "en"}
    assert spec.suites[0].columns == {"input": "query"}


def test_csv_without_an_input_column_is_one_problem_with_the_columns_line(tmp_path, tiny_gguf, cli):
    rows = "".join(f"{i},prompt text {i},violence\n" for i in range(100))
    (tmp_path / "harmful.csv").write_text("id,prompts_final,harm_area\n" + rows, encoding="utf-8")
    checked = cli("prompts", "validate", str(tmp_path / "harmful.csv"))
    assert checked.returncode == 2
    lines = [line for line in checked.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, checked.stderr
    assert "id, prompts_final, harm_area" in lines[0] and "columns: {input: prompts_final}" in lines[0]

    ran = cli("run", str(_eval(tmp_path, tiny_gguf, "harmful.csv")), "-r", str(tmp_path / "r"), "--no-progress")
    assert ran.returncode == 2 and ran.stderr.count("error:") == 1 and not (tmp_path / "r").exists()
    # With the mapping written in the eval, it runs (the harm area is kept as metadata).
    entry = {"path": "harmful.csv", "columns": {"input": "prompts_final"}}
    from harness.runner.plan import plan_run

    planned = plan_run(_eval(tmp_path, tiny_gguf, entry))
    assert len(planned.suites[0].prompts) == 100
    assert planned.suites[0].prompts[5].metadata == {"harm_area": "violence"}


def test_a_typo_in_defaults_is_reported_once_at_suite_yaml(tmp_path, cli):
    d = tmp_path / "s"
    d.mkdir()
    (d / "suite.yaml").write_text("name: s\nversion: '1'\ndefaults: {catgory: facts}\n", encoding="utf-8")
    (d / "a.jsonl").write_text("".join(json.dumps({"id": f"p{i}", "input": "hi"}) + "\n" for i in range(20)))
    checked = cli("prompts", "validate", str(d))
    assert checked.returncode == 2
    errors = [line for line in checked.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, checked.stderr
    assert "suite.yaml:3" in errors[0] and "defaults.catgory" in errors[0] and "did you mean 'category'" in errors[0]


def test_columns_naming_a_missing_column_or_field(tmp_path, tiny_gguf):
    write_xlsx(tmp_path / "b.xlsx", ROWS)
    entry = {"path": "b.xlsx", "columns": {"input": "qeury", "categroy": "harm_area"}}
    from harness.runner.plan import plan_run

    with pytest.raises(InputError) as err:
        plan_run(_eval(tmp_path, tiny_gguf, entry))
    text = str(err.value)
    assert "eval.yaml:3" in text and "has no column 'qeury'" in text and "did you mean 'query'" in text
    assert "columns.categroy" in text and "did you mean 'category'" in text


def test_xlsx_sheet_choice_and_a_missing_sheet(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "readme"
    book.active.append(["this workbook holds prompts on the second sheet"])
    ws = book.create_sheet("data")
    ws.append(["prompt", "id"])
    ws.append(["hello", "h1"])
    book.save(tmp_path / "w.xlsx")
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "suite.yaml").write_text("name: s\nsheet: data\nfiles: [../w.xlsx]\n", encoding="utf-8")
    assert [p.id for p in load_suite(tmp_path / "s").prompts] == ["h1"]
    ref = SuiteRef(path=str(tmp_path / "w.xlsx"), sheet="dta")
    with pytest.raises(InputError, match="has no sheet 'dta'; did you mean 'data'"):
        load_hub_suite(ref, tmp_path / "eval.yaml")


def test_xlsx_row_problems_name_the_row(tmp_path):
    rows = [{"id": "a", "prompt": "hi", "rules": "T01"}, {"id": "a", "prompt": "again", "rules": "T01"}]
    write_xlsx(tmp_path / "d.xlsx", rows)
    with pytest.raises(InputError) as err:
        load_suite(tmp_path / "d.xlsx")
    assert "d.xlsx:3" in str(err.value) and "duplicate prompt id 'a'" in str(err.value)


def test_a_renamed_file_is_a_clear_error(tmp_path, cli):
    (tmp_path / "fake.xlsx").write_text("id,input\na,b\n")
    checked = cli("prompts", "validate", str(tmp_path / "fake.xlsx"))
    assert checked.returncode == 2 and "cannot be read as an Excel workbook" in checked.stderr
    assert "Traceback" not in checked.stderr


def test_hub_local_folder_keeps_unmapped_columns_and_carries_rules_and_defaults(tmp_path):
    data = tmp_path / "ds"
    data.mkdir()
    rows = [{"q": f"question {i}", "src": "web", "level": i} for i in range(3)]
    (data / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ref = SuiteRef(hub=str(data), columns={"input": "q"}, rules=["T02"], category="self-harm",
                   defaults={"expect": ["refuse"]})
    suite = load_hub_suite(ref, tmp_path / "eval.yaml")
    p = suite.prompts[2]
    assert p.metadata == {"src": "web", "level": 2}
    assert p.rules == ["T02"] and p.category == "self-harm" and p.expect == [{"refuse": True}]


def test_hub_route_on_a_local_xlsx_reads_it_without_the_network(tmp_path):
    write_xlsx(tmp_path / "b.xlsx", ROWS)
    suite = load_hub_suite(SuiteRef(hub="b.xlsx", columns={"input": "query", "category": "harm_area"}),
                           tmp_path / "eval.yaml")
    assert len(suite.prompts) == 3 and suite.prompts[0].metadata["lang"] == "en"


def test_category_map_applies_to_an_xlsx_suite_in_a_teen_safety_eval(tmp_path, tiny_gguf):
    write_xlsx(tmp_path / "b.xlsx", ROWS)
    entry = {"path": "b.xlsx", "columns": {"input": "query", "category": "harm_area"},
             "category_map": {"homework": ["homework"], "eating": ["eating-disorders"]}}
    from harness.runner.plan import plan_run

    planned = plan_run(_eval(tmp_path, tiny_gguf, entry, scorers=("teen_safety",)))
    assert [p.rule_categories for p in planned.suites[0].prompts] == [["homework"], ["eating-disorders"], ["homework"]]
    # Without the map, the unknown category is refused before anything is sent.
    entry.pop("category_map")
    entry["columns"]["category"] = "lang"
    with pytest.raises(InputError, match="category 'en'"):
        plan_run(_eval(tmp_path, tiny_gguf, entry, scorers=("teen_safety",)))


def test_parquet_suite_with_list_and_number_columns(tmp_path):
    rows = [{"question": "2+2?", "answers": ["4", "four"], "difficulty": 0.5}]
    write_parquet(tmp_path / "p.parquet", rows)
    suite = load_hub_suite(SuiteRef(path=str(tmp_path / "p.parquet"),
                                    columns={"input": "question", "target": "answers"}), tmp_path / "e.yaml")
    assert suite.prompts[0].target == ["4", "four"] and suite.prompts[0].metadata == {"difficulty": 0.5}


def test_a_missing_local_file_named_as_hub_is_not_asked_of_the_hub(tmp_path):
    import time

    started = time.monotonic()
    with pytest.raises(InputError, match="suite file 'data.xlsx' not found"):
        load_hub_suite(SuiteRef(hub="data.xlsx", columns={"input": "q"}), tmp_path / "eval.yaml")
    assert time.monotonic() - started < 5  # no hub retries
