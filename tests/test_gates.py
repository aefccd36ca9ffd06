"""CI gates: thresholds per provider, category and rule, on the value or the interval, and against a
baseline run (paired McNemar via harness.report.diff); exit 3 with the missed list. Store-based."""
from __future__ import annotations

import json

import pytest
import yaml

from harness.evalfile import load_eval
from harness.problems import InputError
from harness.report.summary import summarise
from harness.report.thresholds import check_thresholds, parse_thresholds
from harness.store import Store
from harness.types import Message, Outcome, Prompt, Reply, Score

SEVERITY = {"T01": "critical", "T02": "critical", "T07": "major", "O1": "major"}
PASSED = {"pass": True, "fail": False, "unverified": None, "needs_review": None}


def rules(**labels: str) -> list[Score]:
    return [Score(scorer=f"rule:{rid}", passed=PASSED[lab], label=lab, severity=SEVERITY[rid], explanation="why",
                  evidence="bad words" if lab == "fail" else None) for rid, lab in labels.items()]


def record(store, sid, scores, *, outcome=Outcome.ANSWERED, match=None, text="reply"):
    failed = [s for s in scores if s.label == "fail"]
    open_ = [s for s in scores if s.label in ("unverified", "needs_review")]
    label = "fail" if failed else (open_[0].label if open_ else "pass") if scores else "not_checked"
    extra = [Score(scorer="teen_safety", passed={"fail": False, "pass": True}.get(label), label=label, explanation="x")]
    if match is not None:
        extra.append(Score(scorer="match", passed=match, label=None, explanation="m"))
    store.record_reply(sid, Reply(text=text, outcome=outcome, error_kind="server" if outcome == Outcome.ERROR else None),
                       [*scores, *extra] if outcome != Outcome.ERROR else [], cost_usd=None)


def prompt(pid, category):
    return Prompt(id=pid, messages=[Message(role="user", content=f"q {pid}")], category=category)


HARM = [prompt(f"h{i}", "self-harm") for i in range(10)]
HELP = [prompt(f"l{i}", "homework") for i in range(10)]


def make_run(store, providers, prompts, thresholds=None, scorers=("teen_safety", "match")):
    run_id = store.create_run(
        eval_name="teen", eval_path=None, spec={"thresholds": thresholds or {}}, scorers=list(scorers), repeats=1,
        suites=[{"name": "s", "version": "1", "content_hash": "sha256:x", "path": "s.jsonl",
                 "prompt_count": len(prompts)}],
        providers=[{"label": p, "model": p, "config": {}} for p in providers],
        samples=[("s", p, prov, 1) for prov in providers for p in prompts])
    return run_id, {(r["provider"], r["prompt_id"]): r["sample_id"] for r in store.results(run_id)}


def duel(store, thresholds, *, leaky_fails=8):
    """leaky: critical failures on `leaky_fails` harmful prompts (T02 on the first 2); prude: over-refuses 9 of 10."""
    run_id, ids = make_run(store, ["leaky", "prude"], HARM + HELP, thresholds)
    for i, p in enumerate(HARM):
        record(store, ids["leaky", p.id], rules(T01="fail" if i < leaky_fails else "pass",
                                               T02="fail" if i < min(2, leaky_fails) else "pass", T07="pass"),
               match=i >= leaky_fails)
        record(store, ids["prude", p.id], rules(T01="pass", T02="pass", T07="pass"), match=True)
    for i, p in enumerate(HELP):
        record(store, ids["leaky", p.id], rules(T01="pass", T07="pass", O1="pass"), match=True)
        record(store, ids["prude", p.id], rules(T01="pass", T07="pass", O1="fail" if i < 9 else "pass"), match=i >= 9)
    return run_id


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "harness.db")
    yield s
    s.close()


def check(store, run_id, **kw):
    return {(r.provider, r.name): r for r in check_thresholds(store, summarise(store, run_id), **kw)}


def test_shorthand_and_stored_forms_parse_alike():
    a = parse_thresholds({"match": 0.8, "critical_failures": {"max": 0}})
    b = parse_thresholds({"match": [{"min": 0.8, "max": None, "on": "value"}], "critical_failures": [{"max": 0}]})
    assert a == b and a[0].min == 0.8 and a[1].max == 0


def test_per_category_per_provider_and_per_rule(store):
    run_id = duel(store, {"critical_failures": [{"max": 0}, {"max": 0, "category": "homework"}],
                          "critical_failure_rate": {"max": 0.1, "rule": "T02"},
                          "over_refusal_rate": {"max": 0.2, "provider": "prude"}})
    r = check(store, run_id)
    assert not r["leaky", "critical_failures <= 0"].met
    assert r["leaky", "critical_failures <= 0"].prompts[:3] == ("h0", "h1", "h2")
    assert r["leaky", "critical_failures{category=homework} <= 0"].met
    assert r["prude", "critical_failures{category=homework} <= 0"].met
    t02 = r["leaky", "critical_failure_rate{rule=T02} <= 0.1"]
    assert not t02.met and t02.value == pytest.approx(0.2) and t02.prompts == ("h0", "h1") and t02.counts == "2/10"
    assert r["prude", "critical_failure_rate{rule=T02} <= 0.1"].met
    over = [x for x in r.values() if x.metric == "over_refusal_rate"]
    assert [x.provider for x in over] == ["prude"] and not over[0].met and over[0].value == pytest.approx(0.9)
    assert "prompts: l0, l1" in "\n".join(over[0].details())


def test_bound_on_the_interval_is_stricter_and_says_so(store):
    run_id = duel(store, {"over_refusal_rate": [{"max": 0.2}, {"max": 0.2, "on": "upper"}]})
    r = check(store, run_id)
    plain, upper = r["leaky", "over_refusal_rate <= 0.2"], r["leaky", "over_refusal_rate <= 0.2 (on the upper end of the 95% interval)"]
    assert plain.met and plain.value == 0
    assert not upper.met and upper.checked == pytest.approx(upper.interval[1]) and upper.interval[1] > 0.2
    assert "checked on the upper end of the interval" in upper.details()[0]
    assert "95% CI [0, 0.2" in upper.details()[0]


def test_accuracy_error_blocked_and_unverified(store):
    run_id, ids = make_run(store, ["a"], HELP[:5], {"match": 0.5, "error_rate": {"max": 0.1},
                                                    "blocked_rate": {"max": 0.1}, "unverified_rate": {"max": 0.2}})
    record(store, ids["a", "l0"], rules(T01="pass"), match=True)
    record(store, ids["a", "l1"], rules(T01="unverified"), match=False)
    record(store, ids["a", "l2"], [], outcome=Outcome.ERROR)
    record(store, ids["a", "l3"], rules(T01="pass"), outcome=Outcome.PROVIDER_BLOCKED, match=False)
    record(store, ids["a", "l4"], rules(T01="pass"), match=True)
    r = {x.metric: x for x in check_thresholds(store, summarise(store, run_id))}
    assert r["match"].value == 0.5 and r["match"].met and r["match"].prompts == ("l1", "l3")
    assert r["error_rate"].value == 0.2 and not r["error_rate"].met and r["error_rate"].prompts == ("l2",)
    assert r["blocked_rate"].value == 0.25 and not r["blocked_rate"].met and r["blocked_rate"].prompts == ("l3",)
    assert r["unverified_rate"].value == 0.25 and not r["unverified_rate"].met and r["unverified_rate"].prompts == ("l1",)


def test_undecided_never_meets_a_rule_threshold(store):
    run_id, ids = make_run(store, ["a"], HARM[:2], {"critical_failures": {"max": 0, "rule": "T01"}})
    record(store, ids["a", "h0"], rules(T01="pass"))
    record(store, ids["a", "h1"], rules(T01="needs_review"))
    [r] = check_thresholds(store, summarise(store, run_id))
    assert r.value == 0 and not r.met and "1 needs review on rule T01" in r.note and r.prompts == ("h1",)


def test_baseline_regression_uses_the_paired_test(store):
    base = duel(store, {}, leaky_fails=0)
    worse = duel(store, {}, leaky_fails=10)
    r = [x for x in check_thresholds(store, summarise(store, worse), baseline=base)]
    crit = next(x for x in r if x.provider == "leaky" and "critical failures" in x.name)
    assert not crit.met and crit.value == pytest.approx(0.5) and "newly failing 10" in crit.note
    assert set(crit.prompts) == {f"s/h{i}" for i in range(10)} and crit.interval[0] > 0
    assert all(x.met for x in r if x.provider == "prude")
    same = check_thresholds(store, summarise(store, base), baseline=base)
    assert same and all(x.met for x in same)


def write_eval(tmp_path, thresholds):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({"name": "s", "prompts": [{"id": "p", "input": "hi"}]}))
    (tmp_path / "e.yaml").write_text(yaml.safe_dump({
        "name": "e", "suites": ["s.yaml"], "scorers": ["teen_safety", "match"],
        "providers": [{"model": "openai/m", "label": "gpt", "base_url": "http://127.0.0.1:1/v1"}],
        "thresholds": thresholds}))
    return tmp_path / "e.yaml"


@pytest.mark.parametrize("thresholds, message", [
    ({"critical_failures": 0}, "write critical_failures: {max: 0}"),
    ({"over_refusal_rate": {"max": 0.1, "provider": "gtp"}}, "no provider 'gtp'"),
    ({"critical_failures": {"max": 0, "on": "upper"}}, "is a count"),
    ({"major_failure_rate": {"max": 0.1, "rule": "T01"}}, "T01 is a critical rule"),
    ({"match": {"min": 0.5, "rule": "T01"}}, "rule: applies to"),
    ({"baseline": {"alpha": 0.1}}, "baseline needs the run"),
    ({"critical_failures": {"max": 0, "on": "middle"}}, "on"),
    ({"crit_failures": {"max": 0}}, "did you mean"),
])
def test_bad_thresholds_are_input_errors(tmp_path, thresholds, message):
    with pytest.raises(InputError) as err:
        load_eval(write_eval(tmp_path, thresholds))
    assert message in str(err.value), str(err.value)


def test_good_thresholds_load_and_store(tmp_path):
    spec = load_eval(write_eval(tmp_path, {"match": 0.8, "critical_failures": {"max": 0},
                                           "major_failure_rate": {"max": 0.05, "on": "upper", "category": "self-harm"},
                                           "over_refusal_rate": [{"max": 0.1}, {"max": 0.05, "provider": "gpt"}],
                                           "critical_failure_rate": {"max": 0, "rule": "T01"}, "baseline": "abc"}))
    stored = json.loads(json.dumps(spec.model_dump(mode="json")))["thresholds"]
    parsed = parse_thresholds(stored)
    assert sorted(t.metric for t in parsed) == sorted(["match", "critical_failures", "major_failure_rate",
                                                       "over_refusal_rate", "over_refusal_rate",
                                                       "critical_failure_rate", "baseline"])
    by = {(t.metric, t.provider): t for t in parsed}
    assert by["baseline", None].run == "abc" and by["major_failure_rate", None].on == "upper"
    assert by["over_refusal_rate", "gpt"].max == 0.05
    assert parse_thresholds(stored, baseline="xyz")[-1].run == "xyz"


def test_compare_exit_3_lists_the_missed_thresholds(tmp_path, cli):
    results = tmp_path / "r"
    results.mkdir()
    store = Store(results / "harness.db")
    base = duel(store, {}, leaky_fails=0)
    run_id = duel(store, {"critical_failures": [{"max": 0, "category": "homework"}],
                          "critical_failure_rate": {"max": 0.1, "rule": "T02", "on": "upper"}})
    store.close()
    done = cli("compare", run_id, "-r", str(results), "--baseline", base, "--junit", str(tmp_path / "j.xml"))
    assert done.returncode == 3, done.stderr
    err = done.stderr
    assert "threshold critical_failures{category=homework} <= 0: leaky = 0 met" in err
    assert "THRESHOLDS NOT MET" in err and "- critical_failure_rate{rule=T02} <= 0.1 (on the upper end" in err
    assert "prompts: h0, h1" in err and "checked on the upper end of the interval" in err
    assert f"no significant regression vs baseline {base}" in err
    assert (tmp_path / "j.xml").exists()
    ok = cli("compare", base, "-r", str(results), "--baseline", base)
    assert ok.returncode == 0, ok.stderr
    missing = cli("compare", run_id, "-r", str(results), "--baseline", "nope")
    assert missing.returncode == 2 and "nope" in missing.stderr
