"""Suites from a dataset on the Hugging Face hub (or a local dataset folder), through `datasets`.

    suites:
      - hub: cais/mmlu            # or a local folder holding data files
        split: test
        columns: {id: question_id, input: question, target: answer}
        category: mmlu

Each record goes through the same validation as a local suite file, so problems name the record.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.problems import InputError, Problem
from harness.suites.load import PROMPT_FIELDS, Suite, validate_record


_BUILDERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


def load_hub_suite(ref: Any, eval_path: Path) -> Suite:
    try:
        import datasets
    except ImportError:
        raise InputError.single(eval_path, "hub suites need the datasets package: "
                                "pip install 'chatbot-eval-harness[datasets]'", field="suites") from None
    source = ref.hub
    local = (eval_path.parent / source) if not Path(source).is_absolute() else Path(source)
    if local.exists():
        source = str(local)
    builder = _BUILDERS.get(Path(source).suffix) if local.is_file() else None
    try:
        if builder is not None:  # one local data file: datasets' generic builder for its format
            data = datasets.load_dataset(builder, data_files={ref.split: source}, split=ref.split)
        else:
            data = datasets.load_dataset(source, split=ref.split, revision=ref.revision)
    except Exception as err:  # offline, unknown name, bad split: the user needs the reason, not a traceback
        raise InputError.single(eval_path, f"could not load dataset {ref.hub!r} split {ref.split!r}: "
                                f"{type(err).__name__}: {err}", field="suites") from None
    unknown = [k for k in ref.columns if k not in PROMPT_FIELDS]
    if unknown:
        raise InputError.single(eval_path, f"columns maps unknown prompt field {unknown[0]!r}; "
                                f"known: {', '.join(PROMPT_FIELDS)}", field="suites.columns")
    missing = [c for c in ref.columns.values() if c not in data.column_names]
    if missing:
        raise InputError.single(eval_path, f"dataset {ref.hub!r} has no column {missing[0]!r}; it has: "
                                + ", ".join(data.column_names), field="suites.columns")
    problems: list[Problem] = []
    prompts = []
    defaults = {"category": ref.category} if ref.category else {}
    for index, row in enumerate(data):
        record = {field: row[column] for field, column in ref.columns.items()}
        record.setdefault("id", f"{index}")
        where = {"file": f"{ref.hub}[{ref.split}]", "line": None, "record": f"#{index}"}
        prompt = validate_record(record, where, defaults, problems)
        if prompt is not None:
            prompts.append(prompt)
    if problems:
        raise InputError(problems)
    name = ref.name or ref.hub.rstrip("/").split("/")[-1]
    version = ref.version or ref.revision or getattr(data, "_fingerprint", None) or "unversioned"
    prompts = [p.model_copy(update={"suite": name}) for p in prompts]
    return Suite(name=name, version=str(version), path=f"hub:{ref.hub}", prompts=prompts)


