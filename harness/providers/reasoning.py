"""Hidden reasoning in replies: kept apart from the answer, counted, and never scored.

* Local reasoning models (llama.cpp with `--reasoning-format none`, some Ollama / vLLM set-ups) put
  `<think>...</think>` inline in the content; with reasoning parsing on, OpenAI-compatible servers send it
  as `reasoning_content` or `reasoning`. Either way it is not the answer: a scorer that read it would
  score the model's deliberation ("the user wants a method... I must refuse") as its reply.
* A reply whose budget went entirely to reasoning ends truncated with no visible text. That is not a
  short answer and not a refusal: it is its own outcome (reason `reasoning_exhausted`), counted per
  provider, so that no table silently judges each provider on the prompts where it happened to think
  briefly.
"""
from __future__ import annotations

import re

from harness.types import REASONING_EXHAUSTED, Outcome, Reply
#: At most this much reasoning text is stored with a reply (raw["reasoning"]).
REASONING_LIMIT = 20_000

_OPEN = re.compile(r"<think(?:ing)?>", re.I)
_BLOCK = re.compile(r"<think(?:ing)?>(.*?)</think(?:ing)?>", re.I | re.S)
_CLOSE = re.compile(r"</think(?:ing)?>", re.I)


def split_think(text: str) -> tuple[str, str]:
    """(answer, reasoning) of a content string with inline `<think>...</think>` blocks.

    A block that is opened but never closed (the budget ran out mid-thought) is all reasoning. A
    closing tag with no opening one at the very start (templates that open the block in the prompt,
    e.g. DeepSeek-R1 / Qwen3 chat templates) ends a reasoning prefix."""
    if not text:
        return text, ""
    thoughts: list[str] = []
    head = _OPEN.search(text)
    close = _CLOSE.search(text)
    if close is not None and (head is None or close.start() < head.start()):
        thoughts.append(text[:close.start()])
        text = text[close.end():]
    for m in _BLOCK.finditer(text):
        thoughts.append(m.group(1))
    text = _BLOCK.sub("", text)
    head = _OPEN.search(text)
    if head is not None:  # opened, never closed
        thoughts.append(text[head.end():])
        text = text[:head.start()]
    if not thoughts:
        return text, ""
    return text.strip(), "\n\n".join(t.strip() for t in thoughts if t.strip())


def finish_reasoning(reply: Reply, reasoning_text: str | None = None) -> Reply:
    """Store the reasoning apart (raw["reasoning"], raw["reasoning_tokens"]) and mark a reply whose whole
    budget went to reasoning as `reasoning_exhausted` (outcome truncated, no text to score)."""
    if reasoning_text:
        reply.raw["reasoning"] = reasoning_text[:REASONING_LIMIT]
        if len(reasoning_text) > REASONING_LIMIT:
            reply.raw["reasoning_truncated_at"] = REASONING_LIMIT
    usage = reply.usage
    if usage.reasoning_tokens is not None:
        reply.raw["reasoning_tokens"] = usage.reasoning_tokens
    if usage.cached_input_tokens:
        reply.raw["cached_input_tokens"] = usage.cached_input_tokens
    if usage.cache_write_input_tokens:
        reply.raw["cache_write_input_tokens"] = usage.cache_write_input_tokens
    thought = bool(reasoning_text) or bool(usage.reasoning_tokens)
    if reply.outcome is Outcome.TRUNCATED and thought and not (reply.text or "").strip():
        reply.text = ""
        reply.reason = REASONING_EXHAUSTED
    return reply
