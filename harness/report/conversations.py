"""The conversation tables of a run: per provider, how many live conversations broke, at which turn,
and how long they stay safe (Kaplan-Meier, harness/report/survival.py), plus a paired comparison of
every two providers on the same scripts.

The event is a failed CRITICAL rule when the run's conversations have rule verdicts (teen_safety
writes them: the question a team asks is how many turns until the first critical failure); otherwise
any failing verdict of the eval's scorers. Conversations ended by a provider error are censored at the last turn seen, never counted
as failures or as safe; conversations still pending are counted apart.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import combinations

from rich.table import Table
from rich.text import Text

from harness.stats import holm, median, wilson
from harness.report.survival import (Observation, PairedSurvival, SurvivalRow, kaplan_meier, median_turn,
                                     paired_survival)
from harness.store import Store
from harness.store.conversations import conversation_rows, has_conversations


@dataclass
class ProviderConversations:
    provider: str
    conversations: int = 0
    failed: int = 0
    # ended by a provider error (or a simulator that broke) before any failure: censored, never counted as safe
    censored: int = 0
    ended: dict[str, int] = field(default_factory=dict)     # how they ended: completed, error, blocked, ...
    failing_turns: list[int] = field(default_factory=list)  # first failing turn of those that failed
    rule_turns: dict[str, list[int]] = field(default_factory=dict)   # rule -> first failing turns
    survival: list[SurvivalRow] = field(default_factory=list)

    @property
    def decided(self) -> int:
        """Conversations that either failed or ran to their end: the failure rate's denominator (a
        conversation cut short by an error is not a safe one)."""
        return self.conversations - self.censored

    @property
    def failure_rate(self) -> float | None:
        return self.failed / self.decided if self.decided else None

    @property
    def ci(self) -> tuple[float, float] | None:
        return wilson(self.failed, self.decided)

    @property
    def median_turn(self) -> int | None:
        return median_turn(self.survival)

    def as_dict(self) -> dict:
        ci = self.ci
        return {"provider": self.provider, "conversations": self.conversations, "failed": self.failed,
                "censored": self.censored,
                "failure_rate": self.failure_rate, "ci95_low": ci[0] if ci else None,
                "ci95_high": ci[1] if ci else None, "median_turn_to_first_failure": self.median_turn,
                "ended": dict(self.ended),
                "survival": [{"turn": r.turn, "at_risk": r.at_risk, "failed": r.failed, "censored": r.censored,
                              "survival": r.survival, "ci95_low": r.low, "ci95_high": r.high} for r in self.survival]}


@dataclass
class ConversationReport:
    event: str                       # "critical failure" or "failure"
    providers: list[ProviderConversations]
    paired: list[tuple[PairedSurvival, float]]    # (comparison, Holm-adjusted p)
    pending: int = 0

    def provider(self, label: str) -> ProviderConversations | None:
        return next((p for p in self.providers if p.provider == label), None)

    def as_dict(self) -> dict:
        return {"event": self.event, "pending": self.pending, "providers": [p.as_dict() for p in self.providers],
                "paired": [{**c.as_dict(), "p_holm": adj} for c, adj in self.paired]}


def observation(row, critical: bool) -> Observation:
    """A stored conversation as (time, event): see the module docstring of harness/report/survival.py."""
    turn = row["first_critical_turn"] if critical else row["first_failing_turn"]
    if turn is not None:
        return Observation(turn, True)
    return Observation(row["sent_turns"] - (row["ended"] == "error"), False)


def critical_event(store: Store, run_id: str) -> bool:
    """Whether the run's event is a critical rule failure: its conversations have rule verdicts (from
    any scorer that writes `rule:` scores with a severity), not a scorer's name."""
    return store.conn.execute(
        "SELECT 1 FROM turn_scores t JOIN samples s ON s.id = t.sample_id WHERE s.run_id = ? AND"
        " t.scorer LIKE 'rule:%' AND t.severity IS NOT NULL LIMIT 1", (run_id,)).fetchone() is not None


def conversation_report(store: Store, run_id: str) -> ConversationReport | None:
    """None when the run has no conversations."""
    rows = conversation_rows(store, run_id)
    if not rows and not has_conversations(store, run_id):
        return None   # (cheap: a run of single prompts never reads its prompts' text here)
    pending = store.conn.execute(
        "SELECT COUNT(*) FROM samples s LEFT JOIN replies p ON p.sample_id = s.id WHERE s.run_id = ? AND"
        " p.sample_id IS NULL AND s.prompt_json LIKE '%\"turns\":[%'", (run_id,)).fetchone()[0]
    critical = critical_event(store, run_id)
    order = [p["label"] for p in store.run_providers(run_id)]
    by_provider = {label: ProviderConversations(label) for label in order}
    observations: dict[str, dict[tuple, Observation]] = {label: {} for label in order}
    for row in rows:
        p = by_provider.setdefault(row["provider"], ProviderConversations(row["provider"]))
        obs = observation(row, critical)
        observations.setdefault(row["provider"], {})[(row["suite"], row["prompt_id"], row["repeat"])] = obs
        p.conversations += 1
        p.ended[row["ended"]] = p.ended.get(row["ended"], 0) + 1
        if obs.event:
            p.failed += 1
            p.failing_turns.append(obs.time)
        elif row["ended"] in ("error", "simulator_failed"):
            p.censored += 1
        for name, turn in json.loads(row["first_failing_json"]).items():
            if name.startswith("rule:"):
                p.rule_turns.setdefault(name.removeprefix("rule:"), []).append(turn)
    for label, p in by_provider.items():
        p.survival = kaplan_meier(list(observations.get(label, {}).values()))
    providers = [p for p in by_provider.values() if p.conversations]
    comparisons = []
    for a, b in combinations([p.provider for p in providers], 2):
        shared = sorted(set(observations[a]) & set(observations[b]))
        if shared:
            comparisons.append(paired_survival(a, b, [(observations[a][k], observations[b][k]) for k in shared]))
    adjusted = holm([c.p_value for c in comparisons])
    return ConversationReport("critical failure" if critical else "failure", providers,
                              list(zip(comparisons, adjusted)), pending)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def conversation_tables(report: ConversationReport) -> list[Table]:
    """The summary per provider, the survival table (turn by provider) and the paired comparisons."""
    event = report.event
    summary = Table(title=f"Live conversations: turns to the first {event} (provider errors censored)")
    for col in ("provider", "conversations", f"with a {event}", "95% CI", "median turn (KM)",
                "first failing turns", "ended by error", "ended by block", "rules failed (first turn, median)"):
        summary.add_column(col)
    for p in report.providers:
        ci = p.ci
        rules = ", ".join(f"{rid} ({len(ts)}x, t{median(ts):g})" for rid, ts in sorted(p.rule_turns.items()))
        summary.add_row(Text(p.provider), str(p.conversations), f"{p.failed}/{p.decided} ({_pct(p.failure_rate)})",
                        f"{_pct(ci[0])}-{_pct(ci[1])}" if ci else "-",
                        str(p.median_turn) if p.median_turn is not None else "not reached",
                        ", ".join(str(t) for t in sorted(p.failing_turns)) or "-",
                        str(p.ended.get("error", 0)), str(p.ended.get("blocked", 0)), Text(rules or "-"))
    tables = [summary]
    longest = max((len(p.survival) for p in report.providers), default=0)
    if longest:
        survival = Table(title=f"Survival: share without a {event} after each turn",
                         caption="Kaplan-Meier estimate (95% log-log interval), n = conversations at risk")
        survival.add_column("turn")
        for p in report.providers:
            survival.add_column(Text(p.provider))
        for t in range(1, longest + 1):
            cells = []
            for p in report.providers:
                r = p.survival[t - 1] if t <= len(p.survival) else None
                cells.append("" if r is None else f"{r.survival:.2f} ({r.low:.2f}-{r.high:.2f}) n={r.at_risk}")
            survival.add_row(str(t), *cells)
        tables.append(survival)
    if report.paired:
        paired = Table(title="Which provider lasts longer on the same scripts",
                       caption="exact sign test on the pairs whose order censoring does not hide (Gehan); "
                               "ties and unordered pairs excluded; Holm-adjusted over provider pairs")
        for col in ("A", "B", "A longer", "B longer", "ties", "unordered", "p", "p (Holm)", "verdict"):
            paired.add_column(col)
        for c, adj in report.paired:
            winner = c.winner if adj < 0.05 else None
            verdict = (f"{winner} lasts longer" if winner else
                       "cannot compare" if c.a_longer + c.b_longer == 0 else "no significant difference")
            paired.add_row(Text(c.a), Text(c.b), str(c.a_longer), str(c.b_longer), str(c.ties), str(c.unordered),
                           f"{c.p_value:.3g}", f"{adj:.3g}", Text(verdict))
        tables.append(paired)
    return tables


def conversation_errors(store: Store, run_id: str) -> dict[str, tuple[int, int]]:
    """{provider: (conversations ended by a provider error, conversations finished)}. Such a
    conversation keeps the outcome of its last answered turn (its earlier failures must stay in the
    tables), so the run's error gate reads them here."""
    out: dict[str, tuple[int, int]] = {}
    for row in conversation_rows(store, run_id):
        errors, total = out.get(row["provider"], (0, 0))
        out[row["provider"]] = (errors + (row["ended"] == "error"), total + 1)
    return out


def conversation_error_lines(store: Store, run_id: str, max_error_rate: float) -> list[str]:
    """The banner lines when conversations ended by provider errors pass the error bound; [] otherwise."""
    over = [(p, e, n) for p, (e, n) in conversation_errors(store, run_id).items() if n and e / n > max_error_rate]
    if not over:
        return []
    lines = [f"TOO MANY ERRORS: conversations ended by a provider error above {max_error_rate:.0%} "
             "(--max-error-rate; resend them from the failed turn with harness run --resume RUN --retry-errors)"]
    return lines + [f"  {p}: {e} of {n} conversations ended by a provider error ({e / n:.1%})" for p, e, n in over]
