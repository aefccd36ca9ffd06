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
                 primary: str | None = None) -> None:
        self.store, self.run_id, self.scoring, self.primary = store, run_id, scoring, primary

    @property
    def path(self) -> Path:
        return self.store.path

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
        if not self._own(run_id):
            return self.store.scores(self.store.run(run_id)["id"])
        if self.scoring is None:
            return self.store.scores(self.run_id)
        return scoring_scores(self.store, self.scoring["id"])

    def results(self, run_id: str | None = None) -> Iterator[sqlite3.Row]:
        return self.store.results(self.run_id if run_id is None else self.store.run(run_id)["id"])

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
            return f"scores: the original scoring, made while the run executed{tail}"
        s = self.scoring
        index = [r["id"] for r in rows].index(s["id"]) + 1
        rules = f"rules v{s['rules_version']} {(s['rules_hash'] or '')[:19]}" if s["rules_version"] else "no rules"
        added = scoring_judge(s)
        judge = (f"judge {(added['judge'] or {}).get('model')} asked (rescore --judge)" if added
                 else f"{s['judge_reused']} judge verdicts reused")
        return (f"scores: rescoring {index} of {n}, made {s['created_at'][:19]} with harness {s['harness_version']}, "
                f"{rules}, {judge}; the original scores are kept (--scoring original)")


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
    return RunView(store, run["id"], chosen, primary)
