"""Issue 22 items 1-2: whatever a provider sends is data. Lone surrogates, noncharacters, NUL, control
and bidi characters, markup and invalid UTF-8 go through a real run (the real OpenAI SDK against a
hostile server) and out through every output format; a trickling server meets the whole-reply
deadline and a huge body the size bound."""
from __future__ import annotations

import asyncio
import csv
import io
import json
import resource
import sqlite3
import time
import xml.etree.ElementTree as ET

import pytest
import yaml

from harness.providers.base import ProviderConfig
from harness.providers.openai_compatible import OpenAICompatibleProvider
from harness.surrogates import RAW_KEY, escape_text, restore
from harness.testing.hostile import Hostile, HostileServer
from harness.types import ErrorKind, Message, Outcome

# Each class of hostile text: (JSON string literal as the server writes it, what Python parses it to).
HOSTILE = {
    "lone_high": ('"a\\ud800b"', "a\ud800b"),
    "lone_low": ('"\\udfffend"', "\udfffend"),
    "reversed_pair": ('"x\\ude00\\ud83dy"', "x\ude00\ud83dy"),
    "split_pair": ('"ok \\ud83d\\ude00"', "ok \U0001f600"),
    "nonchar": ('"\\ufffe and \\uffff and \ufffe"', "\ufffe and \uffff and \ufffe"),
    "nul": ('"nul\\u0000byte"', "nul\x00byte"),
    "controls": ('"\\u001b[31mred\\u001b[0m \\u0085 \\u202egnp.exe"', "\x1b[31mred\x1b[0m \x85 \u202egnp.exe"),
    "markup": ('"</script><!-- ]]> <testcase name=\\"x\\"/> &amp;"', '</script><!-- ]]> <testcase name="x"/> &amp;'),
}
INVALID_UTF8 = b"bad \xff\xfe \xc3( end"


def _plan(request: dict) -> Hostile:
    prompt = request["messages"][-1]["content"]
    if prompt == "invalid_utf8":
        return Hostile(content_bytes=INVALID_UTF8)
    return Hostile(content_json=HOSTILE[prompt][0])


def _provider(srv: HostileServer, **config) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(ProviderConfig(model="openai-compatible/m", base_url=srv.base_url,
                                                   retry={"max_attempts": 1}, **config))


def _complete(provider, text="hi", timing: list | None = None):
    async def go():
        await provider.start()   # imports the SDK: not part of the reply's time
        started = time.monotonic()
        try:
            return await provider.complete([Message(role="user", content=text)])
        finally:
            if timing is not None:
                timing.append(time.monotonic() - started)
            await provider.aclose()
    return asyncio.run(go())


def test_escape_is_reversible_and_pairs_halves():
    text = "a\ud800b\ufffdc\ud83d\ude00\udfff"
    clean, found = escape_text(text)
    assert clean == "a\ufffdb\ufffdc\U0001f600\ufffd"
    clean.encode("utf-8")   # storable
    assert found == [[1, 0xD800], [6, 0xDFFF]]
    assert restore(clean, found) == "a\ud800b\ufffdc\U0001f600\udfff"   # the real U+FFFD stays itself


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_every_hostile_text_comes_back_through_the_real_sdk(case, stream):
    with HostileServer(_plan) as srv:
        reply = _complete(_provider(srv, stream=stream), case)
    assert reply.outcome is Outcome.ANSWERED, reply.reason
    sent = HOSTILE[case][1]
    positions = reply.raw.get(RAW_KEY, {}).get("text", [])
    reply.text.encode("utf-8")
    reply.model_dump_json()   # what used to raise PydanticSerializationError
    expected = escape_text(sent)[0]
    assert reply.text == expected
    assert restore(reply.text, positions) == sent.replace("\ud83d\ude00", "\U0001f600")


@pytest.mark.parametrize("stream", [True, False])
def test_invalid_utf8_never_crashes(stream):
    with HostileServer(Hostile(content_bytes=INVALID_UTF8)) as srv:
        reply = _complete(_provider(srv, stream=stream))
    # Not text at all: kept with replacement characters, or a malformed reply (an error, never model output).
    if reply.outcome is Outcome.ANSWERED:
        assert "\ufffd" in reply.text and reply.text.startswith("bad ")
    else:
        assert reply.outcome is Outcome.ERROR and reply.error_kind is ErrorKind.MALFORMED, reply


def _write_eval(tmp_path, base_url: str, prompts: list[str], **provider) -> None:
    suite = {"name": "hostile", "version": "1",
             "prompts": [{"id": p, "input": p, "target": "x", "category": "fuzz"} for p in prompts]}
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    spec = {"name": "hostile-eval", "suites": ["suite.yaml"], "scorers": ["match"],
            "providers": [{"model": "openai-compatible/m", "base_url": base_url, "label": "evil\x1b[2Jbox",
                           "retry": {"max_attempts": 1}, **provider}]}
    (tmp_path / "eval.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")


def test_fuzz_every_output_format(tmp_path, cli):
    prompts = [*sorted(HOSTILE), "invalid_utf8"]
    results = str(tmp_path / "r")
    with HostileServer(_plan) as srv:
        _write_eval(tmp_path, srv.base_url, prompts)
        junit = tmp_path / "run.xml"
        ran = cli("run", str(tmp_path / "eval.yaml"), "--results", results, "--no-progress", "--junit", str(junit))
        assert ran.returncode in (0, 3), ran.stderr     # 3: `match` fails every reply; never an internal error
        assert "internal error" not in ran.stderr and "Traceback" not in ran.stderr
        # Again, from the cache: the escaped replies round-trip through it too.
        again = cli("run", str(tmp_path / "eval.yaml"), "--results", results, "--no-progress")
        assert again.returncode in (0, 3) and "internal error" not in again.stderr, again.stderr
        assert f"{len(prompts) - 1} replies from the cache" in again.stderr or "replies from the cache" in again.stderr
    db = sqlite3.connect(tmp_path / "r" / "harness.db")
    assert [r[0] for r in db.execute("SELECT status FROM runs")] == ["finished", "finished"]
    assert db.execute("SELECT COUNT(*) FROM replies").fetchone()[0] == 2 * len(prompts)

    ET.parse(junit)   # well-formed XML whatever the replies held
    for fmt in ("table", "markdown", "csv", "json"):
        shown = cli("compare", "--results", results, "--format", fmt)
        assert shown.returncode in (0, 3) and "internal error" not in shown.stderr, (fmt, shown.stderr)
        assert "\x1b" not in shown.stdout and "\u202e" not in shown.stdout, fmt
    out = cli("compare", "--results", results, "--format", "csv").stdout
    list(csv.reader(io.StringIO(out)))
    gate = cli("compare", "--results", results, "--junit", str(tmp_path / "gate.xml"))
    assert "internal error" not in gate.stderr, gate.stderr
    ET.parse(tmp_path / "gate.xml")

    run_a, run_b = [r[0] for r in db.execute("SELECT id FROM runs ORDER BY rowid")]
    for fmt in ("table", "markdown", "json"):
        diffed = cli("diff", run_a, run_b, "--results", results, "--format", fmt)
        assert diffed.returncode in (0, 3) and "internal error" not in diffed.stderr, (fmt, diffed.stderr)
        assert "\x1b" not in diffed.stdout, fmt
    made = cli("report", run_a, run_b, "--results", results, "-o", str(tmp_path / "two.html"), "--no-charts")
    assert made.returncode == 0 and "\x1b" not in (tmp_path / "two.html").read_text(encoding="utf-8"), made.stderr

    export = tmp_path / "export.jsonl"
    done = cli("export", "--results", results, "-o", str(export))
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    by_prompt = {r["prompt_id"]: r for r in records}
    for case, (_, sent) in HOSTILE.items():
        reply = by_prompt[case]["reply"]
        back = restore(reply["text"], reply["raw"].get(RAW_KEY, {}).get("text", []))
        assert back == sent.replace("\ud83d\ude00", "\U0001f600"), case   # lossless, through the documented escape

    for fmt, name in (("html", "report.html"), ("md", "report.md")):
        made = cli("report", "--results", results, "--format", fmt, "-o", str(tmp_path / name), "--no-charts")
        assert made.returncode == 0, made.stderr
        page = (tmp_path / name).read_text(encoding="utf-8")
        assert "\x1b" not in page and "\x00" not in page and "\ufffe" not in page
        assert "\\x1b" in page   # the provider label's ESC, visible


def test_a_trickling_server_meets_the_whole_reply_deadline():
    for stream in (True, False):
        with HostileServer(Hostile(content_json='"' + "y" * 200 + '"', trickle_s=0.02)) as srv:
            timing: list[float] = []
            reply = _complete(_provider(srv, stream=stream, timeout_s=5, reply_timeout_s=1), timing=timing)
            took = timing[0]
            assert srv.requests == 1   # not retried: a trickle would hold the sample attempts x the deadline
        assert reply.outcome is Outcome.ERROR and reply.error_kind is ErrorKind.TIMEOUT, reply
        assert "reply_timeout_s=1" in reply.reason
        assert took < 3, took   # the body alone would take 4 s, and no single read waits 5 s


@pytest.mark.parametrize("stream,declare", [(False, True), (False, False), (True, False)])
def test_a_huge_body_is_cut_off_in_bounded_memory(stream, declare):
    with HostileServer(Hostile(huge_bytes=100_000)) as srv:   # the SDK imported and warmed up first
        assert _complete(_provider(srv, stream=stream)).outcome is Outcome.ANSWERED
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with HostileServer(Hostile(huge_bytes=64 * 1024 * 1024, declare_length=declare)) as srv:
        reply = _complete(_provider(srv, stream=stream, max_reply_bytes=1_000_000))
    assert reply.outcome is Outcome.ERROR and reply.error_kind is ErrorKind.TOO_LARGE, reply
    assert "max_reply_bytes=1,000,000" in reply.reason
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 40, f"{grown_mib:.0f} MiB for one refused reply"


def test_bounds_end_samples_as_counted_errors_and_reports_cap_replies(tmp_path, cli):
    def plan(request):
        prompt = request["messages"][-1]["content"]
        if prompt == "huge":
            return Hostile(huge_bytes=3_000_000, declare_length=False)
        if prompt == "long":
            return Hostile(huge_bytes=150_000)
        return Hostile(content_json='"x"')

    with HostileServer(plan) as srv:
        _write_eval(tmp_path, srv.base_url, ["huge", "long", "ok"], max_reply_bytes=1_000_000)
        ran = cli("run", str(tmp_path / "eval.yaml"), "--results", str(tmp_path / "r"), "--no-progress",
                  "--no-cache", "--max-error-rate", "0.5")
    assert "internal error" not in ran.stderr, ran.stderr
    report = json.loads(cli("compare", "--results", str(tmp_path / "r"), "--format", "json").stdout)
    overall = next(g for g in report["groups"] if g["category"] == "(all)")
    assert (overall["planned"], overall["errors"], overall["answered"]) == (3, 1, 2)
    db = sqlite3.connect(tmp_path / "r" / "harness.db")
    assert db.execute("SELECT error_kind FROM replies WHERE error_kind IS NOT NULL").fetchall() == [("too_large",)]
    made = cli("report", "--results", str(tmp_path / "r"), "-o", str(tmp_path / "r.html"), "--no-charts")
    assert made.returncode == 0, made.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "more characters not shown" in page and "harness export" in page
    assert len(page) < 150_000
