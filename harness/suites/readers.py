"""Raw records from each suite format: YAML, JSONL, CSV, Excel (.xlsx) and Parquet files, and datasets.

Every reader yields (line, record) pairs, where the line is the file's line (the sheet's row for Excel,
None for Parquet and datasets, which have no lines) and the record a dict of prompt fields. Tables
(CSV, Excel, Parquet, datasets, and JSONL or YAML given a `columns:` mapping) go through
`table_records`: mapped columns become prompt fields, the other columns are kept as metadata, and a
missing prompt column is one problem that lists the columns the file has.
"""
from __future__ import annotations

import csv
import datetime
import difflib
import io
import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import yaml

from harness.problems import InputError, Problem
from harness.yamlfile import MAX_FIELD_CHARS

PROMPT_FIELDS = ("id", "input", "messages", "category", "target", "choices", "expect", "rules", "metadata")
TEXT_FIELDS = ("id", "input", "category", "target")
# Column names that usually hold the prompt text, best first: the guess shown in a missing-column problem.
_PROMPT_NAMES = ("prompt", "prompts", "query", "question", "instruction", "text", "request", "input_text",
                 "user_prompt", "goal", "behavior", "content")

Rows = Iterable[tuple[int | None, dict[str, Any]]]


# ---------------------------------------------------------------------------------------------
# Formats


def jsonl_rows(path: Path, lines: Iterable[bytes], problems: list[Problem]) -> Iterator[tuple[int, Any]]:
    """(line, record) of each non-blank line of a JSONL file read as bytes, one line at a time."""
    for lineno, raw in enumerate(lines, start=1):
        if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        if len(raw) > 4 * MAX_FIELD_CHARS:
            problems.append(Problem(str(path), f"a line of {len(raw):,} bytes is too long for one prompt",
                                    line=lineno))
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            problems.append(Problem(str(path), f"is not UTF-8 (byte 0x{raw[err.start]:02x} at column {err.start + 1}); "
                                    "save the file as UTF-8", line=lineno))
            continue
        try:
            yield lineno, json.loads(text)
        except json.JSONDecodeError as err:
            problems.append(Problem(str(path), f"is not valid JSON: {err.msg} (column {err.colno})", line=lineno))
        except RecursionError:
            problems.append(Problem(str(path), "is nested too deeply", line=lineno))


def records_jsonl(path: Path, text: str, problems: list[Problem]) -> list[tuple[int, Any]]:
    """Rows of a transcript JSONL for `harness score`."""
    return list(jsonl_rows(path, (line.encode() for line in text.splitlines()), problems))


def records_csv(path: Path, text: str, problems: list[Problem]) -> list[tuple[int, Any]]:
    """Rows of a transcript CSV for `harness score` (prompt columns as fields, the rest in metadata)."""
    if len(text) > MAX_FIELD_CHARS and csv.field_size_limit() < MAX_FIELD_CHARS + 1:
        csv.field_size_limit(MAX_FIELD_CHARS + 1)  # a long reply is not an error; the record check caps it
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        return []
    if "input" not in reader.fieldnames and "prompt" in reader.fieldnames:
        # Conversation logs and spreadsheets usually call it "prompt".
        reader.fieldnames = ["input" if f == "prompt" else f for f in reader.fieldnames]
    records = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            if "field limit" in str(err):   # the row being read starts on the line after those read so far
                problems.append(Problem(str(path), f"has a cell longer than {MAX_FIELD_CHARS:,} characters, the "
                                        "limit for one field; shorten it (or check for an unclosed quote)",
                                        line=reader.line_num + 1))
            else:
                problems.append(Problem(str(path), f"cannot be read as CSV: {err}", line=reader.line_num))
            break
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


def csv_table(path: Path, text: IO[str], problems: list[Problem]) -> tuple[list[str], Rows]:
    """(header, rows) of a CSV file (an open text stream); rows are read lazily, each problem with its line."""
    reader = csv.reader(text)
    old_limit = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD_CHARS + 1)
    try:
        header = next(reader, None)
    except csv.Error as err:
        csv.field_size_limit(old_limit)
        problems.append(Problem(str(path), f"cannot be read as CSV: {err}", line=reader.line_num))
        return [], []
    if not header:
        csv.field_size_limit(old_limit)
        return [], []
    header = [h.strip() for h in header]

    def rows() -> Iterator[tuple[int | None, dict[str, Any]]]:
        try:
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as err:
                    message = str(err)
                    if "field larger" in message:
                        message = f"a cell is longer than the {MAX_FIELD_CHARS:,} characters allowed in one field"
                    problems.append(Problem(str(path), f"cannot be read as CSV: {message}", line=reader.line_num))
                    return
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) > len(header):
                    problems.append(Problem(str(path), "has more cells than the header has columns",
                                            line=reader.line_num))
                    continue
                yield reader.line_num, dict(zip(header, cells))
        finally:
            csv.field_size_limit(old_limit)

    return header, rows()


def xlsx_table(path: Path, sheet: str | None, problems: list[Problem]) -> tuple[list[str], Rows]:
    """(header, rows) of one sheet of an Excel workbook; the line of a row is its row number."""
    try:
        import openpyxl
    except ImportError:
        raise InputError.single(path, "reading .xlsx needs openpyxl: pip install "
                                "'chatbot-eval-harness[xlsx]'") from None
    from harness.suites.bombs import check_zip

    try:
        check_zip(path)   # sizes from the zip directory first: a bomb is refused before it is inflated
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except InputError:
        raise
    except Exception as err:  # a damaged or renamed file: the user needs the reason, not a traceback
        raise InputError.single(path, f"cannot be read as an Excel workbook: {type(err).__name__}: {err}") from None
    if sheet is not None and sheet not in book.sheetnames:
        close = difflib.get_close_matches(sheet, book.sheetnames, n=1)
        raise InputError.single(path, f"has no sheet {sheet!r}" + (f"; did you mean {close[0]!r}?" if close else "")
                                + f" (its sheets: {', '.join(book.sheetnames)})", field="sheet")
    ws = book[sheet] if sheet is not None else book.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header: list[str] = []
    number = 0
    for number, values in enumerate(it, start=1):
        if any(v is not None and str(v).strip() for v in values):
            header = [str(v).strip() if v is not None and str(v).strip() else f"column {i + 1}"
                      for i, v in enumerate(values)]
            break

    def rows() -> Iterator[tuple[int | None, dict[str, Any]]]:
        try:
            for line, values in enumerate(it, start=number + 1):
                if not any(v is not None and (not isinstance(v, str) or v.strip()) for v in values):
                    continue
                if len(values) > len(header) and any(v is not None for v in values[len(header):]):
                    problems.append(Problem(str(path), "has a cell right of the last named column; give that "
                                            "column a header", line=line))
                    continue
                yield line, dict(zip(header, values))
        finally:
            book.close()

    return header, rows()


def parquet_table(path: Path, problems: list[Problem]) -> tuple[list[str], Rows]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError.single(path, "reading .parquet needs pyarrow: pip install "
                                "'chatbot-eval-harness[parquet]'") from None
    from harness.suites.bombs import check_parquet

    try:
        table = pq.ParquetFile(path)
    except Exception as err:
        raise InputError.single(path, f"cannot be read as a Parquet file: {type(err).__name__}: {err}") from None
    check_parquet(path, table)   # sizes from the footer: a bomb is refused before a page is decompressed

    def rows() -> Iterator[tuple[int | None, dict[str, Any]]]:
        for batch in table.iter_batches(batch_size=4096):
            for row in batch.to_pylist():
                yield None, row

    return list(table.schema_arrow.names), rows()


# ---------------------------------------------------------------------------------------------
# Tables to records


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip()) or (isinstance(cell, float) and math.isnan(cell))


def _text(cell: Any) -> Any:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, (datetime.date, datetime.time)):
        return cell.isoformat()
    return cell


def _meta(cell: Any) -> Any:
    """A cell as a JSON value (dates as ISO text; anything else unknown as its text)."""
    if isinstance(cell, (str, int, float, bool)) or cell is None:
        return cell
    if isinstance(cell, (datetime.date, datetime.time)):
        return cell.isoformat()
    if isinstance(cell, dict):
        return {str(k): _meta(v) for k, v in cell.items()}
    if isinstance(cell, (list, tuple)):
        return [_meta(v) for v in cell]
    return str(cell)


def guess_prompt_column(header: list[str]) -> str:
    lowered = {h.lower().strip(): h for h in header}
    for name in _PROMPT_NAMES:
        if name in lowered:
            return lowered[name]
    for h in header:
        if any(n in h.lower() for n in ("prompt", "query", "question")):
            return h
    return header[0] if header else "COLUMN"


def header_hints(file: str, header: list[str]) -> str:
    """Why a table may have no prompt column, said after the problem: a CSV separated by semicolons or
    tabs (read as one column), or a workbook whose first sheet is not the prompts (an "About" page)."""
    hints = []
    for sep, name in ((";", "semicolons"), ("\t", "tabs")):
        if any(sep in h for h in header):
            hints.append(f" The header looks separated by {name} ({header[0][:60]!r}), but a .csv suite must be "
                         "comma-separated: save it as CSV with commas (in a spreadsheet: CSV UTF-8, comma).")
            break
    if file.lower().endswith(".xlsx"):
        try:
            import openpyxl

            book = openpyxl.load_workbook(file, read_only=True)
            names = list(book.sheetnames)
            book.close()
        except Exception:  # noqa: BLE001 - only a hint: the reader reported the real problem
            names = []
        if len(names) > 1:
            hints.append(f" The workbook has sheets {', '.join(repr(n) for n in names)}: name the one with the prompts "
                         f"with sheet: (e.g. sheet: {names[1]!r}) on the suite entry or in suite.yaml.")
    return "".join(hints)


def check_columns(columns: dict[str, Any], header: list[str], where: dict[str, Any], label: str) -> list[Problem]:
    """Problems with a `columns:` mapping against a table's header (once, never per row)."""
    problems = []
    for field, column in columns.items():
        if field not in PROMPT_FIELDS:
            close = difflib.get_close_matches(str(field), PROMPT_FIELDS, n=1)
            problems.append(Problem(**where, field=f"columns.{field}", message="is not a prompt field" + (
                f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(PROMPT_FIELDS)}")))
        elif not isinstance(column, str) or column not in header:
            close = difflib.get_close_matches(str(column), header, n=1)
            problems.append(Problem(**where, field=f"columns.{field}", message=f"{label} has no column {column!r}; "
                                    f"it has: {', '.join(header)}" + (f" (did you mean {close[0]!r}?)" if close else "")
                                    + header_hints(label, header)))
    return problems


def table_records(file: str, header: list[str], rows: Rows, columns: dict[str, str],
                  problems: list[Problem], *, columns_where: dict[str, Any] | None = None,
                  label: str = "the file") -> Iterator[tuple[int | None, dict[str, Any], int]]:
    """(line, record, row index) per row: mapped and same-named columns become prompt fields, every
    other column is kept in metadata. Without an id column, a prompt's id is its row index."""
    where = columns_where or {"file": file}
    if "prompt" in columns and "input" not in columns:   # the README's spelling: prompt is the input
        columns = {("input" if k == "prompt" else k): v for k, v in columns.items()}
    bad = check_columns(columns, header, where, label)
    if bad:
        problems += bad
        return
    field_of: dict[str, str] = {column: field for field, column in columns.items()}
    mapped = set(columns)
    for column in header:
        if column in field_of:
            continue
        name = column.strip()
        target = name.removeprefix("metadata.") if name.startswith("metadata.") else name
        if name in PROMPT_FIELDS and name not in mapped and name != "metadata":
            field_of[column] = name
            mapped.add(name)
        elif name == "prompt" and "input" not in mapped and "input" not in header and "messages" not in mapped:
            field_of[column] = "input"  # conversation logs and spreadsheets usually call it "prompt"
            mapped.add("input")
        else:
            field_of[column] = "metadata." + target
    if "input" not in mapped and "messages" not in mapped:
        guess = guess_prompt_column(header)
        problems.append(Problem(**where, message=f"{label} has no 'input' column (its columns: "
                                f"{', '.join(header) or 'none'}); say which column holds the prompt text, e.g. "
                                f"columns: {{input: {guess}}}" + header_hints(file, header)))
        return
    has_id = "id" in mapped
    for index, (line, row) in enumerate(rows):
        record: dict[str, Any] = {}
        metadata: dict[str, Any] = {}
        for column, cell in row.items():
            field = field_of.get(column)
            if field is None or _blank(cell):
                continue
            if field.startswith("metadata."):
                metadata[field.removeprefix("metadata.")] = _meta(cell)
            elif field in TEXT_FIELDS:
                record[field] = _text(cell) if not isinstance(cell, (list, dict)) else cell
            elif field == "choices" and isinstance(cell, str):
                record[field] = [c.strip() for c in cell.split("|")]
            elif field == "rules" and isinstance(cell, str):
                record[field] = [r.strip() for r in cell.replace(",", " ").split()]
            elif field == "expect" and isinstance(cell, str):
                try:
                    record[field] = yaml.safe_load(cell)
                except yaml.YAMLError:
                    problems.append(Problem(file, f"cannot read {cell[:80]!r}; write e.g. 'contains: Paris'",
                                            line=line, record=None if line else f"#{index}", field="expect"))
            elif field == "metadata" and isinstance(cell, dict):
                metadata.update(cell)
            else:
                record[field] = cell
        if metadata:
            record["metadata"] = metadata
        if not has_id:
            record["id"] = f"{index}"
        yield line, record, index


def record_table(records: list[tuple[int | None, Any]]) -> tuple[list[str], Rows]:
    """JSONL or YAML records seen as a table (for a `columns:` mapping): the header is every key used."""
    header: dict[str, None] = {}
    for _, r in records:
        if isinstance(r, dict):
            header.update(dict.fromkeys(str(k) for k in r))
    return list(header), [(line, {str(k): v for k, v in r.items()}) for line, r in records if isinstance(r, dict)]
