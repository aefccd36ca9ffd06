"""Paired provider comparison: exact McNemar, Holm, Newcombe interval, and pairing from a real store."""
from __future__ import annotations

import io

import pytest
from rich.console import Console

from harness.report.paired import (A_BETTER, B_BETTER, NO_DIFFERENCE, PairResult, holm, mcnemar_exact,
                                   newcombe_paired_ci, paired_comparisons, paired_markdown, paired_table)
from harness.report.summary import ALL
from harness.store import Store
from harness.types import Message, Outcome, Prompt, Reply, Score

# -- statistics --------------------------------------------------------------------------------------


@pytest.mark.parametrize("b, c, expected", [
    (0, 6, 0.03125),
    (6, 0, 0.03125),
    (1, 9, 0.021484375),
    (9, 1, 0.021484375),
    (0, 0, 1.0),
    (3, 3, 1.0),
    (10, 10, 1.0),
    (0, 1, 1.0),
    (0, 5, 0.0625),
    (6, 16, 0.052478790283203125),  # Cavo et al. 2012 (Fagerland et al. ch. 8): P = 0.052479
])
def test_mcnemar_exact_known_values(b, c, expected):
    assert mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-12, abs=0)


def test_mcnemar_exact_large_counts_stay_finite():
    p = mcnemar_exact(400, 600)
    assert 0 < p < 1e-9
    assert mcnemar_exact(5000, 5000) == 1.0


def test_holm_against_hand_computed_example():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> monotone 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])   # capped at 1
    assert holm([0.02]) == [0.02]
    assert holm([]) == []


def test_newcombe_interval_matches_published_value():
    # Cavo et al. 2012 table [[59, 6], [16, 80]]: Newcombe square-and-add -0.0621 (-0.1186 to -0.0046)
    lo, hi = newcombe_paired_ci(59, 6, 16, 80)
    assert lo == pytest.approx(-0.1186, abs=5e-5)
    assert hi == pytest.approx(-0.0046, abs=5e-5)


@pytest.mark.parametrize("table", [
    (59, 6, 16, 80), (1, 1, 7, 12), (0, 0, 0, 5), (5, 0, 0, 0), (0, 3, 0, 0), (0, 0, 3, 0),
    (0, 1, 0, 0), (0, 0, 1, 0), (2, 0, 0, 2), (0, 4, 4, 0), (0, 50, 0, 0), (1, 0, 0, 0),
    (3, 7, 2, 1), (100, 1, 0, 100),
])
def test_newcombe_interval_contains_estimate_and_stays_in_bounds(table):
    both, a_only, b_only, neither = table
    n = sum(table)
    d = (a_only - b_only) / n
    lo, hi = newcombe_paired_ci(*table)
    assert -1.0 <= lo <= d <= hi <= 1.0
    assert hi - lo > 0   # never a zero-width interval, even with no discordant pairs


def test_newcombe_interval_empty_table():
    assert newcombe_paired_ci(0, 0, 0, 0) is None


# -- pairing from a real store -----------------------------------------------------------------------

SCORER = "exact"


def _prompt(pid: str, category: str) -> Prompt:
    return Prompt(id=pid, messages=[Message(role="user", content=f"question {pid}")], category=category)


def _make_run(store: Store, providers: list[str], prompts: list[Prompt], repeats: int = 1,
              scorers: list[str] = (SCORER, "other")) -> str:
    return store.create_run(
        eval_name="paired-test", eval_path=None, spec={}, scorers=list(scorers), repeats=repeats,
        suites=[{"name": "s", "version": "1", "content_hash": "sha256:x", "path": "s.jsonl",
                 "prompt_count": len(prompts)}],
        providers=[{"label": p, "model": f"model-{i}", "config": {}} for i, p in enumerate(providers)],
        samples=[("s", p, prov, rep) for prov in providers for p in prompts for rep in range(1, repeats + 1)])


def _ids(store: Store, run_id: str) -> dict[tuple[str, str, int], int]:
    return {(r["provider"], r["prompt_id"], r["repeat"]): r["sample_id"] for r in store.results(run_id)}


def _answer(store: Store, sample_id: int, passed: bool | None, *, other: bool | None = None,
            score: bool = True) -> None:
    scores = [Score(scorer=SCORER, passed=passed)] if score else []
    if other is not None:
        scores.append(Score(scorer="other", passed=other))
    store.record_reply(sample_id, Reply(text="ok", outcome=Outcome.ANSWERED), scores, cost_usd=None)


def _error(store: Store, sample_id: int, *, with_score: bool = False) -> None:
    # a scorer verdict stored next to an error must still not count: an error is not model behaviour
    scores = [Score(scorer=SCORER, passed=True)] if with_score else []
    store.record_reply(sample_id, Reply(outcome=Outcome.ERROR, reason="boom"), scores, cost_usd=None)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "h.db")
    yield s
    s.close()


def test_pairing_counts_and_exclusions(store):
    prompts = [_prompt(f"p{i}", "math" if i <= 5 else "safety") for i in range(1, 10)]
    run_id = _make_run(store, ["alpha", "beta", "gamma"], prompts, repeats=2)
    ids = _ids(store, run_id)
    # repeat 1 and repeat 2 of p1 disagree differently: pairing must respect the repeat
    _answer(store, ids["alpha", "p1", 1], True, other=False)
    _answer(store, ids["beta", "p1", 1], True, other=True)
    _answer(store, ids["alpha", "p1", 2], True, other=False)
    _answer(store, ids["beta", "p1", 2], False, other=True)
    _answer(store, ids["alpha", "p2", 1], True)     # A only
    _answer(store, ids["beta", "p2", 1], False)
    _answer(store, ids["alpha", "p3", 1], False)    # B only
    _answer(store, ids["beta", "p3", 1], True)
    _answer(store, ids["alpha", "p4", 1], False)    # neither
    _answer(store, ids["beta", "p4", 1], False)
    _error(store, ids["alpha", "p5", 1], with_score=True)   # excluded: A error
    _answer(store, ids["beta", "p5", 1], True)
    _answer(store, ids["alpha", "p6", 1], True)     # excluded: B pending (never answered)
    _answer(store, ids["alpha", "p7", 1], True)     # excluded: B not applicable (passed NULL)
    _answer(store, ids["beta", "p7", 1], None)
    _answer(store, ids["alpha", "p8", 1], True)     # excluded: B has no verdict from this scorer at all
    _answer(store, ids["beta", "p8", 1], None, other=True, score=False)
    _error(store, ids["alpha", "p9", 1])            # excluded on both sides
    _error(store, ids["beta", "p9", 1])
    for key, sid in ids.items():                    # gamma: every reply an error
        if key[0] == "gamma":
            _error(store, sid, with_score=True)

    results = paired_comparisons(store, run_id, SCORER)
    pairs = [(r.category, r.provider_a, r.provider_b) for r in results]
    assert pairs[:3] == [(ALL, "alpha", "beta"), (ALL, "alpha", "gamma"), (ALL, "beta", "gamma")]
    assert pairs[3:] == [(c, a, b) for c in ("math", "safety")
                         for a, b in (("alpha", "beta"), ("alpha", "gamma"), ("beta", "gamma"))]

    ab = results[0]
    assert (ab.n, ab.both, ab.a_only, ab.b_only, ab.neither) == (5, 1, 2, 1, 1)
    assert ab.excluded == 5 + 8  # p5..p9 at repeat 1, plus the 8 never-answered repeat-2 samples
    assert (ab.a_errors, ab.a_pending, ab.a_not_scored) == (2, 8, 0)
    assert (ab.b_errors, ab.b_pending, ab.b_not_scored) == (1, 9, 2)
    assert ab.unmatched == 0
    assert ab.rate_a == pytest.approx(3 / 5) and ab.rate_b == pytest.approx(2 / 5)
    assert ab.difference == pytest.approx(1 / 5)
    assert ab.ci_low <= ab.difference <= ab.ci_high
    assert ab.p_value == 1.0 and ab.verdict == NO_DIFFERENCE

    math_ab = next(r for r in results if r.category == "math" and r.provider_b == "beta" and r.provider_a == "alpha")
    assert (math_ab.n, math_ab.both, math_ab.a_only, math_ab.b_only, math_ab.neither) == (5, 1, 2, 1, 1)
    safety_ab = next(r for r in results if r.category == "safety" and r.provider_b == "beta" and r.provider_a == "alpha")
    assert safety_ab.n == 0 and safety_ab.excluded == 4 + 4

    # the other scorer gives other pairs: the scorer filter is honoured
    other = paired_comparisons(store, run_id, "other")[0]
    assert (other.n, other.b_only) == (2, 2)


def test_all_error_provider_is_not_a_win(store):
    prompts = [_prompt(f"p{i}", "c") for i in range(8)]
    run_id = _make_run(store, ["good", "broken"], prompts)
    ids = _ids(store, run_id)
    for p in prompts:
        _answer(store, ids["good", p.id, 1], True)
        _error(store, ids["broken", p.id, 1], with_score=False)
    for r in paired_comparisons(store, run_id, SCORER):
        assert r.n == 0
        assert r.p_value == 1.0 and r.p_holm == 1.0
        assert r.verdict == NO_DIFFERENCE and r.winner is None
        assert r.difference is None and r.ci_low is None and r.ci_high is None
        assert r.b_errors == 8 and r.excluded == 8
        assert r.verdict_text.startswith("no significant difference")


def test_clear_winner_either_direction(store):
    prompts = [_prompt(f"p{i}", "c") for i in range(6)]
    run_id = _make_run(store, ["a", "b"], prompts)
    ids = _ids(store, run_id)
    for p in prompts:
        _answer(store, ids["a", p.id, 1], True)
        _answer(store, ids["b", p.id, 1], False)
    overall, category = paired_comparisons(store, run_id, SCORER)
    for r in (overall, category):
        assert (r.n, r.a_only, r.b_only) == (6, 6, 0)
        assert r.p_value == pytest.approx(0.03125) and r.p_holm == pytest.approx(0.03125)
        assert r.verdict == A_BETTER and r.winner == "a"
        assert r.difference == 1.0 and r.ci_high == 1.0 and 0 < r.ci_low < 1
        assert "scorer 'exact'" in r.verdict_text and "on these prompts (6 paired samples)" in r.verdict_text

    run2 = _make_run(store, ["a", "b"], prompts)
    ids = _ids(store, run2)
    for p in prompts:
        _answer(store, ids["a", p.id, 1], False)
        _answer(store, ids["b", p.id, 1], True)
    overall = paired_comparisons(store, run2, SCORER)[0]
    assert overall.verdict == B_BETTER and overall.winner == "b" and overall.difference == -1.0


def test_holm_is_applied_within_each_level(store):
    # three providers; x beats z on 6 prompts (p=0.03125) but with 3 overall tests Holm says otherwise
    prompts = [_prompt(f"p{i}", "one" if i < 3 else "two") for i in range(6)]
    run_id = _make_run(store, ["x", "y", "z"], prompts)
    ids = _ids(store, run_id)
    for p in prompts:
        _answer(store, ids["x", p.id, 1], True)
        _answer(store, ids["y", p.id, 1], True)
        _answer(store, ids["z", p.id, 1], False)
    results = paired_comparisons(store, run_id, SCORER)
    overall = [r for r in results if r.category == ALL]
    raw = [r.p_value for r in overall]
    assert raw == pytest.approx([1.0, 0.03125, 0.03125])
    assert holm(raw) == pytest.approx([1.0, 0.09375, 0.09375])
    assert [r.p_holm for r in overall] == pytest.approx([1.0, 0.09375, 0.09375])
    assert all(r.verdict == NO_DIFFERENCE for r in overall)
    per_cat = [r for r in results if r.category != ALL]
    assert len(per_cat) == 6
    assert [r.p_holm for r in per_cat] == pytest.approx(holm([r.p_value for r in per_cat]))


def test_unknown_scorer_is_refused(store):
    run_id = _make_run(store, ["a", "b"], [_prompt("p", "c")])
    with pytest.raises(ValueError, match="nope"):
        paired_comparisons(store, run_id, "nope")


def test_single_provider_has_no_pairs(store):
    run_id = _make_run(store, ["only"], [_prompt("p", "c")])
    assert paired_comparisons(store, run_id, SCORER) == []


# -- rendering ---------------------------------------------------------------------------------------

def _hostile_results() -> list[PairResult]:
    a = "[bold red]evil[/bold red]|x"
    b = "b_*`<i>`"
    r1 = PairResult(scorer=SCORER, category=ALL, provider_a=a, provider_b=b, n=6, a_only=6, rate_a=1.0,
                    rate_b=0.0, difference=1.0, ci_low=0.6, ci_high=1.0, p_value=0.03125, p_holm=0.03125,
                    verdict=A_BETTER)
    r2 = PairResult(scorer=SCORER, category="[link=http://x]cat[/link]|c", provider_a=a, provider_b=b)
    return [r1, r2]


def test_paired_table_does_not_interpret_markup():
    buf = io.StringIO()
    Console(file=buf, width=400, color_system=None).print(paired_table(_hostile_results()))
    text = buf.getvalue()
    assert "[bold red]evil[/bold red]|x better" in text
    assert "[link=http://x]cat[/link]|c" in text
    assert "+100.0 pts [+60.0, +100.0]" in text
    assert "no significant difference (no paired verdicts)" in text


def test_paired_markdown_escapes_labels():
    md = paired_markdown(_hostile_results())
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    header, body = rows[0], rows[1:]
    n_cols = header.count(" | ") + 1
    for row in body:   # escaped pipes never split a cell
        assert row.replace("\\|", "").count(" | ") + 1 == n_cols
    assert "\\[bold red\\]evil\\[/bold red\\]\\|x" in md
    assert "b\\_\\*\\`&lt;i&gt;\\`" in md
    assert "[bold" not in md.replace("\\[bold", "")


def test_as_dict_is_flat_and_complete():
    d = _hostile_results()[0].as_dict()
    assert d["verdict"] == A_BETTER and d["winner"] == "[bold red]evil[/bold red]|x"
    assert d["discordant"] == 6 and d["p_holm"] == 0.03125
    assert "verdict_text" in d and "on these prompts (6 paired samples)" in d["verdict_text"]
