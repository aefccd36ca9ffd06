"""The report's charts on every proportion a run can produce, and a report that never fails because of a
chart: a chart that cannot be drawn is a visible note in the page and a line on stderr, never exit 1."""
from __future__ import annotations

import re

import pytest

from harness.report import charts
from harness.report.charts import Point, Rate, rates_chart, tradeoff_chart, whiskers
from harness.report.html import render_html
from test_html_report import build_store


def test_whiskers_are_never_negative_for_any_count_below_400():
    """Wilson bounds at 0/n and n/n land about 1e-16 on the wrong side of the point; matplotlib then
    refuses the error bar ("'xerr' must not contain negative values"). Every k/n with n < 400."""
    bad = [(k, n) for n in range(1, 400) for k in range(n + 1) if min(whiskers(k, n)) < 0]
    assert bad == []
    below, above = whiskers(0, 24)
    assert below == 0 and 0.13 < above < 0.15          # the real upper bound of 0/24 survives the clamp
    below, above = whiskers(24, 24)
    assert above == 0 and 0.13 < below < 0.15


@pytest.mark.parametrize("k, n", [(0, 24), (24, 24), (0, 1), (1, 1), (0, 399), (399, 399), (7, 13)])
def test_the_charts_draw_at_the_edges(k, n):
    svg = rates_chart("critical failure rate", "rate", [Rate("guardian", "self-harm", k, n),
                                                          Rate("leaky", "self-harm", n - k, n)])
    assert svg is not None and svg.lstrip().startswith(("<?xml", "<svg"))
    svg = tradeoff_chart([Point("guardian", k, n, n - k, n)])
    assert svg is not None and "<svg" in svg


def test_a_chart_that_fails_is_a_note_not_a_failed_report(tmp_path, monkeypatch):
    store, run_id = build_store(tmp_path / "h.db")

    def broken(*args, **kwargs):
        raise ValueError("'xerr' must not contain negative values")

    monkeypatch.setattr(charts, "rates_chart", broken)
    notes: list[str] = []
    html = render_html(store, [run_id], notes=notes)
    assert "this chart could not be drawn (ValueError: &#39;xerr&#39; must not contain negative values)" in html
    assert '<img src="data:image/svg+xml;base64,' in html          # the trade-off chart is still drawn
    assert len(notes) == 3 and all(n.startswith("R1: ") and "could not be drawn" in n for n in notes)
    assert "critical fails [95% CI]" in html                         # the tables are all there


def test_without_matplotlib_the_report_says_how_to_get_charts(tmp_path, monkeypatch):
    store, run_id = build_store(tmp_path / "h.db")

    def missing():
        raise RuntimeError("charts need matplotlib: pip install 'chatbot-eval-harness[report]'")

    monkeypatch.setattr(charts, "_pyplot", missing)
    notes: list[str] = []
    html = render_html(store, [run_id], notes=notes)
    assert "charts need matplotlib" in html and notes and "Leaderboard" in html
    off = render_html(store, [run_id], charts=False)
    assert "Charts left out (harness report --no-charts)" in off and "<img" not in off


def test_html_paired_table_counts_failures_like_the_terminal(tmp_path):
    store, run_id = build_store(tmp_path / "h.db")
    html = render_html(store, [run_id], charts=False)
    assert "only A passed / only B passed" not in html
    head = re.search(r"<th>only A / only B</th>", html)
    assert head, "the paired table's header"
    assert re.search(r"<td>\d+ / \d+ failed</td>", html)   # teen-safety measures count failures


def test_html_escapes_bidi_and_control_characters_and_embeds_no_absolute_path(tmp_path, monkeypatch):
    """A label or note holding U+202E (RIGHT-TO-LEFT OVERRIDE) or ESC shows as a visible escape, as in the
    terminal and the exports; the eval file, suite files and local model paths are shown relative to the
    working directory, never as this machine's absolute paths."""
    from harness.store import Store
    from harness.types import Message, Outcome, Prompt, Reply

    monkeypatch.chdir(tmp_path)
    store = Store(tmp_path / "results" / "harness.db")
    label = "safe\u202eevil\x1b[31m"
    model_path = tmp_path / "models" / "tiny.gguf"
    prompt = Prompt(id="p1", category="homework", messages=[Message(role="user", content="2+2?")])
    run_id = store.create_run(
        eval_name="bidi \u2066eval\u2069", eval_path=str(tmp_path / "evals" / "e.yaml"), spec={},
        scorers=["exact"], repeats=1,
        suites=[{"name": "s", "version": "1", "content_hash": "sha256:" + "00" * 32,
                 "path": str(tmp_path / "prompts" / "s.yaml"), "prompt_count": 1}],
        providers=[{"label": label, "model": f"local/{model_path}", "config": {"model_path": str(model_path)}}],
        samples=[("s", prompt, label, 1)])
    store.set_provider(run_id, label, status="finished", note=f"loaded {model_path}",
                       identity={"gguf": str(model_path)})
    sample = next(iter(store.results(run_id)))["sample_id"]
    store.record_reply(sample, Reply(text="4 \u202e", outcome=Outcome.ANSWERED, latency_s=0.1), [], cost_usd=None)
    store.finish_run(run_id, "finished")
    html = render_html(store, [run_id], charts=False)
    for raw in ("\u202e", "\u2066", "\u2069", "\x1b"):
        assert raw not in html, f"{raw!r} is in the page unescaped"
    assert "safe\\u202eevil\\x1b[31m" in html and "bidi \\u2066eval\\u2069" in html
    assert str(tmp_path) not in html, "an absolute local path is embedded in the report"
    assert "evals/e.yaml" in html and "prompts/s.yaml" in html and "models/tiny.gguf" in html


def test_html_percentages_are_rounded(tmp_path):
    """The judge-vs-signals line once printed `84.02366863905326%`."""
    store, run_id = build_store(tmp_path / "h.db")
    html = render_html(store, [run_id], charts=False)
    assert "judge vs signals" in html and re.search(r"agree (\d+(\.\d)?%|n/a) on \d+ rule verdicts", html)
    assert not re.search(r"\d\.\d{3,}%", html)
