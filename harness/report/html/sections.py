"""The report's tables and charts as plain values (strings), shared by the HTML and Markdown writers."""
from __future__ import annotations

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
    return cells + [f"{g.answered} / {g.blocked} / {g.truncated}", str(g.errors), str(g.pending),
                    f"{_fmt_float(g.latency_p50)} / {_fmt_float(g.latency_p95)}", _fmt_float(g.ttft_p50, 3),
                    tokens, _cost(g)]


def leaderboard_rows(sec: RunSection) -> dict:
    """The leaderboard (whole run) and the same columns per category."""
    return {"columns": leaderboard_columns(sec),
            "rows": [group_cells(sec, g) for g in sec.leaderboard],
            "by_category": [[g.category] + group_cells(sec, g) for g in sec.categories]}


PAIR_COLS = ["group", "measure / scorer", "A", "B", "paired n", "only A / only B",
             "difference [95% CI]", "McNemar p (Holm)", "verdict"]


def pair_rows(sec: RunSection) -> list[list[str]]:
    rows = []
    for r in sec.pairs:
        diff = "-" if r.difference is None else (
            f"{r.difference:+.1%}" + ("" if r.ci_low is None else f" [{r.ci_low:+.0%}, {r.ci_high:+.0%}]"))
        rows.append([r.category, r.measure or r.scorer, r.provider_a, r.provider_b, str(r.n),
                     f"{r.a_only} / {r.b_only} {'failed' if r.measure else 'passed'}", diff,
                     f"{r.p_value:.3g} ({r.p_holm:.3g})", r.verdict_text])
    return rows


def charts_for(sec: RunSection) -> list[tuple[str, str | None, str]]:
    """(title, svg or None, caption) for each chart of a run."""
    from harness.report.charts import Point, Rate, rates_chart, tradeoff_chart

    out = []
    groups = sec.leaderboard + sec.categories
    if sec.report.accuracy_scorer:
        rates = [Rate(g.provider, g.category, g.passed, g.scored) for g in groups]
        name = headline(sec.report).removesuffix(" [95% CI]")
        out.append((f"{name} per provider and category", rates_chart(name, f"{name}, Wilson 95% CI", rates),
                    "Errors and pending samples are not in the denominator."))
    if sec.report.has_safety:
        for measure, title in (("critical", "critical failure rate"), ("major", "major failure rate"),
                               ("over_refusal", "over-refusal rate")):
            rates = [Rate(g.provider, g.category, getattr(g.safety, measure).failed,
                          denominator(getattr(g.safety, measure), sec.report)) for g in groups]
            out.append((f"{title} per provider and category",
                        rates_chart(title, f"{title} {rate_caption(sec.report)}", rates),
                        "Undecided replies (unverified, needs review, blocked) are not in the denominator and are "
                        "never counted as safe." if sec.report.judged else "Without a judge: failures found by the "
                        "text signals over every reply checked, a lower bound; unverified replies are never safe."))
        points = [Point(g.provider, g.safety.critical.failed, denominator(g.safety.critical, sec.report),
                        g.safety.over_refusal.failed, denominator(g.safety.over_refusal, sec.report))
                  for g in sec.leaderboard]
        left = [p.label for p in points if not (p.fail_n and p.over_n)]
        out.append(("critical failures against over-refusal, one point per provider", tradeoff_chart(points),
                    "A provider with no decided reply on either measure is not drawn"
                    + (f": {', '.join(left)}." if left else ".")))
    return out


def combined_charts(secs: list[RunSection]) -> list[tuple[str, str | None, str]]:
    """With several runs: each run's providers in one chart ("R1 leaky", "R2 leaky"), whole-run figures."""
    from harness.report.charts import Point, Rate, rates_chart, tradeoff_chart

    out = []
    safety = [s for s in secs if s.report.has_safety]
    if len(safety) > 1:
        rates = [Rate(f"{s.tag} {g.provider}", name, getattr(g.safety, m).failed, getattr(g.safety, m).decided)
                 for s in safety for g in s.leaderboard
                 for m, name in (("critical", "critical failures"), ("major", "major failures"),
                                 ("over_refusal", "over-refusals"))]
        out.append(("teen-safety measures, runs side by side", rates_chart("runs side by side", "rate over decided "
                    "replies, Wilson 95% CI", rates), "Whole-run figures of each run's providers."))
        points = [Point(f"{s.tag} {g.provider}", g.safety.critical.failed, g.safety.critical.decided,
                        g.safety.over_refusal.failed, g.safety.over_refusal.decided) for s in safety for g in s.leaderboard]
        out.append(("critical failures against over-refusal, runs side by side", tradeoff_chart(points),
                    "One point per run and provider; one with no decided reply on either measure is not drawn."))
    accuracy = [s for s in secs if s.report.accuracy_scorer]
    if len(accuracy) > 1:
        rates = [Rate(f"{s.tag} {g.provider}", f"{s.tag}: {headline(s.report).removesuffix(' [95% CI]')}",
                      g.passed, g.scored) for s in accuracy for g in s.leaderboard]
        out.append(("accuracy, runs side by side", rates_chart("runs side by side", "pass rate, Wilson 95% CI", rates),
                    "Each run's first scorer over the replies it could judge."))
    return out
