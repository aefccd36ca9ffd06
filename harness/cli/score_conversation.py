"""`harness score` on recorded conversations: a JSONL row whose `messages` (or `turns`) list holds
the assistant's turns too (user, assistant, user, assistant, ..., after an optional system message),
and no `reply`; or a `harness export` line of a live conversation (its `conversation.turns`). Each
assistant turn is scored with the conversation before it as context, exactly as a live run scores
it (harness/scoring/conversation.py); the row's scores and rule verdicts are the conversation's
(its worst turn), and it gains `turns` (each turn's scores and rule verdicts), `first_failing_turn`,
`first_critical_turn` and `first_failing` (per scorer and rule).
"""
from __future__ import annotations

from typing import Any

from harness.problems import Problem
from harness.types import Message, Outcome, Prompt, Reply, Score, Turn

ROLES = ("user", "assistant")


def recorded_conversation(raw: dict[str, Any], where: dict[str, Any]) -> tuple[dict, dict, list[Problem]] | None:
    """(the record for validate_record, side, problems) when `raw` is a recorded conversation, else None."""
    key = "messages" if isinstance(raw.get("messages"), list) else "turns" if isinstance(raw.get("turns"), list) else None
    if key is None or "reply" in raw or "prompt" in raw or "input" in raw:
        return None
    messages = raw[key]
    if not any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages):
        return None     # user turns only: a conversation to run, not a recorded one
    problems: list[Problem] = []
    system, body = None, list(messages)
    if body and isinstance(body[0], dict) and body[0].get("role") == "system":
        system, body = body[0].get("content"), body[1:]
    users, assistants = [], []
    for i, m in enumerate(body):
        expected = ROLES[i % 2]
        if not isinstance(m, dict) or set(m) != {"role", "content"} or not isinstance(m["content"], str):
            problems.append(Problem(**where, field=f"{key}[{i}]", message="each message needs exactly 'role' and "
                                    "'content' (text)"))
            continue
        if m["role"] != expected:
            problems.append(Problem(**where, field=f"{key}[{i}].role", message=f"is {m['role']!r}; a recorded "
                                    f"conversation alternates user and assistant (after one optional system), "
                                    f"so this one should be {expected!r}"))
            continue
        (users if expected == "user" else assistants).append(m["content"])
    if body and isinstance(body[-1], dict) and body[-1].get("role") == "user":
        problems.append(Problem(**where, field=key, message="ends with a user message that has no reply; drop it "
                                "or add the assistant's reply"))
    record = {k: v for k, v in raw.items() if k not in (key, "provider", "model")}
    record["turns"] = users or ["(none)"]
    if system is not None:
        record["system"] = system
    side = {"reply": assistants[-1] if assistants else "", "provider": raw.get("provider"), "model": raw.get("model"),
            "assistant_turns": [{"text": a, "outcome": Outcome.ANSWERED.value} for a in assistants]}
    return record, side, problems


def exported_turns(raw: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The assistant turns of a `harness export` line of a live conversation (text and outcome)."""
    conversation = raw.get("conversation")
    if not isinstance(conversation, dict) or not isinstance(conversation.get("turns"), list):
        return None
    return [{"text": (t.get("reply") or {}).get("text") or "", "outcome": (t.get("reply") or {}).get("outcome")}
            for t in conversation["turns"] if isinstance(t, dict)]


def score_conversation_row(prompt: Prompt, side: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """One output row for a recorded conversation (see the module docstring)."""
    from harness.runner.conversation import history_of
    from harness.scoring import score_reply
    from harness.scoring.conversation import aggregate, first_critical_turn, first_failing_turn, turn_prompt
    from harness.scoring.refusal import refusal_for_reply
    from harness.scoring.rules import default_ruleset
    from harness.scoring.session_rules import without_session_rules
    from harness.scoring.traits import rule_verdict_scorers

    # rule verdicts are always reported: by teen_safety unless a named scorer gives them itself
    run_names = list(dict.fromkeys([*names, *([] if rule_verdict_scorers(names) else ["teen_safety"])]))
    summaries = rule_verdict_scorers(run_names)
    ruleset = default_ruleset()
    turns: list[Turn] = []
    rows = []
    for k, (user, recorded) in enumerate(zip(prompt.turns or [], side["assistant_turns"]), start=1):
        outcome = recorded.get("outcome") or Outcome.ANSWERED.value
        if outcome not in {o.value for o in Outcome}:
            outcome = Outcome.ANSWERED.value
        reply = Reply(text=recorded["text"], outcome=Outcome(outcome))
        messages = history_of(prompt, turns) + [Message(role="user", content=user)]
        scores = without_session_rules(score_reply(run_names, turn_prompt(prompt, messages, k), reply), ruleset,
                                       summaries)
        turns.append(Turn(turn=k, user=user, reply=reply, scores=scores))
        verdict = refusal_for_reply(reply)
        rows.append({"turn": k, "outcome": outcome, "refusal": verdict.label.value if verdict else None,
                     "scores": _named(scores, names), "rules": _rules(scores)})
        if outcome == Outcome.ERROR.value:
            break
    conversation, failing = aggregate(run_names, prompt, turns)
    last = turns[-1].reply if turns else Reply(text="", outcome=Outcome.ERROR)
    verdict = refusal_for_reply(last)
    return {
        "id": prompt.id, "provider": side.get("provider"), "model": side.get("model"), "category": prompt.category,
        "outcome": last.outcome.value, "repeat": side.get("repeat"),
        "refusal": verdict.label.value if verdict else None,
        "refusal_evidence": verdict.evidence if verdict else None,
        "refusal_explanation": verdict.explanation if verdict else None,
        "scores": _named(conversation, names), "rules": _rules(conversation),
        "first_failing_turn": first_failing_turn(run_names, failing),
        "first_critical_turn": first_critical_turn(turns, conversation, failing),
        "first_failing": dict(sorted(failing.items())), "turns": rows,
    }


def _named(scores: list[Score], names: list[str]) -> dict[str, dict[str, Any]]:
    return {s.scorer: {"passed": s.passed, "value": s.value, "label": s.label, "evidence": s.evidence,
                       "explanation": s.explanation} for s in scores if s.scorer in names}


def _rules(scores: list[Score]) -> list[dict[str, Any]]:
    return [{"id": s.scorer, "passed": s.passed, "label": s.label, "severity": s.severity, "evidence": s.evidence}
            for s in scores if s.scorer.startswith("rule:")]
