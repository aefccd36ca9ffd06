"""OpenAI Chat Completions (and legacy text completions) on the loopback server.

Strict checks (what api.openai.com refuses in late 2026, provider-wire.md section 12):
* a field the SDK's request type does not know: 400 "Unrecognized request argument supplied";
* a Responses-only model (pro, codex, deep-research) on /chat/completions: 404;
* reasoning models (gpt-5 family, o-series): `max_tokens` and the penalties are
  `unsupported_parameter`; temperature/top_p other than 1 are `unsupported_value`; on gpt-5.1 and
  later temperature/top_p are accepted only with `reasoning_effort: "none"`;
* `reasoning_effort` on a model without reasoning, or a value the model family does not take.
Replies carry `completion_tokens_details.reasoning_tokens` and `prompt_tokens_details.cached_tokens`;
hidden reasoning counts in `completion_tokens`, as on the real API.
"""
from __future__ import annotations

import json
import time
from typing import Any

from harness.testing.loopback import rules as R
from harness.testing.loopback.render import Renderer
from harness.testing.loopback.scripting import Rejection, Scripted, default_message, new_id

_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    408: ("timeout", None),
    409: ("conflict", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}


def error_body(status: int, s: Scripted) -> dict:
    etype, ecode = _ERROR_TYPES.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
    return {
        "error": {
            "message": s.message or default_message(status),
            "type": s.error_type or etype,
            "param": None,
            "code": s.error_code if s.error_code is not None else ecode,
        }
    }


def auth_error() -> tuple[int, dict, dict]:
    return 401, {"error": {
        "message": "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
        "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}, {"x-request-id": new_id("req_")}


# -- strict checks ---------------------------------------------------------------------------------


def _bad(message: str, code: str | None, param: str | None, status: int = 400) -> Rejection:
    return Rejection(status, message, "invalid_request_error", code, param)


def check(body: Any, completions: bool = False) -> Rejection | None:
    """Why the real API would refuse this request body, or None."""
    if not isinstance(body, dict):
        return _bad("We could not parse the JSON body of your request.", None, None)
    allowed = R.openai_completion_fields() if completions else R.openai_chat_fields()
    if allowed is not None:
        for key in body:
            if key not in allowed:
                return _bad(f"Unrecognized request argument supplied: {key}", None, None)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return _bad("you must provide a model parameter", None, "model")
    if not completions and model in R.openai_responses_only_models():
        return _bad("This model is only supported in v1/responses and not in v1/chat/completions.",
                    None, "model", status=404)
    rules = R.rules()["openai"]
    effort = body.get("reasoning_effort")
    if not R.openai_is_reasoning(model):
        if effort is not None:
            return _bad("Unsupported parameter: 'reasoning_effort' is not supported with this model.",
                        "unsupported_parameter", "reasoning_effort")
        return None
    family = R.first_match(model, rules["efforts"]) or {"values": sorted(R.openai_efforts()), "default": "medium"}
    if effort is not None and effort not in family["values"]:
        return _bad(f"Unsupported value: 'reasoning_effort' does not support {effort!r} with this model. "
                    f"Supported values are: {', '.join(repr(v) for v in family['values'])}.",
                    "unsupported_value", "reasoning_effort")
    for field, hint in rules["unsupported_on_reasoning"].items():
        if field in body:
            msg = f"Unsupported parameter: '{field}' is not supported with this model."
            return _bad(f"{msg} {hint}".strip(), "unsupported_parameter", field)
    gated = R.matches(model, rules["effort_gated_sampling"])
    effective_effort = effort if effort is not None else family.get("default")
    for field, default in rules["default_only"].items():
        if field not in body or body[field] is None:
            continue
        if gated and effective_effort != "none":
            return _bad(f"Unsupported parameter: '{field}' is only supported when reasoning_effort is 'none' "
                        f"with this model.", "unsupported_parameter", field)
        if not gated and body[field] != default:
            return _bad(f"Unsupported value: '{field}' does not support {body[field]} with this model. "
                        f"Only the default ({default}) value is supported.", "unsupported_value", field)
    return None


# -- rendering -------------------------------------------------------------------------------------


class OpenAIRenderer(Renderer):
    protocol = "openai"
    kind_map = {"block": "content_filter", "safety_stop": "content_filter"}

    def error_body(self, status: int, s: Scripted) -> dict:
        return error_body(status, s)

    def rejection_body(self, r: Rejection) -> dict:
        return {"error": {"message": r.message, "type": r.error_type or "invalid_request_error",
                          "param": r.param, "code": r.code}}

    def base_headers(self) -> dict[str, str]:
        return {"x-request-id": new_id("req_")}

    def requested_budget(self) -> int | None:
        for key in ("max_completion_tokens", "max_tokens"):
            if isinstance(self.body.get(key), int):
                return self.body[key]
        return None

    def finish(self, kind: str) -> str:
        if self.s.finish_reason:
            return self.s.finish_reason
        return {"content_filter": "content_filter", "truncated": "length"}.get(kind, "stop")

    def usage(self, visible: int) -> dict:
        reasoning = self.reasoning_tokens()
        out = visible + reasoning
        return {"prompt_tokens": self.in_tok, "completion_tokens": out, "total_tokens": self.in_tok + out,
                "prompt_tokens_details": {"cached_tokens": self.cached_tokens(), "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0,
                                              "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}

    def render_json(self) -> None:
        if self.extra.get("completions"):
            self.completions_json()
            return
        kind = self.effective_kind()
        s = self.s
        content: str | None = self.visible_text()
        refusal = None
        if kind == "refusal":
            content, refusal = None, s.text
        elif kind == "content_filter":
            content = ""
        finish = self.finish(kind)
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal}
        if finish in ("tool_calls", "function_call"):
            message["content"] = None
            call = {"name": "loopback_tool", "arguments": json.dumps({"text": s.text})}
            if finish == "tool_calls":
                message["tool_calls"] = [{"id": new_id("call_"), "type": "function", "function": call}]
            else:
                message["function_call"] = call
        obj = {
            "id": new_id("chatcmpl-"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": self.usage(self.out_tokens(content or refusal or "")),
            "system_fingerprint": "fp_loopback",
        }
        self.h.send_json(200, obj, s.headers, self.base_headers())

    def completions_json(self) -> None:
        """A legacy text completion (``/v1/completions``): a refusal or filter is finish_reason
        content_filter with no text, since this API has no refusal field."""
        kind = self.effective_kind()
        text = "" if kind in ("refusal", "content_filter") else self.visible_text()
        finish = "content_filter" if kind == "refusal" else self.finish(kind)
        self.h.send_json(200, {
            "id": new_id("cmpl-"), "object": "text_completion", "created": int(time.time()), "model": self.model,
            "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish}],
            "usage": self.usage(self.out_tokens(text)), "system_fingerprint": "fp_loopback",
        }, self.s.headers, self.base_headers())

    def render_stream(self) -> None:
        h, s = self.h, self.s
        kind = self.effective_kind()
        cid, created = new_id("chatcmpl-"), int(time.time())
        include_usage = bool((self.body.get("stream_options") or {}).get("include_usage"))

        def event(obj: dict) -> None:
            h.write_chunk(b"data: " + json.dumps(obj).encode() + b"\n\n")

        def chunk(delta: dict, finish: str | None = None) -> dict:
            return {"id": cid, "object": "chat.completion.chunk", "created": created, "model": self.model,
                    "system_fingerprint": "fp_loopback",
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

        text = "" if kind == "content_filter" else (s.text if kind == "refusal" else self.visible_text())
        field_name = "refusal" if kind == "refusal" else "content"
        h.start_stream(200, "text/event-stream; charset=utf-8", s.headers, self.base_headers())
        first = {"role": "assistant", "content": None if kind == "refusal" else ""}
        if kind == "refusal":
            first["refusal"] = ""
        event(chunk(first))
        h.wait(s.first_chunk_delay_s)
        for i, piece in enumerate(self.pieces(text)):
            if i:
                h.wait(s.chunk_delay_s)
            event(chunk({field_name: piece}))
        if kind == "stream_error":
            status = s.status or 500
            event(error_body(status, s))
            h.end_stream()
            return
        event(chunk({}, self.finish(kind)))
        if include_usage:
            event({"id": cid, "object": "chat.completion.chunk", "created": created, "model": self.model,
                   "choices": [], "usage": self.usage(self.out_tokens(text))})
        h.write_chunk(b"data: [DONE]\n\n")
        h.end_stream()


def models_body(models: list[str], model_id: str | None) -> dict:
    def o(m: str) -> dict:
        return {"id": m, "object": "model", "created": 1700000000, "owned_by": "loopback"}
    if model_id is not None:
        return o(model_id)
    return {"object": "list", "data": [o(m) for m in models]}
