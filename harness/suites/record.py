"""Validation of one prompt record (from any format) into `harness.types.Prompt`, every problem
collected with its file, line and field."""
from __future__ import annotations

import difflib
import sys
from typing import Any

from harness.problems import Problem
from harness.scoring.expect import parse_expect
from harness.suites.readers import PROMPT_FIELDS
from harness.types import Message, Prompt
from harness.yamlfile import MAX_FIELD_CHARS

ROLES = ("system", "user", "assistant")
# A live conversation's fields (harness/runner/conversation.py): its user turns and optional system
# message. Kept out of PROMPT_FIELDS, which also names the columns a table maps onto prompt fields.
CONVERSATION_FIELDS = ("turns", "system", "simulate")
SIMULATE_FIELDS = ("persona", "opening", "max_turns")
MAX_TURNS = 100

# pydantic gives every instance its own set of the field names it was given (about 700 bytes for a
# Prompt, 200 for a Message: most of a short prompt's memory). A validated prompt is given every
# field, so all of them share one set; a later assignment adds a name already in it. Nothing in the
# harness dumps with exclude_unset, the only reader of that set.
_PROMPT_FIELDS = set(Prompt.model_fields)
_MESSAGE_FIELDS = set(Message.model_fields)


def _shared_fields(model, names: set[str]):
    object.__setattr__(model, "__pydantic_fields_set__", names)
    return model


def field_size(value: Any, limit: int = MAX_FIELD_CHARS) -> int:
    """Characters of text in a value (and one per item), counted up to just past `limit`."""
    total, todo = 0, [value]
    while todo and total <= limit:
        v = todo.pop()
        if isinstance(v, str):
            total += len(v)
        elif isinstance(v, dict):
            total += len(v)
            todo += [str(k) for k in v] + list(v.values())
        elif isinstance(v, (list, tuple)):
            total += len(v)
            todo += list(v)
        else:
            total += 1
    return total


def _messages(raw: dict[str, Any], where: dict[str, Any], problems: list[Problem]) -> list[Message]:
    if "input" in raw and "messages" in raw:
        problems.append(Problem(**where, field="input", message="give either 'input' or 'messages', not both"))
        return []
    value = raw.get("input", raw.get("messages"))
    field_name = "input" if "input" in raw else "messages"
    if value is None or value == "" or value == []:
        problems.append(Problem(**where, field="input", message="is missing: every prompt needs an 'input' "
                                "(a user message, or a list of {role, content} messages)"))
        return []
    if isinstance(value, str):
        return [_shared_fields(Message(role="user", content=value), _MESSAGE_FIELDS)]
    if not isinstance(value, list):
        problems.append(Problem(**where, field=field_name, message=f"must be a text or a list of messages, not "
                                f"{type(value).__name__} {value!r}"[:200] + (" (quote it: input: \"...\")"
                                                                            if isinstance(value, (int, float)) else "")))
        return []
    messages = []
    for i, m in enumerate(value):
        if not isinstance(m, dict) or set(m) != {"role", "content"}:
            problems.append(Problem(**where, field=f"{field_name}[{i}]",
                                    message="each message needs exactly 'role' and 'content'"))
            continue
        if m["role"] not in ROLES:
            problems.append(Problem(**where, field=f"{field_name}[{i}].role",
                                    message=f"{m['role']!r} is not a role; use one of {', '.join(ROLES)}"))
            continue
        if not isinstance(m["content"], str) or not m["content"].strip():
            problems.append(Problem(**where, field=f"{field_name}[{i}].content", message="must be non-empty text"))
            continue
        messages.append(_shared_fields(Message(role=m["role"], content=m["content"]), _MESSAGE_FIELDS))
    if messages and messages[-1].role != "user":
        problems.append(Problem(**where, field=field_name,
                                message="the last message must be from the user (the model answers it)"))
    return messages


def _conversation(raw: dict[str, Any], where: dict[str, Any], problems: list[Problem]) -> tuple[list[Message], list[str]]:
    """(messages of the first request, user turns) of a `turns:` prompt."""
    for other in ("input", "messages"):
        if other in raw:
            problems.append(Problem(**where, field="turns", message=f"give either 'turns' (a live conversation) or "
                                    f"'{other}', not both"))
            return [], []
    value, system = raw["turns"], raw.get("system")
    if not isinstance(value, list) or not value:
        problems.append(Problem(**where, field="turns", message="must be a list of the user's messages, e.g. "
                                "turns: [\"hi\", \"can you help me with something\"]"))
        return [], []
    if len(value) > MAX_TURNS:
        problems.append(Problem(**where, field="turns", message=f"has {len(value)} turns; at most {MAX_TURNS}"))
        return [], []
    turns = []
    for i, t in enumerate(value):
        if isinstance(t, dict) and set(t) == {"role", "content"} and t["role"] == "user":
            t = t["content"]
        if not isinstance(t, str) or not t.strip():
            problems.append(Problem(**where, field=f"turns[{i}]", message="must be non-empty text (the user's "
                                    "message; the assistant's turns are the provider's own replies)"))
            continue
        turns.append(t)
    messages = []
    if system is not None:
        if not isinstance(system, str) or not system.strip():
            problems.append(Problem(**where, field="system", message="must be non-empty text"))
        else:
            messages.append(_shared_fields(Message(role="system", content=system), _MESSAGE_FIELDS))
    if turns:
        messages.append(_shared_fields(Message(role="user", content=turns[0]), _MESSAGE_FIELDS))
    return messages, turns


def _simulated(raw: dict[str, Any], where: dict[str, Any], problems: list[Problem]):
    """(messages of the first request, [opening], Simulation) of a `simulate:` prompt."""
    from harness.types import Simulation

    for other in ("input", "messages", "turns"):
        if other in raw:
            problems.append(Problem(**where, field="simulate", message=f"give either 'simulate' (a simulated user) "
                                    f"or '{other}', not both"))
            return [], [], None
    value = raw["simulate"]
    example = "simulate: {persona: '15, lonely, wants a promise of secrecy', opening: 'can i tell you a secret', max_turns: 6}"
    if not isinstance(value, dict):
        problems.append(Problem(**where, field="simulate", message=f"must be a mapping, e.g. {example}"))
        return [], [], None
    before = len(problems)
    for key in value:
        if key not in SIMULATE_FIELDS:
            close = difflib.get_close_matches(str(key), SIMULATE_FIELDS, n=1)
            problems.append(Problem(**where, field=f"simulate.{key}", message="unknown field" + (
                f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(SIMULATE_FIELDS)}")))
    for key in ("persona", "opening"):
        if not isinstance(value.get(key), str) or not value[key].strip():
            problems.append(Problem(**where, field=f"simulate.{key}", message=f"is missing: write {example}"))
    turns_max = value.get("max_turns", 6)
    if not isinstance(turns_max, int) or isinstance(turns_max, bool) or not 1 <= turns_max <= 50:
        problems.append(Problem(**where, field="simulate.max_turns", message="must be a whole number from 1 to 50"))
    if len(problems) > before:
        return [], [], None
    messages, turns = _conversation({"turns": [value["opening"]], **({"system": raw["system"]} if "system" in raw
                                                                      else {})}, where, problems)
    return messages, turns, Simulation(persona=value["persona"], opening=value["opening"], max_turns=turns_max)


TURN_FIELDS = ("escalation_turn", "ideation_turn", "reminder_due_turn")


def _check_turn_fields(metadata: dict[str, Any], planned: int, where: dict[str, Any], problems: list[Problem]) -> None:
    """A conversation's turn markers (harness/scoring/conversation.py, session_rules.py) must name one
    of its turns: a marker that is ignored would apply rules where the script did not mean them."""
    for key in TURN_FIELDS:
        value = metadata.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= planned:
            problems.append(Problem(**where, field=f"metadata.{key}", message=f"must be a turn number from 1 to "
                                    f"{planned} (the conversation's turns), got {value!r}"))


def _text_list(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    return None


def validate_record(raw: Any, where: dict[str, Any], defaults: dict[str, Any],
                    problems: list[Problem]) -> Prompt | None:
    if not isinstance(raw, dict):
        problems.append(Problem(**where, message=f"a prompt must be a mapping of fields, got {type(raw).__name__}"))
        return None
    raw = {**defaults, **raw}
    before = len(problems)
    for key, value in raw.items():
        if not isinstance(value, (int, float, bool)) and value is not None:
            size = len(value) if type(value) is str else field_size(value)   # most fields are plain text
            if size > MAX_FIELD_CHARS:
                problems.append(Problem(**where, field=str(key), message=f"holds more than the {MAX_FIELD_CHARS:,} "
                                        "characters allowed in one field"))
    if len(problems) > before:
        return None
    for key in raw:
        if key not in PROMPT_FIELDS and key not in CONVERSATION_FIELDS:
            known = PROMPT_FIELDS + CONVERSATION_FIELDS
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known fields: {', '.join(known)}"
            problems.append(Problem(**where, field=str(key), message=f"unknown field{hint} "
                                    "(free-form data goes under 'metadata')"))
    pid = raw.get("id")
    if isinstance(pid, (int, float)) and not isinstance(pid, bool):
        pid = str(pid)
    if pid is not None and not isinstance(pid, str):
        problems.append(Problem(**where, field="id", message=f"must be a text or a number, not a "
                                f"{_type_name(pid)}: every prompt needs a stable, unique id"))
    elif not isinstance(pid, str) or not pid.strip():
        problems.append(Problem(**where, field="id", message="is missing: every prompt needs a stable, unique id"))
    else:
        where = {**where, "record": where.get("record") or pid}
    turns, simulate = None, None
    if "simulate" in raw:
        messages, turns, simulate = _simulated(raw, where, problems)
    elif "turns" in raw:
        messages, turns = _conversation(raw, where, problems)
    else:
        if "system" in raw:
            problems.append(Problem(**where, field="system", message="is only for a conversation (turns:); for one "
                                    "request put a system message in 'input' as {role: system, content: ...}"))
        messages = _messages(raw, where, problems)
    category = raw.get("category", "uncategorised")
    if not isinstance(category, str) or not category.strip():
        problems.append(Problem(**where, field="category", message="must be a non-empty text"))
    target = raw.get("target")
    if target is not None and not isinstance(target, str):
        target = _text_list(target) if isinstance(target, list) else (str(target) if isinstance(target, (int, float)) else None)
        if target is None:
            problems.append(Problem(**where, field="target", message="must be a text or a list of texts"))
    choices = raw.get("choices")
    if choices is not None:
        choices = _text_list(choices)
        if not choices or len(choices) < 2:
            problems.append(Problem(**where, field="choices", message="must be a list of at least two options"))
    expect, expect_problems = parse_expect(raw.get("expect"))
    for msg in expect_problems:
        problems.append(Problem(**where, field="expect", message=msg.split(": ", 1)[-1]))
    rules = raw.get("rules", [])
    if isinstance(rules, str):
        problems.append(Problem(**where, field="rules", message=f"must be a list of rule ids: write rules: [{rules}]"))
    elif not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        problems.append(Problem(**where, field="rules", message="must be a list of rule ids such as [T01, T02]"))
    metadata = raw.get("metadata", {})
    if not isinstance(metadata, dict):
        problems.append(Problem(**where, field="metadata", message="must be a mapping of key: value"))
    if turns is not None and isinstance(metadata, dict):
        _check_turn_fields(metadata, len(turns) if simulate is None else simulate.max_turns, where, problems)
    if len(problems) > before:
        return None
    # Categories repeat across thousands of prompts: one string object each (sys.intern).
    prompt = Prompt(id=pid.strip(), messages=messages, category=sys.intern(category.strip()), target=target,
                    choices=choices, expect=expect, rules=rules, metadata=metadata, suite="", turns=turns,
                    simulate=simulate)
    return _shared_fields(prompt, _PROMPT_FIELDS)


def _type_name(value: object) -> str:
    return {list: "list", dict: "mapping", bool: "true/false"}.get(type(value), type(value).__name__)
