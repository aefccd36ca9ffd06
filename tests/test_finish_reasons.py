"""Every finish/stop reason of each installed SDK's enum is mapped in finish_reasons.yaml, and each
adapter does what the table says with it, through the real SDK over HTTP to the strict loopback
server. A new SDK value fails here until someone decides what it means; a value that is not in the
table is an error naming it, never an answer."""
from __future__ import annotations

import sqlite3
import typing

import pytest
import yaml

from harness.providers import finish_reasons
from harness.providers.anthropic_messages import AnthropicProvider
from harness.providers.base import ProviderConfig
from harness.providers.gemini import GeminiProvider
from harness.providers.openai_chat import OpenAIChatProvider
from harness.providers.retry import RetryPolicy
from harness.testing.loopback import LoopbackServer, Scripted
from harness.types import ErrorKind, Message, Outcome
from tests.helpers import complete

KEY = "sk-finish-reasons-000000000"
USER = [Message(role="user", content="Say hi")]
TABLE = finish_reasons.table()
EXPECTED = {"answered": Outcome.ANSWERED, "truncated": Outcome.TRUNCATED, "blocked": Outcome.PROVIDER_BLOCKED,
            "error": Outcome.ERROR, "stop_provider": Outcome.ERROR}


def _literal_values(tp) -> list[str]:
    out: list[str] = []
    for arg in typing.get_args(tp):
        out += [arg] if isinstance(arg, str) else _literal_values(arg)
    return out


def openai_values() -> list[str]:
    from openai.types.chat.chat_completion import Choice
    from openai.types.chat.chat_completion_chunk import Choice as ChunkChoice

    return sorted(set(_literal_values(Choice.model_fields["finish_reason"].annotation))
                  | set(_literal_values(ChunkChoice.model_fields["finish_reason"].annotation)))


def anthropic_values() -> list[str]:
    from anthropic.types import StopReason

    return sorted(_literal_values(StopReason))


def gemini_values() -> list[str]:
    from google.genai import types

    return [r.value for r in types.FinishReason]


# -- the table covers every enum value -------------------------------------------------------------


@pytest.mark.parametrize("provider,field,values", [
    ("openai", "finish_reason", openai_values),
    ("anthropic", "stop_reason", anthropic_values),
    ("gemini", "finish_reason", gemini_values),
])
def test_every_sdk_value_is_in_the_table(provider, field, values):
    vals = values()
    assert len(vals) >= 5, "the SDK enum was read"
    missing = [v for v in vals if v not in TABLE[provider][field]]
    assert not missing, f"add {missing} to harness/providers/finish_reasons.yaml ({provider}.{field})"


def test_gemini_block_reasons_and_legacy_enums_are_in_the_table():
    from google.genai import types

    blocks = TABLE["gemini"]["block_reason"]
    assert [r.value for r in types.BlockedReason if r.value not in blocks] == []
    assert all(blocks[r.value]["outcome"] == "blocked" for r in types.BlockedReason)
    glm = pytest.importorskip("google.ai.generativelanguage_v1beta")
    assert [r.name for r in glm.Candidate.FinishReason if r.name not in TABLE["gemini"]["finish_reason"]] == []
    assert [r.name for r in glm.GenerateContentResponse.PromptFeedback.BlockReason if r.name not in blocks] == []


def test_table_is_well_formed_and_unknown_is_an_error_naming_it():
    for provider, fields in TABLE.items():
        for field, values in fields.items():
            for value, entry in values.items():
                assert entry["outcome"] in finish_reasons.OUTCOMES, (provider, field, value)
    d = finish_reasons.decide("gemini", "finish_reason", "BRAND_NEW_REASON")
    assert d.outcome == "error" and "BRAND_NEW_REASON" in d.reason and d.reply_outcome is None
    assert finish_reasons.decide("gemini", "finish_reason", "PUP_LIMITED_DISABLED").outcome == "stop_provider"
    assert finish_reasons.decide("gemini", "finish_reason", "ESCALATION").outcome == "blocked"
    assert finish_reasons.decide("gemini", "finish_reason", "CONTINUATION").outcome == "truncated"


# -- each adapter follows the table ----------------------------------------------------------------


@pytest.fixture(scope="module")
def srv():
    with LoopbackServer(api_key=KEY) as server:
        yield server


def _provider(kind: str, srv: LoopbackServer, stream: bool):
    if kind == "openai":
        cls, model, base = OpenAIChatProvider, "openai/gpt-4o-mini", srv.openai_base_url
    elif kind == "anthropic":
        cls, model, base = AnthropicProvider, "anthropic/claude-haiku-4-5", srv.url
    else:
        cls, model, base = GeminiProvider, "gemini/gemini-2.5-flash", srv.url
    p = cls(ProviderConfig(model=model, base_url=base, api_key_env="FINISH_KEY", timeout_s=5.0, stream=stream))
    p.retry_policy = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, max_attempts=3)
    return p


CASES = ([("openai", "finish_reason", v) for v in openai_values()]
         + [("anthropic", "stop_reason", v) for v in anthropic_values()]
         + [("gemini", "finish_reason", v) for v in gemini_values()]
         + [(k, f, "BRAND_NEW_REASON") for k, f in (("openai", "finish_reason"), ("anthropic", "stop_reason"),
                                                     ("gemini", "finish_reason"))])


@pytest.mark.parametrize("stream", [False, True])
def test_adapters_follow_the_table_for_every_value(srv, monkeypatch, stream):
    monkeypatch.setenv("FINISH_KEY", KEY)
    problems = []
    for kind, field, value in CASES:
        srv.clear()
        srv.responder = lambda req, v=value: Scripted(text="some text", finish_reason=v)
        (reply,) = complete(_provider(kind, srv, stream), USER)
        d = finish_reasons.decide(kind, field, value)
        want = EXPECTED[d.outcome]
        if value.endswith("_UNSPECIFIED"):
            want = Outcome.ERROR  # the SDK reads it as "not set": no finish reason, a malformed reply
        got = (reply.outcome, reply.error_kind)
        if reply.outcome is not want:
            problems.append(f"{kind} {value}: {got}, want {want}")
        elif want is Outcome.ERROR and not value.endswith("_UNSPECIFIED"):
            if value not in (reply.reason or ""):
                problems.append(f"{kind} {value}: error does not name the value: {reply.reason!r}")
            kind_want = ErrorKind.AUTH if d.outcome == "stop_provider" else ErrorKind.OTHER
            if reply.error_kind is not kind_want:
                problems.append(f"{kind} {value}: error kind {reply.error_kind}, want {kind_want}")
        elif want is Outcome.PROVIDER_BLOCKED and reply.text:
            problems.append(f"{kind} {value}: blocked reply keeps text {reply.text!r}")
        elif want in (Outcome.ANSWERED, Outcome.TRUNCATED) and reply.text != "some text":
            problems.append(f"{kind} {value}: text {reply.text!r}")
    srv.responder = None
    assert problems == []


def test_pup_limited_disabled_stops_the_provider_like_a_rejected_key(tmp_path, cli):
    n = 12
    suite = {"name": "s", "prompts": [{"id": f"p{i}", "input": f"q {i}", "target": "ok"} for i in range(n)]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    with LoopbackServer(api_key=KEY) as server:
        server.responder = lambda req: (Scripted(text="", finish_reason="PUP_LIMITED_DISABLED")
                                        if req.protocol == "gemini" else Scripted(text="ok"))
        spec = {"name": "pup", "suites": ["s.yaml"], "scorers": ["match"], "providers": [
            {"model": "openai/gpt-4o-mini", "base_url": server.openai_base_url, "api_key_env": "FINISH_KEY"},
            {"model": "gemini/gemini-3.5-flash", "base_url": server.url, "api_key_env": "FINISH_KEY",
             "concurrency": 1},
        ]}
        (tmp_path / "e.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
        done = cli("run", str(tmp_path / "e.yaml"), "-r", str(tmp_path / "r"), "--no-progress",
                   env={"FINISH_KEY": KEY})
        gemini_requests = len(server.requests_for("gemini"))
    assert done.returncode != 0, done.stderr
    assert gemini_requests <= 2, "stopped after the first restricted-account reply"
    assert "gemini/gemini-3.5-flash: stopped after auth error" in done.stderr
    db = sqlite3.connect(tmp_path / "r" / "harness.db")
    rows = db.execute("SELECT p.outcome, p.error_kind, p.reason FROM samples s JOIN replies p ON p.sample_id = s.id"
                      " WHERE s.provider = 'gemini/gemini-3.5-flash'").fetchall()
    assert rows and all(o == "error" and k == "auth" and "PUP_LIMITED_DISABLED" in r for o, k, r in rows)
    answered = db.execute("SELECT COUNT(*) FROM samples s JOIN replies p ON p.sample_id = s.id"
                          " WHERE s.provider = 'gemini/gemini-3.5-flash' AND p.outcome = 'answered'").fetchone()[0]
    assert answered == 0
