"""A run as the reports read it: one run of a store, through one of its scorings.

A run can be scored again (`harness rescore`): the scores written while it executed stay in `scores`
(the original scoring) and each rescoring is kept apart (tables `scorings`, `scoring_scores`). The
reports (summary, paired, thresholds, HTML) read a run only through `RunView`: `run()` is the run's row
with the scoring's scorers (the primary one first, if given) and, for a rescoring that added a judge,
that judge in its spec; `scores()` are the scoring's rows. Asked about another run, a view answers for
that run from the store (its original scoring), never with this run's rows.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from harness.store.db import Store, scoring_scores, scorings

ORIGINAL = "original"


class RunSource(Protocol):
    """What the reports read a run through: a Store (its original scoring) or a RunView."""

    @property
    def path(self) -> Path: ...

    def run(self, run_id: str | None = None) -> Any: ...

    def scores(self, run_id: str) -> list: ...

    def results(self, run_id: str) -> Iterator[sqlite3.Row]: ...

    def run_providers(self, run_id: str) -> list[sqlite3.Row]: ...

    def run_suites(self, run_id: str) -> list[sqlite3.Row]: ...


class ScoringNotFound(LookupError):
    """A scoring number the run does not have."""


def scoring_judge(scoring: Any) -> dict | None:
    """{"judge": {...}, "judge_format": ...} of a rescoring that added a judge (`rescore --judge`; its
    note is JSON), else None."""
    if scoring is None or not scoring["note"] or not scoring["note"].startswith("{"):
        return None
    try:
        note = json.loads(scoring["note"])
    except json.JSONDecodeError:
        return None
    return note if isinstance(note, dict) and note.get("judge") else None


class RunView:
    """One run of a store through one scoring (None: the original one)."""

    def __init__(self, store: Store, run_id: str, scoring: sqlite3.Row | None = None,
                 primary: str | None = None, newer: set[int] | None = None, stale_note: str | None = None) -> None:
        self.store, self.run_id, self.scoring, self.primary = store, run_id, scoring, primary
        # Samples whose reply was stored after the scoring was made (a resumed or still running run):
        # the scoring never saw them, so their original scores are used instead (see run_view).
        self.newer: set[int] = newer or set()
        self.stale_note = stale_note   # why the latest rescoring is not shown, when it is not
        self._scores: list | None = None

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def conn(self) -> sqlite3.Connection:
        """The store's connection, for readers of tables a scoring does not cover (live conversations'
        turns): read-only use."""
        return self.store.conn

    def _own(self, run_id: str | None) -> bool:
        return run_id is None or run_id == self.run_id or self.store.run(run_id)["id"] == self.run_id

    def run(self, run_id: str | None = None) -> dict:
        if not self._own(run_id):
            return dict(self.store.run(run_id))
        row = dict(self.store.run(self.run_id))
        added = scoring_judge(self.scoring)
        if added is not None:   # a rescoring that added a judge: its verdicts are judged ones
            spec = json.loads(row["spec_json"] or "{}")
            row["spec_json"] = json.dumps({**spec, "judge": added.get("judge"),
                                           "judge_format": added.get("judge_format")})
        names = json.loads(self.scoring["scorers_json"] if self.scoring is not None else row["scorers_json"])
        if self.primary is not None:
            names = [self.primary] + [n for n in names if n != self.primary]
        row["scorers_json"] = json.dumps(names)
        return row

    def scores(self, run_id: str | None = None) -> list:
        """The scoring's rows, read once per view: the summary, the paired tables and the gates of one
        command read the same list (and so classify each reply once)."""
        if not self._own(run_id):
            return self.store.scores(self.store.run(run_id)["id"])
        if self._scores is None:
            self._scores = self._read_scores()
        return self._scores

    def _read_scores(self) -> list:
        if self.scoring is None:
            return self.store.scores(self.run_id)
        rows = scoring_scores(self.store, self.scoring["id"])
        if not self.newer:
            return rows
        rows = [r for r in rows if r["sample_id"] not in self.newer]
        rows += [r for r in self.store.scores(self.run_id) if r["sample_id"] in self.newer]
        return sorted(rows, key=lambda r: (r["sample_id"], r["scorer"]))

    def results(self, run_id: str | None = None) -> Iterator[sqlite3.Row]:
        return self.store.results(self.run_id if run_id is None else self.store.run(run_id)["id"])

    def result_facts(self, run_id: str | None = None, *, prompts: bool = False) -> Iterator[sqlite3.Row]:
        return self.store.result_facts(self.run_id if run_id is None else self.store.run(run_id)["id"],
                                       prompts=prompts)

    def run_providers(self, run_id: str | None = None) -> list[sqlite3.Row]:
        return self.store.run_providers(self.run_id if run_id is None else self.store.run(run_id)["id"])

    def run_suites(self, run_id: str | None = None) -> list[sqlite3.Row]:
        return self.store.run_suites(self.run_id if run_id is None else self.store.run(run_id)["id"])

    def describe(self) -> str:
        """One line saying which scoring the tables show."""
        rows = scorings(self.store, self.run_id)
        n = len(rows)
        if self.scoring is None:
            tail = f"; {n} later rescoring(s) exist (--scoring N)" if n else ""
            if self.stale_note:
                tail = "; " + self.stale_note
            return f"scores: the original scoring, made while the run executed{tail}"
        s = self.scoring
        index = [r["id"] for r in rows].index(s["id"]) + 1
        rules = f"rules v{s['rules_version']} {(s['rules_hash'] or '')[:19]}" if s["rules_version"] else "no rules"
        added = scoring_judge(s)
        judge = (f"judge {(added['judge'] or {}).get('model')} asked (rescore --judge)" if added
                 else f"{s['judge_reused']} judge verdicts reused")
        text = (f"scores: rescoring {index} of {n}, made {s['created_at'][:19]} with harness {s['harness_version']}, "
                f"{rules}, {judge}; the original scores are kept (--scoring original)")
        if self.newer:
            text += (f"; {len(self.newer)} replies stored since the rescoring show their original scores "
                     f"(to rescore them too: harness rescore {self.run_id})")
        return text


def replies_since(store: Store, run_id: str, created_at: str) -> set[int]:
    """Sample ids of the run whose reply was stored after `created_at` (new, or replacing an earlier
    error on a resume with --retry-errors): replies a scoring made at that time never saw."""
    return {r[0] for r in store.conn.execute(
        "SELECT s.id FROM samples s JOIN replies p ON p.sample_id = s.id WHERE s.run_id = ? AND p.created_at > ?",
        (run_id, created_at))}


def run_view(store: Store, run_id: str | None, scoring: str | None = None, primary: str | None = None) -> RunView:
    """The run with its latest scoring (default), the original one ("original"), or rescoring number N
    (1 = first). Raises ScoringNotFound for a number the run does not have."""
    run = store.run(run_id)
    rows = scorings(store, run["id"])
    if scoring == ORIGINAL or (scoring is None and not rows):
        chosen = None
    elif scoring is None:
        chosen = rows[-1]
    else:
        if not scoring.isdigit() or not 1 <= int(scoring) <= len(rows):
            have = f"1-{len(rows)} or " if rows else ""
            raise ScoringNotFound(f"run {run['id']} has no scoring {scoring!r}; choose {have}'original'")
        chosen = rows[int(scoring) - 1]
    # A rescoring is the default view only while it covers every reply the run has (views follow the data).
    newer: set[int] = set()
    stale_note = None
    if chosen is not None:
        newer = replies_since(store, run["id"], chosen["created_at"])
        if newer and scoring is not None:
            raise ScoringNotFound(
                f"rescoring {scoring} of run {run['id']} does not cover the run's {len(newer)} replies stored since "
                f"it was made ({chosen['created_at'][:19]}); rescore again to cover every reply: harness rescore "
                f"{run['id']} (or --scoring original)")
        if newer and json.loads(chosen["scorers_json"]) != json.loads(run["scorers_json"]):
            # Its scorers differ from the run's: the original scores cannot fill the gap, so the
            # original scoring is shown whole, and the line says why.
            stale_note = (f"the latest rescoring is not shown: it does not cover the {len(newer)} replies stored "
                          f"since it was made; to cover them: harness rescore {run['id']}")
            chosen, newer = None, set()
    return RunView(store, run["id"], chosen, primary, newer, stale_note)
