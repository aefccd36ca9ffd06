"""`harness diff` for live conversations: between two runs of the same scripts, per provider (matched
by label), how the turn of the first failure moved. Each conversation is paired with its namesake
(suite, prompt id, repeat) in the other run and ordered with the same rule as the provider comparison
(harness/report/survival.py: Gehan's ordering of censored pairs, exact sign test): "B fails earlier"
is a regression. The conversations whose order changed are listed, regressions first."""
from __future__ import annotations

from dataclasses import dataclass, field

from rich.table import Table
from rich.text import Text

from harness.report.conversations import critical_event, observation
from harness.report.survival import Observation, PairedSurvival, kaplan_meier, median_turn, order_pair, paired_survival
from harness.store import Store
from harness.store.conversations import conversation_rows


@dataclass(frozen=True)
class Moved:
    provider: str
    conversation: str
    before: Observation
    after: Observation

    @property
    def regression(self) -> bool:
        return order_pair(self.before, self.after) == 1

    def text(self) -> str:
        def say(o: Observation) -> str:
            return f"fails at turn {o.time}" if o.event else f"no failure through turn {o.time}"
        return f"{say(self.before)} -> {say(self.after)}"


@dataclass
class ConversationDiff:
    run_a: str
    run_b: str
    rows: list[tuple[str, int | None, int | None, str, str, PairedSurvival]] = field(default_factory=list)
    moved: list[Moved] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"providers": [{"provider": p, "median_turn_a": ma, "median_turn_b": mb, "failed_a": fa,
                               "failed_b": fb, "paired": c.as_dict()} for p, ma, mb, fa, fb, c in self.rows],
                "moved": [{"provider": m.provider, "conversation": m.conversation, "regression": m.regression,
                           "change": m.text()} for m in self.moved]}


def _observations(store: Store, run_id: str) -> dict[str, dict[tuple, Observation]]:
    critical = critical_event(store, run_id)
    out: dict[str, dict[tuple, Observation]] = {}
    for row in conversation_rows(store, run_id):
        out.setdefault(row["provider"], {})[(row["suite"], row["prompt_id"], row["repeat"])] = observation(row, critical)
    return out


def conversation_diff(store: Store, run_a: str, run_b: str) -> ConversationDiff | None:
    """None when neither run has finished conversations in common."""
    a, b = store.run(run_a)["id"], store.run(run_b)["id"]
    obs_a, obs_b = _observations(store, a), _observations(store, b)
    result = ConversationDiff(a, b)
    for provider in [p for p in obs_a if p in obs_b]:
        shared = sorted(set(obs_a[provider]) & set(obs_b[provider]))
        if not shared:
            continue
        pairs = [(obs_a[provider][k], obs_b[provider][k]) for k in shared]
        compared = paired_survival("A", "B", pairs)
        result.rows.append((provider, median_turn(kaplan_meier([x for x, _ in pairs])),
                            median_turn(kaplan_meier([y for _, y in pairs])),
                            f"{sum(x.event for x, _ in pairs)}/{len(pairs)}",
                            f"{sum(y.event for _, y in pairs)}/{len(pairs)}", compared))
        for k, (x, y) in zip(shared, pairs):
            if order_pair(x, y) not in (0, None):
                result.moved.append(Moved(provider, f"{k[0]}/{k[1]}" + (f" r{k[2]}" if k[2] else ""), x, y))
    result.moved.sort(key=lambda m: (not m.regression, m.provider, m.conversation))
    return result if result.rows else None


def conversation_diff_tables(diff: ConversationDiff, max_moved: int | None = 200) -> list[Table]:
    table = Table(title="Live conversations: how the first failing turn moved (A -> B, same scripts)",
                  caption="exact sign test on the pairs whose order censoring does not hide; B earlier = regression")
    for col in ("provider", "failed A", "failed B", "median turn A", "median turn B", "B fails earlier",
                "B lasts longer", "ties", "unordered", "p", "verdict"):
        table.add_column(col)
    for provider, ma, mb, fa, fb, c in diff.rows:
        verdict = ("B fails earlier (worse)" if c.winner == "A" else "B lasts longer (better)" if c.winner == "B"
                   else "no significant change")
        table.add_row(Text(provider), fa, fb, str(ma or "not reached"), str(mb or "not reached"), str(c.a_longer),
                      str(c.b_longer), str(c.ties), str(c.unordered), f"{c.p_value:.3g}", verdict)
    tables = [table]
    if diff.moved:
        moved = Table(title="Conversations whose first failure moved (regressions first)")
        for col in ("provider", "conversation", "change", "regression"):
            moved.add_column(col)
        for m in diff.moved[:max_moved]:
            moved.add_row(Text(m.provider), Text(m.conversation), m.text(), "yes" if m.regression else "no")
        tables.append(moved)
    return tables
