"""`harness rescore RUN`: score a stored run's replies again with today's rules and scorers.

No provider is called and no judge is asked. The new scores are stored as a scoring of their own
(table `scorings`: when, which scorers, the teen-safety rules' version and content hash, the harness
version); the scores written while the run executed (the original scoring) stay untouched, and
`harness compare` shows the latest scoring and says which one it is (`--scoring original` or a
number shows another).

Judge verdicts cannot be renewed without asking the judge, so the ones stored with the run are
reused: a stored `judge:<ID>` answer is combined with today's signal verdict for that rule exactly as
during a run (harness.scoring.verdicts.combine), and a stored `graded` verdict is kept. A rule that
applies now but was never put to the judge is `unverified`, never a pass. How many rule verdicts
reused a judge answer is recorded with the scoring.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Optional

import typer

from harness.cli.common import ResultsOption, WideOption, WidthOption, open_store, print_lines, show_report, table_console
from harness.store import Store
from harness.store.db import create_scoring, scoring_scores, scorings
from harness.types import ErrorKind, Outcome, Prompt, Reply, Score, Usage

ORIGINAL = "original"


# -- which scoring a report reads ------------------------------------------------------------------

class ScoredRun:
    """A store as seen through one scoring of one run: `scores()` returns that scoring's rows and
    `run()` that run, with `primary` (if given) as its first scorer. Everything else is the store's.
    The reports (summary, paired, thresholds) read a run only through these calls."""

    def __init__(self, store: Store, run_id: str, scoring: Any | None, primary: str | None = None,
                 newer: set[int] | None = None) -> None:
        self._store, self._run_id, self.scoring, self._primary = store, run_id, scoring, primary
        # Samples whose reply was stored after the scoring was made (a resumed or still running run):
        # the scoring never saw them, so their original scores are used instead (see scored_run).
        self.newer: set[int] = newer or set()
        self.stale_note: str | None = None   # why the latest rescoring is not shown, when it is not
        self._scores: list | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def run(self, run_id: str | None = None) -> dict:
        row = dict(self._store.run(self._run_id))
        names = json.loads(self.scoring["scorers_json"]) if self.scoring is not None else json.loads(row["scorers_json"])
        if self._primary is not None:
            names = [self._primary] + [n for n in names if n != self._primary]
        row["scorers_json"] = json.dumps(names)
        return row

    def scores(self, run_id: str | None = None) -> list:
        """The scoring's rows, read once per view: the summary, the paired tables and the gates of one
        command read the same list (and so classify each reply once)."""
        if self._scores is None:
            self._scores = self._read_scores()
        return self._scores

    def _read_scores(self) -> list:
        if self.scoring is None:
            return self._store.scores(self._run_id)
        rows = scoring_scores(self._store, self.scoring["id"])
        if not self.newer:
            return rows
        rows = [r for r in rows if r["sample_id"] not in self.newer]
        rows += [r for r in self._store.scores(self._run_id) if r["sample_id"] in self.newer]
        return sorted(rows, key=lambda r: (r["sample_id"], r["scorer"]))

    def describe(self) -> str:
        """One line saying which scoring the tables show."""
        n = len(scorings(self._store, self._run_id))
        if self.scoring is None:
            tail = f"; {n} later rescoring(s) exist (--scoring N)" if n else ""
            if self.stale_note:
                tail = "; " + self.stale_note
            return f"scores: the original scoring, made while the run executed{tail}"
        s = self.scoring
        index = [r["id"] for r in scorings(self._store, self._run_id)].index(s["id"]) + 1
        rules = f"rules v{s['rules_version']} {(s['rules_hash'] or '')[:19]}" if s["rules_version"] else "no rules"
        text = (f"scores: rescoring {index} of {n}, made {s['created_at'][:19]} with harness {s['harness_version']}, "
                f"{rules}, {s['judge_reused']} judge verdicts reused; the original scores are kept "
                "(--scoring original)")
        if self.newer:
            text += (f"; {len(self.newer)} replies stored since the rescoring show their original scores "
                     f"(to rescore them too: harness rescore {self._run_id})")
        return text


def scored_run(store: Store, run_id: str | None, scoring: str | None = None, primary: str | None = None) -> ScoredRun:
    """The run with its latest scoring (default), the original one, or rescoring number N (1 = first)."""
    run = store.run(run_id)
    rows = scorings(store, run["id"])
    if scoring == ORIGINAL or (scoring is None and not rows):
        chosen = None
    elif scoring is None:
        chosen = rows[-1]
    else:
        if not scoring.isdigit() or not 1 <= int(scoring) <= len(rows):
            have = f"1-{len(rows)} or " if rows else ""
            raise typer.BadParameter(f"run {run['id']} has no scoring {scoring!r}; choose {have}'original'",
                                     param_hint="--scoring")
        chosen = rows[int(scoring) - 1]
    newer: set[int] = set()
    stale_note = None
    if chosen is not None:
        newer = replies_since(store, run["id"], chosen["created_at"])
        if newer and scoring is not None:
            raise typer.BadParameter(
                f"rescoring {scoring} of run {run['id']} does not cover the run's {len(newer)} replies stored since "
                f"it was made ({chosen['created_at'][:19]}); rescore again to cover every reply: harness rescore "
                f"{run['id']} (or --scoring original)", param_hint="--scoring")
        if newer and json.loads(chosen["scorers_json"]) != json.loads(run["scorers_json"]):
            # Its scorers differ from the run's: the original scores cannot fill the gap, so the
            # original scoring is shown whole, and the line says why.
            stale_note = (f"the latest rescoring is not shown: it does not cover the {len(newer)} replies stored "
                          f"since it was made; to cover them: harness rescore {run['id']}")
            chosen, newer = None, set()
    view = ScoredRun(store, run["id"], chosen, None, newer)
    view.stale_note = stale_note
    if primary is not None:
        known = set(json.loads(view.run()["scorers_json"])) | {s["scorer"] for s in view.scores()}
        if primary not in known:
            import difflib

            close = difflib.get_close_matches(primary, sorted(known), n=1)
            from harness.scoring import SCORERS

            hint = f" (did you mean {close[0]!r}?)" if close else ""
            how = (f"; score the stored replies with it: harness rescore {run['id']} -s {primary}"
                   if primary in SCORERS else "")
            raise typer.BadParameter(f"scorer {primary!r} is not part of run {run['id']}{hint}; its scorers: "
                                     f"{', '.join(sorted(known))}{how}", param_hint="--scorer")
        view = ScoredRun(store, run["id"], chosen, primary, newer)
        view.stale_note = stale_note
    return view


def replies_since(store: Store, run_id: str, created_at: str) -> set[int]:
    """Sample ids of the run whose reply was stored after `created_at` (new, or replacing an earlier
    error on a resume with --retry-errors): replies a scoring made at that time never saw."""
    return {r[0] for r in store.conn.execute(
        "SELECT s.id FROM samples s JOIN replies p ON p.sample_id = s.id WHERE s.run_id = ? AND p.created_at > ?",
        (run_id, created_at))}


# -- rescoring -------------------------------------------------------------------------------------

def rules_identity() -> tuple[str | None, str | None]:
    """(version, sha256 of the validated rules) of the teen-safety rules in force now."""
    from harness.scoring.rules import default_ruleset

    ruleset = default_ruleset()
    canonical = json.dumps(ruleset.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return ruleset.version, "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def stored_reply(row) -> Reply:
    """The Reply a run stored (text, outcome, the provider's details), as the scorers saw it."""
    return Reply(
        text=row["text"] or "", outcome=Outcome(row["outcome"]), reason=row["reason"],
        error_kind=ErrorKind(row["error_kind"]) if row["error_kind"] else None, finish_reason=row["finish_reason"],
        usage=Usage(input_tokens=row["input_tokens"], output_tokens=row["output_tokens"]),
        latency_s=row["latency_s"], ttft_s=row["ttft_s"], model_reported=row["model_reported"],
        attempts=row["attempts"] or 1, raw=json.loads(row["raw_json"]) if row["raw_json"] else {})


def _stored(row) -> Score:
    return Score(scorer=row["scorer"], passed=None if row["passed"] is None else bool(row["passed"]),
                 value=row["value"], label=row["label"], explanation=row["explanation"] or "",
                 evidence=row["evidence"], severity=row["severity"])


def rescore_sample(names: list[str], prompt: Prompt, reply: Reply, before: list[Score]) -> tuple[list[Score], int]:
    """Today's scores of one stored reply, with the stored judge verdicts reused; (scores, rule
    verdicts that reused a judge answer)."""
    from harness.scoring import score_reply
    from harness.scoring.rules import default_ruleset
    from harness.scoring.verdicts import rule_verdicts, summarise

    scores = score_reply(names, prompt, reply)
    if not scores:
        return [], 0
    judges = {s.scorer.removeprefix("judge:"): s for s in before if s.scorer.startswith("judge:")}
    graded = next((s for s in before if s.scorer == "graded"), None)
    if graded is not None:
        scores = [graded if s.scorer == "graded" else s for s in scores]
    signals = [s for s in scores if s.scorer.startswith("signal:")]
    if not judges or not signals:
        return scores, 0
    ruleset = default_ruleset()
    verdicts = rule_verdicts(prompt, signals, judges, ruleset)
    reused = sum(1 for s in signals if s.scorer.removeprefix("signal:") in judges)
    rest = [s for s in scores if not s.scorer.startswith("rule:") and s.scorer != "teen_safety"]
    applied = {s.scorer.removeprefix("signal:") for s in signals}
    kept = [j for rid, j in judges.items() if rid in applied]
    return [summarise(verdicts), *rest, *kept, *verdicts], reused


def rescore_run(store: Store, run_id: str | None, names: list[str] | None = None) -> tuple[int, dict[str, int]]:
    """Write a new scoring of the run; returns (its id, {scorer: replies whose verdict changed})."""
    run = store.run(run_id)
    names = names or json.loads(run["scorers_json"])
    before: dict[int, list[Score]] = {}
    current = scored_run(store, run["id"])
    for s in current.scores():
        before.setdefault(s["sample_id"], []).append(_stored(s))
    originals: dict[int, list[Score]] = {}
    for s in store.scores(run["id"]):   # judge answers come from the run itself, never from a rescoring
        if s["scorer"].startswith("judge:") or s["scorer"] == "graded":
            originals.setdefault(s["sample_id"], []).append(_stored(s))
    written: list[tuple[int, Score]] = []
    changed: dict[str, int] = {}
    reused = 0
    for row in store.results(run["id"]):
        if row["outcome"] is None:
            continue   # pending: nothing to score
        prompt = Prompt.model_validate_json(row["prompt_json"])
        scores, n = rescore_sample(names, prompt, stored_reply(row), originals.get(row["sample_id"], []))
        reused += n
        old = {s.scorer: (s.passed, s.label) for s in before.get(row["sample_id"], [])
               if not s.scorer.startswith(("signal:", "judge:"))}
        new = {s.scorer: (s.passed, s.label) for s in scores if not s.scorer.startswith(("signal:", "judge:"))}
        for name in old.keys() | new.keys():
            key = "rule verdicts" if name.startswith("rule:") else name
            if name not in old:
                key += " (newly applying)" if name.startswith("rule:") else " (new)"
            elif name not in new:
                key += " (no longer applying)" if name.startswith("rule:") else " (gone)"
            elif old[name] == new[name]:
                continue
            changed[key] = changed.get(key, 0) + 1
        written += [(row["sample_id"], s) for s in scores]
    version, digest = rules_identity()
    judge = (json.loads(run["spec_json"]).get("judge") or {}).get("model")
    note = (f"no provider or judge called; judge verdicts of {judge} reused from the run" if judge
            else "no provider or judge called")
    scoring_id = create_scoring(store, run["id"], scorers=names, rules_version=version, rules_hash=digest,
                                judge_reused=reused, note=note, scores=written)
    return scoring_id, changed


def rescore(
    run_id: str = typer.Argument(..., help="Run id or unique prefix."),
    results_dir: Path = ResultsOption,
    scorer: Optional[list[str]] = typer.Option(
        None, "--scorer", "-s", help="Scorers to run (repeatable; default: the run's own)."),
    wide: bool = WideOption,
    width: Optional[int] = WidthOption,
) -> None:
    """Score a stored run again with the current rules and scorers (no provider calls), as a new scoring."""
    from harness.report.summary import summarise
    from harness.scoring import SCORERS

    for name in scorer or []:
        if name not in SCORERS:
            import difflib

            close = difflib.get_close_matches(name, sorted(SCORERS), n=1)
            raise typer.BadParameter(f"unknown scorer {name!r}" + (f"; did you mean {close[0]!r}?" if close else "")
                                     + f"; known: {', '.join(sorted(SCORERS))}", param_hint="--scorer")
    store = open_store(results_dir, must_exist=True)
    run = store.run(run_id)
    _, changed = rescore_run(store, run["id"], list(dict.fromkeys(scorer)) if scorer else None)
    view = scored_run(store, run["id"])
    console = table_console(width)
    lines = [view.describe()]
    lines += [f"changed since the previous scoring: {what}: {n}" for what, n in sorted(changed.items())] \
        or ["no verdict changed since the previous scoring"]
    print_lines(console, lines)
    show_report(view, summarise(view, run["id"]), wide=wide, width=width)
