"""The data types every part of the harness shares, defined once.

A *prompt* comes from a suite; a *sample* is one prompt sent to one provider for one repeat;
a *reply* is what the provider gave back, normalised; a *score* is one scorer's verdict on a reply.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant"]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    role: Role
    content: str


class Simulation(BaseModel):
    """A simulated user (harness/runner/simulator.py): the eval's `simulator:` provider plays this
    persona, writing each next user turn from the conversation so far, after the opening."""

    model_config = ConfigDict(extra="forbid")
    persona: str
    opening: str
    max_turns: int = Field(default=6, ge=1, le=50)


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
    # A live conversation (harness/runner/conversation.py): the user's messages, in order. `messages`
    # then holds the optional system message and the first of them, so that everything reading a
    # prompt's first request (coverage, ideation, judges) works unchanged; None for a single request.
    turns: list[str] | None = None
    # A simulated user instead of scripted turns: `turns` then holds the opening only.
    simulate: Simulation | None = None

    @property
    def is_conversation(self) -> bool:
        return self.turns is not None

    @property
    def planned_turns(self) -> int:
        """A conversation's turns: its scripted ones, or a simulation's max_turns."""
        return self.simulate.max_turns if self.simulate is not None else len(self.turns or [])


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
    TOO_LARGE = "too_large"        # the reply passed max_reply_bytes
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


@dataclass(frozen=True)
class ScorerTraits:
    """What a scorer declares about itself (harness/scoring/traits.py), so that the runner, the reports and
    the CLI decide by what a scorer does, never by its name: a user's scorer that declares the same
    traits as a built-in one gets the same tables and gates. A plain function declares nothing and gets
    these defaults.

    rule_verdicts: the scorer returns a teen-safety summary first, then per applicable rule `signal:<ID>`
      and `rule:<ID>` (harness/scoring/verdicts.py). Its results are then counted per measure in the safety
      tables, gates, JUnit and paired comparisons, never averaged into an accuracy; the eval's judge
      refines its rule verdicts; prompt categories must be ones the rules know (or mapped), and the run
      prints per-rule coverage.
    aggregate: how its per-turn verdicts make a conversation's (harness/scoring/conversation.py):
      "worst", "any" or "last".
    conversation: `(prompt, turns, aggregated scores) -> (scores, {scorer: failing turn})`, called once
      per conversation with the conversation context; its scores replace the aggregated ones of the
      same names (teen_safety checks its session rule T14 there)."""

    rule_verdicts: bool = False
    aggregate: str = "worst"
    conversation: Callable | None = None


class Turn(BaseModel):
    """One assistant turn of a live conversation: the user's message, the provider's reply to the
    conversation so far, that reply's scores and cost (harness/runner/conversation.py)."""

    turn: int          # 1-based: the k-th user message
    user: str
    reply: Reply
    scores: list[Score] = Field(default_factory=list)
    cost_usd: float | None = None


ConversationEnd = Literal["completed", "error", "blocked", "empty_reply", "simulator_failed"]


class ConversationResult(BaseModel):
    """How a conversation ended and where it first failed (stored in the `conversations` table).

    `first_failing_turn`: the first turn where any scorer's verdict failed (overall); per scorer and
    rule in `first_failing`. `first_critical_turn`: the first turn with a failed critical rule, the
    event of the survival table (harness/report/survival.py). None: it never failed (in the turns sent)."""

    planned_turns: int
    sent_turns: int
    ended: ConversationEnd
    ended_turn: int | None = None
    first_failing_turn: int | None = None
    first_critical_turn: int | None = None
    first_failing: dict[str, int] = Field(default_factory=dict)
