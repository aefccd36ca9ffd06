"""The report's tables and charts as plain values (strings), shared by the HTML and Markdown writers."""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from harness.report.html.data import RunSection
from harness.report.summary import Group
from harness.report.headline import denominator, html_safety_cells, html_safety_columns, rate_caption
from harness.report.table import _cost, _fmt_float, headline   # the terminal table's own formatting

SAFETY_COLS = ["provider blocks", "blocks without a resource", "unverified", "needs review", "not checked"]


def _rate(k: int, n: int, ci) -> str:
    if not n:
        return "n/a"
    lo, hi = ci
    return f"{k / n:.1%} [{lo:.0%}-{hi:.0%}] ({k}/{n})"


def leaderboard_columns(sec: RunSection) -> list[str]:
    head = headline(sec.report)
    cols = ["provider", "n"] + ([head] if head else [])
    if sec.report.has_safety:
        cols += html_safety_columns(sec.report) + SAFETY_COLS
    return cols + ["answered / blocked / truncated", "errors", "pending", "latency p50 / p95 s", "ttft p50 s",
                   "tokens in / out", "cost $"]


def group_cells(sec: RunSection, g: Group) -> list[str]:
    cells = [g.provider, str(g.planned)]
    if sec.report.accuracy_scorer:
        cells.append(_rate(g.passed, g.scored, g.ci) if g.scored else "n/a")
    if sec.report.has_safety:
        s = g.safety
        cells += html_safety_cells(g, sec.report) + [str(s.provider_blocked),
                  str(s.blocked_no_resource), str(s.unverified), str(s.needs_review), str(s.not_checked)]
    tokens = "-" if g.replied == g.errors else f"{g.input_tokens} / {g.output_tokens}" + (
        f" ({g.tokens_unknown} unknown)" if g.tokens_unknown else "")
    exhausted = f" ({g.reasoning_exhausted} reasoning_exhausted)" if g.reasoning_exhausted else ""
    return cells + [f"{g.answered} / {g.blocked} / {g.truncated}{exhausted}", str(g.errors), str(g.pending),
                    f"{_fmt_float(g.latency_p50)} / {_fmt_float(g.latency_p95)}", _fmt_float(g.ttft_p50, 3),
                    tokens, _cost(g)]


def leaderboard_rows(sec: RunSection) -> dict:
    """The leaderboard (whole run) and the same columns per category."""
    return {"columns": leaderboard_columns(sec),
            "rows": [group_cells(sec, g) for g in sec.leaderboard],
            "by_category": [[g.category] + group_cells(sec, g) for g in sec.categories]}


PAIR_COLS = ["group", "measure / scorer", "A", "B", "paired n", "only A / only B",
             "difference [95% CI]", "McNemar p (Holm)", "verdict"]


def _only(r) -> str:
    """The discordant pairs, saying what they count: on a teen-safety measure 1 = failed (lower is
    better), on a scorer 1 = passed; the same words as the terminal's `only A / only B failed`."""
    return f"{r.a_only} / {r.b_only} " + ("failed" if r.measure is not None else "passed")


def pair_rows(sec: RunSection) -> list[list[str]]:
    rows = []
    for r in sec.pairs:
        diff = "-" if r.difference is None else (
            f"{r.difference:+.1%}" + ("" if r.ci_low is None else f" [{r.ci_low:+.0%}, {r.ci_high:+.0%}]"))
        rows.append([r.category, r.measure or r.scorer, r.provider_a, r.provider_b, str(r.n),
                     _only(r), diff, f"{r.p_value:.3g} ({r.p_holm:.3g})", r.verdict_text])
    return rows


NOTHING_TO_DRAW = "nothing to draw (no decided replies)"


class Chart(NamedTuple):
    title: str
    svg: str | None
    caption: str
    missing: str          # why there is no svg ("" when there is one)


def draw_chart(title: str, draw: Callable[[], str | None], caption: str) -> Chart:
    """A chart that cannot be drawn (matplotlib missing, a matplotlib error on odd data) is a note in the
    report, never a failed report: the tables hold the same figures."""
    try:
        svg = draw()
    except Exception as err:  # noqa: BLE001 - any drawing failure degrades to a note, never exit 1
        return Chart(title, None, caption, f"this chart could not be drawn ({type(err).__name__}: {err}); "
                                           "the tables above have the same figures")
    return Chart(title, svg, caption, "" if svg is not None else NOTHING_TO_DRAW)


def _unavailable(err: Exception) -> Chart:
    def draw():
        raise err
    return draw_chart("charts", draw, "Install the extra (pip install 'chatbot-eval-harness[report]') to draw them.")


def failed_charts(charts: list[Chart]) -> list[str]:
    """Titles and causes of the charts that could not be drawn, for a note on stderr."""
    return [f"{c.title}: {c.missing}" for c in charts if c.missing and c.missing != NOTHING_TO_DRAW]


def charts_for(sec: RunSection) -> list[Chart]:
    """A Chart for each chart of a run."""
    try:
        from harness.report.charts import Point, Rate, rates_chart, tradeoff_chart
    except Exception as err:  # noqa: BLE001
        return [_unavailable(err)]

    out = []
    groups = sec.leaderboard + sec.categories
    if sec.report.accuracy_scorer:
        rates = [Rate(g.provider, g.category, g.passed, g.scored) for g in groups]
        name = headline(sec.report).removesuffix(" [95% CI]")
        out.append(draw_chart(f"{name} per provider and category",
                         lambda: rates_chart(name, f"{name}, Wilson 95% CI", rates),
                         "Errors and pending samples are not in the denominator."))
    if sec.report.has_safety:
        for measure, title in (("critical", "critical failure rate"), ("major", "major failure rate"),
                               ("over_refusal", "over-refusal rate")):
            rates = [Rate(g.provider, g.category, getattr(g.safety, measure).failed,
                          denominator(getattr(g.safety, measure), sec.report)) for g in groups]
            out.append(draw_chart(f"{title} per provider and category",
                             lambda title=title, rates=rates: rates_chart(
                                 title, f"{title} {rate_caption(sec.report)}", rates),
                             "Undecided replies (unverified, needs review, blocked) are not in the denominator and "
                             "are never counted as safe." if sec.report.judged else "Without a judge: failures found "
                             "by the text signals over every reply checked, a lower bound; unverified replies are "
                             "never safe."))
        points = [Point(g.provider, g.safety.critical.failed, denominator(g.safety.critical, sec.report),
                        g.safety.over_refusal.failed, denominator(g.safety.over_refusal, sec.report))
                  for g in sec.leaderboard]
        left = [p.label for p in points if not (p.fail_n and p.over_n)]
        out.append(draw_chart("critical failures against over-refusal, one point per provider",
                         lambda: tradeoff_chart(points),
                         "A provider with no decided reply on either measure is not drawn"
                         + (f": {', '.join(left)}." if left else ".")))
    return out


def combined_charts(secs: list[RunSection]) -> list[Chart]:
    """With several runs: each run's providers in one chart ("R1 leaky", "R2 leaky"), whole-run figures."""
    try:
        from harness.report.charts import Point, Rate, rates_chart, tradeoff_chart
    except Exception as err:  # noqa: BLE001
        return [_unavailable(err)]

    out = []
    safety = [s for s in secs if s.report.has_safety]
    if len(safety) > 1:
        rates = [Rate(f"{s.tag} {g.provider}", name, getattr(g.safety, m).failed, getattr(g.safety, m).decided)
                 for s in safety for g in s.leaderboard
                 for m, name in (("critical", "critical failures"), ("major", "major failures"),
                                 ("over_refusal", "over-refusals"))]
        out.append(draw_chart("teen-safety measures, runs side by side",
                         lambda: rates_chart("runs side by side", "rate over decided replies, Wilson 95% CI", rates),
                         "Whole-run figures of each run's providers."))
        points = [Point(f"{s.tag} {g.provider}", g.safety.critical.failed, g.safety.critical.decided,
                        g.safety.over_refusal.failed, g.safety.over_refusal.decided) for s in safety for g in s.leaderboard]
        out.append(draw_chart("critical failures against over-refusal, runs side by side", lambda: tradeoff_chart(points),
                         "One point per run and provider; one with no decided reply on either measure is not drawn."))
    accuracy = [s for s in secs if s.report.accuracy_scorer]
    if len(accuracy) > 1:
        acc = [Rate(f"{s.tag} {g.provider}", f"{s.tag}: {headline(s.report).removesuffix(' [95% CI]')}",
                    g.passed, g.scored) for s in accuracy for g in s.leaderboard]
        out.append(draw_chart("accuracy, runs side by side",
                         lambda: rates_chart("runs side by side", "pass rate, Wilson 95% CI", acc),
                         "Each run's first scorer over the replies it could judge."))
    return out
