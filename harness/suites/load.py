"""Reading prompt suites from YAML, JSONL, CSV, Excel (.xlsx) or Parquet files, or a suite directory.

A suite is either one file, or a directory holding `suite.yaml` (name, version, description,
defaults, columns) and data files. Every prompt gets validated into `harness.types.Prompt`; every
problem is collected with its file and line, and reported together.
"""
from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from harness.problems import InputError, Problem, read_text
from harness.suites.categories import apply_map, near_misses, parse_declared, parse_map, unused_map_keys
from harness.suites.readers import (PROMPT_FIELDS, csv_table, jsonl_rows, parquet_table, record_table,
                                    records_csv, records_jsonl, table_records, xlsx_table)
from harness.suites.record import validate_record
from harness.types import Prompt
from harness.yamlfile import parse_yaml

__all__ = ["DATA_SUFFIXES", "PROMPT_FIELDS", "SUITE_FIELDS", "Suite", "SuiteOptions", "load_suite", "load_suites",
           "records_csv", "records_jsonl", "suite_hash", "validate_record"]

SUITE_FIELDS = ("name", "version", "description", "defaults", "prompts", "files", "category_map", "categories",
                "columns", "sheet")
DATA_SUFFIXES = (".yaml", ".yml", ".jsonl", ".csv", ".xlsx", ".parquet")
TABLE_SUFFIXES = (".csv", ".xlsx", ".parquet")


@dataclass
class Suite:
    name: str
    version: str
    path: str
    prompts: list[Prompt]
    description: str = ""
    files: list[str] = field(default_factory=list)
    # The suite's own categories declared as content-rules-only (see harness/suites/categories.py).
    declared_categories: list[str] = field(default_factory=list)
    light: bool = False  # prompts are PromptStubs (validated, not kept): see load_suite
    warnings: list[str] = field(default_factory=list)   # said, not fatal: e.g. a category_map key matching nothing

    @property
    def content_hash(self) -> str:
        if self.light:
            raise ValueError("a suite loaded with light=True has no content hash; load it in full")
        return suite_hash(self.prompts)

    def categories(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for p in self.prompts:
            counts[p.category] = counts.get(p.category, 0) + 1
        return dict(sorted(counts.items()))


@dataclass
class SuiteOptions:
    """What an eval file's suite entry adds to a suite: a column mapping, defaults, a sheet, a map."""
    where: dict[str, Any]                     # the entry's place in the eval file, for problems
    columns: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    sheet: str | None = None
    name: str | None = None
    version: str | None = None
    category_map: dict[str, Any] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PromptStub:
    """What validation keeps of a prompt when the prompts themselves are not needed (`light=True`):
    enough for duplicate ids, category checks and rule-id checks, a few dozen bytes a prompt."""
    id: str
    category: str
    rules: list[str]
    rule_categories: list[str] | None = None
    suite: str = ""


class _Stubs(list):
    def append(self, item: tuple[Prompt, int | None]) -> None:
        prompt, line = item
        super().append((PromptStub(prompt.id, prompt.category, prompt.rules or _NO_RULES), line))


_NO_RULES: list[str] = []


def _new_out(options: dict[str, Any]) -> list:
    return _Stubs() if options.get("light") else []


def suite_hash(prompts: list[Prompt]) -> str:
    """sha256 of the prompts' canonical JSON: the same prompts hash the same whatever the file format,
    and any change a model could see (text, order, targets) changes the hash."""
    # rule_categories is left out while unset, so suites hash as they did before category maps existed.
    # turns likewise, while None (every prompt that is not a conversation).
    digest = hashlib.sha256(b"[")
    for i, p in enumerate(prompts):
        item = json.dumps(p.model_dump(mode="json", exclude={"suite"} | ({"rule_categories"} if p.rule_categories
                                                                         is None else set())
                                       | ({"turns"} if p.turns is None else set())
                                       | ({"simulate"} if p.simulate is None else set())),
                          sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        digest.update(((b"," if i else b"") + item.encode()))
    digest.update(b"]")
    return "sha256:" + digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Headers (suite.yaml, a YAML file's own fields, an eval entry): checked once, not once per prompt


def _check_header(header: dict[str, Any], where: dict[str, Any], problems: list[Problem],
                  lines: dict[tuple[Any, ...], int] | None = None) -> None:
    for key in header:
        if key not in SUITE_FIELDS:
            close = difflib.get_close_matches(str(key), SUITE_FIELDS, n=1)
            problems.append(Problem(**where, line=(lines or {}).get((key,)), message=f"unknown suite field {key!r}" + (
                f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(SUITE_FIELDS)}")))
    columns = header.get("columns")
    if columns is not None and (not isinstance(columns, dict) or
                                not all(isinstance(v, str) for v in columns.values())):
        problems.append(Problem(**where, field="columns", message="must map prompt fields to column names, e.g. "
                                "columns: {input: prompts_final, category: harm_area}"))
        header["columns"] = {}


def check_defaults(defaults: Any, where: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """Validate `defaults:` once, where it is written; return the usable part."""
    if defaults is None:
        return {}
    if not isinstance(defaults, dict):
        problems.append(Problem(**where, field="defaults", message="must be a mapping such as {category: facts}"))
        return {}
    found: list[Problem] = []
    validate_record({"id": "defaults", "input": "defaults", **defaults}, dict(where), {}, found)
    bad = {p.field.split(".")[0].split("[")[0] for p in found if p.field}
    for p in found:
        problems.append(Problem(**where, field=f"defaults.{p.field}" if p.field else "defaults", message=p.message))
    return {k: v for k, v in defaults.items() if k not in bad}


# ---------------------------------------------------------------------------------------------
# One data file


def _open_text(path: Path) -> IO[str]:
    try:
        return path.open("r", encoding="utf-8-sig", newline="")
    except OSError:
        read_text(path)  # raises the InputError that says why (not found, a directory, permission)
        raise


def _utf8_problem(path: Path) -> list[Problem]:
    """The precise problem of a file that failed to decode while streaming."""
    try:
        read_text(path)
    except InputError as err:
        return err.problems
    return [Problem(str(path), "is not UTF-8; save the file as UTF-8")]


def _validate(raw: Any, path: Path, line: int | None, index: int, defaults: dict[str, Any],
              problems: list[Problem], out: list[tuple[Prompt, int | None]]) -> None:
    where = {"file": str(path), "line": line, "record": None if line else f"#{index}"}
    prompt = validate_record(raw, where, defaults, problems)
    if prompt is not None:
        out.append((prompt, line))


def _load_yaml(path: Path, defaults: dict[str, Any], options: dict[str, Any],
               problems: list[Problem]) -> tuple[dict[str, Any], list[tuple[Prompt, int | None]]]:
    """A YAML suite file, each prompt validated as soon as the reader has it (nothing else is kept).
    When `defaults:` or `columns:` come after `prompts:` (rare), the file is read a second time."""
    found: list[Problem] = []
    out = _new_out(options)
    buffered: list[tuple[int | None, Any]] = []
    state: dict[str, Any] = {}

    def on_item(index: int, raw: Any, line: int, root: Any, lines: dict) -> None:
        if not state:
            head = dict(root or {})
            state["keys"] = set(head)
            state["buffer"] = bool(head.get("columns") or options.get("columns"))
            state["defaults"] = {**defaults, **check_defaults(head.get("defaults"), {
                "file": str(path), "line": lines.get(("defaults",))}, found)}
        if state["buffer"]:
            buffered.append((line, raw))
        else:
            _validate(raw, path, line, index, state["defaults"], found, out)

    try:
        with _open_text(path) as f:
            doc = parse_yaml(path, f, line_depth=1, on_item=on_item)
    except UnicodeDecodeError:
        raise InputError(_utf8_problem(path)) from None
    data, header = doc.data, {}
    if isinstance(data, dict):
        header = {k: v for k, v in data.items() if k != "prompts"}
        if state and ({"defaults", "columns"} & set(header)) - state["keys"]:
            # they came after the prompts: validate again, knowing them
            return _load_yaml_late(path, defaults, options, problems, header, doc)
        _check_header(header, {"file": str(path)}, found, doc.lines)
        if "prompts" not in data:
            found.append(Problem(str(path), "has no 'prompts:' list"))
        elif not isinstance(data["prompts"], list):
            raise InputError.single(path, "'prompts' must be a list", field="prompts", line=doc.lines.get(("prompts",)))
    elif data is not None and not isinstance(data, list):
        raise InputError.single(path, "must hold a mapping with 'prompts:' or a list of prompts")
    if not state:
        check_defaults(header.get("defaults"), {"file": str(path), "line": doc.lines.get(("defaults",))}, found)
    if buffered:
        columns = header.get("columns") or options.get("columns")
        where = {"file": str(path)} if header.get("columns") else options.get("columns_where") or {"file": str(path)}
        _tabular(path, buffered, columns, where, state["defaults"], found, out)
    problems += found
    return header, out


def _load_yaml_late(path: Path, defaults: dict[str, Any], options: dict[str, Any], problems: list[Problem],
                    header: dict[str, Any], doc: Any) -> tuple[dict[str, Any], list[tuple[Prompt, int | None]]]:
    """The rare file whose defaults or columns follow its prompts: read again with them known first."""
    found: list[Problem] = []
    items: list[tuple[int | None, Any]] = []
    with _open_text(path) as f:
        parse_yaml(path, f, line_depth=1, on_item=lambda i, raw, line, root, lines: items.append((line, raw)))
    _check_header(header, {"file": str(path)}, found, doc.lines)
    file_defaults = {**defaults, **check_defaults(header.get("defaults"), {
        "file": str(path), "line": doc.lines.get(("defaults",))}, found)}
    out = _new_out(options)
    columns = header.get("columns") or options.get("columns")
    if columns:
        where = {"file": str(path)} if header.get("columns") else options.get("columns_where") or {"file": str(path)}
        _tabular(path, items, columns, where, file_defaults, found, out)
    else:
        for index, (line, raw) in enumerate(items):
            _validate(raw, path, line, index, file_defaults, found, out)
    problems += found
    return header, out


def _tabular(path: Path, records: list[tuple[int | None, Any]], columns: dict[str, str], where: dict[str, Any],
             defaults: dict[str, Any], problems: list[Problem], out: list[tuple[Prompt, int | None]]) -> None:
    """JSONL or YAML records read through a `columns:` mapping, like a table."""
    for line, r in records:
        if not isinstance(r, dict):
            problems.append(Problem(str(path), f"a prompt must be a mapping of fields, got {type(r).__name__}",
                                    line=line))
    names, rows = record_table(records)
    for line, raw, index in table_records(str(path), names, rows, columns, problems, columns_where=where,
                                          label=str(path)):
        _validate(raw, path, line, index, defaults, problems, out)


def _load_file(path: Path, defaults: dict[str, Any], options: dict[str, Any],
               problems: list[Problem]) -> tuple[dict[str, Any], list[tuple[Prompt, int | None]]]:
    """Return (the file's own header fields, [(prompt, line)]). `options` holds the columns mapping and
    sheet from suite.yaml or the eval entry, and `columns_where` (where that mapping was written).
    Records are read and validated one at a time: only the validated prompts are kept."""
    suffix = path.suffix.lower()
    columns = options.get("columns") or {}
    where = options.get("columns_where") or {"file": str(path)}
    out = _new_out(options)
    if suffix in (".yaml", ".yml"):
        return _load_yaml(path, defaults, options, problems)
    if suffix == ".jsonl":
        try:
            with path.open("rb") as f:
                if columns:
                    _tabular(path, list(jsonl_rows(path, f, problems)), columns, where, defaults, problems, out)
                else:
                    for index, (line, raw) in enumerate(jsonl_rows(path, f, problems)):
                        _validate(raw, path, line, index, defaults, problems, out)
        except OSError:
            read_text(path)
            raise
        return {}, out
    if suffix not in TABLE_SUFFIXES:
        raise InputError.single(path, f"unsupported suite format {path.suffix!r}; use .yaml, .jsonl, .csv, .xlsx "
                                "or .parquet")
    handle = _open_text(path) if suffix == ".csv" else None
    try:
        if handle is not None:
            names, rows = csv_table(path, handle, problems)
        elif suffix == ".xlsx":
            names, rows = xlsx_table(path, options.get("sheet"), problems)
        else:
            names, rows = parquet_table(path, problems)
        if not names:
            if not problems:
                problems.append(Problem(str(path), "is empty: expected a header row with the column names"))
            return {}, out
        for line, raw, index in table_records(str(path), names, rows, columns, problems, columns_where=where,
                                              label=str(path)):
            _validate(raw, path, line, index, defaults, problems, out)
    except UnicodeDecodeError:
        problems += _utf8_problem(path)
    finally:
        if handle is not None:
            handle.close()
    return {}, out


# ---------------------------------------------------------------------------------------------
# Suites


def load_suite(path: str | Path, options: SuiteOptions | None = None, *, light: bool = False) -> Suite:
    """Load and validate one suite (a file or a directory with suite.yaml), with the eval entry's
    options if any. Raises InputError listing every problem of the suite.

    light=True validates everything the same way but keeps only a PromptStub of each prompt (for
    `harness prompts validate|list`: memory stays small whatever the suite's size); such a suite
    has no content hash."""
    path = Path(path)
    problems: list[Problem] = []
    opts = options or SuiteOptions(where={"file": str(path)})
    base_defaults = check_defaults(opts.defaults or None, opts.where, problems)
    if path.is_dir():
        manifest_path = path / "suite.yaml"
        if not manifest_path.exists():
            raise InputError.single(path, "is a directory without suite.yaml; add one with 'name:' and 'version:'")
        manifest_doc = parse_yaml(manifest_path, read_text(manifest_path), line_depth=1)
        manifest = manifest_doc.data
        if not isinstance(manifest, dict):
            raise InputError.single(manifest_path, "must be a mapping with name, version and files")
        _check_header(manifest, {"file": str(manifest_path)}, problems, manifest_doc.lines)
        names = manifest.get("files") or sorted(
            p.name for p in path.iterdir() if p.suffix.lower() in DATA_SUFFIXES and p.name != "suite.yaml"
            and not p.name.startswith((".", "~$")))
        files = [path / n for n in names]
        header = manifest
        header_where = {"file": str(manifest_path)}
        defaults = {**base_defaults, **check_defaults(manifest.get("defaults"), {
            **header_where, "line": manifest_doc.lines.get(("defaults",))}, problems)}
    elif path.exists():
        files, header, header_where, defaults = [path], {}, {"file": str(path)}, base_defaults
    else:
        raise InputError.single(path, "not found; give a suite file (.yaml, .jsonl, .csv, .xlsx, .parquet) or a "
                                "suite directory")
    file_options = {"columns": opts.columns or header.get("columns") or {},
                    "columns_where": opts.where if opts.columns else header_where,
                    "sheet": opts.sheet or header.get("sheet"), "light": light}
    entries: list[tuple[Prompt, int | None, Path]] = []
    for f in files:
        try:
            file_header, prompts = _load_file(f, defaults, file_options, problems)
        except InputError as err:  # this file cannot be read at all: report it with the others' problems
            problems += err.problems
            continue
        if not header.get("name") and file_header.get("name"):
            header = {**file_header, **header}
        entries += [(p, line, f) for p, line in prompts]
    seen: dict[str, tuple[Path, int | None]] = {}
    for prompt, line, f in entries:
        if prompt.id in seen:
            first_file, first_line = seen[prompt.id]
            first = f"{first_file}:{first_line}" if first_line else str(first_file)
            problems.append(Problem(str(f), f"duplicate prompt id {prompt.id!r} (first used at {first}); ids must be unique",
                                    line=line, field="id"))
        else:
            seen[prompt.id] = (f, line)
    if not entries and not problems:
        problems.append(Problem(str(path), "has no prompts; a suite needs at least one"))
    mapping, map_problems = parse_map(header.get("category_map"), header_where)
    declared, declared_problems = parse_declared(header.get("categories"), header_where)
    ref_map, ref_map_problems = parse_map(opts.category_map or None, opts.where)
    ref_declared, _ = parse_declared(opts.categories or None, opts.where)
    problems += map_problems + declared_problems + ref_map_problems
    if light:
        prompts, merged = [p for p, _, _ in entries], {**mapping, **ref_map}
        for stub in prompts:
            stub.rule_categories = merged.get(" ".join(stub.category.split()).lower())
    else:
        prompts = apply_map([p for p, _, _ in entries], {**mapping, **ref_map})
    declared = declared + [c for c in ref_declared if c not in declared]
    problems += near_misses(prompts, declared, str(path))
    if problems:
        raise InputError(problems)
    name = str(opts.name or header.get("name") or (path.name if path.is_dir() else path.stem))
    version = str(opts.version or header.get("version") or "unversioned")
    for p in prompts:
        p.suite = name
    return Suite(name=name, version=version, path=str(path), prompts=prompts,
                 description=str(header.get("description") or ""), files=[str(f) for f in files],
                 declared_categories=declared, light=light,
                 warnings=unused_map_keys(mapping, [p.category for p in prompts], str(path)))


def load_suites(paths: list[str | Path]) -> list[Suite]:
    """Load several suites, reporting the problems of all of them together."""
    suites, problems = [], []
    for p in paths:
        try:
            suites.append(load_suite(p))
        except InputError as err:
            problems += err.problems
    names: dict[str, str] = {}
    for s in suites:
        if s.name in names:
            problems.append(Problem(s.path, f"suite name {s.name!r} is also used by {names[s.name]}; names must be unique"))
        names[s.name] = s.path
    if problems:
        raise InputError(problems)
    return suites
