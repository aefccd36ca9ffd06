"""Suites named by an eval file's suite entry with options: a dataset on the Hugging Face hub (or a
local dataset folder) through `datasets`, or a local suite file or folder read by our own readers.

    suites:
      - hub: cais/mmlu            # a dataset on the hub, or a local dataset folder
        split: test
        columns: {id: question_id, input: question, target: answer}
        category: mmlu
      - path: data/harmful.xlsx   # a local file: read by the harness's readers, with lines
        columns: {input: prompts_final, category: harm_area}
        rules: [T01]
        defaults: {metadata: {source: harmful-100}}

Each record goes through the same validation as a suite file; unmapped columns are kept as metadata.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.problems import InputError, Problem
from harness.suites.load import DATA_SUFFIXES, Suite, SuiteOptions, check_defaults, load_suite
from harness.suites.readers import table_records
from harness.suites.record import validate_record


def suite_options(ref: Any, eval_path: Path, index: int | None = None) -> SuiteOptions:
    """The loading options an eval file's suite entry carries."""
    defaults = dict(getattr(ref, "defaults", None) or {})
    if getattr(ref, "category", None):
        defaults.setdefault("category", ref.category)
    if getattr(ref, "rules", None):
        defaults.setdefault("rules", list(ref.rules))
    where = {"file": str(eval_path), "line": getattr(ref, "_line", None),
             "record": f"suites[{index}]" if index is not None else f"suite {ref.name or ref.hub or ref.path}"}
    return SuiteOptions(where=where, columns=dict(ref.columns or {}), defaults=defaults,
                        sheet=getattr(ref, "sheet", None), name=ref.name, version=ref.version,
                        category_map=dict(ref.category_map or {}), categories=list(ref.categories or []))


def _local(source: str, eval_path: Path) -> Path | None:
    for base in (eval_path.parent, Path.cwd()):
        candidate = Path(source).expanduser()
        candidate = candidate if candidate.is_absolute() else base / candidate
        if candidate.exists():
            return candidate
    return None


def load_hub_suite(ref: Any, eval_path: Path, index: int | None = None) -> Suite:
    source = ref.hub if ref.hub is not None else ref.path
    opts = suite_options(ref, eval_path, index)
    local = _local(source, eval_path)
    if local is not None and ((local.is_file() and local.suffix.lower() in DATA_SUFFIXES)
                              or (local.is_dir() and (local / "suite.yaml").exists())):
        return load_suite(local, opts)
    suffix = Path(source).suffix.lower()
    if local is None and suffix in DATA_SUFFIXES + (".json", ".xls", ".tsv"):
        # A file name, not a hub dataset: say so now rather than ask the hub for it.
        raise InputError.single(eval_path, f"suite file {source!r} not found next to the eval file or in the "
                                "current directory", field="suites", record=opts.where.get("record"), line=opts.where.get("line"))
    if suffix == ".xls":
        raise InputError.single(local, "is an old-style Excel file; save it as .xlsx (Excel: File > Save As)")
    if local is not None and local.is_file() and local.suffix.lower() == ".json":
        return _load_dataset(ref, eval_path, opts, str(local), builder="json")
    if local is not None and local.is_file():
        raise InputError.single(eval_path, f"{source!r} is not a suite file: use .yaml, .jsonl, .csv, .xlsx or "
                                ".parquet", field="suites")
    return _load_dataset(ref, eval_path, opts, str(local) if local is not None else source)


def _load_dataset(ref: Any, eval_path: Path, opts: SuiteOptions, source: str, builder: str | None = None) -> Suite:
    try:
        import datasets
    except ImportError:
        raise InputError.single(eval_path, "hub suites need the datasets package: "
                                "pip install 'chatbot-eval-harness[datasets]'", field="suites") from None
    try:
        if builder is not None:  # one local JSON file: datasets' generic builder
            data = datasets.load_dataset(builder, data_files={ref.split: source}, split=ref.split)
        else:
            data = datasets.load_dataset(source, split=ref.split, revision=ref.revision)
    except Exception as err:  # offline, unknown name, bad split: the user needs the reason, not a traceback
        raise InputError.single(eval_path, f"could not load dataset {ref.hub!r} split {ref.split!r}: "
                                f"{type(err).__name__}: {err}", field="suites") from None
    problems: list[Problem] = []
    defaults = check_defaults(opts.defaults or None, opts.where, problems)
    label = f"{ref.hub}[{ref.split}]"
    rows = ((None, row) for row in data)
    table = table_records(label, list(data.column_names), rows, opts.columns, problems,
                          columns_where=opts.where, label=f"dataset {ref.hub!r}")
    prompts = []
    for _, record, index in table:
        where = {"file": label, "line": None, "record": f"#{index}"}
        prompt = validate_record(record, where, defaults, problems)
        if prompt is not None:
            prompts.append(prompt)
    seen: set[str] = set()
    for p in prompts:
        if p.id in seen:
            problems.append(Problem(label, f"duplicate prompt id {p.id!r}; map a column of unique ids: "
                                    "columns: {id: ...}", field="id"))
        seen.add(p.id)
    if problems:
        raise InputError(problems)
    name = ref.name or str(ref.hub).rstrip("/").split("/")[-1]
    version = ref.version or ref.revision or getattr(data, "_fingerprint", None) or "unversioned"
    for p in prompts:
        p.suite = name
    return Suite(name=name, version=str(version), path=f"hub:{ref.hub}", prompts=prompts)
