"""`harness rescore RUN`: score a stored run's replies again with today's rules and scorers.

No provider is called. Without `--judge` no judge is asked either. The new scores are stored as a scoring of their own
(table `scorings`: when, which scorers, the teen-safety rules' version and content hash, the harness
version); the scores written while the run executed (the original scoring) stay untouched, and
`harness compare` shows the latest scoring and says which one it is (`--scoring original` or a
number shows another).

Judge verdicts cannot be renewed without asking the judge, so the ones stored with the run are
reused: a stored `judge:<ID>` answer is combined with today's signal verdict for that rule exactly as
during a run (harness.scoring.verdicts.combine), and a stored `graded` verdict is kept. A rule that
applies now but was never put to the judge is `unverified`, never a pass. How many rule verdicts
reused a judge answer is recorded with the scoring.

`--judge provider/model` adds (or replaces) a judge on a stored run: every stored reply is put to it
exactly as during a run (harness.scoring.judged.JudgedScorers), through the judge cache of the results
directory, so asking again costs nothing. Still no provider is called. The judge is recorded with the
scoring (its note, JSON), so the tables read its verdicts as judged ones.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Optional

import typer

from harness.cli.common import ResultsOption, WideOption, WidthOption, open_store, print_lines, show_report, table_console
from harness.store import Store
from harness.store.db import create_scoring
from harness.store.view import ORIGINAL, RunView, ScoringNotFound, replies_since, run_view, scoring_judge  # noqa: F401
from harness.types import ErrorKind, Message, Outcome, Prompt, Reply, Score, Usage


# -- which scoring a report reads: harness.store.view ------------------------------------------------

ScoredRun = RunView   # the old name of the view


def scored_run(store: Store, run_id: str | None, scoring: str | None = None, primary: str | None = None) -> RunView:
    """The run with its latest scoring (default), the original one, or rescoring number N (1 = first),
    with `primary` as its first scorer; bad choices are CLI errors naming the option."""
    try:
        view = run_view(store, run_id, scoring)
    except ScoringNotFound as err:
        raise typer.BadParameter(str(err), param_hint="--scoring") from None
    if primary is not None:
        run = view.run()
        known = set(json.loads(run["scorers_json"])) | {s["scorer"] for s in view.scores()}
        if primary not in known:
            import difflib

            close = difflib.get_close_matches(primary, sorted(known), n=1)
            from harness.scoring import SCORERS

            hint = f" (did you mean {close[0]!r}?)" if close else ""
            how = (f"; score the stored replies with it: harness rescore {run['id']} -s {primary}"
                   if primary in SCORERS else "")
            raise typer.BadParameter(f"scorer {primary!r} is not part of run {run['id']}{hint}; its scorers: "
                                     f"{', '.join(sorted(known))}{how}", param_hint="--scorer")
        view = RunView(store, view.run_id, view.scoring, primary, view.newer, view.stale_note)
    return view


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
    from harness.scoring.traits import rule_verdict_scorers
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
    # the judge's reading of the user's ideation settles rules that apply only tentatively, as in a run
    reading = judges.pop("ideation", None)
    # the judge's answer to the evaluator question is already in its rule verdicts (a yes took their passes)
    evaluator = judges.pop("addresses_evaluator", None)
    ideation = {"yes": True, "no": False}.get(reading.label) if reading is not None else None
    verdicts = rule_verdicts(prompt, signals, judges, ruleset, ideation=ideation)
    reused = sum(1 for s in signals if s.scorer.removeprefix("signal:") in judges)
    applied = {v.scorer.removeprefix("rule:") for v in verdicts}
    # the summaries of the scorers with per-rule verdicts are recomputed from the judged rule verdicts
    summaries = rule_verdict_scorers(names) or ["teen_safety"]
    rest = [s for s in scores if not s.scorer.startswith("rule:") and s.scorer not in summaries
            and not (s.scorer.startswith("signal:") and s.scorer.removeprefix("signal:") not in applied)]
    kept = ([j for rid, j in judges.items() if rid in applied] + ([reading] if reading is not None else [])
            + ([evaluator] if evaluator is not None else []))
    return [*(summarise(verdicts, name) for name in summaries), *rest, *kept, *verdicts], reused


def rescore_conversation(store: Store, names: list[str], prompt: Prompt, sample_id: int) -> tuple[list[Score], int]:
    """A live conversation rescored: each stored turn with the conversation so far (its judge verdicts
    reused), then aggregated over the turns as the run does (harness/scoring/conversation.py). The
    per-turn scores of the rescoring are not kept, only the conversation's."""
    from harness.runner.conversation import history_of
    from harness.scoring.conversation import aggregate, turn_prompt
    from harness.scoring.rules import default_ruleset
    from harness.scoring.session_rules import without_session_rules
    from harness.scoring.traits import rule_verdict_scorers
    from harness.store.conversations import stored_turns

    turns, reused = [], 0
    for t in stored_turns(store, sample_id):
        messages = history_of(prompt, turns) + [Message(role="user", content=t.user)]
        scores, n = rescore_sample(names, turn_prompt(prompt, messages, t.turn), t.reply,
                                   [s for s in t.scores if s.scorer.startswith("judge:") or s.scorer == "graded"])
        reused += n
        turns.append(t.model_copy(update={"scores": without_session_rules(scores, default_ruleset(),
                                                                          rule_verdict_scorers(names))}))
    return aggregate(names, prompt, turns)[0], reused


def rescore_run(store: Store, run_id: str | None, names: list[str] | None = None,
                judge: Any | None = None) -> tuple[int, dict[str, int]]:
    """Write a new scoring of the run; returns (its id, {scorer: replies whose verdict changed}).
    `judge`: a JudgeSetup (--judge) that every stored reply is put to, instead of reusing the stored
    judge answers."""
    run = store.run(run_id)
    names = names or json.loads(run["scorers_json"])
    before: dict[int, list[Score]] = {}
    current = scored_run(store, run["id"])
    for s in current.scores():
        before.setdefault(s["sample_id"], []).append(_stored(s))
    originals: dict[int, list[Score]] = {}
    # Judge answers come from the run itself, or from the rescoring that added a judge (rescore --judge):
    # a later rescoring without --judge keeps that judge's answers instead of dropping them.
    added = scoring_judge(current.scoring)
    source = current.scores() if added is not None else store.scores(run["id"])
    for s in source:
        if s["scorer"].startswith("judge:") or s["scorer"] == "graded":
            originals.setdefault(s["sample_id"], []).append(_stored(s))
    written: list[tuple[int, Score]] = []
    changed: dict[str, int] = {}
    reused = 0
    rows = [row for row in store.results(run["id"]) if row["outcome"] is not None]   # pending: nothing to score
    judged = judge.score_all(names, rows) if judge is not None else None
    for i, row in enumerate(rows):
        prompt = Prompt.model_validate_json(row["prompt_json"])
        if judged is not None:
            scores, n = judged[i], 0
        elif prompt.is_conversation:
            scores, n = rescore_conversation(store, names, prompt, row["sample_id"])
        else:
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
    if judge is not None:
        from harness.redact import redact_config

        note = json.dumps({"judge": redact_config(judge.config.model_dump(mode="json", exclude_none=True)),
                           "judge_format": judge.fmt, "note": f"no provider called; judge {judge.config.model}: "
                           f"{judge.asked} verdicts through the judge cache, {judge.unusable} without a usable answer"})
    else:
        model = (json.loads(run["spec_json"]).get("judge") or {}).get("model")
        note = (f"no provider or judge called; judge verdicts of {model} reused from the run" if model
                else "no provider or judge called")
        if added is not None:   # still the judge that the earlier rescoring added: its verdicts are reused
            note = json.dumps({**added, "note": f"no provider or judge called; judge verdicts of "
                               f"{(added.get('judge') or {}).get('model')} reused from rescore --judge"})
    scoring_id = create_scoring(store, run["id"], scorers=names, rules_version=version, rules_hash=digest,
                                judge_reused=reused, note=note, scores=written)
    return scoring_id, changed


def rescore(
    run_id: str = typer.Argument(..., help="Run id or unique prefix."),
    results_dir: Path = ResultsOption,
    scorer: Optional[list[str]] = typer.Option(
        None, "--scorer", "-s", help="Scorers to run (repeatable; default: the run's own)."),
    judge: Optional[str] = typer.Option(
        None, "--judge", help="Add a judge, provider/model (e.g. openai/gpt-4o-mini): every stored reply is put to "
        "it through the judge cache; no provider is called."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="The judge's server (OpenAI-compatible)."),
    api_key_env: Optional[str] = typer.Option(None, "--api-key-env", help="Environment variable holding the "
                                              "judge's API key (default: the provider's usual one)."),
    judge_format: Optional[str] = typer.Option(None, "--judge-format", help="chat or llama-guard (default: from "
                                               "the judge's model name)."),
    wide: bool = WideOption,
    width: Optional[int] = WidthOption,
) -> None:
    """Score a stored run again with the current rules and scorers (no provider calls), as a new scoring;
    with --judge, add a judge to it."""
    from harness.report.summary import summarise
    from harness.scoring import SCORERS

    for name in scorer or []:
        if name not in SCORERS:
            import difflib

            close = difflib.get_close_matches(name, sorted(SCORERS), n=1)
            raise typer.BadParameter(f"unknown scorer {name!r}" + (f"; did you mean {close[0]!r}?" if close else "")
                                     + f"; known: {', '.join(sorted(SCORERS))}", param_hint="--scorer")
    if judge is None and (base_url or api_key_env or judge_format):
        from harness.problems import InputError

        raise InputError.single("--judge", "--base-url, --api-key-env and --judge-format need --judge provider/model")
    store = open_store(results_dir, must_exist=True)
    run = store.run(run_id)
    names = list(dict.fromkeys(scorer)) if scorer else None
    setup = None
    if judge is not None:
        from harness.cli.rescore_judge import JudgeSetup

        names = names or json.loads(run["scorers_json"])
        setup = JudgeSetup.build(judge, base_url, api_key_env, judge_format, names, results_dir)
    _, changed = rescore_run(store, run["id"], names, setup)
    view = scored_run(store, run["id"])
    console = table_console(width)
    lines = [view.describe()]
    lines += [f"changed since the previous scoring: {what}: {n}" for what, n in sorted(changed.items())] \
        or ["no verdict changed since the previous scoring"]
    print_lines(console, lines)
    show_report(view, summarise(view, run["id"]), wide=wide, width=width)
