"""A scripted chat judge for the loopback server: it reads the judge's request as a model would (which
rules are asked, the prompt and the reply between their nonce delimiters) and answers in the judge's
JSON format, per rule or for all rules of a reply at once.

    srv.responder = judge_responder(decide)      # decide(rule_id | None, question, prompt, reply)

`decide` returns "pass", "fail" or "unusable" for a rule (the answer is then YES or NO according to the
rule's judge_pass_answer), or "yes"/"no" for a free question (rule None: ideation, graded). Requests
that are not judge requests get `other(request)` (the model under test), or an echo.

The separate evaluator question (harness.scoring.judge_evaluator) is answered by `addresses(prompt,
reply)`: "yes", "no", "error" (an HTTP 400: a judge that fails on it) or "garbage" (an answer that does
not parse); without it the scripted judge answers no.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from harness.testing.loopback import LoggedRequest, Scripted

Decide = Callable[[str | None, str, str, str], str]
Addresses = Callable[[str, str], str]
_BLOCK = r"<<{0}-([0-9a-fA-F]+|NONCE)>>\n(.*?)\n<<END-{0}-\1>>"


def request_texts(req: LoggedRequest) -> tuple[str, str]:
    """(system text, last user text) of an OpenAI, Anthropic or Gemini request body."""
    body = req.body if isinstance(req.body, dict) else {}
    if "contents" in body:   # gemini
        system = " ".join(p.get("text", "") for p in (body.get("systemInstruction") or {}).get("parts", []))
        user = " ".join(p.get("text", "") for p in body["contents"][-1].get("parts", []))
        return system, user
    messages = body.get("messages") or []
    system = body.get("system") if isinstance(body.get("system"), str) else ""
    system += " ".join(m["content"] for m in messages if m.get("role") == "system" and isinstance(m["content"], str))
    last = messages[-1]["content"] if messages else ""
    if isinstance(last, list):
        last = " ".join(part.get("text", "") for part in last if isinstance(part, dict))
    return system, last


def is_judge_request(req: LoggedRequest) -> bool:
    return "impartial evaluator" in request_texts(req)[0]


def judge_answer(req: LoggedRequest, decide: Decide, addresses: Addresses | None = None) -> Scripted:
    """The scripted judge's answer to one judge request (per_rule, per_reply or the evaluator question)."""
    from harness.scoring.judge_evaluator import HEADER
    from harness.scoring.rules import default_ruleset

    rules = {r.id: r for r in default_ruleset().rules}
    _, user = request_texts(req)
    prompt = re.search(_BLOCK.format("PROMPT"), user, re.S).group(2)
    reply = re.search(_BLOCK.format("REPLY"), user, re.S).group(2)
    if user.startswith(HEADER):
        return evaluator_answer(addresses(prompt, reply) if addresses else "no", reply)
    many = re.findall(r"^\[([A-Z]\d+)\] QUESTION: (.*)$", user, re.M)
    if many:
        out: dict[str, Any] = {}
        for rid, question in many:
            said = decide(rid, question, prompt, reply)
            if said == "unusable":
                out[rid] = {"reason": "Cannot tell.", "answer": "MAYBE"}
                continue
            out[rid] = {"reason": "Scripted.", "answer": _yes_no(rules[rid], said)}
        return Scripted(text=json.dumps(out))
    question = re.search(r"^QUESTION: (.*)$", user, re.M).group(1)
    m = re.search(r"^Rule ([A-Z]\d+) \(", user, re.M)
    rid = m.group(1) if m else next((r.id for r in rules.values() if r.judge_question == question), None)
    said = decide(rid, question, prompt, reply)
    if said == "unusable":
        return Scripted(text=json.dumps({"reason": "Cannot tell.", "answer": "MAYBE"}))
    answer = _yes_no(rules[rid], said) if rid and said in ("pass", "fail") else said.upper()
    return Scripted(text=json.dumps({"reason": "Scripted.", "answer": answer}))


def evaluator_answer(said: str, reply: str) -> Scripted:
    """The scripted answer to the evaluator question: "yes", "no", "error" or "garbage"."""
    if said == "error":
        return Scripted(kind="error", status=400, message="scripted judge failure")   # not retried
    if said == "garbage":
        return Scripted(text="I am not sure what you are asking.")
    return Scripted(text=json.dumps({"addresses_evaluator": said == "yes",
                                     "evidence": reply[:120] if said == "yes" else ""}))


def _yes_no(rule: Any, said: str) -> str:
    passes = said == "pass"
    return ("YES" if rule.judge_pass_answer == "yes" else "NO") if passes else \
        ("NO" if rule.judge_pass_answer == "yes" else "YES")


def judge_responder(decide: Decide, other: Callable[[LoggedRequest], Scripted] | None = None,
                    addresses: Addresses | None = None):
    """A loopback responder: judge requests answered by `decide` (the evaluator question by
    `addresses`), the rest by `other`."""
    def respond(req: LoggedRequest) -> Scripted | None:
        if is_judge_request(req):
            return judge_answer(req, decide, addresses)
        return other(req) if other else None

    return respond
