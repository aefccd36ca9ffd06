"""The deprecated google-generativeai adapter (gemini-legacy) against the loopback server: the real
legacy SDK (0.8.x, REST transport) sends real HTTP to 127.0.0.1; nothing in the SDK is mocked.

What the SDK does that these tests pin down (see harness/providers/gemini_legacy.py):
* `genai.configure` is process-global; the adapter does not use it, so providers do not interfere.
* google-auth re-sends a 401 twice; the adapter turns that off, so one attempt is one request.
* the SDK's own retries (503 for up to 600 s) are off: every retry is the harness's.
* a streamed prompt block raises BlockedPromptException in the SDK; it is a PROVIDER_BLOCKED reply.
* the SDK yields a streamed chunk only after the next one arrived; ttft_s is not one gap late.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

pytest.importorskip("google.generativeai", reason="the deprecated google-generativeai SDK is not installed")

from harness.providers import gemini_legacy  # noqa: E402
from harness.providers.base import GenerationParams, ProviderConfig  # noqa: E402
from harness.providers.errors import ProviderError  # noqa: E402
from harness.providers.gemini_legacy import DEPRECATION, GeminiLegacyProvider  # noqa: E402
from harness.providers.retry import RetryPolicy  # noqa: E402
from harness.testing.loopback import LoopbackServer, Scripted  # noqa: E402
from harness.types import ErrorKind, Message, Outcome, Reply  # noqa: E402
from tests.helpers import closed_port, complete, complete_with_identity, loopback_fixtures

KEY = "AIza-legacy-loopback-0123456789"
MODEL = "gemini-1.5-flash"
USER = [Message(role="user", content="Say hi")]
REPO = Path(__file__).resolve().parents[1]
PATH = f"/v1beta/models/{MODEL}"
LEGACY_QUERY = "%24alt=json%3Benum-encoding%3Dint"  # $alt=json;enum-encoding=int


_server, srv = loopback_fixtures(KEY, env=("GEMINI_API_KEY",), unset=("GOOGLE_API_KEY",))


@pytest.fixture(autouse=True)
def _quiet_deprecation():
    """The adapter's one-line notice is asserted in its own tests; elsewhere it is noise."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="gemini-legacy uses google-generativeai", category=FutureWarning)
        yield


def make(srv: LoopbackServer | None = None, attempts: int = 6, **cfg) -> GeminiLegacyProvider:
    cfg.setdefault("base_url", srv.url if srv else None)
    cfg.setdefault("timeout_s", 5.0)
    provider = GeminiLegacyProvider(ProviderConfig(model=f"gemini-legacy/{MODEL}", **cfg))
    provider.retry_policy = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05, max_attempts=attempts)
    return provider


def run(provider, messages=USER, params: GenerationParams | None = None) -> Reply:
    return complete(provider, messages, params)[0]


def run_all(provider, count: int, messages=USER) -> list[Reply]:
    return complete(provider, messages, count=count)



# -- replies and the request as sent -------------------------------------------------------------

@pytest.mark.parametrize("stream", [True, False])
def test_normal_reply_with_usage(srv, stream):
    srv.push(Scripted(text="hello there", input_tokens=9, output_tokens=2), protocol="gemini_legacy")
    reply = run(make(srv, stream=stream))
    assert reply.outcome is Outcome.ANSWERED and reply.text == "hello there"
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (9, 2)
    assert reply.finish_reason == "STOP" and reply.model_reported == MODEL
    assert reply.attempts == 1
    assert (reply.ttft_s is not None) is stream
    [req] = srv.requests
    assert req.protocol == "gemini_legacy" and req.stream is stream
    assert req.path == f"{PATH}:{'streamGenerateContent' if stream else 'generateContent'}"
    assert req.query == LEGACY_QUERY
    assert req.headers["x-goog-api-key"] == KEY
    assert req.headers["x-goog-api-client"].startswith("genai-py/0.8")
    assert req.headers["user-agent"].startswith("python-requests/")


def test_multi_turn_with_system_prompt_arrives_in_gemini_shape(srv):
    messages = [
        Message(role="system", content="Answer in French."),
        Message(role="user", content="Hi"),
        Message(role="assistant", content="Bonjour"),
        Message(role="user", content="How are you?"),
    ]
    params = GenerationParams(temperature=0.2, max_tokens=50, seed=3, stop=["END"], system_prompt="You are terse.")
    reply = run(make(srv, stream=False), messages, params)
    body = srv.requests[0].body
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Hi"}]},
        {"role": "model", "parts": [{"text": "Bonjour"}]},
        {"role": "user", "parts": [{"text": "How are you?"}]},
    ]
    assert body["systemInstruction"] == {"parts": [{"text": "You are terse.\n\nAnswer in French."}]}
    # The legacy GenerationConfig has no seed field: not sent, and the reply says so.
    assert body["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 50, "stopSequences": ["END"]}
    assert "seed" in reply.raw and "not sent" in reply.raw["seed"]
    assert "safetySettings" not in body


def test_unset_params_are_not_sent(srv):
    run(make(srv))
    body = srv.requests[0].body
    assert set(body) <= {"contents", "generationConfig"}
    assert body.get("generationConfig") in (None, {})  # the SDK always sends the (empty) object


def test_safety_settings_pass_through_and_are_recorded(srv):
    settings = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]
    provider = make(srv, options={"safety_settings": settings})
    reply = run(provider)
    # The SDK asks for integer enums ($alt=json;enum-encoding=int) and sends them as integers too.
    assert srv.requests[0].body["safetySettings"] == [{"category": 7, "threshold": 3}]
    assert reply.raw["safety_settings"] == settings
    assert provider.identity()["safety_settings"] == settings


def test_safety_category_unknown_to_the_old_sdk_fails_at_start(srv):
    settings = [{"category": "HARM_CATEGORY_CIVIC_INTEGRITY", "threshold": "BLOCK_NONE"}]
    with pytest.raises(ProviderError) as info:
        asyncio.run(make(srv, options={"safety_settings": settings}).start())
    assert info.value.kind is ErrorKind.BAD_REQUEST and not info.value.retryable
    assert "civic_integrity" in info.value.message.lower()
    assert srv.requests == []


def test_streamed_ttft_is_when_the_first_text_arrived(srv):
    # The SDK's response wrapper yields a chunk only once the next one has arrived (here 0.4 s
    # later); the adapter reads the chunks as they are parsed.
    srv.push(Scripted(text="one two three four", input_tokens=4, first_chunk_delay_s=0.15, chunk_delay_s=0.4),
             protocol="gemini_legacy")
    reply = run(make(srv, stream=True))
    assert reply.outcome is Outcome.ANSWERED and reply.text == "one two three four"
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (4, 4)
    assert reply.ttft_s is not None and 0.15 <= reply.ttft_s < 0.5
    assert reply.latency_s >= 0.15 + 3 * 0.4


def test_stream_keeps_usage_when_the_last_chunk_has_none(srv):
    chunk = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}, "index": 0}],
             "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 1, "totalTokenCount": 8}}
    last = {"candidates": [{"content": {"role": "model", "parts": [{"text": "lo"}]}, "finishReason": "STOP",
                            "index": 0}]}
    srv.push(Scripted(body=[chunk, last]), protocol="gemini_legacy")
    reply = run(make(srv, stream=True))
    assert reply.text == "Hello" and reply.finish_reason == "STOP"
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (7, 1)


# -- blocks and truncation -------------------------------------------------------------------------

BLOCK_REASONS = ["SAFETY", "OTHER", "BLOCKLIST", "PROHIBITED_CONTENT"]
SAFETY_FINISHES = ["SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION"]


@pytest.mark.parametrize("stream", [True, False])
def test_blocked_prompt_is_provider_blocked(srv, stream):
    # Streamed, the SDK raises BlockedPromptException; not streamed, `.text` would raise ValueError.
    for reason in BLOCK_REASONS:
        srv.push(Scripted(kind="block", block_reason=reason), protocol="gemini_legacy")
    replies = run_all(make(srv, stream=stream), len(BLOCK_REASONS))
    for reason, reply in zip(BLOCK_REASONS, replies):
        assert reply.outcome is Outcome.PROVIDER_BLOCKED, (reason, reply.reason)
        assert reply.reason == reason and reply.raw["block_reason"] == reason
        blocked = [r for r in reply.raw["safety_ratings"] if r.get("blocked")]
        assert [r["category"] for r in blocked] == ["HARM_CATEGORY_DANGEROUS_CONTENT"]
        assert reply.text == "" and reply.attempts == 1
    assert len(srv.requests) == len(BLOCK_REASONS)


@pytest.mark.parametrize("stream", [True, False])
def test_candidate_safety_stop_is_provider_blocked(srv, stream):
    for finish in SAFETY_FINISHES:
        srv.push(Scripted(kind="safety_stop", finish_reason=finish, category="harassment"),
                 protocol="gemini_legacy")
    replies = run_all(make(srv, stream=stream), len(SAFETY_FINISHES))
    for finish, reply in zip(SAFETY_FINISHES, replies):
        assert reply.outcome is Outcome.PROVIDER_BLOCKED, finish
        assert reply.reason == finish and reply.finish_reason == finish
        blocked = [r for r in reply.raw["safety_ratings"] if r.get("blocked")]
        assert [r["category"] for r in blocked] == ["HARM_CATEGORY_HARASSMENT"]


def test_partial_text_then_safety_stop_is_blocked(srv):
    srv.push(Scripted(body=[
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "Here is how to"}]}, "index": 0}]},
        {"candidates": [{"finishReason": "SAFETY", "index": 0, "safetyRatings": [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}]}]},
    ]), protocol="gemini_legacy")
    reply = run(make(srv, stream=True))
    assert reply.outcome is Outcome.PROVIDER_BLOCKED and reply.reason == "SAFETY"
    assert reply.text == "" and reply.raw["partial_text"] == "Here is how to"


@pytest.mark.parametrize("stream", [True, False])
def test_max_tokens_is_truncated(srv, stream):
    srv.push(Scripted(kind="truncated", text="partial answer"), protocol="gemini_legacy")
    reply = run(make(srv, stream=stream))
    assert reply.outcome is Outcome.TRUNCATED and reply.text == "partial answer"
    assert reply.finish_reason == "MAX_TOKENS" and reply.reason == "max_tokens"


# -- errors and retries ----------------------------------------------------------------------------

@pytest.mark.parametrize("stream", [True, False])
def test_429_is_retried_by_the_harness_then_succeeds(srv, stream):
    srv.push(Scripted(kind="error", status=429), protocol="gemini_legacy")
    srv.push(Scripted(kind="error", status=429), protocol="gemini_legacy")
    srv.push(Scripted(text="ok now"), protocol="gemini_legacy")
    reply = run(make(srv, stream=stream))
    assert reply.outcome is Outcome.ANSWERED and reply.text == "ok now"
    assert reply.attempts == 3 and len(srv.requests) == 3  # one request per harness attempt


def test_429_retry_info_delay_is_honoured(srv):
    srv.push(Scripted(kind="error", status=429, retry_delay="0.2s"), protocol="gemini_legacy")
    srv.push(Scripted(text="ok"), protocol="gemini_legacy")
    reply = run(make(srv))
    assert reply.outcome is Outcome.ANSWERED and reply.attempts == 2
    first, second = srv.requests
    assert second.received_at - first.received_at >= 0.2


def test_503_is_retried_by_the_harness_not_the_sdk(srv):
    # The SDK's default policy would retry a 503 itself (for up to 600 s), invisibly to the harness.
    srv.push(Scripted(kind="error", status=503), protocol="gemini_legacy")
    srv.push(Scripted(text="recovered"), protocol="gemini_legacy")
    reply = run(make(srv))
    assert reply.outcome is Outcome.ANSWERED and reply.attempts == 2 and len(srv.requests) == 2


def test_retries_give_up_after_max_attempts(srv):
    for _ in range(3):
        srv.push(Scripted(kind="error", status=500, message="boom"), protocol="gemini_legacy")
    reply = run(make(srv, attempts=3))
    assert reply.outcome is Outcome.ERROR and reply.error_kind is ErrorKind.SERVER
    assert reply.attempts == 3 and len(srv.requests) == 3
    assert reply.raw == {"status": 500} and "HTTP 500 INTERNAL" in reply.reason and "boom" in reply.reason


@pytest.mark.parametrize("status,kind", [(400, ErrorKind.BAD_REQUEST), (401, ErrorKind.AUTH),
                                         (403, ErrorKind.AUTH), (404, ErrorKind.NOT_FOUND)])
@pytest.mark.parametrize("stream", [True, False])
def test_client_errors_fail_fast(srv, status, kind, stream):
    srv.push(Scripted(kind="error", status=status, message=f"scripted {status}"), protocol="gemini_legacy")
    srv.push(Scripted(text="must not be reached"), protocol="gemini_legacy")
    reply = run(make(srv, stream=stream))
    assert reply.outcome is Outcome.ERROR and reply.error_kind is kind
    assert reply.attempts == 1
    # One request, also for 401: google-auth's session would re-send a 401 twice ("refreshing
    # credentials", which an API key cannot fix), and the re-send would have consumed the next
    # scripted reply and come back answered. The adapter switches that re-send off.
    assert len(srv.requests) == 1 and srv.pending == 1
    assert f"HTTP {status}" in reply.reason and f"scripted {status}" in reply.reason
    assert "POST http" not in reply.reason  # api_core's "METHOD URL:" prefix is dropped
    assert reply.raw == {"status": status} and type(reply.raw["status"]) is int


def test_invalid_key_400_is_auth(srv, monkeypatch):
    # Google answers a bad key with 400 INVALID_ARGUMENT + ErrorInfo reason API_KEY_INVALID.
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-wrong-000000000")
    reply = run(make(srv))
    assert reply.error_kind is ErrorKind.AUTH and len(srv.requests) == 1 and reply.attempts == 1
    assert "API key not valid" in reply.reason


@pytest.mark.parametrize("stream", [True, False])
def test_refused_connection(monkeypatch, stream):
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    reply = run(make(None, base_url=f"http://127.0.0.1:{closed_port()}", stream=stream, attempts=2))
    assert reply.outcome is Outcome.ERROR and reply.error_kind is ErrorKind.CONNECTION
    assert reply.attempts == 2 and "cannot connect" in reply.reason


@pytest.mark.parametrize("stream", [True, False])
def test_timeout(srv, stream):
    srv.push(Scripted(kind="hang"), protocol="gemini_legacy")
    reply = run(make(srv, stream=stream, timeout_s=0.3, attempts=1))
    assert reply.outcome is Outcome.ERROR and reply.error_kind is ErrorKind.TIMEOUT


@pytest.mark.parametrize("stream", [True, False])
def test_malformed_200_is_malformed_and_retried(srv, stream):
    srv.push(Scripted(kind="malformed"), protocol="gemini_legacy")
    srv.push(Scripted(text="fine"), protocol="gemini_legacy")
    reply = run(make(srv, stream=stream))
    assert reply.outcome is Outcome.ANSWERED and reply.text == "fine" and reply.attempts == 2


def test_malformed_200_error_kind(srv):
    srv.push(Scripted(kind="malformed"), protocol="gemini_legacy")
    reply = run(make(srv, stream=True, attempts=1))
    assert reply.error_kind is ErrorKind.MALFORMED


def test_sse_body_for_a_legacy_stream_is_malformed(srv):
    srv.push(Scripted(body="data: " + json.dumps({"candidates": []}) + "\r\n\r\n"), protocol="gemini_legacy")
    reply = run(make(srv, stream=True, attempts=1))
    assert reply.error_kind is ErrorKind.MALFORMED and "Can only parse array of JSON objects" in reply.reason


def test_empty_200_is_malformed(srv):
    srv.push(Scripted(body={}), protocol="gemini_legacy")
    reply = run(make(srv, stream=False, attempts=1))
    assert reply.error_kind is ErrorKind.MALFORMED and "without candidates" in reply.reason


def test_error_inside_stream_is_malformed_and_retried(srv):
    # The SDK parses the array's {"error": ...} object with unknown fields ignored, i.e. as an
    # empty chunk, so the status is lost; the stream then lacks a finishReason.
    srv.push(Scripted(kind="stream_error", text="partial", status=503), protocol="gemini_legacy")
    reply = run(make(srv, stream=True, attempts=1))
    assert reply.error_kind is ErrorKind.MALFORMED
    assert "without a finishReason" in reply.reason and "could not read" in reply.reason
    srv.clear()
    srv.push(Scripted(kind="stream_error", text="partial", status=503), protocol="gemini_legacy")
    srv.push(Scripted(text="whole"), protocol="gemini_legacy")
    reply = run(make(srv, stream=True))
    assert reply.outcome is Outcome.ANSWERED and reply.text == "whole" and reply.attempts == 2


# -- keys, isolation, identity ---------------------------------------------------------------------

def test_no_key_is_one_clear_auth_error(monkeypatch):
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    with pytest.raises(ProviderError) as info:
        asyncio.run(make(None, base_url="http://127.0.0.1:9").start())
    assert info.value.kind is ErrorKind.AUTH and not info.value.retryable
    assert info.value.message == "no API key: set GEMINI_API_KEY (or api_key_env in the eval file)"


def test_gemini_api_key_wins_over_google_api_key(srv, monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-the-other-one")
    assert run(make(srv)).outcome is Outcome.ANSWERED
    assert srv.requests[0].headers["x-goog-api-key"] == KEY
    srv.clear()
    monkeypatch.delenv("GEMINI_API_KEY")
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    assert run(make(srv)).outcome is Outcome.ANSWERED


def test_base_url_needs_its_scheme(srv):
    with pytest.raises(ProviderError, match="needs its scheme"):
        asyncio.run(make(srv, base_url=srv.url.removeprefix("http://")).start())


def test_key_never_appears_in_reply_or_identity(srv, monkeypatch):
    secret = "loopback-credential-legacy-42"
    monkeypatch.setenv("LLM_CRED", secret)
    srv.api_key = secret
    srv.push(Scripted(text="fine"), protocol="gemini_legacy")
    srv.push(Scripted(kind="error", status=400, message=f"bad key {secret}"), protocol="gemini_legacy")
    provider = make(srv, api_key_env="LLM_CRED")

    (good, bad), identity = complete_with_identity(provider, USER, count=2)
    assert good.outcome is Outcome.ANSWERED and bad.outcome is Outcome.ERROR
    assert srv.requests[0].headers["x-goog-api-key"] == secret  # it was sent, just never recorded
    for blob in (good.model_dump_json(), bad.model_dump_json(), json.dumps(identity)):
        assert secret not in blob
    assert identity["sdk"] == "google-generativeai (deprecated)" and identity["api_version"] == "v1beta"
    assert identity["base_url"] == srv.url and identity["transport"] == "rest"
    assert identity["sdk_version"].startswith("0.8")


def test_two_providers_in_one_process_do_not_interfere(monkeypatch):
    """genai.configure() is process-global (and GenerativeModel uses whichever client the last
    configure built); the adapter gives each provider its own client instead."""
    import google.generativeai as genai

    monkeypatch.setenv("KEY_A", "AIza-key-a")
    monkeypatch.setenv("KEY_B", "AIza-key-b")
    with LoopbackServer(api_key="AIza-key-a") as srv_a, LoopbackServer(api_key="AIza-key-b") as srv_b:
        srv_a.default = Scripted(text="from A")
        srv_b.default = Scripted(text="from B")
        a = make(srv_a, api_key_env="KEY_A")
        b = make(srv_b, api_key_env="KEY_B", stream=False)

        async def go():
            await a.start()
            await b.start()  # started last: with genai.configure, A would now send to B with B's key
            # Someone else in the process configuring the SDK must not redirect either provider.
            genai.configure(api_key="AIza-someone-else", transport="rest",
                            client_options={"api_endpoint": f"http://127.0.0.1:{closed_port()}"})
            try:
                return await asyncio.gather(*(p.complete(USER) for p in (a, b, a, b, a, b)))
            finally:
                await a.aclose()
                await b.aclose()

        try:
            replies = asyncio.run(go())
        finally:
            genai.configure()  # back to the SDK's import-time default
    assert [r.text for r in replies] == ["from A", "from B"] * 3
    assert len(srv_a.requests) == len(srv_b.requests) == 3
    assert {r.headers["x-goog-api-key"] for r in srv_a.requests} == {"AIza-key-a"}
    assert {r.headers["x-goog-api-key"] for r in srv_b.requests} == {"AIza-key-b"}


# -- the deprecation notice ------------------------------------------------------------------------

def test_start_warns_once_in_one_line(srv, monkeypatch):
    monkeypatch.setattr(gemini_legacy, "_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        run(make(srv))
        run(make(srv))  # once per process
    notices = [w for w in caught if issubclass(w.category, FutureWarning)]
    assert [str(w.message) for w in notices] == [DEPRECATION]
    [w] = notices
    shown = warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line)
    assert shown.count("\n") == 1 and shown.endswith(DEPRECATION + "\n")
    assert "end of life" in shown and "'gemini' provider" in shown


def test_start_warns_with_pytest_warns(srv, monkeypatch):
    monkeypatch.setattr(gemini_legacy, "_warned", False)
    with pytest.warns(FutureWarning, match=r"^gemini-legacy uses google-generativeai, which reached end of life"):
        asyncio.run(make(srv).start())


def test_fresh_process_prints_exactly_one_line(srv):
    """In a new interpreter the SDK's import prints its own multi-line FutureWarning (and
    google.api_core one about the Python version); the adapter prints only its one line."""
    code = (
        "import asyncio\n"
        "from harness.providers.base import ProviderConfig\n"
        "from harness.providers.gemini_legacy import GeminiLegacyProvider\n"
        f"p = GeminiLegacyProvider(ProviderConfig(model='gemini-legacy/{MODEL}', base_url={srv.url!r}))\n"
        "asyncio.run(p.start()); asyncio.run(p.start())\n"
        "print('started')\n"
    )
    env = {"PATH": "/usr/bin:/bin", "GEMINI_API_KEY": KEY, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-W", "default", "-c", code], env=env, capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "started\n"
    assert done.stderr.splitlines() == [f"gemini-legacy:0: FutureWarning: {DEPRECATION}"], done.stderr


def test_without_sdk_start_raises_import_error_with_hint(monkeypatch):
    # (tests/test_providers_gemini.py checks this only where the SDK is absent)
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    monkeypatch.setitem(sys.modules, "google.generativeai", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install 'chatbot-eval-harness\[gemini-legacy\]'"):
        asyncio.run(make(None, base_url="http://127.0.0.1:9").start())
