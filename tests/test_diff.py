"""`harness diff RUN_A RUN_B` and harness.report.diff: hand-built runs (Store API) with known answers."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.report.diff import BETTER, NO_CHANGE, WORSE, diff_markdown, diff_runs, diff_tables
from harness.report.paired import holm, mcnemar_exact, newcombe_paired_ci
from harness.report.summary import ALL
from harness.store import Store, StoreError
from harness.store.db import create_scoring
from harness.types import Outcome, Reply, Score
from test_safety_report import prompt, record, render, rules

REPO = Path(__file__).resolve().parents[1]
HARM = [prompt(f"h{i}", "self-harm") for i in range(20)]


def make(store: Store, providers: list[str], prompts, *, scorers=("teen_safety", "match"),
         content_hash: str = "sha256:x", version: str = "1") -> tuple[str, dict]:
    run_id = store.create_run(
        eval_name="teen", eval_path=None, spec={}, scorers=list(scorers), repeats=1,
        suites=[{"name": "s", "version": version, "content_hash": content_hash, "path": "s.jsonl",
                 "prompt_count": len(prompts)}],
        providers=[{"label": p, "model": p, "config": {}} for p in providers],
        samples=[("s", p, prov, 1) for prov in providers for p in prompts])
    return run_id, {(r["provider"], r["prompt_id"]): r["sample_id"] for r in store.results(run_id)}


def match(ok: bool) -> list[Score]:
    return [Score(scorer="match", passed=ok, explanation="x")]


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "harness.db")
    yield s
    s.close()


@pytest.fixture
def update(store):
    """Run A: "bot" passes every critical rule and fails `match` on h0-h9. Run B (a model update):
    critical failures on h0-h7 (newly failing), h8 fails -> unverified (NOT fixed), `match` now passes
    on h0-h5 (newly passing). "steady" answers the same in both runs."""
    a, ia = make(store, ["bot", "steady"], HARM, scorers=("match", "teen_safety"))
    b, ib = make(store, ["bot", "steady"], HARM, scorers=("match", "teen_safety"))
    for i, p in enumerate(HARM):
        record(store, ia["bot", p.id], rules(T01="fail" if i == 8 else "pass"), extra=match(i >= 10))
        record(store, ib["bot", p.id], rules(T01="fail" if i < 8 else "unverified" if i == 8 else "pass"),
               extra=match(i >= 10 or i < 6))
        for ids in (ia, ib):
            record(store, ids["steady", p.id], rules(T01="pass"), extra=match(True))
    return a, b


def measure(d, provider, name, category=ALL):
    return next(m for m in d.group(provider, category).measures if m.measure == name)


def test_paired_statistics_have_the_known_answers(store, update):
    d = diff_runs(store, *update)
    crit = measure(d, "bot", "critical")
    # h0-h7: pass -> fail; h8: fail -> unverified (left out of the pairs); h9-h19: pass -> pass
    assert (crit.n_paired, crit.both_ok, crit.newly_failing, crit.newly_passing, crit.both_bad) == (19, 11, 8, 0, 0)
    assert crit.excluded == 1
    assert (crit.a_decided, crit.a_bad, crit.b_decided, crit.b_bad) == (20, 1, 19, 8)
    assert crit.b_undecided == {"unverified": 1} and crit.a_undecided == {}
    assert crit.p_value == pytest.approx(2 / 2 ** 8)       # exact McNemar, 8 vs 0 discordant
    assert crit.difference == pytest.approx(8 / 19)         # failure rate B - A on the paired set
    assert (crit.ci_low, crit.ci_high) == pytest.approx(newcombe_paired_ci(0, 8, 0, 11))
    assert 0 < crit.ci_low < 8 / 19 < crit.ci_high
    assert crit.rate_a == pytest.approx(1 / 20) and crit.rate_b == pytest.approx(8 / 19)
    acc = measure(d, "bot", "pass:match")
    assert (acc.newly_passing, acc.newly_failing, acc.both_ok, acc.both_bad) == (6, 0, 10, 4)
    assert acc.difference == pytest.approx(6 / 20)           # pass rate B - A
    assert (acc.ci_low, acc.ci_high) == pytest.approx(newcombe_paired_ci(10, 6, 0, 4))
    assert acc.p_value == pytest.approx(mcnemar_exact(0, 6)) == pytest.approx(2 / 64)
    # Holm over every (all)-row test: bot's critical and match, steady's (p = 1), ...
    tested = [m for g in d.groups if g.category == ALL for m in g.measures if m.n_paired]
    assert [m.p_holm for m in tested] == pytest.approx(holm([m.p_value for m in tested]))
    assert crit.verdict == WORSE and crit.p_holm < 0.05
    assert acc.p_holm == pytest.approx(min(1, 2 / 64 * 3))   # third smallest of the family of 4
    assert acc.verdict == NO_CHANGE
    assert measure(d, "steady", "critical").verdict == NO_CHANGE
    # per category: the same numbers (one category), its own Holm family
    assert measure(d, "bot", "critical", "self-harm").newly_failing == 8


def test_flips_newly_failing_first_and_undecided_is_not_fixed(store, update):
    d = diff_runs(store, *update)
    kinds = [f.kind for f in d.flips]
    assert kinds == ["newly_failing"] * 8 + ["fail_now_undecided"] + ["fixed"] * 6
    assert [f.prompt_id for f in d.flips[:8]] == [f"h{i}" for i in range(8)]
    h8 = d.flips[8]
    assert (h8.prompt_id, h8.measure, h8.before, h8.after) == ("h8", "critical", "fail", "unverified")
    assert {f.measure for f in d.flips[9:]} == {"pass:match"}
    assert all(f.provider == "bot" for f in d.flips)
    assert d.group("bot").replies_b == {"planned": 20, "unverified": 1}


def test_better_in_b_and_providers_prompts_matched(store):
    a, ia = make(store, ["bot", "old"], HARM[:12])
    b, ib = make(store, ["bot", "new"], HARM[2:14])
    for i, p in enumerate(HARM[:12]):
        record(store, ia["bot", p.id], rules(T01="fail"))
        record(store, ia["old", p.id], rules(T01="pass"))
    for p in HARM[2:14]:
        record(store, ib["bot", p.id], rules(T01="pass"))
        record(store, ib["new", p.id], rules(T01="pass"))
    d = diff_runs(store, a, b)
    assert d.run_a == a and d.providers == ["bot"] and d.only_a == ["old"] and d.only_b == ["new"]
    assert any("'old' is in run A only" in n for n in d.notes) and any("'new' is in run B only" in n for n in d.notes)
    assert d.added == ["h12", "h13"] and d.removed == ["h0", "h1"]
    crit = measure(d, "bot", "critical")
    assert (crit.n_paired, crit.newly_passing, crit.a_decided, crit.b_decided) == (10, 10, 12, 12)
    assert crit.verdict == BETTER and crit.difference == pytest.approx(-1.0)
    assert {g.provider for g in d.groups} == {"bot"}
    assert not any("hash" in n for n in d.notes)


def test_suite_hash_change_is_noted(store):
    a, _ = make(store, ["bot"], HARM[:3])
    b, _ = make(store, ["bot"], HARM[:3], content_hash="sha256:y", version="2")
    d = diff_runs(store, a, b)
    note = next(n for n in d.notes if "changed" in n)
    assert "'s'" in note and "sha256:x -> sha256:y" in note and "1 -> 2" in note
    assert "sha256:x -> sha256:y" in diff_markdown(d)


def test_latest_scoring_is_read(store, update):
    a, b = update
    # a rescoring of run B with edited rules: every bot reply now passes T01
    ids = [r["sample_id"] for r in store.results(b) if r["provider"] == "bot"]
    create_scoring(store, b, scorers=["teen_safety", "match"], rules_version="2", rules_hash=None, judge_reused=0,
                   note=None, scores=[(sid, s) for sid in ids for s in rules(T01="pass") + match(True)])
    d = diff_runs(store, a, b)
    assert measure(d, "bot", "critical").newly_failing == 0 and measure(d, "bot", "critical").b_bad == 0
    assert d.scoring_b.startswith("rescoring 1 of 1") and d.scoring_a == "original scoring"


def test_unknown_run_raises(store, update):
    with pytest.raises(StoreError):
        diff_runs(store, update[0], "nope")


def test_untrusted_text_is_escaped_everywhere(store):
    evil_label, evil_id = "bot\x1b[31m\u202e|x", "p<script>|1"
    ps = [prompt(evil_id, "self-harm")]
    a, ia = make(store, [evil_label], ps)
    b, ib = make(store, [evil_label], ps)
    record(store, ia[evil_label, evil_id], rules(T01="pass"))
    record(store, ib[evil_label, evil_id], rules(T01="fail"))
    d = diff_runs(store, a, b)
    assert d.flips[0].prompt_id == evil_id
    text = "".join(render(t.table, width=300) for t in diff_tables(d, None))
    assert "\x1b" not in text and "\u202e" not in text and "\\x1b[31m" in text and "\\u202e" in text
    md = diff_markdown(d)
    assert "<script>" not in md and "\x1b" not in md and "\u202e" not in md
    assert "p&lt;script&gt;\\|1" in md
    row = next(line for line in md.splitlines() if line.startswith("| newly failing"))
    assert row.count(" | ") == 6     # the | inside the label and the id do not add columns


def harness(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", "diff", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=120)


def test_cli_end_to_end(store, update, tmp_path):
    a, b = update
    out = harness(a, b, "-r", str(tmp_path), "-f", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["run_a"] == a and data["flips"][0]["kind"] == "newly_failing"
    crit = next(m for g in data["groups"] if g["provider"] == "bot" and g["category"] == ALL
                for m in g["measures"] if m["measure"] == "critical")
    assert crit["newly_failing"] == 8 and crit["p_value"] == pytest.approx(2 / 256) and crit["verdict"] == WORSE
    md = harness(a, b, "-r", str(tmp_path), "-f", "markdown")
    assert md.returncode == 0 and "| bot | (all) | critical failures |" in md.stdout
    table = harness(a, b, "-r", str(tmp_path), "--width", "120")
    assert table.returncode == 0
    assert "newly failing" in table.stdout and "fail -> unverified" in table.stdout
    assert all(len(line) <= 120 for line in table.stdout.splitlines() if "│" in line or "┃" in line)
    assert harness(a, b, "-r", str(tmp_path), "-s", "nosuch").returncode == 2
    bad = harness(a, "nope", "-r", str(tmp_path))
    assert bad.returncode == 2 and "no run" in bad.stderr and a in bad.stderr and b in bad.stderr
    assert bad.stdout == ""


def test_over_refusal_review_and_errors_stay_out_of_the_counts(store):
    ps = [prompt(f"l{i}", "homework") for i in range(4)]
    a, ia = make(store, ["bot"], ps)
    b, ib = make(store, ["bot"], ps)
    for p in ps:
        record(store, ia["bot", p.id], rules(T01="pass", O1="fail"))
    record(store, ib["bot", "l0"], rules(T01="pass", O1="pass"))          # fixed
    record(store, ib["bot", "l1"], rules(T01="pass", O1="needs_review"))  # not fixed: needs a person
    store.record_reply(ib["bot", "l2"], Reply(text="", outcome=Outcome.ERROR), [], cost_usd=None)
    # l3 stays pending in run B
    d = diff_runs(store, a, b)
    over = measure(d, "bot", "over_refusal")
    assert (over.a_decided, over.a_bad, over.b_decided, over.b_bad) == (4, 4, 1, 0)
    assert over.b_undecided == {"needs_review": 1}          # the error and the pending sample: reply counts
    assert (over.n_paired, over.newly_passing, over.excluded) == (1, 1, 3)
    assert over.verdict == NO_CHANGE and over.rate_b == 0.0
    assert d.group("bot").replies_b == {"planned": 4, "needs_review": 1, "error": 1, "pending": 1}
    kinds = {f.prompt_id: (f.kind, f.after) for f in d.flips if f.measure == "over_refusal"}
    assert kinds == {"l1": ("fail_now_undecided", "needs_review"), "l2": ("fail_now_undecided", "error"),
                     "l3": ("fail_now_undecided", "pending"), "l0": ("fixed", "pass")}
    assert [f.prompt_id for f in d.flips][-1] == "l0"        # the only fix comes last
