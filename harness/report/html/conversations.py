"""The live-conversation part of the HTML report: the conversation tables (harness/report/
conversations.py), a survival chart, and every conversation as a thread, its failing turn marked.

All text here (user turns, replies, explanations) is untrusted: it goes to the jinja2 template,
which autoescapes it; nothing is marked safe.
"""
from __future__ import annotations

import json
from typing import Any

from harness.report.conversations import ConversationReport, conversation_report
from harness.report.escape import clean
from harness.report.safety import SAFETY, summary_names
from harness.report.survival import median_turn
from harness.store import Store
from harness.store.conversations import conversation_rows, run_turns

MAX_THREADS = 500
EXCERPT = 4000


def survival_chart(report: ConversationReport) -> str | None:
    """Kaplan-Meier step curves with their 95% bands, one per provider (SVG text); None with no data."""
    from harness.report.charts import _pyplot, _style, _svg

    series = [p for p in report.providers if p.survival]
    if not series:
        return None
    plt = _pyplot()
    with _style():
        fig, ax = plt.subplots(figsize=(6.5, 3.2))
        for p in series:
            turns = [0] + [r.turn for r in p.survival]
            ax.step(turns, [1.0] + [r.survival for r in p.survival], where="post", label=p.provider)
            ax.fill_between(turns, [1.0] + [r.low for r in p.survival], [1.0] + [r.high for r in p.survival],
                            step="post", alpha=0.15)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("turn")
        ax.set_ylabel(f"share without a {report.event}")
        ax.legend(loc="lower left", fontsize=8)
        return _svg(fig)


def _verdict(scores, summaries: frozenset[str] = frozenset([SAFETY])) -> tuple[str, str]:
    """(label, short text) of a turn: its summary score (`summaries`: the names the run's safety
    summaries are stored under), else its first failing score."""
    for s in scores:
        if s.scorer in summaries:
            return s.label or "", s.explanation
    failed = [s for s in scores if s.passed is False]
    if failed:
        return "fail", "; ".join(f"{s.scorer}: {s.explanation}" for s in failed[:3])
    return ("pass", "") if scores and all(s.passed for s in scores) else ("", "")


def conversation_view(store: Store, run_id: str, *, charts: bool = True) -> dict[str, Any] | None:
    """None when the run has no conversations."""
    report = conversation_report(store, run_id)
    if report is None:
        return None
    tables = [("per provider", ["provider", "conversations", f"with a {report.event}", "95% CI",
                                "median turn to first failure (KM)", "ended by error", "ended by block"],
               [[p.provider, p.conversations, f"{p.failed}/{p.decided} ({p.failure_rate:.0%})" if p.decided else "-",
                 f"{p.ci[0]:.0%}-{p.ci[1]:.0%}" if p.ci else "-",
                 median_turn(p.survival) if median_turn(p.survival) is not None else "not reached",
                 p.ended.get("error", 0), p.ended.get("blocked", 0)] for p in report.providers])]
    longest = max((len(p.survival) for p in report.providers), default=0)
    if longest:
        rows = []
        for t in range(1, longest + 1):
            row = [t]
            for p in report.providers:
                r = p.survival[t - 1] if t <= len(p.survival) else None
                row.append("" if r is None else f"{r.survival:.2f} ({r.low:.2f}-{r.high:.2f}), n={r.at_risk}")
            rows.append(row)
        tables.append((f"share still without a {report.event} after each turn (Kaplan-Meier, 95% interval)",
                       ["turn", *[p.provider for p in report.providers]], rows))
    if report.paired:
        tables.append(("which provider lasts longer on the same scripts (exact sign test, Holm-adjusted)",
                       ["A", "B", "A longer", "B longer", "ties", "unordered", "p", "p (Holm)", "verdict"],
                       [[c.a, c.b, c.a_longer, c.b_longer, c.ties, c.unordered, f"{c.p_value:.3g}", f"{adj:.3g}",
                         (f"{c.winner} lasts longer" if c.winner and adj < 0.05 else "no significant difference")]
                        for c, adj in report.paired]))
    summaries = summary_names(json.loads(store.run(run_id)["scorers_json"]))
    ended = {r["sample_id"]: r for r in conversation_rows(store, run_id)}
    samples = {r["sample_id"]: r for r in store.results(run_id)}
    threads = []
    for sample_id, turns in list(run_turns(store, run_id).items())[:MAX_THREADS]:
        row, sample = ended.get(sample_id), samples[sample_id]
        critical = row["first_critical_turn"] if row else None
        first = row["first_failing_turn"] if row else None
        threads.append({
            "provider": clean(sample["provider"]), "prompt": clean(sample["prompt_id"]), "repeat": sample["repeat"],
            "ended": row["ended"] if row else "pending", "ended_turn": row["ended_turn"] if row else None,
            "planned": row["planned_turns"] if row else None, "first_failing": first, "first_critical": critical,
            "turns": [{"turn": t.turn, "user": clean(t.user[:EXCERPT]), "reply": clean(t.reply.text[:EXCERPT]),
                       "outcome": t.reply.outcome.value, "reason": clean(t.reply.reason or ""),
                       "label": _verdict(t.scores, summaries)[0],
                       "why": clean(_verdict(t.scores, summaries)[1][:600]),
                       "failing": t.turn == (critical or first)} for t in turns]})
    return {"event": report.event, "tables": tables, "threads": threads,
            "more": max(0, len(ended) - MAX_THREADS),
            "chart": survival_chart(report) if charts else None}
