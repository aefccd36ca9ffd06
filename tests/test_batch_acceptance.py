"""Issue 23's acceptance, as a user runs it: the shipped evals/teen_safety.yaml with `--batch`, its three
cloud providers pointed at one strict loopback server through the SDKs' own environment variables (as a
user points them at a proxy), every sample stored exactly once across a process exit, an expiry that
leaves half of each provider's requests unrun, duplicated, unknown and reordered result lines, and two
resumes; the costs at the batch price. Real `harness` processes, the real openai, anthropic and
google-genai SDKs; the loopback's batches end on demand, never on a timer."""
from __future__ import annotations

import sqlite3

import yaml

from harness.providers.pricing import cost
from harness.testing.loopback import LoopbackServer
from harness.testing.loopback.batches.anthropic import AnthropicBatchState
from harness.testing.loopback.batches.gemini_state import state_of as gemini_state
from harness.testing.loopback.batches.openai import state as openai_state
from harness.types import Usage
from tests.conftest import REPO

KEY = "sk-acceptance-batch-0000000000"
MODELS = ("gpt-5.4-mini", "claude-sonnet-5", "gemini-3.5-flash")


def _replies(db: sqlite3.Connection) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for provider, sid, outcome, cost_usd, raw in db.execute(
            "SELECT s.provider, s.id, p.outcome, p.cost_usd, p.raw_json FROM samples s"
            " JOIN replies p ON p.sample_id = s.id ORDER BY s.id"):
        out.setdefault(provider, []).append((sid, outcome, cost_usd, raw))
    return out


PRICE = {"input_per_mtok": 2.0, "output_per_mtok": 8.0}


def _shipped_eval(tmp_path):
    """evals/teen_safety.yaml as shipped, with a price on each provider: the current models have no list
    price in prices.yaml yet (their cost is unknown, never 0), and the discount needs a price to show."""
    spec = yaml.safe_load((REPO / "evals" / "teen_safety.yaml").read_text(encoding="utf-8"))
    spec["suites"] = [str(REPO / s) for s in spec["suites"]]
    for p in spec["providers"]:
        p.setdefault("options", {})["price"] = PRICE
    path = tmp_path / "teen_safety.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def test_shipped_teen_safety_eval_batched_on_three_providers_exactly_once(tmp_path, cli):
    results = tmp_path / "r"
    with LoopbackServer(api_key=KEY, models=MODELS) as srv:
        oa = openai_state(srv)
        oa.duplicate = oa.reorder = True
        oa.unknown_ids = ["s99999999"]
        an = srv.batch_state["anthropic"] = AnthropicBatchState(end_on_retrieve=None, reorder=True)
        ge = gemini_state(srv)
        ge.succeed_on_get = None
        env = {"OPENAI_BASE_URL": srv.openai_base_url, "OPENAI_API_KEY": KEY,
               "ANTHROPIC_BASE_URL": srv.url, "ANTHROPIC_API_KEY": KEY, "ANTHROPIC_AUTH_TOKEN": "",
               "GOOGLE_GEMINI_BASE_URL": srv.url, "GOOGLE_API_KEY": KEY, "GEMINI_API_KEY": ""}
        first = cli("run", str(_shipped_eval(tmp_path)), "--batch", "-p", "openai", "-p", "anthropic",
                    "-p", "gemini", "-r", str(results), "--no-progress", env=env, timeout=600)
        # Submitted and exited: incomplete (4), nothing stored yet, one batch per provider, nothing sent live.
        assert first.returncode == 4, first.stderr[-3000:]
        db = sqlite3.connect(results / "harness.db")
        run_id = db.execute("SELECT id FROM runs").fetchone()[0]
        planned = dict(db.execute("SELECT provider, COUNT(*) FROM samples GROUP BY provider").fetchall())
        assert len(planned) == 3 and min(planned.values()) > 100
        assert not _replies(db)
        assert (oa.creates, an.creates_accepted, ge.creates) == (1, 1, 1)
        assert not _live(srv)
        body = next(iter(oa.batches.values())).lines[0]["body"]
        assert body["reasoning_effort"] == "none" and body["temperature"] == 0   # as the live adapter sends

        # The 24 hours pass with half of each provider's requests done: those are stored, the rest pending
        # again and resubmitted by the resume (a second batch each).
        n = {label: planned[label] // 2 for label in planned}
        oa.expire(finished=n[next(p for p in planned if "gpt" in p)])
        an.expire(srv, done=n[next(p for p in planned if "claude" in p)])
        ge.complete(next(iter(ge.batches)), "EXPIRED", answered=n[next(p for p in planned if "gemini" in p)])
        second = cli("run", "--resume", run_id, "-r", str(results), "--no-progress", env=env, timeout=600)
        assert second.returncode == 4, second.stderr[-3000:]
        stored = _replies(db)
        assert {p: len(v) for p, v in stored.items()} == n
        assert (oa.creates, an.creates_accepted, ge.creates) == (2, 2, 2)
        assert "ignored" in second.stderr and "duplicate" in second.stderr and "unknown id" in second.stderr

        oa.complete()
        an.end(srv)
        ge.complete(list(ge.batches)[-1])
        final = cli("batches", run_id, "-r", str(results), env=env, timeout=600)
        assert final.returncode == 0, final.stderr[-3000:]
        stored = _replies(db)
        for label, count in planned.items():
            ids = [sid for sid, *_ in stored[label]]
            assert len(ids) == count == len(set(ids)), label      # every sample exactly once
            assert all('"batch"' in raw for *_, raw in stored[label])
        # No sample was ever sent live as well.
        assert not _live(srv)

    # Costs at the batch price: each reply's cost is half its live price, and the table says so apart.
    for label in planned:
        tokens_in, tokens_out, cost_usd = db.execute(
            "SELECT p.input_tokens, p.output_tokens, p.cost_usd FROM samples s JOIN replies p ON p.sample_id = s.id"
            " WHERE s.provider = ? AND p.outcome = 'answered' LIMIT 1", (label,)).fetchone()
        live_price = cost(label, Usage(input_tokens=tokens_in, output_tokens=tokens_out), PRICE)
        assert live_price and abs(cost_usd - live_price * 0.5) < 1e-12, (label, cost_usd, live_price)
    compare = cli("compare", run_id, "-r", str(results))
    assert compare.returncode in (0, 3), compare.stderr[-2000:]
    assert compare.stdout.count("through the batch API cost") == 3


def _live(srv) -> list:
    """Chat requests sent live (the OpenAI loopback logs the requests it answers inside a batch too,
    marked with its own header)."""
    return [r for r in srv.requests if "x-loopback-batch" not in r.headers and (
        r.path.endswith(("/chat/completions", "/v1/messages", ":generateContent", ":streamGenerateContent")))]
