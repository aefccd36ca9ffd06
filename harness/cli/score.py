"""`harness score FILE`: score recorded transcripts (prompt + reply) without calling any model.

Input: JSONL (one object a line) or CSV, chosen by the file suffix, with

    prompt   (required) the user message; in JSONL also a list of {role, content} messages
    reply    (required) the model's reply text, treated as an answered reply (an empty reply is
             scored as given: the refusal detector calls it a full refusal)
    id, provider, model, category, target, choices, rules, expect, metadata   (optional)

`target`, `choices`, `rules`, `expect` and `metadata` are read exactly as in a suite file (the same
validation, via `harness.suites.load.validate_record`); in CSV, other columns go to metadata (e.g. a
`tolerance` column for numeric checks). A row without an id gets `row-N` (N counts rows from 1).

Output: one row per input row, in input order, JSONL (default) or CSV, to stdout or `--output`:
id, provider, model, category, the refusal label with its evidence and explanation, the accuracy
scores and the teen-safety rule verdicts (when `harness.scoring.rules` is installed).

Scorers: with `--scorer` (repeatable) exactly those run on every row (a score that does not apply has
passed = null). Without it each row gets the scorers that apply to it: `expect` when the row has
expect checks, and `choice` when it has a target and choices, otherwise `match` when it has a target.

Bad input (a missing column, a malformed JSON line, a bad cell, a non-UTF-8 or empty file) is
reported with its file and line, exit code 2, and nothing is written: every row is read and checked
before any is scored, every row is scored before the output is opened, and a file output is written
to a temporary file that is renamed at the end.

`--jobs N` (default: the number of CPU cores this process may use) scores a large file (at least
2 x MIN_CHUNK rows) in N worker processes, in chunks; the output is the same, byte for byte, in input
order. The workers start (and build the rules and pattern pre-tests) while this process reads and
checks the input. `--jobs 1` scores in this process.

CSV output guards against spreadsheet formula injection: model text is untrusted, so a cell that
starts with =, +, -, @, a tab or a carriage return gets a leading single quote (Excel, LibreOffice
and Google Sheets then show it as text). JSONL needs no such guard.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import sys
import tempfile
from enum import Enum
from pathlib import Path
from collections.abc import Iterable, Iterator
from typing import Any, Optional

import typer

from harness.atomic import atomic_open, sigterm_held, sigterm_raises
from harness.cli.score_workers import (MIN_CHUNK, InProcess, _write, default_jobs,  # noqa: F401 - MIN_CHUNK
                                       score_all, score_in_workers, start_workers)              # re-exported
from harness.problems import InputError, Problem, open_binary, read_text
from harness.cli.score_conversation import exported_turns, recorded_conversation, score_conversation_row
from harness.report.escape import csv_cell
from harness.scoring import UnknownScorer, get_scorer
from harness.scoring.traits import traits_of
from harness.scoring.refusal import refusal_for_reply
from harness.suites.load import records_csv, validate_record
from harness.suites.readers import jsonl_rows
from harness.types import Outcome, Prompt, Reply, Score

REQUIRED = ("prompt", "reply")
PASSTHROUGH = ("provider", "model")  # carried to the output, not part of the prompt
SCORE_FIELDS = ("passed", "value", "label", "evidence", "explanation")
RULE_FIELDS = ("id", "passed", "label", "severity", "evidence")


class Format(str, Enum):
    jsonl = "jsonl"
    csv = "csv"


# ---------------------------------------------------------------------------------------------
# Reading


def _rename_input(problem: Problem) -> Problem:
    """Problems about the suite's `input` field are about this file's `prompt` column."""
    if problem.field and problem.field.startswith("input"):
        return dataclasses.replace(problem, field="prompt" + problem.field[len("input"):],
                                   message=problem.message.replace("an 'input'", "a 'prompt'"))
    return problem


def _records(path: Path, problems: list[Problem]) -> Iterable[tuple[int, Any]]:
    """(line, record) of every row, read lazily from a JSONL file (problems are added as the rows are
    read); a bad file as a whole (empty, not UTF-8, a CSV without the columns) raises InputError now."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        # Checked whole in one streaming pass, then read a line at a time: never the whole file in memory.
        if not _check_utf8(path):
            raise InputError.single(path, "is empty; expected rows with 'prompt' and 'reply'")
        return jsonl_rows(path, _lines(path), problems)   # = records_jsonl, lazily
    text = read_text(path)
    if not text.strip():
        raise InputError.single(path, "is empty; expected rows with 'prompt' and 'reply'")
    if suffix == ".csv":
        header = next(csv.reader(io.StringIO(text)), [])
        missing = [c for c in REQUIRED if c not in header and not (c == "prompt" and "input" in header)]
        if missing:
            raise InputError.single(path, f"has no {' or '.join(repr(c) for c in missing)} column; "
                                    f"the header has: {', '.join(header) or 'nothing'}", line=1)
        return records_csv(path, text, problems)
    raise InputError.single(path, f"unsupported format {path.suffix!r}; use .jsonl or .csv")


def _check_utf8(path: Path) -> bool:
    """Whether the file has any text besides white space; raises InputError as read_text does (not found,
    a directory, not readable, not UTF-8 with the byte and its line), reading a block at a time."""
    import codecs

    f = open_binary(path)
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    offset = 0
    text = False
    with f:
        while True:
            block = f.read(1 << 20)
            try:
                decoded = decoder.decode(block, final=not block)
            except UnicodeDecodeError as err:
                at = offset + err.start - len(err.object) + len(block)   # err.object: pending bytes + block
                f.seek(at)
                bad = f.read(1)
                f.seek(0)
                before = sum(f.read(min(1 << 20, at - done)).count(b"\n") for done in range(0, at, 1 << 20))
                raise InputError.single(path, f"is not UTF-8 (byte 0x{bad[0]:02x} at byte {at}); save the file as "
                                        "UTF-8", line=before + 1) from None
            text = text or bool(decoded.strip())
            if not block:
                return text
            offset += len(block)


def _lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        yield from f


def _split_row(raw: dict[str, Any], is_csv: bool) -> tuple[dict[str, Any], dict[str, Any], list[tuple[str, str]]]:
    """(the prompt part, {reply, provider, model}, [(field, problem)]) of one record."""
    record = dict(raw)
    extra = record.pop("metadata", {}) if is_csv else {}  # the CSV reader puts unknown columns there
    side: dict[str, Any] = {}
    for key in ("reply", *PASSTHROUGH):
        if key in record:
            side[key] = record.pop(key)
        elif isinstance(extra, dict) and key in extra:
            side[key] = extra.pop(key)
    if extra:
        record["metadata"] = extra
    if "prompt" in record:
        if "input" in record:
            return record, side, [("prompt", "give either 'prompt' or 'input', not both")]
        record["input"] = record.pop("prompt")
    problems = []
    if "reply" not in side:
        side["reply"] = "" if is_csv else None  # an empty CSV cell is an empty reply
    if not isinstance(side["reply"], str):
        problems.append(("reply", "is missing: every row needs the model's 'reply' text"
                         if side["reply"] is None else "must be a text"))
    return record, side, problems


def is_export_record(raw: Any) -> bool:
    """A line of `harness export`: the prompt as stored (an object), the reply with its outcome."""
    return isinstance(raw, dict) and "run_id" in raw and "prompt_id" in raw and isinstance(raw.get("prompt"), dict)


def _from_export(raw: dict[str, Any], where: dict[str, Any]) -> tuple[Prompt | None, dict[str, Any], list[Problem]]:
    """(prompt, side, problems) of one `harness export` line: the prompt exactly as the run stored it
    (category, rules, checks and category map included), the reply with its real outcome (a provider
    block stays a block, an error or a pending sample is not scored)."""
    from pydantic import ValidationError

    try:
        prompt = Prompt.model_validate(raw["prompt"])
    except ValidationError as err:
        return None, {}, [Problem(**where, field="prompt", message=f"is not a stored prompt: "
                                  f"{err.errors()[0]['msg']} at {'.'.join(map(str, err.errors()[0]['loc']))}")]
    reply = raw.get("reply")
    if reply is not None and not (isinstance(reply, dict) and isinstance(reply.get("outcome"), str)
                                  and reply["outcome"] in {o.value for o in Outcome}):
        return None, {}, [Problem(**where, field="reply", message="is not a stored reply (an object with an outcome)")]
    identity = raw.get("model_identity") if isinstance(raw.get("model_identity"), dict) else {}
    side = {"reply": None if reply is None else (reply.get("text") or ""),
            "outcome": None if reply is None else reply["outcome"],
            "provider": None if raw.get("provider") is None else str(raw["provider"]),
            "model": identity.get("model") or (reply or {}).get("model_reported"),
            "repeat": raw.get("repeat"), "run_id": raw.get("run_id")}
    if prompt.is_conversation and reply is not None:   # a live conversation: score its every turn
        side["assistant_turns"] = exported_turns(raw) or []
    return prompt, side, []


def _validated(path: Path, records: Iterable[tuple[int, Any]], problems: list[Problem],
               seen: list[int], start: int = 1) -> Iterator[tuple[Prompt, dict[str, Any]]]:
    """The valid (prompt, {reply, provider, model, outcome}) pairs of `records`, in order; the problems
    of the others are added to `problems`; seen[0] counts the records. `start`: the number of the first
    record in the file (a row without an id is `row-<number>`)."""
    for n, (line, raw) in enumerate(records, start=start):
        seen[0] = n
        where = {"file": str(path), "line": line}
        if not isinstance(raw, dict):
            problems.append(Problem(**where, message=f"a row must be an object of fields, got {type(raw).__name__}"))
            continue
        if is_export_record(raw):
            prompt, side, found = _from_export(raw, where)
            problems += found
            if prompt is not None:
                yield prompt, side
            continue
        if (conversation := recorded_conversation(raw, where)) is not None:   # harness/cli/score_conversation.py
            record, side, found_conv = conversation
            problems += found_conv
            own = [(p.field or "messages", p.message) for p in found_conv]   # reported above: not yielded
        else:
            record, side, own = _split_row(raw, path.suffix.lower() == ".csv")
            problems += [Problem(**where, field=field, message=message) for field, message in own]
        record.setdefault("id", f"row-{n}")
        found: list[Problem] = []
        prompt = validate_record(record, where, {}, found)
        problems += [_rename_input(p) for p in found]
        if prompt is not None and not own:
            problems += _check_regexes(prompt, where)
            side.update({k: None if side.get(k) is None else str(side[k]) for k in PASSTHROUGH})
            yield prompt, side


def _problems(path: Path, read: list[Problem], rows: list[Problem], seen: list[int]) -> list[Problem]:
    """Every problem of a file: those of reading its lines first, then those of its rows (or that it has
    none)."""
    problems = read + rows
    if not seen[0] and not problems:
        problems.append(Problem(str(path), "has no rows; expected rows with 'prompt' and 'reply'"))
    return problems


def read_transcripts(path: Path) -> list[tuple[Prompt, dict[str, Any]]]:
    """Validated (prompt, {reply, provider, model, outcome}) pairs in file order; JSONL lines may be
    transcripts or `harness export` records. Raises InputError."""
    read: list[Problem] = []
    rows_problems: list[Problem] = []
    seen = [0]
    records = list(_records(path, read))  # every line read (and its problems found) before any row is checked
    rows = list(_validated(path, records, rows_problems, seen))
    if problems := _problems(path, read, rows_problems, seen):
        raise InputError(problems)
    return rows


def _check_regexes(prompt: Prompt, where: dict[str, Any]) -> list[Problem]:
    """A regex that does not compile is the author's mistake: report it now, not as a failed check."""
    import re

    problems = []
    for item in prompt.expect:
        for kind in ("regex", "not-regex"):
            if kind in item:
                try:
                    re.compile(str(item[kind]))
                except re.error as err:
                    problems.append(Problem(**where, field="expect", message=f"invalid {kind} {item[kind]!r}: {err}"))
    return problems


# ---------------------------------------------------------------------------------------------
# Scoring


def default_scorers(prompt: Prompt) -> list[str]:
    names = ["expect"] if prompt.expect else []
    if prompt.target is not None:
        names.append("choice" if prompt.choices else "match")
    return names


def _rule_verdicts(prompt: Prompt, reply: Reply, scores: list[Score] | None = None) -> list[dict[str, Any]]:
    """The final teen-safety verdict of every rule that applies (rule:<ID>, see scoring/verdicts.py).
    `scores`: the teen_safety scorer's result when it already ran on this reply (it is pure)."""
    if scores is None:
        from harness.scoring import teen_safety

        scores = teen_safety(prompt, reply)
    return [{"id": s.scorer, "passed": s.passed, "label": s.label, "severity": s.severity, "evidence": s.evidence}
            for s in scores if s.scorer.startswith("rule:")]


def score_row(prompt: Prompt, side: dict[str, Any], scorers: list[str] | None) -> dict[str, Any]:
    outcome = side.get("outcome", Outcome.ANSWERED.value)
    names = scorers if scorers is not None else default_scorers(prompt)
    if side.get("assistant_turns") is not None:   # a recorded conversation: every assistant turn is scored
        return score_conversation_row(prompt, side, names)
    scores: dict[str, Score] = {}
    verdict = None
    safety = None  # the whole result of a scorer with per-rule verdicts (teen_safety), when one is among the scorers
    if outcome not in (None, Outcome.ERROR.value):   # a pending sample or an error is never scored
        reply = Reply(text=side["reply"], outcome=Outcome(outcome))
        verdict = refusal_for_reply(reply)
        for name in names:
            scorer = get_scorer(name)
            result = scorer(prompt, reply)
            if traits_of(scorer).rule_verdicts and isinstance(result, list) and safety is None:
                safety = result   # its rule verdicts are the row's: teen_safety is not run a second time
            scores[name] = result[0] if isinstance(result, list) else result  # a list starts with its summary
    rules = [] if outcome in (None, Outcome.ERROR.value) else _rule_verdicts(prompt, reply, safety)
    return {
        "id": prompt.id, "provider": side.get("provider"), "model": side.get("model"), "category": prompt.category,
        "outcome": outcome, "repeat": side.get("repeat"),
        "refusal": verdict.label.value if verdict else None,
        "refusal_evidence": verdict.evidence if verdict else None,
        "refusal_explanation": verdict.explanation if verdict else None,
        "scores": {name: {k: getattr(s, k) for k in SCORE_FIELDS} for name, s in scores.items()},
        "rules": rules,
    }


# ---------------------------------------------------------------------------------------------
# Writing


def csv_text(rows: list[dict[str, Any]]) -> str:
    names = list(dict.fromkeys(n for r in rows for n in r["scores"]))
    has_rules = any(r["rules"] is not None for r in rows)
    header = ["id", "provider", "model", "category", "outcome", "repeat", "refusal", "refusal_evidence",
              "refusal_explanation"]
    fixed = len(header)
    header += [f"{n}.{f}" for n in names for f in SCORE_FIELDS]
    header += ["rules_failed", "rules"] if has_rules else []
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for r in rows:
        cells = [r[k] for k in header[:fixed]]
        cells += [r["scores"].get(n, {}).get(f) for n in names for f in SCORE_FIELDS]
        if has_rules:
            rules = r["rules"] or []
            cells += [" ".join(str(v["id"]) for v in rules if v["passed"] is False),
                      json.dumps(rules, ensure_ascii=False)]
        writer.writerow([csv_cell(c) for c in cells])
    return buf.getvalue()


def jsonl_text(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _load_map(map_file: Path | None) -> dict[str, list[str]]:
    """The --category-map file's mapping ({} without one); raises InputError."""
    from harness.suites.categories import parse_map
    from harness.yamlfile import read_yaml

    mapping: dict[str, list[str]] = {}
    if map_file is not None:
        raw = read_yaml(map_file).data  # the same guards as every YAML input: aliases, duplicate keys, size
        raw = raw.get("category_map", raw) if isinstance(raw, dict) else raw
        mapping, problems = parse_map(raw, {"file": str(map_file)})
        if problems:
            raise InputError(problems)
    return mapping


def _check_categories(prompts: list[Prompt], file: Path) -> None:
    """Refuse near misses of our categories (self_harm); say which categories get the content rules only,
    so that a missing crisis-referral or over-refusal check is never silent."""
    from harness.suites.categories import builtin_categories, near_misses

    if problems := near_misses(prompts, [], str(file)):
        raise InputError(problems)
    known = builtin_categories()
    own = sorted({p.category for p in prompts if p.rule_categories is None and p.category.lower() not in known
                  and p.category != "uncategorised"})
    if own:
        typer.echo("note: categories checked by the content rules only (map them with --category-map to get the "
                   "crisis-referral, grooming and over-refusal rules): " + ", ".join(own), err=True)


def _mapped(transcripts: list[tuple[Prompt, dict[str, Any]]], file: Path,
            map_file: Path | None) -> list[tuple[Prompt, dict[str, Any]]]:
    """Apply --category-map, then _check_categories."""
    from harness.suites.categories import apply_map

    mapping = _load_map(map_file)
    prompts = apply_map([p for p, _ in transcripts], mapping)
    _check_categories(prompts, file)
    return [(p, side) for p, (_, side) in zip(prompts, transcripts)]


def score(
    file: Path = typer.Argument(..., help="Transcripts: .jsonl or .csv with 'prompt' and 'reply' columns."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
    fmt: Optional[Format] = typer.Option(None, "--format", "-f",
                                         help="jsonl or csv; default: from the --output suffix, else jsonl."),
    scorer: Optional[list[str]] = typer.Option(
        None, "--scorer", "-s",
        help="Scorer to run on every row (repeatable). Default: expect and match/choice where they apply."),
    category_map: Optional[Path] = typer.Option(
        None, "--category-map",
        help="A YAML file mapping your categories onto the teen-safety ones, e.g. {'Suicide & Self-Harm': [self-harm]}."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No per-provider summary on stderr."),
    jobs: Optional[int] = typer.Option(
        None, "--jobs", "-j", min=1,
        help="Worker processes for a large file (at least 1000 rows). Default: the number of CPU cores; 1: none."),
) -> None:
    """Score recorded replies (transcripts, or `harness export` output) without calling any model: refusal
    label, accuracy scores, rule verdicts; a per-provider summary on stderr."""
    for name in scorer or []:
        try:
            get_scorer(name)  # built in, from an installed package, or module:function
        except UnknownScorer as err:
            raise typer.BadParameter(str(err), param_hint="--scorer") from None
    if output is not None and output.resolve() == file.resolve():
        raise InputError.single(output, "is the input file; choose another --output")
    if fmt is None:
        fmt = Format.csv if output is not None and output.suffix.lower() == ".csv" else Format.jsonl
    keep = "full" if fmt is Format.csv else None if quiet else "summary"
    jobs = jobs or default_jobs()
    with sigterm_raises():   # SIGTERM: exit 143 with the workers stopped and no temporary file left
        _score(file, output, fmt, scorer, category_map, quiet, keep, jobs)


def _score(file: Path, output: Path | None, fmt: Format, scorer: list[str] | None, category_map: Path | None,
           quiet: bool, keep: str | None, jobs: int) -> None:
    from harness.cli.score_summary import Summary

    pool = spool = None
    summary = Summary() if keep == "summary" else None   # rows added as they are scored, not kept
    try:
        with sigterm_held():   # a SIGTERM during the forks is delivered once `pool` is set, then stops it
            pool = start_workers(file, jobs)
        done = None
        try:
            mapping = _load_map(category_map)
        except Exception:  # noqa: BLE001 - reported below, in its turn: after any problem of the transcripts
            mapping = None
        if mapping is not None and (pool is not None or file.suffix.lower() in (".jsonl", ".ndjson")):
            # Chunk by chunk, in the workers or (--jobs 1, InProcess) here; JSONL is spooled to a temporary
            # file as the chunks come back: memory does not grow with the file. None: too few rows.
            spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="") if fmt is Format.jsonl else None
            done = score_in_workers(file, mapping, scorer or None, fmt is Format.jsonl, keep,
                                    pool if pool is not None else InProcess(), max(jobs, 1) if pool else 1, spool,
                                    summary)
        if done is None:
            transcripts = _mapped(read_transcripts(file), file, category_map)
            done = score_all(transcripts, scorer or None, fmt is Format.jsonl, keep, pool, jobs)
        texts, rows, count = done
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    # The JSONL pieces are written one after another, never joined: at 1,000,000 rows a joined copy
    # would double the memory for nothing.
    pieces = [csv_text(rows)] if fmt is Format.csv else texts
    try:
        if output is None:
            _write(sys.stdout, pieces, spool)
        else:
            if not output.parent.is_dir():
                raise InputError.single(output, f"cannot write: the directory {output.parent} does not exist")
            with atomic_open(output, newline="") as f:   # whole or not at all (harness.atomic)
                _write(f, pieces, spool)
            typer.echo(f"scored {count} rows -> {output}", err=True)
    finally:
        if spool is not None:
            spool.close()
    if not quiet:
        from harness.cli.score_summary import print_summary

        print_summary(summary if summary is not None and not rows else rows)
