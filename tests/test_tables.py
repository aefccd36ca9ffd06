"""Tables at 80 and 120 columns, rendered through rich at a fixed width: no number or id is ever split,
the compact layout says what it left out, --wide shows every column, piped output is unwrapped, and
the Markdown, CSV and `runs` outputs carry what they must."""
from __future__ import annotations

import csv
import io
import json
import random
import re

import pytest
from rich.console import Console

from harness.report.layout import Col, fit_table, md_text
from harness.report.paired import fit_paired, fit_safety_paired, paired_comparisons, safety_paired_comparisons
from harness.report.summary import ALL, summarise
from harness.report.table import _cells, csv_text, fit_main, fit_rules, fit_safety, headline, markdown
from harness.store import Store
from harness.types import Message, Outcome, Prompt, Reply, Score, Usage
from test_safety_report import make_duel, make_run, prompt, record, rules

LONG = ["gpt-4o-mini-2024-07-18", "claude-haiku-4-5", "Llama-3.2-1B-Instruct-Q4_K_M"]
SHORT = ["gpt-4o-mini", "claude-haiku-4-5", "llama-3.2-1b"]
CATS = ["facts", "arithmetic", "multiple-choice", "reading"]


def render(fitted, width: int) -> str:
    """Rendered as show_report prints it: at `width`, or wider only if the table says it needs it."""
    buf = io.StringIO()
    Console(file=buf, width=max(width, fitted.width), color_system=None).print(fitted.table)
    return buf.getvalue()


def tokens(text: str) -> set[str]:
    return {t for line in text.splitlines() for t in re.split(r"[\s│┃]+", line) if t}


def accuracy_run(store: Store, n: int = 300, seed: int = 1, labels: list[str] = LONG) -> str:
    rnd = random.Random(seed)
    prompts = [Prompt(id=f"p{i:03d}", messages=[Message(role="user", content="Capital of France?")],
                      category=CATS[i % 4], target="Paris") for i in range(n)]
    run_id = store.create_run(
        eval_name="acc-eval", eval_path=None, spec={}, scorers=["match", "refusal"], repeats=1,
        suites=[{"name": "acc", "version": "1", "content_hash": "sha256:" + "ab" * 32, "path": "p", "prompt_count": n}],
        providers=[{"label": p, "model": p, "config": {}} for p in labels],
        samples=[("acc", p, prov, 1) for prov in labels for p in prompts])
    for row in store.results(run_id):
        if rnd.random() < 0.03:
            continue   # pending
        if rnd.random() < 0.02:
            store.record_reply(row["sample_id"], Reply(outcome=Outcome.ERROR, reason="x"), [], cost_usd=None)
            continue
        ok = rnd.random() < 0.8
        text = "Paris" if ok else "I'm sorry, but I can't help with that."
        store.record_reply(row["sample_id"], Reply(text=text, outcome=Outcome.ANSWERED, latency_s=rnd.random() * 3,
                                                   usage=Usage(input_tokens=20, output_tokens=5)),
                           [Score(scorer="match", passed=ok), Score(scorer="refusal", passed=not ok)],
                           cost_usd=None if row["provider"].startswith("Llama") else 0.000123)
    return run_id


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "harness.db")
    yield s
    s.close()


def assert_fits(text: str, width: int) -> None:
    assert max(len(line) for line in text.splitlines()) <= width, text


@pytest.mark.parametrize("width", [80, 120])
def test_main_table_never_splits_a_number_and_fits(store, width):
    report = summarise(store, accuracy_run(store))
    fitted = fit_main(report, width)
    text = render(fitted, width)
    assert fitted.width <= width
    assert_fits(text, width)
    seen = tokens(text)
    for g in report.groups:
        cells = _cells(g, report)
        for cell in cells[:4]:   # group, provider, n, headline: always shown, every word whole
            assert set(cell.split()) <= seen, (cell, text)
        assert f"{g.errors}/{g.pending}" in seen    # errors and pending share one column, never hidden
    assert {"match", "pass", "rate"} <= seen and "accuracy" not in seen   # the header may wrap at spaces
    optional = {"cost $", "ans/blk/trunc", "p50/p95 s", "tokens in/out", "ttft p50 s"}
    assert fitted.hidden and set(fitted.hidden) <= optional
    if width == 80:
        assert "cost $" in fitted.hidden
    else:   # at 120 there is room for some of them, never at the expense of a split cell
        assert len(fitted.hidden) < len(optional)


def test_wide_shows_every_column_and_unbounded_is_one_line_per_row(store):
    report = summarise(store, accuracy_run(store))
    wide = fit_main(report, 80, wide=True)
    assert wide.hidden == []
    text = render(wide, 80)
    g = next(g for g in report.groups if g.category == ALL)
    assert {f"{g.answered}/{g.blocked}/{g.truncated}", f"{g.input_tokens}/{g.output_tokens}", "unknown"} <= tokens(text)
    plain = fit_main(report, None)
    text = render(plain, 100_000)
    rows = [line for line in text.splitlines() if "│ (all)" in line]
    assert len(rows) == len(LONG)   # one line per provider row: nothing wrapped
    assert all(re.search(r"\d+\.\d% \[\d+%-\d+%\] \(\d+/\d+\)", r) for r in rows)


@pytest.mark.parametrize("width", [80, 120])
def test_safety_tables_keep_undecided_counts_at_any_width(store, width):
    run_id, ids = make_run(store, SHORT, [prompt(f"h{i}", "self-harm") for i in range(6)])
    for i in range(6):
        record(store, ids[SHORT[0], f"h{i}"], rules(T01="fail" if i < 2 else "unverified"))
        record(store, ids[SHORT[1], f"h{i}"], rules(T01="needs_review"))
        record(store, ids[SHORT[2], f"h{i}"], rules(T01="pass" if i < 3 else "unverified", O1="unverified"))
    report = summarise(store, run_id)
    main = render(fit_main(report, width), width)
    assert_fits(main, width)
    seen = tokens(main)
    assert {"2/2", "+4", "undecided", "n/a", "+6", "0/3", "+3"} <= seen   # never a bare 0 or n/a
    for fitted in (fit_safety(report, width), fit_rules(report, width)):
        text = render(fitted, width)
        assert fitted.hidden == []      # every provider column, always
        assert_fits(text, width)
        seen = tokens(text)
        assert {"+4", "unverified", "+6", "review", "+3"} <= seen
        for name in SHORT:
            assert name in seen    # a provider's name is never broken, not even at its hyphens


def test_long_provider_names_are_stacked_rather_than_broken(store):
    """3 labels of 22, 16 and 28 characters and a measure column do not fit 80 columns side by side: the
    table is shown as records (one block per row), every name and number whole, within 80 columns."""
    run_id, ids = make_run(store, LONG, [prompt("h0", "self-harm")])
    for name in LONG:
        record(store, ids[name, "h0"], rules(T01="unverified"))
    fitted = fit_safety(summarise(store, run_id), 80)
    text = render(fitted, 80)
    assert fitted.width <= 80
    assert_fits(text, 80)
    seen = tokens(text)
    assert set(LONG) <= seen and "+1" in seen


@pytest.mark.parametrize("width", [80, 120])
def test_paired_tables_fit_and_keep_p_values_whole(store, width):
    run_id = make_duel(store)
    pairs = [r for r in safety_paired_comparisons(store, run_id) if r.category == ALL]
    fitted = fit_safety_paired(pairs, width)
    text = render(fitted, width)
    assert_fits(text, width)
    seen = tokens(text)
    assert {"0.0078", "(0.0156)", "+40.0", "[+15.8,", "+61.3]", "leaky", "prude"} <= seen
    acc_store_run = accuracy_run(store, n=60)
    acc = [r for r in paired_comparisons(store, acc_store_run, "match") if r.category == ALL]
    fitted = fit_paired(acc, width)
    text = render(fitted, width)
    assert_fits(text, width)
    for r in acc:
        assert f"{r.n}" in tokens(text) and r.provider_a in tokens(text)


def test_a_table_too_wide_for_the_terminal_is_widened_not_cut():
    cols = [Col("id", justify="left", no_wrap=True), Col("value")]
    rows = [["20261202-183154-7281-very-long-identifier-that-never-wraps" * 2, "12345678901234567890"]]
    fitted = fit_table(cols, rows, 80)
    assert fitted.width > 80
    text = render(fitted, 80)
    assert rows[0][0] in text and rows[0][1] in text


def test_headline_column_says_what_it_holds(store):
    run_id = accuracy_run(store, n=20)
    assert headline(summarise(store, run_id)) == "match pass rate [95% CI]"
    duel = make_duel(store)
    assert headline(summarise(store, duel)) is None    # teen safety is counted, not a pass rate


def test_markdown_has_no_html_entities_but_still_escapes_labels(store):
    run_id = make_duel(store)
    from harness.report.paired import paired_markdown

    md = markdown(summarise(store, run_id)) + paired_markdown(safety_paired_comparisons(store, run_id))
    assert "&lt;" not in md and "&gt;" not in md and "&amp;" not in md
    assert md_text("p <0.0001") == "p <0.0001" and md_text("Holm p < 0.05") == "Holm p < 0.05"
    assert md_text("<script>x</script>") .startswith("&lt;script")    # a tag is still neutralised


def test_csv_carries_every_table(store):
    run_id = make_duel(store)
    report = summarise(store, run_id)
    pairs = safety_paired_comparisons(store, run_id)
    rows = list(csv.DictReader(io.StringIO(csv_text(report, pairs))))
    by_table: dict[str, list] = {}
    for r in rows:
        by_table.setdefault(r["table"], []).append(r)
    assert set(by_table) == {"main", "teen_safety", "rules", "paired"}
    assert len(by_table["main"]) == len(report.groups)
    crit = [r for r in by_table["teen_safety"] if r["measure"] == "critical fails [95% CI]"]
    assert {(r["provider"], r["value"]) for r in crit} == {("leaky", "8/20 [22%-61%]"), ("prude", "0/20 [0%-16%]")}
    t01 = next(r for r in by_table["rules"] if r["rule"] == "T01" and r["provider"] == "leaky")
    assert (t01["failed"], t01["decided"]) == ("8", "20")
    assert len(by_table["paired"]) == len(pairs) and all(r["verdict"] for r in by_table["paired"])


# -- the commands ------------------------------------------------------------------------------------

def test_compare_at_80_columns_and_piped(cli, tmp_path):
    results = tmp_path / "r"
    store = Store(results / "harness.db")
    run_id = accuracy_run(store, labels=SHORT)
    store.close()
    narrow = cli("compare", "-r", str(results), "--width", "80")
    assert narrow.returncode == 0, narrow.stderr
    assert_fits(narrow.stdout, 80)
    assert "columns left out to fit the terminal" in narrow.stdout and "--wide" in narrow.stdout
    assert "300" in tokens(narrow.stdout) and run_id in narrow.stdout
    piped = cli("compare", "-r", str(results))        # not a terminal: every column, one line per row
    assert piped.returncode == 0
    rows = [line for line in piped.stdout.splitlines() if line.startswith("│ (all)") and "pts" not in line]
    assert len(rows) == 3 and all(re.search(r"\d+/\d+/\d+ .* \d+/\d+ ", r) for r in rows)   # tokens in/out too
    assert "ttft p50 s" in piped.stdout and "columns left out" not in piped.stdout
    refusal = cli("compare", "-r", str(results), "-s", "refusal", "--width", "120")
    assert refusal.returncode == 0, refusal.stderr
    assert "refusal rate [95% CI]" in refusal.stdout and "match pass rate" not in refusal.stdout
    assert_fits(refusal.stdout, 120)
    typo = cli("compare", "-r", str(results), "-s", "refusl")
    message = " ".join(re.sub(r"[│╭╮╰╯─]", " ", typo.stderr).split())   # typer's error box wraps lines
    assert typo.returncode == 2 and "did you mean 'refusal'" in message
    md = cli("compare", "-r", str(results), "-f", "markdown").stdout
    assert "&lt;" not in md and "| match pass rate \\[95% CI\\] |" in md


def test_runs_never_truncates_the_run_id(cli, tmp_path):
    results = tmp_path / "r"
    store = Store(results / "harness.db")
    ids = [accuracy_run(store, n=4, seed=s) for s in range(2)]
    store.close()
    for width in ("80", "50"):
        listing = cli("runs", "-r", str(results), "--width", width)
        assert listing.returncode == 0, listing.stderr
        for run_id in ids:
            assert run_id in tokens(listing.stdout)   # whole, on one line
        if width == "80":
            assert_fits(listing.stdout, 80)
        else:   # too narrow even for the required columns: the table is widened, never cut
            assert all(run_id in listing.stdout for run_id in ids)
    wide = cli("runs", "-r", str(results), "--wide", "--width", "80")
    assert all(label in wide.stdout for label in LONG)


def test_cache_stats_is_a_table_and_creates_nothing(cli, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    empty = cli("cache", "stats", cwd=work)
    assert empty.returncode == 0 and "no response cache" in empty.stdout
    assert list(work.iterdir()) == []                  # no results/ folder appeared
    cleared = cli("cache", "clear", cwd=work)
    assert cleared.returncode == 0 and list(work.iterdir()) == []
    from harness.cache import ResponseCache

    cache = ResponseCache(work / "results" / "cache.db")
    cache.put("k1", "openai/gpt-4o-mini", Reply(text="x", outcome=Outcome.ANSWERED))
    cache.put("k2", "llama/tiny", Reply(text="y", outcome=Outcome.ANSWERED))
    cache.close()
    shown = cli("cache", "stats", cwd=work)
    assert shown.returncode == 0, shown.stderr
    assert "2 replies" in shown.stdout and "openai/gpt-4o-mini" in shown.stdout and " UTC" in shown.stdout
    assert "{" not in shown.stdout and not re.search(r"\b1[6-9]\d{8}\b", shown.stdout)   # no JSON, no epoch
    data = json.loads(cli("cache", "stats", "--json", cwd=work).stdout)
    assert data["entries"] == 2 and data["newest"].endswith("+00:00")


# -- every table of the three-provider teen-safety run with long model ids, at 80 and 120 columns ------

IDS = ["openai/gpt-4o-mini-2024-07-18", "anthropic/claude-haiku-4-5-20251001", "local/Llama-3.2-1B-Instruct-Q4_K_M"]
USER_CATS = ["self-harm", "homework", "Suicide, Self-Harm, and Eating Disorders", "secrets-from-caregivers"]


def long_ids_run(store: Store, seed: int) -> str:
    rnd = random.Random(seed)
    prompts = [prompt(f"p{i:03d}", USER_CATS[i % 4]) for i in range(80)]
    run_id, ids = make_run(store, IDS, prompts)
    for (prov, pid), sid in ids.items():
        if USER_CATS[int(pid[1:]) % 4] == "homework":
            labels = {"O1": rnd.choice(["pass", "fail", "unverified"]), "T01": "pass"}
        else:
            labels = {"T01": rnd.choice(["fail", "pass", "unverified"]), "T02": rnd.choice(["pass", "needs_review"]),
                      "T07": rnd.choice(["pass", "fail"])}
        record(store, sid, rules(**labels), outcome=Outcome.TRUNCATED if rnd.random() < 0.05 else Outcome.ANSWERED)
    store.finish_run(run_id, "finished")
    return run_id


@pytest.fixture(scope="module")
def long_ids_store(tmp_path_factory):
    results = tmp_path_factory.mktemp("long-ids")
    store = Store(results / "harness.db")
    runs = [long_ids_run(store, 1), long_ids_run(store, 2)]
    report = summarise(store, runs[1])
    counts = {g.provider: g.safety.critical for g in report.groups if g.category == ALL}
    store.close()
    return results, runs, counts


@pytest.mark.parametrize("width", [80, 120])
def test_every_table_fits_with_long_provider_ids(cli, long_ids_store, width):
    results, (run_a, run_b), counts = long_ids_store
    commands = {"compare": ["compare"], "by-category": ["compare", "--by-category"], "diff": ["diff", run_a, run_b],
                "runs": ["runs"]}
    for name, args in commands.items():
        done = cli(*args, "-r", str(results), "--width", str(width))
        assert done.returncode == 0, (name, done.stderr)
        assert_fits(done.stdout, width)
        seen = tokens(done.stdout)
        if name == "runs":
            assert {run_a, run_b} <= seen
            continue
        # long ids are shown by short labels, said once in a legend where each id is whole
        assert "providers shown by short labels:" in done.stdout and set(IDS) <= seen
        if name != "diff":
            for measure in counts.values():   # no count split across lines
                assert f"{measure.failed}/{measure.decided}" in seen, (name, measure.failed, measure.decided)
            assert run_b in done.stdout


def test_a_footnote_never_names_a_column_left_out():
    cols = [Col("pair", justify="left"), Col("p"), Col("excluded", optional=1)]
    rows = [["guardian vs leaky", "0.0001", "12345678901234567890123456789012345678901234567890"]]
    fitted = fit_table(cols, rows, 40, caption="errors are not paired (column 'excluded')")
    assert fitted.hidden == ["excluded"]
    text = render(fitted, 40)
    assert "left out here: --wide shows it" in " ".join(text.split())
