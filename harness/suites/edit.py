"""Appending a prompt to a suite file without an editor, keeping the file's own formatting.

The new text is appended to a copy, the whole suite is validated from that copy, and only then is it
moved into place: a bad prompt or an id collision leaves the original file untouched.
"""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from harness.problems import InputError, read_text
from harness.suites.load import DATA_SUFFIXES, load_suite


def _yaml_item(record: dict[str, Any], indent: int) -> str:
    body = yaml.safe_dump([record], sort_keys=False, allow_unicode=True, width=100)
    pad = " " * indent
    return "".join(pad + line + "\n" for line in body.splitlines())


def _yaml_indent(path: Path, text: str) -> int:
    """Column of the existing prompt items; the list must end the file so appending extends it."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    seq = node
    if isinstance(node, yaml.MappingNode):
        seq = next((v for k, v in node.value if k.value == "prompts"), None)
    if not isinstance(seq, yaml.SequenceNode) or seq.flow_style:
        raise InputError.single(path, "cannot append: expected a block-style 'prompts:' list")
    if node is not seq and node.value[-1][0].value != "prompts":
        raise InputError.single(path, "cannot append: 'prompts:' must be the last key of the file")
    return seq.value[0].start_mark.column - 2 if seq.value else 2


def _append_text(path: Path, record: dict[str, Any]) -> str:
    text = read_text(path) if path.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    if path.suffix in (".yaml", ".yml"):
        return text + _yaml_item(record, _yaml_indent(path, text))
    if path.suffix == ".jsonl":
        return text + json.dumps(record, ensure_ascii=False) + "\n"
    if path.suffix == ".csv":
        header = next(csv.reader(io.StringIO(text)), None)
        if not header:
            raise InputError.single(path, "cannot append: the CSV has no header row")
        unknown = [k for k in record if k not in header and not (k == "input" and "prompt" in header)]
        if unknown:
            raise InputError.single(path, f"cannot append: the CSV has no column for {', '.join(unknown)}")
        row = io.StringIO()
        writer = csv.writer(row, lineterminator="\n")
        cells = {("prompt" if k == "input" and "prompt" in header else k): v for k, v in record.items()}
        writer.writerow([_csv_cell(cells.get(col)) for col in header])
        return text + row.getvalue()
    raise InputError.single(path, f"cannot append to a {path.suffix} file")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    if isinstance(value, dict):
        return yaml.safe_dump(value, default_flow_style=True).strip()
    return str(value)


def add_prompt(suite_path: str | Path, record: dict[str, Any], file: str | Path | None = None) -> Path:
    """Append `record` to the suite (its data file `file` for a directory suite) and return that file."""
    suite_path = Path(suite_path)
    if suite_path.is_dir():
        target = Path(file) if file else None
        if target is None:
            data = sorted(p for p in suite_path.iterdir() if p.suffix in DATA_SUFFIXES and p.name != "suite.yaml")
            if not data:
                raise InputError.single(suite_path, "has no data file to append to; pass --file")
            target = data[0]
        elif not target.is_absolute():
            target = suite_path / target
    else:
        target = suite_path
    existing = load_suite(suite_path)  # the suite must be valid before we add to it
    pid = str(record.get("id", ""))
    if any(p.id == pid for p in existing.prompts):
        raise InputError.single(target, f"prompt id {pid!r} is already used in suite {existing.name!r}; "
                                "choose another id", field="id")
    new_text = _append_text(target, record)
    fd, tmp_name = tempfile.mkstemp(prefix=".harness-", suffix=target.suffix, dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(new_text)
        try:
            load_suite(tmp)
        except InputError as err:
            # Point the problems at the user's file, not at our scratch copy.
            raise InputError([replace(p, file=str(target)) if p.file == str(tmp) else p
                              for p in err.problems]) from None
        os.replace(tmp, target)
        return target
    finally:
        if tmp.exists():
            tmp.unlink()
