"""Reading prompt suites from YAML, JSONL or CSV files, or from a suite directory.

A suite is either one file, or a directory holding `suite.yaml` (name, version, description,
defaults) and data files. Every prompt gets validated into `harness.types.Prompt`; every problem is
collected with its file and line, and reported together.
"""
from __future__ import annotations

import csv
import difflib
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.problems import InputError, Problem, read_text
from harness.suites.categories import apply_map, near_misses, parse_declared, parse_map
from harness.scoring.expect import parse_expect
from harness.types import Message, Prompt

PROMPT_FIELDS = ("id", "input", "messages", "category", "target", "choices", "expect", "rules", "metadata")
SUITE_FIELDS = ("name", "version", "description", "defaults", "prompts", "files", "category_map", "categories")
DATA_SUFFIXES = (".yaml", ".yml", ".jsonl", ".csv")
ROLES = ("system", "user", "assistant")


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

    @property
    def content_hash(self) -> str:
        return suite_hash(self.prompts)

    def categories(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for p in self.prompts:
            counts[p.category] = counts.get(p.category, 0) + 1
        return dict(sorted(counts.items()))


def suite_hash(prompts: list[Prompt]) -> str:
    """sha256 of the prompts' canonical JSON: the same prompts hash the same whatever the file format,
    and any change a model could see (text, order, targets) changes the hash."""
    # rule_categories is left out while unset, so suites hash as they did before category maps existed.
    canon = json.dumps([p.model_dump(mode="json", exclude={"suite"} | ({"rule_categories"} if p.rule_categories is None
                                                                       else set())) for p in prompts],
                       sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canon.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Raw records: (line, dict) pairs from each format


def _yaml_error(path: Path, err: yaml.YAMLError) -> InputError:
    mark = getattr(err, "problem_mark", None)
    line = mark.line + 1 if mark else None
    problem = getattr(err, "problem", None) or str(err)
    return InputError.single(path, f"is not valid YAML: {problem}", line=line)


def _parse_yaml(path: Path, text: str) -> tuple[Any, dict[int, int]]:
    """Parse YAML and return (data, {prompt index: line}) for the `prompts` list (or top-level list)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise _yaml_error(path, err) from None
    lines: dict[int, int] = {}
    seq = None
    if isinstance(node, yaml.SequenceNode):
        seq = node
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "prompts" and isinstance(value, yaml.SequenceNode):
                seq = value
    if seq is not None:
        lines = {i: item.start_mark.line + 1 for i, item in enumerate(seq.value)}
    return data, lines


def records_jsonl(path: Path, text: str, problems: list[Problem]) -> list[tuple[int, Any]]:
    records = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((lineno, json.loads(line)))
        except json.JSONDecodeError as err:
            problems.append(Problem(str(path), f"is not valid JSON: {err.msg} (column {err.colno})", line=lineno))
    return records


def records_csv(path: Path, text: str, problems: list[Problem]) -> list[tuple[int, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        return []
    if "input" not in reader.fieldnames and "prompt" in reader.fieldnames:
        # Conversation logs and spreadsheets usually call it "prompt".
        reader.fieldnames = ["input" if f == "prompt" else f for f in reader.fieldnames]
    records = []
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append(Problem(str(path), "has more cells than the header has columns", line=line))
            continue
        record: dict[str, Any] = {}
        metadata: dict[str, Any] = {}
        for key, cell in row.items():
            if cell is None or cell == "":
                continue
            if key in ("id", "input", "category", "target"):
                record[key] = cell
            elif key == "choices":
                record[key] = [c.strip() for c in cell.split("|")]
            elif key == "rules":
                record[key] = [r.strip() for r in cell.replace(",", " ").split()]
            elif key == "expect":
                try:
                    record[key] = yaml.safe_load(cell)
                except yaml.YAMLError:
                    problems.append(Problem(str(path), f"cannot read {cell!r}; write e.g. 'contains: Paris'",
                                            line=line, field="expect"))
            else:
                metadata[key.removeprefix("metadata.")] = cell
        if metadata:
            record["metadata"] = metadata
        records.append((line, record))
    return records


# ---------------------------------------------------------------------------------------------
# Validation of one record


def _messages(raw: dict[str, Any], where: dict[str, Any], problems: list[Problem]) -> list[Message]:
    if "input" in raw and "messages" in raw:
        problems.append(Problem(**where, field="input", message="give either 'input' or 'messages', not both"))
        return []
    value = raw.get("input", raw.get("messages"))
    field_name = "input" if "input" in raw else "messages"
    if value is None or value == "" or value == []:
        problems.append(Problem(**where, field="input", message="is missing: every prompt needs an 'input' "
                                "(a user message, or a list of {role, content} messages)"))
        return []
    if isinstance(value, (str, int, float)):
        return [Message(role="user", content=str(value))]
    if not isinstance(value, list):
        problems.append(Problem(**where, field=field_name, message="must be a text or a list of messages"))
        return []
    messages = []
    for i, m in enumerate(value):
        if not isinstance(m, dict) or set(m) != {"role", "content"}:
            problems.append(Problem(**where, field=f"{field_name}[{i}]",
                                    message="each message needs exactly 'role' and 'content'"))
            continue
        if m["role"] not in ROLES:
            problems.append(Problem(**where, field=f"{field_name}[{i}].role",
                                    message=f"{m['role']!r} is not a role; use one of {', '.join(ROLES)}"))
            continue
        if not isinstance(m["content"], str) or not m["content"].strip():
            problems.append(Problem(**where, field=f"{field_name}[{i}].content", message="must be non-empty text"))
            continue
        messages.append(Message(role=m["role"], content=m["content"]))
    if messages and messages[-1].role != "user":
        problems.append(Problem(**where, field=field_name,
                                message="the last message must be from the user (the model answers it)"))
    return messages


def _text_list(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    return None


def validate_record(raw: Any, where: dict[str, Any], defaults: dict[str, Any],
                    problems: list[Problem]) -> Prompt | None:
    if not isinstance(raw, dict):
        problems.append(Problem(**where, message=f"a prompt must be a mapping of fields, got {type(raw).__name__}"))
        return None
    raw = {**defaults, **raw}
    before = len(problems)
    for key in raw:
        if key not in PROMPT_FIELDS:
            close = difflib.get_close_matches(str(key), PROMPT_FIELDS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known fields: {', '.join(PROMPT_FIELDS)}"
            problems.append(Problem(**where, field=str(key), message=f"unknown field{hint} "
                                    "(free-form data goes under 'metadata')"))
    pid = raw.get("id")
    if isinstance(pid, (int, float)) and not isinstance(pid, bool):
        pid = str(pid)
    if not isinstance(pid, str) or not pid.strip():
        problems.append(Problem(**where, field="id", message="is missing: every prompt needs a stable, unique id"))
    else:
        where = {**where, "record": where.get("record") or pid}
    messages = _messages(raw, where, problems)
    category = raw.get("category", "uncategorised")
    if not isinstance(category, str) or not category.strip():
        problems.append(Problem(**where, field="category", message="must be a non-empty text"))
    target = raw.get("target")
    if target is not None and not isinstance(target, str):
        target = _text_list(target) if isinstance(target, list) else (str(target) if isinstance(target, (int, float)) else None)
        if target is None:
            problems.append(Problem(**where, field="target", message="must be a text or a list of texts"))
    choices = raw.get("choices")
    if choices is not None:
        choices = _text_list(choices)
        if not choices or len(choices) < 2:
            problems.append(Problem(**where, field="choices", message="must be a list of at least two options"))
    expect, expect_problems = parse_expect(raw.get("expect"))
    for msg in expect_problems:
        problems.append(Problem(**where, field="expect", message=msg.split(": ", 1)[-1]))
    rules = raw.get("rules", [])
    if isinstance(rules, str):
        rules = [rules]
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        problems.append(Problem(**where, field="rules", message="must be a list of rule ids such as [T01, T02]"))
    metadata = raw.get("metadata", {})
    if not isinstance(metadata, dict):
        problems.append(Problem(**where, field="metadata", message="must be a mapping of key: value"))
    if len(problems) > before:
        return None
    return Prompt(id=pid.strip(), messages=messages, category=category.strip(), target=target, choices=choices,
                  expect=expect, rules=rules, metadata=metadata)


# ---------------------------------------------------------------------------------------------
# Files and directories


def _load_file(path: Path, defaults: dict[str, Any], problems: list[Problem]) -> tuple[dict[str, Any], list[tuple[Prompt, int | None]]]:
    """Return (suite header fields, [(prompt, line)])."""
    text = read_text(path)
    header: dict[str, Any] = {}
    if path.suffix in (".yaml", ".yml"):
        data, lines = _parse_yaml(path, text)
        if isinstance(data, dict):
            for key in data:
                if key not in SUITE_FIELDS:
                    problems.append(Problem(str(path), f"unknown suite field {key!r}; known: {', '.join(SUITE_FIELDS)}"))
            header = {k: v for k, v in data.items() if k != "prompts"}
            raw_prompts = data.get("prompts")
            if raw_prompts is None:
                problems.append(Problem(str(path), "has no 'prompts:' list"))
                raw_prompts = []
        elif isinstance(data, list):
            raw_prompts = data
        elif data is None:
            raw_prompts = []
        else:
            raise InputError.single(path, "must hold a mapping with 'prompts:' or a list of prompts")
        if not isinstance(raw_prompts, list):
            raise InputError.single(path, "'prompts' must be a list", field="prompts")
        records = [(lines.get(i), r) for i, r in enumerate(raw_prompts)]
    elif path.suffix == ".jsonl":
        records = records_jsonl(path, text, problems)
    elif path.suffix == ".csv":
        records = records_csv(path, text, problems)
    else:
        raise InputError.single(path, f"unsupported suite format {path.suffix!r}; use .yaml, .jsonl or .csv")
    file_defaults = {**defaults, **(header.get("defaults") or {})}
    prompts = []
    for index, (line, raw) in enumerate(records):
        where = {"file": str(path), "line": line, "record": None if line else f"#{index}"}
        prompt = validate_record(raw, where, file_defaults, problems)
        if prompt is not None:
            prompts.append((prompt, line))
    return header, prompts


def load_suite(path: str | Path) -> Suite:
    """Load and validate one suite (a file or a directory with suite.yaml). Raises InputError."""
    path = Path(path)
    problems: list[Problem] = []
    if path.is_dir():
        manifest_path = path / "suite.yaml"
        if not manifest_path.exists():
            raise InputError.single(path, "is a directory without suite.yaml; add one with 'name:' and 'version:'")
        manifest, _ = _parse_yaml(manifest_path, read_text(manifest_path))
        if not isinstance(manifest, dict):
            raise InputError.single(manifest_path, "must be a mapping with name, version and files")
        for key in manifest:
            if key not in SUITE_FIELDS:
                problems.append(Problem(str(manifest_path), f"unknown suite field {key!r}; known: {', '.join(SUITE_FIELDS)}"))
        names = manifest.get("files") or sorted(
            p.name for p in path.iterdir() if p.suffix in DATA_SUFFIXES and p.name != "suite.yaml")
        files = [path / n for n in names]
        header = manifest
    elif path.exists():
        files, header = [path], {}
    else:
        raise InputError.single(path, "not found; give a suite file (.yaml, .jsonl, .csv) or a suite directory")
    entries: list[tuple[Prompt, int | None, Path]] = []
    for f in files:
        file_header, prompts = _load_file(f, header.get("defaults") or {}, problems)
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
    header_file = str(manifest_path if path.is_dir() else path)
    mapping, map_problems = parse_map(header.get("category_map"), {"file": header_file})
    declared, declared_problems = parse_declared(header.get("categories"), {"file": header_file})
    problems += map_problems + declared_problems
    prompts = apply_map([p for p, _, _ in entries], mapping)
    problems += near_misses(prompts, declared, str(path))
    if problems:
        raise InputError(problems)
    name = str(header.get("name") or (path.name if path.is_dir() else path.stem))
    version = str(header.get("version") or "unversioned")
    prompts = [p.model_copy(update={"suite": name}) for p in prompts]
    return Suite(name=name, version=version, path=str(path), prompts=prompts,
                 description=str(header.get("description") or ""), files=[str(f) for f in files],
                 declared_categories=declared)


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
