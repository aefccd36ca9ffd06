"""Gemini generateContent / streamGenerateContent (google-genai, SSE) on the loopback server.

Strict checks (what generativelanguage.googleapis.com refuses in late 2026, provider-wire.md
section 12), shared with the legacy google-generativeai transport, which talks to the same API:
* a `generationConfig` (or `thinkingConfig`) field that google-genai's own types do not define:
  400 INVALID_ARGUMENT "Unknown name ... Cannot find field";
* `thinkingConfig` on a model that does not think; `thinkingLevel` on a model that takes only a
  budget; a budget out of the model's range; budget 0 on a model that cannot stop thinking; both a
  level and a budget.
Replies put `"thought": true` parts before the answer when the request asks for thoughts, and report
`thoughtsTokenCount` (apart from `candidatesTokenCount`, as the real API does) and
`cachedContentTokenCount`.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from harness.testing.loopback import rules as R
from harness.testing.loopback.render import Renderer
from harness.testing.loopback.scripting import Rejection, Scripted, default_message

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

_SAFETY_RATINGS_BLOCKED = [
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
]


def error_body(status: int, s: Scripted) -> dict:
    details: list[dict] = []
    if s.error_code:
        details.append({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": s.error_code,
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        })
    if s.retry_delay:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": s.retry_delay})
    err: dict[str, Any] = {
        "code": status,
        "message": s.message or default_message(status),
        "status": s.error_type or _STATUS.get(status, "UNKNOWN"),
    }
    if details:
        err["details"] = details
    return {"error": err}


def auth_error() -> tuple[int, dict, dict]:
    return 400, {"error": {
        "code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                     "domain": "googleapis.com",
                     "metadata": {"service": "generativelanguage.googleapis.com"}}]}}, {}


def safety_ratings(category: str | None) -> list[dict]:
    if not category:
        return [dict(r) for r in _SAFETY_RATINGS_BLOCKED]
    cat = category if category.startswith("HARM_CATEGORY_") else "HARM_CATEGORY_" + category.upper()
    out = [dict(r) for r in _SAFETY_RATINGS_BLOCKED if r["category"] != cat]
    for r in out:
        r.pop("blocked", None)
        r["probability"] = "NEGLIGIBLE"
    out.append({"category": cat, "probability": "HIGH", "blocked": True})
    return out


# -- strict checks ---------------------------------------------------------------------------------


def _bad(message: str) -> Rejection:
    return Rejection(400, message, "INVALID_ARGUMENT")


def _unknown(key: str, where: str) -> Rejection:
    return _bad(f'Invalid JSON payload received. Unknown name "{key}" at \'{where}\': Cannot find field.')


def _check_thinking(model: str, tc: Any) -> Rejection | None:
    if not isinstance(tc, dict):
        return _bad("Invalid value at 'generation_config.thinking_config': expected an object.")
    allowed = R.gemini_thinking_config_fields()
    if allowed is not None:
        for key in tc:
            if key not in allowed:
                return _unknown(key, "generation_config.thinking_config")
    rule = R.gemini_model_rule(model)
    if rule is None:
        return None
    if not rule.get("thinks"):
        return _bad(f"Thinking is not supported by models/{model}; remove thinking_config.")
    level = tc.get("thinkingLevel", tc.get("thinking_level"))
    budget = tc.get("thinkingBudget", tc.get("thinking_budget"))
    if level is not None and budget is not None:
        return _bad("You can only set only one of thinking budget and thinking level.")
    if level is not None:
        levels = rule.get("levels")
        if not levels:
            return _bad(f"Thinking level is not supported for models/{model}; use thinking_budget.")
        if str(level).lower() not in levels:
            return _bad(f"Invalid thinking level {level!r} for models/{model}; expected one of "
                        f"{', '.join(v.upper() for v in levels)}.")
    if budget is not None:
        lo, hi = rule["budget"]
        if budget == 0 and not rule.get("can_disable"):
            return _bad("Budget 0 is invalid. This model only works in thinking mode.")
        if budget not in (-1, 0) and not (lo <= budget <= hi):
            return _bad(f"The thinking budget {budget} is invalid. Please choose a value between {lo} and {hi}.")
    return None


def check(body: Any, model: str) -> Rejection | None:
    """Why the real API would refuse this request, or None."""
    if not isinstance(body, dict):
        return _bad("Invalid JSON payload received.")
    known = R.gemini_request_fields()
    if known is not None:
        for key in body:
            if key not in known:
                return _bad(f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')
    gc = body.get("generationConfig", body.get("generation_config"))
    if gc is None:
        return None
    if not isinstance(gc, dict):
        return _bad("Invalid value at 'generation_config': expected an object.")
    allowed = R.gemini_generation_config_fields()
    if allowed is not None:
        for key in gc:
            if key not in allowed:
                return _unknown(key, "generation_config")
    tc = gc.get("thinkingConfig", gc.get("thinking_config"))
    if tc is not None:
        return _check_thinking(model, tc)
    return None


# -- rendering -------------------------------------------------------------------------------------


class GeminiRenderer(Renderer):
    protocol = "gemini"
    kind_map = {"refusal": "block", "content_filter": "safety_stop"}

    def error_body(self, status: int, s: Scripted) -> dict:
        return error_body(status, s)

    def rejection_body(self, r: Rejection) -> dict:
        return {"error": {"code": r.status, "message": r.message, "status": r.error_type or "INVALID_ARGUMENT"}}

    def gen_config(self) -> dict:
        gc = self.body.get("generationConfig", self.body.get("generation_config"))
        return gc if isinstance(gc, dict) else {}

    def requested_budget(self) -> int | None:
        gc = self.gen_config()
        value = gc.get("maxOutputTokens", gc.get("max_output_tokens"))
        return value if isinstance(value, int) else None

    def include_thoughts(self) -> bool:
        tc = self.gen_config().get("thinkingConfig", self.gen_config().get("thinking_config")) or {}
        return bool(isinstance(tc, dict) and tc.get("includeThoughts", tc.get("include_thoughts")))

    def finish(self, kind: str) -> str:
        if self.s.finish_reason:
            return self.s.finish_reason
        return {"truncated": "MAX_TOKENS", "safety_stop": "SAFETY"}.get(kind, "STOP")

    def usage(self, out: int | None) -> dict:
        u: dict[str, Any] = {"promptTokenCount": self.in_tok}
        total = self.in_tok
        if out is not None:
            u["candidatesTokenCount"] = out
            total += out
            reasoning = self.reasoning_tokens()
            if reasoning:
                u["thoughtsTokenCount"] = reasoning
                total += reasoning
        if self.cached_tokens():
            u["cachedContentTokenCount"] = self.cached_tokens()
        u["totalTokenCount"] = total
        return u

    def wrap(self, candidates: list[dict] | None, usage: dict, rid: str, **extra: Any) -> dict:
        obj: dict[str, Any] = {}
        if candidates is not None:
            obj["candidates"] = candidates
        obj.update(extra)
        obj.update({"usageMetadata": usage, "modelVersion": self.model, "responseId": rid})
        return obj

    def block(self, rid: str) -> dict:
        return self.wrap(None, self.usage(None), rid, promptFeedback={
            "blockReason": self.s.block_reason or "SAFETY", "safetyRatings": safety_ratings(self.s.category)})

    def safety_stop(self, rid: str) -> dict:
        return self.wrap([{"finishReason": self.finish("safety_stop"), "index": 0,
                           "safetyRatings": safety_ratings(self.s.category)}], self.usage(0), rid)

    def chunk(self, parts: list[dict], rid: str, finish: str | None, out: int | None) -> dict:
        content: dict[str, Any] = {"role": "model"}
        if parts:
            content["parts"] = parts
        cand: dict[str, Any] = {"content": content, "index": 0}
        if finish:
            cand["finishReason"] = finish
        return self.wrap([cand], self.usage(out), rid)

    def thought_parts(self) -> list[dict]:
        if self.include_thoughts() and self.s.thinking:
            return [{"text": self.s.thinking, "thought": True}]
        return []

    def objects(self) -> tuple[list[dict], dict | None]:
        """The response as a list of stream chunks, plus a trailing error object for stream_error."""
        kind = self.effective_kind()
        rid = uuid.uuid4().hex[:22]
        if kind == "block":
            return [self.block(rid)], None
        if kind == "safety_stop":
            return [self.safety_stop(rid)], None
        text = self.visible_text()
        pieces = self.pieces(text)
        out = self.out_tokens(text)
        chunks = [self.chunk(p, rid, None, None) for p in ([self.thought_parts()] if self.thought_parts() else [])]
        if kind == "stream_error":
            chunks += [self.chunk([{"text": p}], rid, None, None) for p in pieces]
            return chunks, error_body(self.s.status or 503, self.s)
        finish = self.finish(kind)
        chunks += [self.chunk([{"text": p}], rid, None, None) for p in pieces[:-1]]
        last = [{"text": pieces[-1]}] if pieces else ([] if chunks or self.exhausted() else [{"text": ""}])
        chunks.append(self.chunk(last, rid, finish, out))
        return chunks, None

    def render_json(self) -> None:
        kind = self.effective_kind()
        rid = uuid.uuid4().hex[:22]
        if kind == "block":
            obj = self.block(rid)
        elif kind == "safety_stop":
            obj = self.safety_stop(rid)
        else:
            text = self.visible_text()
            parts = self.thought_parts() + ([{"text": text}] if text or not self.exhausted() else [])
            obj = self.chunk(parts, rid, self.finish(kind), self.out_tokens(text))
        self.h.send_json(200, obj, self.s.headers, self.base_headers())

    def render_stream(self) -> None:
        h, s = self.h, self.s
        chunks, error = self.objects()
        h.start_stream(200, "text/event-stream", s.headers, self.base_headers())
        h.wait(s.first_chunk_delay_s)
        for i, obj in enumerate(chunks):
            if i:
                h.wait(s.chunk_delay_s)
            h.write_chunk(b"data: " + json.dumps(obj).encode() + b"\r\n\r\n")
        if error is not None:
            h.write_chunk(b"data: " + json.dumps(error).encode() + b"\r\n\r\n")
        h.end_stream()


def models_body(models: list[str], model_id: str | None) -> dict:
    def g(m: str) -> dict:
        return {"name": f"models/{m}", "displayName": m, "version": "001",
                "inputTokenLimit": 1048576, "outputTokenLimit": 8192,
                "supportedGenerationMethods": ["generateContent", "countTokens"]}
    if model_id is not None:
        return g(model_id)
    return {"models": [g(m) for m in models]}
