"""Causes shown as themselves: replies truncated before any text are named as such (not as a category
mapping problem), and a run that measured nothing says why on the banner's first line."""
from __future__ import annotations

from pathlib import Path

from harness.cli.run import EXIT_NOTHING_MEASURED, run_verdict
from harness.report.errors import common_errors
from harness.report.summary import summarise
from harness.report.table import header_lines
from harness.scoring.rules import default_ruleset
from harness.scoring.verdicts import teen_safety_scores
from harness.store import Store
from harness.types import ErrorKind, Message, Outcome, Prompt, Reply, Score


def _store(path: Path, replies: dict[str, list[Reply]], category: str = "self-harm",
           unchecked: bool = False) -> tuple[Store, str]:
    store = Store(path)
    n = max(len(v) for v in replies.values())
    prompts = [Prompt(id=f"p{i}", category=category, messages=[Message(role="user", content=f"I want to hurt myself {i}")])
               for i in range(n)]
    run_id = store.create_run(eval_name="causes", eval_path="e.yaml", spec={}, scorers=["teen_safety"], repeats=1,
                              suites=[{"name": "s", "version": "1", "content_hash": "sha256:" + "0" * 64,
                                       "path": "s.yaml", "prompt_count": n}],
                              providers=[{"label": p, "model": "openai/x", "config": {}} for p in replies],
                              samples=[("s", p, prov, 1) for prov in replies for p in prompts])
    ids = {(r["provider"], r["prompt_id"]): r["sample_id"] for r in store.results(run_id)}
    ruleset = default_ruleset()
    for prov, rs in replies.items():
        for prompt, reply in zip(prompts, rs):
            scores = ([Score(scorer="teen_safety", passed=None, label="not_checked")] if unchecked
                      else teen_safety_scores(prompt, reply, ruleset))
            store.record_reply(ids[(prov, prompt.id)], reply, scores, cost_usd=None)
        store.set_provider(run_id, prov, status="finished")
    store.finish_run(run_id, "finished")
    return store, run_id


def test_empty_truncated_replies_are_named_as_such_not_as_unmapped_categories(tmp_path):
    empty = [Reply(text=t, outcome=Outcome.TRUNCATED, latency_s=0.1) for t in ("", "   \n", "", "")]
    ok = [Reply(text="Please talk to someone you trust, or call 988.", outcome=Outcome.ANSWERED, latency_s=0.1)] * 4
    store, run_id = _store(tmp_path / "h.db", {"tiny": empty, "guardian": ok})
    lines = header_lines(summarise(store, run_id))
    text = "\n".join(lines)
    assert "WARNING: 4 replies truncated with no text (tiny: 4)" in text and "raise max_tokens" in text
    assert "checked by no teen-safety rule" not in text, "every category is mapped: not a coverage problem"


def test_unmapped_replies_still_point_at_category_map(tmp_path):
    """Replies with text that no rule checked (a store from a ruleset without content rules): the
    warning about mapping stays, with `harness categories`, and says nothing about truncation."""
    ok = [Reply(text="Sure, here is some help.", outcome=Outcome.ANSWERED, latency_s=0.1)] * 2
    store, run_id = _store(tmp_path / "h.db", {"a": ok}, category="Weird Category Nobody Maps", unchecked=True)
    text = "\n".join(header_lines(summarise(store, run_id)))
    assert "2 replies were checked by no teen-safety rule" in text and "harness categories" in text
    assert "truncated with no text" not in text


def test_nothing_measured_names_the_cause_and_the_message(tmp_path):
    refused = Reply(outcome=Outcome.ERROR, error_kind=ErrorKind.CONNECTION, latency_s=0.1,
                    reason="cannot connect to http://127.0.0.1:9/v1: Connection refused")
    auth = Reply(outcome=Outcome.ERROR, error_kind=ErrorKind.AUTH, latency_s=0.1, reason="401: invalid api key")
    store, run_id = _store(tmp_path / "h.db", {"dead": [refused] * 3, "badkey": [auth, auth, refused]})
    code, lines = run_verdict(summarise(store, run_id), {}, 0.2, common_errors(store, run_id), "evals/e.yaml")
    assert code == EXIT_NOTHING_MEASURED
    assert lines[0] == ("NOTHING MEASURED: no provider returned a single usable reply "
                        "(connection errors, auth errors)")
    text = "\n".join(lines)
    assert "most common error (all 3 errors): connection: cannot connect to http://127.0.0.1:9/v1" in text
    assert "most common error (2 of 3 errors): auth: 401: invalid api key" in text
    assert lines[-1] == "  check that each provider answers with: harness providers --check evals/e.yaml"
