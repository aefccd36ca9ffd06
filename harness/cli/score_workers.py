"""`harness score --jobs`: scoring a large transcript file in worker processes (split from
harness/cli/score.py, which reads, checks and writes; this module spreads the work).

Chunks of records go to a pool of forked workers, each of which checks its rows as read_transcripts
would and scores them; the parent gathers problems in file order, so the outcome (problems, their
order, nothing written on bad input) is the same as in-process. Records are read a chunk at a time
and JSONL output can be spooled as it comes back, so memory does not grow with the file: chunks are
at most MAX_CHUNK rows, at most WINDOW chunks per worker are in flight (a pool's imap would read the
whole file ahead into its task queue), the category check keeps counts and the summary adds each row
as it arrives (issue 22 item 6: 1,000,000 rows in flat memory, bench/scale.py). With `--jobs 1` the
same chunks are checked and scored in this process (InProcess), so that path streams too.
"""
from __future__ import annotations

import itertools
import os
from collections import Counter, deque
import pickle
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

from harness.problems import InputError, Problem
from harness.types import Prompt


MIN_CHUNK = 500  # rows per chunk at least; a file with fewer than two chunks' worth is scored in-process
MAX_CHUNK = 2000  # rows per chunk at most: a chunk's records and rows are in memory at once
WINDOW = 2        # chunks in flight per worker: enough to keep each busy, few enough to bound memory


class InProcess:
    """A stand-in for a pool that runs each task here, when it is asked for (`--jobs 1`)."""

    class _Done:
        def __init__(self, fn: Any, arg: Any) -> None:
            self.fn, self.arg = fn, arg

        def get(self) -> Any:
            return self.fn(self.arg)

    def apply_async(self, fn: Any, args: tuple) -> Any:
        return self._Done(fn, *args)


def ordered(pool: Any, fn: Any, tasks: Iterator[Any], window: int) -> Iterator[Any]:
    """fn(task) for each task, in order, with at most `window` tasks sent ahead of the one awaited."""
    pending: deque = deque()
    for task in tasks:
        pending.append(pool.apply_async(fn, (task,)))
        if len(pending) >= window:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


class _Categories:
    """The rows' (category, rule_categories) as counts, iterable as one entry per row (what
    _check_categories reads), in memory that grows with the distinct categories, not with the rows."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()

    def update(self, categories: list[Any]) -> None:
        self.counts.update(categories)

    def __iter__(self) -> Iterator[Any]:
        for category, n in self.counts.items():
            yield from itertools.repeat(category, n)


def default_jobs() -> int:
    """The CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _for_summary(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the summary on stderr reads it (score_summary.summary_rows: who, the outcome, the refusal
    label, each score's passed and label, each rule verdict's id, label, severity and passed), so that
    it travels back from a worker quickly. The tests compare the summary with and without workers."""
    return {"id": row["id"], "provider": row["provider"], "outcome": row["outcome"], "refusal": row["refusal"],
            "scores": {n: {"passed": s["passed"], "label": s["label"]} for n, s in row["scores"].items()},
            "rules": [{"id": v["id"], "passed": v["passed"], "label": v["label"], "severity": v["severity"]}
                      for v in row["rules"]]}


def _prepare_worker() -> None:
    """In a worker, as it starts: build what every row needs (the teen-safety rules and the pattern
    pre-tests) while the parent is still reading and checking the input."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)   # the parent's exit-143 handler is not the worker's
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})   # forked while the parent held it
    try:
        from harness.scoring.refusal import classify_refusal
        from harness.scoring.rules import default_ruleset
        from harness.scoring.verdicts import _plan

        _plan(default_ruleset()).prefilter
        classify_refusal("I can't help with that.")
    except Exception:  # noqa: BLE001 - e.g. a broken rules file: the parent reports it, as it would alone
        pass


def _score_chunk(args: tuple[list[tuple[Prompt, dict[str, Any]]], list[str] | None, bool, str | None]
                 ) -> tuple[str | None, list[dict[str, Any]]]:
    """In a worker: score the rows sent; send back their JSONL text (when asked) and the rows the
    parent needs: all of them ("full"), as the summary reads them ("summary"), or none."""
    from harness.cli.score import jsonl_text, score_row

    transcripts, scorers, jsonl, keep = args
    rows = [score_row(prompt, side, scorers) for prompt, side in transcripts]
    back = rows if keep == "full" else [_for_summary(r) for r in rows] if keep == "summary" else []
    return (jsonl_text(rows) if jsonl else None), back


def start_workers(file: Path, jobs: int) -> Any:
    """A pool of `jobs` worker processes when the file is large enough to be worth it (at least
    2 x MIN_CHUNK lines), else None. Started before the input is read, so that the workers get ready
    meanwhile."""
    if jobs <= 1:
        return None
    try:
        with open(file, "rb") as f:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except OSError:
        return None  # reading it will say what is wrong
    if lines < 2 * MIN_CHUNK:
        return None
    import multiprocessing

    fork = sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if fork else None).Pool(jobs, initializer=_prepare_worker)


class _Category(NamedTuple):
    """What _check_categories reads of a prompt checked in a worker."""
    category: str
    rule_categories: tuple[str, ...] | None


def _check_and_score(args: tuple[Path, int, list[tuple[int, Any]], dict[str, list[str]], list[str] | None, bool,
                                 str | None]) -> tuple[list[Problem], list[_Category], int, str | None,
                                                       list[dict[str, Any]], BaseException | None]:
    """In a worker: check one chunk of records as read_transcripts does (numbered from `start`), apply
    the category map, and, when every row is valid, score them (_score_chunk). Returns (problems, the
    rows' categories, how many were scored, their JSONL text, the rows sent back, a scorer's error)."""
    from harness.cli.score import _validated
    from harness.suites.categories import apply_map

    path, start, records, mapping, scorers, jsonl, keep = args
    problems: list[Problem] = []
    transcripts = []
    for prompt, side in _validated(path, records, problems, [0], start):
        if mapping:
            prompt = apply_map([prompt], mapping)[0]
        transcripts.append((prompt, side))
    categories = [_Category(p.category, None if p.rule_categories is None else tuple(p.rule_categories))
                  for p, _ in transcripts]
    if problems:  # the input is bad: nothing will be written, so nothing is scored
        return problems, categories, 0, None, [], None
    try:
        text, back = _score_chunk((transcripts, scorers, jsonl, keep))
    except Exception as err:  # noqa: BLE001 - raised by the parent, after any problem of the input
        try:
            pickle.dumps(err)
        except Exception:  # noqa: BLE001
            err = RuntimeError(f"{type(err).__name__}: {err}")
        return problems, categories, 0, None, [], err
    return problems, categories, len(transcripts), text, back, None


def score_in_workers(file: Path, mapping: dict[str, list[str]], scorers: list[str] | None, jsonl: bool,
                     keep: str | None, pool: Any, jobs: int, sink: IO[str] | None = None, summary: Any = None
                     ) -> tuple[list[str], list[dict[str, Any]], int] | None:
    """score_all(_mapped(read_transcripts(file), ...), ...), the rows checked by the workers of `pool`
    too, chunk by chunk; None when the file has too few records (then all is done in-process). The
    outcome is the same: the same problems of the input, in the same order (those of reading its lines,
    then those of its rows, then those of its categories), before any scorer's error; nothing written.
    Records are read and sent a chunk at a time (the pool takes a chunk only as a worker is free), and
    with `sink` each chunk's JSONL goes there as it comes back: memory does not grow with the file.
    With `summary` (a score_summary.Summary) the rows sent back are added to it, not kept."""
    from harness.cli.score import _check_categories, _records

    read: list[Problem] = []
    records = iter(_records(file, read))   # lazy for JSONL: line problems are found as chunks are cut
    first = list(itertools.islice(records, 2 * MIN_CHUNK))
    if len(first) < 2 * MIN_CHUNK:
        return None
    n = _count_lines(file)   # for the chunk size only
    size = max(MIN_CHUNK, min(MAX_CHUNK, -(-n // (jobs * 4))))

    def tasks() -> Iterator[tuple]:
        rest = itertools.chain(first, records)
        start = 0
        while chunk := list(itertools.islice(rest, size)):
            yield (file, start + 1, chunk, mapping, scorers, jsonl, keep)
            start += len(chunk)

    row_problems: list[Problem] = []
    categories = _Categories()   # counted: the category check counts prompts per category
    texts: list[str] = []
    rows: list[dict[str, Any]] = []
    count = 0
    error = None
    for part_problems, part_categories, part_count, part_text, part_rows, part_error in ordered(
            pool, _check_and_score, tasks(), WINDOW * jobs):
        row_problems += part_problems
        categories.update(part_categories)
        count += part_count
        if part_text is not None:
            if sink is not None:
                sink.write(part_text)
            else:
                texts.append(part_text)
        if summary is not None:
            for row in part_rows:
                summary.add(row)
        else:
            rows += part_rows
        error = error or part_error
    problems = read + row_problems   # the lines' problems first, as when every line was read up front
    if problems:
        raise InputError(problems)
    _check_categories(categories, file)  # type: ignore[arg-type]  # it reads category and rule_categories
    if error is not None:
        raise error
    return texts, rows, count


def _write(target: IO[str], pieces: list[str], spool: IO[str] | None) -> None:
    """The output: the spooled JSONL (copied a block at a time), else the pieces."""
    if spool is not None and spool.tell():
        spool.seek(0)
        shutil.copyfileobj(spool, target, 1 << 20)
    else:
        target.writelines(pieces)


def _count_lines(file: Path) -> int:
    with open(file, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) + 1


def score_all(transcripts: list[tuple[Prompt, dict[str, Any]]], scorers: list[str] | None, jsonl: bool,
              keep: str | None, pool: Any = None, jobs: int = 1) -> tuple[list[str], list[dict[str, Any]], int]:
    """([JSONL text of the rows, in pieces] when jsonl, the rows as `keep` asks: see _score_chunk, the
    number of rows), in input order, scored in this process or, for a large input, by the `jobs`
    workers of `pool`."""
    from harness.cli.score import jsonl_text, score_row

    n = len(transcripts)
    if pool is None or n < 2 * MIN_CHUNK:
        rows = [score_row(prompt, side, scorers) for prompt, side in transcripts]
        return ([jsonl_text(rows)] if jsonl else []), (rows if keep else []), n
    size = max(MIN_CHUNK, -(-n // (jobs * 4)))
    chunks = [(transcripts[start:start + size], scorers, jsonl, keep) for start in range(0, n, size)]
    texts: list[str] = []
    rows = []
    for part_text, part_rows in pool.imap(_score_chunk, chunks):
        if part_text is not None:
            texts.append(part_text)
        rows += part_rows
    return texts, rows, n
