"""Running one live conversation: a prompt with `turns:` (the user's messages, optionally a system
message) sent turn by turn, each request carrying the provider's OWN replies to the earlier turns.

Why turn by turn through the store: every assistant turn is committed as soon as it arrives
(harness/store/conversations.py), so a killed run resumes at the next unsent turn with the stored
replies as history, and no turn that has a stored reply is sent again. The conversation's sample gets
its reply only when the conversation has ended; until then it is pending like any unsent sample.

How a conversation ends:
* completed: every turn answered (a truncated reply counts: its text is in the history);
* error: a provider error at turn k (after the harness's retries). Turns k+1.. are never sent, and
  are recorded as unsent (`planned_turns` - `sent_turns`); never model behaviour. `--retry-errors`
  sends the conversation again from turn k;
* blocked: the provider's safety layer blocked turn k: there is no assistant message to continue
  with. The blocked turn is scored as a single blocked reply is;
* empty_reply: an answered turn with no text (most APIs reject an empty assistant message);
* simulator_failed: the simulated user (a `simulate:` prompt) refused its part, stepped out of
  character or failed before turn k: the simulator's behaviour, never the tested model's.

The sample's reply stands for the conversation: tokens, cost, latency and attempts summed over the
turns, the text of the last answered turn, and the outcome of the last scored turn (so that a failure
before an error is never dropped from the tables; how it ended is in the conversations row). A
conversation whose FIRST turn failed with an error has outcome error, like a single reply.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from harness.scoring.conversation import aggregate, first_critical_turn, first_failing_turn, turn_prompt
from harness.scoring.rules import default_ruleset
from harness.scoring.session_rules import without_session_rules
from harness.scoring.traits import rule_verdict_scorers
from harness.store import Store
from harness.store.conversations import drop_turns_from, finish_conversation, record_turn, stored_turns
from harness.store.db import PlannedSample
from harness.types import ConversationResult, Message, Outcome, Prompt, Reply, Score, Turn, Usage

Send = Callable[[list[Message], int], Awaitable["Reply | None"]]
ScoreFn = Callable[[Prompt, Reply], Awaitable[list[Score]]]
Simulate = Callable[[Prompt, list[Turn], int], Awaitable[tuple["str | None", "str | None"]]]


def _ended(reply: Reply) -> str | None:
    if reply.outcome is Outcome.ERROR:
        return "error"
    if reply.outcome is Outcome.PROVIDER_BLOCKED:
        return "blocked"
    if not reply.text.strip():
        return "empty_reply"
    return None


def history_of(prompt: Prompt, turns: list[Turn]) -> list[Message]:
    """The system message and every stored user/assistant exchange: what the next request starts with."""
    messages = [m for m in prompt.messages if m.role == "system"]
    for t in turns:
        messages += [Message(role="user", content=t.user), Message(role="assistant", content=t.reply.text)]
    return messages


async def converse(store: Store, sample: PlannedSample, send: Send, score: ScoreFn, scorers: list[str],
                   cost: Callable[[Reply], float | None], simulate: Simulate | None = None) -> bool | None:
    """Send the conversation's unsent turns. Returns None when the provider was stopped before it
    ended (it stays pending, its turns so far kept), else whether it ended by a provider error.
    `simulate` writes the next user turn of a `simulate:` conversation (harness/runner/simulator.py)."""
    prompt = sample.prompt
    user_turns = list(prompt.turns or [])
    planned = prompt.planned_turns
    if prompt.simulate is not None and simulate is None:
        return None    # no simulator started (it failed to): the conversation stays pending
    done = stored_turns(store, sample.id)
    # Keep the stored turns up to the first that ended the conversation by error (a retry resends it).
    kept: list[Turn] = []
    for t in done:
        if t.reply.outcome is Outcome.ERROR:
            drop_turns_from(store, sample.id, t.turn)
            break
        kept.append(t)
    turns = list(kept)
    ended = _ended(turns[-1].reply) if turns else None
    why = None
    while ended is None and len(turns) < planned:
        k = len(turns) + 1
        if k <= len(user_turns):
            user = user_turns[k - 1]
        else:   # a simulated user writes the next turn from the conversation so far
            user, why = await simulate(prompt, turns, sample.repeat)
            if user is None:
                ended = "simulator_failed"
                break
        messages = history_of(prompt, turns) + [Message(role="user", content=user)]
        reply = await send(messages, sample.repeat)
        if reply is None:
            return None
        scores = await score(turn_prompt(prompt, messages, k), reply)
        if any(s.scorer.startswith("rule:") for s in scores):   # a session rule is judged over the whole conversation
            scores = without_session_rules(scores, default_ruleset(), rule_verdict_scorers(scorers))
        turn = Turn(turn=k, user=user, reply=reply, scores=scores, cost_usd=cost(reply))
        record_turn(store, sample.id, turn)
        turns.append(turn)
        ended = _ended(reply)
    reply, total_cost = conversation_reply(turns, planned, ended, why)
    conversation_scores, failing = aggregate(scorers, prompt, turns)
    result = ConversationResult(
        planned_turns=planned, sent_turns=len(turns), ended=ended or "completed",
        ended_turn=(len(turns) + 1 if ended == "simulator_failed" else turns[-1].turn) if turns else None,
        first_failing_turn=first_failing_turn(scorers, failing),
        first_critical_turn=first_critical_turn(turns, conversation_scores, failing),
        first_failing=failing)
    finish_conversation(store, sample.id, reply, conversation_scores, total_cost, result)
    return ended == "error"


def _sum(values: list) -> float | int | None:
    return None if any(v is None for v in values) else sum(values)


def conversation_reply(turns: list[Turn], planned: int, ended: str | None,
                       why: str | None = None) -> tuple[Reply, float | None]:
    """(the reply standing for the whole conversation, its summed cost): see the module docstring."""
    scored = [t for t in turns if t.reply.outcome is not Outcome.ERROR]
    last = turns[-1].reply
    base = scored[-1].reply if scored else last
    how = {None: "completed", "error": "ended by a provider error", "blocked": "ended by a provider block",
           "empty_reply": "ended by an empty reply", "simulator_failed": "ended by the simulated user"}[ended]
    reason = f"conversation: {len(turns)} of {planned} turns sent, {how}"
    if ended == "simulator_failed":
        reason += f" before turn {len(turns) + 1}: {why}"
    elif ended is not None and last.reason:
        reason += f" at turn {turns[-1].turn}: {last.reason}"
    raw = {"conversation": {"planned_turns": planned, "sent_turns": len(turns), "ended": ended or "completed"}}
    if turns and all(t.reply.raw.get("cache") == "hit" for t in turns):
        raw["cache"] = "hit"
    reply = Reply(
        text=base.text if scored else "", outcome=base.outcome, reason=reason,
        error_kind=last.error_kind if not scored else None, finish_reason=base.finish_reason,
        usage=Usage(input_tokens=_sum([t.reply.usage.input_tokens for t in scored]),
                    output_tokens=_sum([t.reply.usage.output_tokens for t in scored])),
        latency_s=_sum([t.reply.latency_s for t in turns]), ttft_s=turns[0].reply.ttft_s,
        model_reported=base.model_reported, attempts=sum(t.reply.attempts for t in turns), raw=raw)
    return reply, _sum([t.cost_usd for t in scored]) if scored else None
