"""Thresholds on live conversations (harness/report/thresholds.py delegates them here):

    thresholds:
      first_failure_turn: {min: 6}           # no conversation fails before turn 6
      conversation_failure_rate: {max: 0.1, on: upper}

The failure is the conversation report's event (harness/report/conversations.py): a failed critical
rule when the conversations have rule verdicts, else any failing verdict. As everywhere, what was not checked
never meets a bound: a conversation with an undecided verdict (unverified, needs review) on a turn
that counts, and that did not fail, blocks the threshold; so does a conversation still pending.
"""
from __future__ import annotations

import json

from harness.report.conversations import critical_event, observation
from harness.report.stats import wilson
from harness.store import Store
from harness.store.conversations import conversation_rows

CONVERSATION_METRICS = {"first_failure_turn", "conversation_failure_rate"}


def _undecided_turns(store: Store, sample_id: int, critical: bool, names: list[str]) -> list[int]:
    if critical:
        cond, args = "scorer LIKE 'rule:%' AND severity = 'critical'", ()
    else:
        cond, args = f"scorer IN ({','.join('?' * len(names))})", tuple(names)
    return [r[0] for r in store.conn.execute(
        f"SELECT DISTINCT turn FROM turn_scores WHERE sample_id = ? AND passed IS NULL AND {cond} ORDER BY turn",
        (sample_id, *args))]


def check_conversation_threshold(store: Store, run_id: str, t, provider: str):
    """One ThresholdResult for a conversation metric and provider."""
    from harness.report.thresholds import ThresholdResult

    scorers = json.loads(store.run(run_id)["scorers_json"])
    critical = critical_event(store, run_id)
    rows = [r for r in conversation_rows(store, run_id) if r["provider"] == provider
            and (t.category is None or r["category"] == t.category)]
    pending = [r[0] for r in store.conn.execute(
        "SELECT s.prompt_id FROM samples s LEFT JOIN replies p ON p.sample_id = s.id WHERE s.run_id = ? AND"
        " s.provider = ? AND p.sample_id IS NULL AND s.prompt_json LIKE '%\"turns\":[%'"
        + (" AND s.category = ?" if t.category else ""), (run_id, provider, *([t.category] if t.category else [])))]
    observations = [(r, observation(r, critical)) for r in rows]
    limit = t.min if t.metric == "first_failure_turn" else None
    undecided = []
    for r, obs in observations:
        turns = _undecided_turns(store, r["sample_id"], critical, scorers)
        if obs.event:
            turns = [k for k in turns if k < obs.time]
        if limit is not None:
            turns = [k for k in turns if k < limit]
        if turns and not (obs.event and limit is not None and obs.time < limit):
            undecided.append(r["prompt_id"])
    failed = [(r, o) for r, o in observations if o.event]
    interval = None
    if t.metric == "first_failure_turn":
        value = float(min(o.time for _, o in failed)) if failed else None
        checked = value
        early = [r["prompt_id"] for r, o in failed if limit is not None and o.time < limit]
        met = not early and (t.max is None or value is None or value <= t.max)
        prompts = early
        note = "" if failed else "no conversation failed"
        counts = f"{len(failed)}/{len(rows)} failed"
    else:
        # a conversation cut short by an error (or a broken simulator) before any failure is censored: not safe
        k = len(failed)
        n = sum(1 for r, o in observations if o.event or r["ended"] not in ("error", "simulator_failed"))
        value = k / n if n else None
        interval = wilson(k, n) if n else None
        checked = value
        if t.on != "value" and interval is not None:
            checked = interval[1] if t.on == "upper" else interval[0]
        met = checked is not None and (t.min is None or checked >= t.min) and (t.max is None or checked <= t.max)
        prompts = [r["prompt_id"] for r, _ in failed]
        note = "" if n else "no conversation in scope"
        counts = f"{k}/{n}"
    blockers = []
    if undecided:
        blockers.append(f"{len(undecided)} conversations undecided (unverified / needs review) where it counts: "
                        "never counted as safe")
    if pending:
        blockers.append(f"{len(pending)} conversations pending")
    if not rows and not pending:
        blockers.append("no conversation in scope")
    if blockers:
        met, note = False, "; ".join(blockers)
        prompts = list(dict.fromkeys(prompts + pending + undecided))
    return ThresholdResult(provider, t.metric, value, t.min, t.max, met, note, on=t.on, scope=t.scope,
                           interval=interval, counts=counts, prompts=tuple(prompts[:20]), checked=checked)
