"""Survival statistics for live conversations: how many turns a conversation stays without a
(critical) failure.

Each conversation gives (time, event): event at turn t when it first failed at turn t; otherwise it
is *censored* at the last turn observed without a failure (all its turns, or the turns before a
provider error ended it: an error says nothing about the model, so that conversation only tells us
it survived that far).

* Kaplan-Meier estimate of S(t), the share still without a failure after turn t, with Greenwood's
  variance and the log-log ("exponential Greenwood") 95% interval (Kalbfleisch & Prentice, The
  Statistical Analysis of Failure Time Data, 2002, section 1.4), which stays inside [0, 1]. Where
  S(t) = 1 (no failure yet) Greenwood's variance is 0 and would claim certainty: the lower bound is
  then the exact (Clopper-Pearson) one for n of n at risk surviving, 0.025^(1/n); where S(t) = 0 the
  upper bound is 1 - 0.025^(1/n) likewise.
* The median turn to first failure is the first turn where S(t) <= 0.5 ("not reached" otherwise).
* Paired comparison of two providers on the same scripts: for each script (and repeat) the pair says
  which provider failed later, decided with Gehan's rule for censored pairs (Gehan 1965, Biometrika
  52:203-223): A lasted longer when B failed at turn t and A was seen without failure through turn t
  (failed later, or censored at or after t); a pair where both failed at the same turn, or neither
  failed, is a tie; a pair where the one that failed did so after the other was censored cannot be
  ordered. The ordered pairs go to an exact two-sided sign test (binomial at p = 1/2; ties and
  unordered pairs excluded, as the sign test excludes ties: Dixon & Mood 1946, JASA 41:557-566).
  This is the sign-test member of the rank tests for censored matched pairs (Woolson & Lachenbruch
  1980, Biometrika 67:597-606); it needs no model of the survival curve and is valid when the pairs
  are exchangeable under the null hypothesis, which holds here because both providers get the same
  scripted turns (the administrative censoring, the script's length, is shared). Its caveat: censoring
  by provider errors differs between providers; the unordered pairs are reported so the reader sees
  how many comparisons errors took away.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from harness.stats import Z95, mcnemar_exact

ALPHA = 0.05


@dataclass(frozen=True)
class Observation:
    time: int          # the failing turn (event) or the last turn seen without failure (censored)
    event: bool


@dataclass(frozen=True)
class SurvivalRow:
    turn: int
    at_risk: int
    failed: int
    censored: int
    survival: float
    low: float
    high: float


def kaplan_meier(observations: list[Observation]) -> list[SurvivalRow]:
    """One row per turn 1..the last time observed."""
    if not observations:
        return []
    last = max(o.time for o in observations)
    rows: list[SurvivalRow] = []
    s, greenwood = 1.0, 0.0
    for t in range(1, last + 1):
        at_risk = sum(1 for o in observations if o.time >= t)
        failed = sum(1 for o in observations if o.time == t and o.event)
        censored = sum(1 for o in observations if o.time == t and not o.event)
        if at_risk and failed:
            s *= 1 - failed / at_risk
            if at_risk > failed:
                greenwood += failed / (at_risk * (at_risk - failed))
        rows.append(SurvivalRow(t, at_risk, failed, censored, s, *_interval(s, greenwood, at_risk)))
    return rows


def _interval(s: float, greenwood: float, at_risk: int) -> tuple[float, float]:
    n = max(at_risk, 1)
    if s >= 1.0:
        return 0.025 ** (1 / n), 1.0
    if s <= 0.0:
        return 0.0, 1 - 0.025 ** (1 / n)
    log_s = math.log(s)
    se = math.sqrt(greenwood) / abs(log_s)
    centre = math.log(-log_s)
    return math.exp(-math.exp(centre + Z95 * se)), math.exp(-math.exp(centre - Z95 * se))


def median_turn(rows: list[SurvivalRow]) -> int | None:
    return next((r.turn for r in rows if r.survival <= 0.5), None)


@dataclass(frozen=True)
class PairedSurvival:
    a: str
    b: str
    a_longer: int
    b_longer: int
    ties: int
    unordered: int
    p_value: float

    @property
    def pairs(self) -> int:
        return self.a_longer + self.b_longer + self.ties + self.unordered

    @property
    def winner(self) -> str | None:
        """The provider that lasts longer, when the difference is significant at ALPHA."""
        if self.p_value >= ALPHA or self.a_longer == self.b_longer:
            return None
        return self.a if self.a_longer > self.b_longer else self.b

    def verdict(self) -> str:
        if self.a_longer + self.b_longer == 0:
            return "no ordered pair: cannot compare"
        if self.winner is None:
            return f"no significant difference (p={self.p_value:.3g})"
        return f"{self.winner} lasts longer (p={self.p_value:.3g})"

    def as_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "a_lasts_longer": self.a_longer, "b_lasts_longer": self.b_longer,
                "ties": self.ties, "unordered": self.unordered, "p_value": self.p_value,
                "test": "exact sign test on Gehan-ordered censored pairs", "lasts_longer": self.winner}


def order_pair(a: Observation, b: Observation) -> int | None:
    """+1 when A lasted longer, -1 when B did, 0 for a tie, None when censoring hides the order."""
    if a.event and b.event:
        return (a.time > b.time) - (a.time < b.time)
    if not a.event and not b.event:
        return 0
    if b.event:   # A censored
        return 1 if a.time >= b.time else None
    return -1 if b.time >= a.time else None


def paired_survival(a: str, b: str, pairs: list[tuple[Observation, Observation]]) -> PairedSurvival:
    counts = {1: 0, -1: 0, 0: 0, None: 0}
    for x, y in pairs:
        counts[order_pair(x, y)] += 1
    return PairedSurvival(a, b, counts[1], counts[-1], counts[0], counts[None], mcnemar_exact(counts[1], counts[-1]))
