"""The data types every part of the harness shares, defined once.

A *prompt* comes from a suite; a *sample* is one prompt sent to one provider for one repeat;
a *reply* is what the provider gave back, normalised; a *score* is one scorer's verdict on a reply.
"""
from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant"]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    role: Role
    content: str


class Prompt(BaseModel):
    """One row of a prompt suite, after validation."""

    model_config = ConfigDict(extra="forbid")
    id: str
    messages: list[Message]
    category: str = "uncategorised"
    target: str | list[str] | None = None
    choices: list[str] | None = None
    # Expectations written in the suite's shorthand (e.g. {"contains": "Paris"}); scorers read them.
    expect: list[dict[str, Any]] = Field(default_factory=list)
    # Teen-safety rule ids that apply to this prompt (see prompts/rules/teen_safety.yaml).
    rules: list[str] = Field(default_factory=list)
    # The built-in teen-safety categories this prompt counts as, when a `category_map:` maps its own
    # category onto ours (None: its category is used as it is).
    rule_categories: list[str] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    suite: str = ""


class Outcome(str, Enum):
    """What happened to a request, the same for every provider.

    Only ANSWERED and TRUNCATED carry model text. PROVIDER_BLOCKED means the provider's own safety
    layer stopped the reply (a refusal-class outcome). ERROR is never model behaviour and is never
    scored as a pass or a fail.
    """

    ANSWERED = "answered"
    PROVIDER_BLOCKED = "provider_blocked"
    TRUNCATED = "truncated"
    ERROR = "error"


#: The reason of a TRUNCATED reply with no visible text because its whole budget went to hidden reasoning:
#: counted apart in every table and never scored (harness/providers/reasoning.py sets it).
REASONING_EXHAUSTED = "reasoning_exhausted"


class ErrorKind(str, Enum):
    AUTH = "auth"                  # 401/403, bad key: stop the provider
    NOT_FOUND = "not_found"        # 404, unknown model
    BAD_REQUEST = "bad_request"    # 400/422: our request is wrong
    RATE_LIMIT = "rate_limit"      # 429 after retries ran out
    QUOTA = "quota"                # 429 insufficient_quota and friends: stop the provider
    SERVER = "server"              # 5xx / 529 after retries ran out
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    MALFORMED = "malformed"        # a 200 whose body we cannot use
    CONTEXT = "context_length"     # prompt too long for the model
    MODEL_MISMATCH = "model_mismatch"  # another model answered (--strict-model): stop the provider
    OTHER = "other"


class Usage(BaseModel):
    """Token counts; None is unknown, never 0. `input_tokens` counts every input token, cached ones
    included (`cached_input_tokens` and `cache_write_input_tokens` are parts of it, priced at their own
    rates); `output_tokens` counts every billed output token, hidden reasoning included
    (`reasoning_tokens` is the part of it spent on reasoning)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None


class Reply(BaseModel):
    """A provider's answer to one sample, normalised."""

    text: str = ""
    outcome: Outcome
    # Why: the provider's block category, the truncation cause, or the error message (redacted).
    reason: str | None = None
    error_kind: ErrorKind | None = None
    finish_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    latency_s: float | None = None
    ttft_s: float | None = None
    model_reported: str | None = None
    attempts: int = 1
    raw: dict[str, Any] = Field(default_factory=dict)

    @property
    def scorable(self) -> bool:
        return self.outcome is not Outcome.ERROR


class Score(BaseModel):
    """One scorer's verdict on one reply. passed is None when the scorer does not apply."""

    scorer: str
    passed: bool | None
    value: float | None = None
    label: str | None = None
    explanation: str = ""
    evidence: str | None = None
    severity: str | None = None  # for rule verdicts: critical / major / minor
