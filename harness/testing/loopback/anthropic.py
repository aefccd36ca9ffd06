"""Anthropic Messages on the loopback server.

Strict checks (what api.anthropic.com refuses in late 2026, provider-wire.md section 12):
* the `anthropic-version` header is required; under 2026-10-21 (what every anthropic 2.x SDK sends)
  `temperature`, `top_p` and `top_k` are a 400 at any value, 1.0 included ("temperature: Extra
  inputs are not permitted"); under 2023-06-01 they are accepted, except non-default values on
  current models (Sonnet 5 and later);
* any other field the SDK's request type does not know is "Extra inputs are not permitted";
* `model`, `max_tokens` and `messages` are required;
* `thinking` on a model that cannot think, or an enabled budget under 1024 or not below max_tokens.
Replies put `thinking` / `redacted_thinking` blocks before the text, count thinking tokens in
`output_tokens` (and `output_tokens_details.thinking_tokens`) and cache reads apart from
`input_tokens`, as the real API does.
"""
from __future__ import annotations

import json
from typing import Any

from harness.testing.loopback import rules as R
from harness.testing.loopback.render import Renderer
from harness.testing.loopback.scripting import Rejection, Scripted, default_message, new_id

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def error_body(status: int, s: Scripted) -> dict:
    etype = s.error_type or _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    err: dict[str, Any] = {"type": etype, "message": s.message or default_message(status)}
    if s.error_code:
        err["details"] = {"error_code": s.error_code}
    return {"type": "error", "error": err, "request_id": new_id("req_")}


def auth_error() -> tuple[int, dict, dict]:
    return 401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"},
                 "request_id": new_id("req_")}, {"request-id": new_id("req_")}


# -- strict checks ---------------------------------------------------------------------------------


def _bad(message: str) -> Rejection:
    return Rejection(400, message, "invalid_request_error")


def _check_thinking(model: str, thinking: Any, max_tokens: Any) -> Rejection | None:
    rules = R.rules()["anthropic"]
    types = sorted(R.anthropic_thinking_types() or {"enabled", "disabled", "adaptive"})
    if not isinstance(thinking, dict) or thinking.get("type") not in types:
        return _bad("thinking: Input tag does not match any of the expected tags: "
                    + ", ".join(repr(t) for t in types))
    kind = thinking["type"]
    if kind != "disabled" and R.matches(model, rules["non_thinking_models"]):
        return _bad(f"thinking: '{model}' does not support thinking.")
    if kind == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int):
            return _bad("thinking.enabled.budget_tokens: Field required")
        if budget < rules["min_thinking_budget"]:
            return _bad(f"thinking.enabled.budget_tokens: Input should be greater than or equal to "
                        f"{rules['min_thinking_budget']}")
        if isinstance(max_tokens, int) and budget >= max_tokens:
            return _bad("`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
                        "documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
                        "#max-tokens-and-context-window-size")
    return None


def check(body: Any, headers: dict[str, str]) -> Rejection | None:
    """Why the real API would refuse this request, or None."""
    rules = R.rules()["anthropic"]
    version = headers.get("anthropic-version")
    if not version:
        return _bad("anthropic-version: header is required")
    if version not in rules["known_versions"] and version != R.anthropic_sdk_version_header():
        return _bad(f"anthropic-version: {version!r} is not a valid version")
    if not isinstance(body, dict):
        return _bad("There was an error parsing the body of your request as JSON.")
    sampling = rules["sampling_fields"]
    new_api = version >= rules["sampling_removed_in"]
    allowed = R.anthropic_message_fields()
    for key in body:
        if key in sampling:
            if new_api:
                return _bad(f"{key}: Extra inputs are not permitted")
        elif allowed is not None and key not in allowed:
            return _bad(f"{key}: Extra inputs are not permitted")
    for key in ("model", "max_tokens", "messages"):
        if key not in body:
            return _bad(f"{key}: Field required")
    if new_api and isinstance(body["messages"], list):   # section 12: also 400 under 2026-10-21
        for i, message in enumerate(body["messages"]):
            content = message.get("content") if isinstance(message, dict) else None
            for j, block in enumerate(content if isinstance(content, list) else []):
                if not isinstance(block, dict):
                    continue
                if message.get("role") == "assistant" and block.get("type") == "document":
                    return _bad(f"messages.{i}.content.{j}: document blocks are not permitted in assistant messages")
                if message.get("role") == "user" and block.get("type") == "text" and block.get("citations"):
                    return _bad(f"messages.{i}.content.{j}.citations: Extra inputs are not permitted")
    model = body["model"]
    if not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1:
        return _bad("max_tokens: Input should be greater than or equal to 1")
    if R.matches(model, rules["non_default_rejected"]):
        for key in sampling:
            if key in body and body[key] != rules["sampling_defaults"].get(key, object()):
                return _bad(f"{key}: only the default value is supported for {model}; remove the field.")
    if "thinking" in body:
        return _check_thinking(model, body["thinking"], body["max_tokens"])
    return None


# -- rendering -------------------------------------------------------------------------------------


class AnthropicRenderer(Renderer):
    protocol = "anthropic"
    kind_map = {"block": "refusal", "safety_stop": "refusal", "content_filter": "refusal"}

    def error_body(self, status: int, s: Scripted) -> dict:
        return error_body(status, s)

    def rejection_body(self, r: Rejection) -> dict:
        return {"type": "error", "error": {"type": r.error_type or "invalid_request_error", "message": r.message},
                "request_id": new_id("req_")}

    def base_headers(self) -> dict[str, str]:
        return {"request-id": new_id("req_")}

    def default_error_status(self, kind: str) -> int:
        return 529 if kind == "stream_error" else 500

    def requested_budget(self) -> int | None:
        return self.body.get("max_tokens") if isinstance(self.body.get("max_tokens"), int) else None

    def thinking_on(self) -> bool:
        t = self.body.get("thinking")
        return not (isinstance(t, dict) and t.get("type") == "disabled")

    def reasoning_tokens(self) -> int:
        return super().reasoning_tokens() if self.thinking_on() else 0

    def stop(self, kind: str) -> str:
        if self.s.finish_reason:
            return self.s.finish_reason
        return {"refusal": "refusal", "truncated": "max_tokens"}.get(kind, "end_turn")

    def stop_sequence(self, stop: str) -> str | None:
        if stop != "stop_sequence":
            return None
        seqs = self.body.get("stop_sequences") or ["\n\nHuman:"]
        return seqs[0]

    def stop_details(self, kind: str) -> dict | None:
        if kind != "refusal":
            return None
        return {"type": "refusal", "category": self.s.category, "explanation": self.s.message}

    def usage(self, visible: int) -> dict:
        reasoning = self.reasoning_tokens()
        cached = self.cached_tokens()
        out: dict[str, Any] = {"input_tokens": self.in_tok - cached, "output_tokens": visible + reasoning,
                               "cache_read_input_tokens": cached, "cache_creation_input_tokens": 0}
        if reasoning:
            out["output_tokens_details"] = {"thinking_tokens": reasoning}
        return out

    def thinking_blocks(self) -> list[dict]:
        s = self.s
        blocks: list[dict] = []
        if not self.thinking_on():
            return blocks
        if s.thinking is not None or self.exhausted():
            blocks.append({"type": "thinking", "thinking": s.thinking or "", "signature": new_id("sig_")})
        if s.redacted_thinking:
            blocks.append({"type": "redacted_thinking", "data": new_id("redacted_")})
        return blocks

    def tool_block(self, stop: str) -> dict | None:
        if stop != "tool_use":
            return None
        return {"type": "tool_use", "id": new_id("toolu_"), "name": "loopback_tool", "input": {"text": self.s.text}}

    def render_json(self) -> None:
        kind = self.effective_kind()
        s = self.s
        text = self.visible_text()
        stop = self.stop(kind)
        content = self.thinking_blocks() + ([{"type": "text", "text": text}] if text else [])
        tool = self.tool_block(stop)
        if tool:
            content.append(tool)
        obj: dict[str, Any] = {
            "id": new_id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": self.stop_sequence(stop),
            "usage": self.usage(self.out_tokens(text)),
        }
        details = self.stop_details(kind)
        if details:
            obj["stop_details"] = details
        self.h.send_json(200, obj, s.headers, self.base_headers())

    def render_stream(self) -> None:
        h, s = self.h, self.s
        kind = self.effective_kind()
        text = self.visible_text()

        def event(name: str, obj: dict) -> None:
            h.write_chunk(f"event: {name}\ndata: ".encode() + json.dumps(obj).encode() + b"\n\n")

        h.start_stream(200, "text/event-stream; charset=utf-8", s.headers, self.base_headers())
        start_usage = dict(self.usage(0), output_tokens=1)
        start_usage.pop("output_tokens_details", None)
        event("message_start", {"type": "message_start", "message": {
            "id": new_id("msg_"), "type": "message", "role": "assistant", "model": self.model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": start_usage}})
        index = 0
        for block in self.thinking_blocks():
            if block["type"] == "thinking":
                event("content_block_start", {"type": "content_block_start", "index": index,
                                              "content_block": {"type": "thinking", "thinking": "", "signature": ""}})
                for piece in self.pieces(block["thinking"]):
                    event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                  "delta": {"type": "thinking_delta", "thinking": piece}})
                event("content_block_delta", {"type": "content_block_delta", "index": index,
                                              "delta": {"type": "signature_delta", "signature": block["signature"]}})
            else:
                event("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})
            event("content_block_stop", {"type": "content_block_stop", "index": index})
            index += 1
        pieces = self.pieces(text)
        if pieces:
            event("content_block_start", {"type": "content_block_start", "index": index,
                                          "content_block": {"type": "text", "text": ""}})
        event("ping", {"type": "ping"})
        h.wait(s.first_chunk_delay_s)
        for i, piece in enumerate(pieces):
            if i:
                h.wait(s.chunk_delay_s)
            event("content_block_delta", {"type": "content_block_delta", "index": index,
                                          "delta": {"type": "text_delta", "text": piece}})
        if kind == "stream_error":
            status = s.status or 529
            event("error", {"type": "error", "error": error_body(status, s)["error"]})
            h.end_stream()
            return
        if pieces:
            event("content_block_stop", {"type": "content_block_stop", "index": index})
            index += 1
        stop = self.stop(kind)
        tool = self.tool_block(stop)
        if tool:
            event("content_block_start", {"type": "content_block_start", "index": index,
                                          "content_block": dict(tool, input={})})
            event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {
                "type": "input_json_delta", "partial_json": json.dumps(tool["input"])}})
            event("content_block_stop", {"type": "content_block_stop", "index": index})
        delta: dict[str, Any] = {"stop_reason": stop, "stop_sequence": self.stop_sequence(stop)}
        details = self.stop_details(kind)
        if details:
            delta["stop_details"] = details
        final = self.usage(self.out_tokens(text))
        final.pop("input_tokens", None)
        event("message_delta", {"type": "message_delta", "delta": delta, "usage": final})
        event("message_stop", {"type": "message_stop"})
        h.end_stream()


def models_body(models: list[str], model_id: str | None) -> dict:
    def a(m: str) -> dict:
        return {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
    if model_id is not None:
        return a(model_id)
    data = [a(m) for m in models]
    return {"data": data, "has_more": False, "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None}
