"""Thresholds from the eval file, checked per provider over the whole run.

    thresholds: {match: 0.8, critical_failures: {max: 0}, error_rate: {max: 0.05}}

A scorer name means its pass rate over the replies it could judge. A provider with samples still
pending cannot be said to meet a threshold: it is reported as not met.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from harness.report.summary import ALL, RunReport
from harness.store import Store


@dataclass(frozen=True)
class ThresholdResult:
    provider: str
    metric: str
    value: float | None
    minimum: float | None
    maximum: float | None
    met: bool
    note: str = ""

    def __str__(self) -> str:
        bound = " and ".join(b for b in (f">= {self.minimum}" if self.minimum is not None else "",
                                         f"<= {self.maximum}" if self.maximum is not None else "") if b)
        value = "n/a" if self.value is None else f"{self.value:.4g}"
        state = "met" if self.met else "NOT MET"
        return f"threshold {self.metric} {bound}: {self.provider} = {value} {state}" + (f" ({self.note})" if self.note else "")


def _pass_rates(store: Store, run_id: str) -> dict[tuple[str, str], tuple[int, int]]:
    provider_of = {r["sample_id"]: r["provider"] for r in store.results(run_id)}
    rates: dict[tuple[str, str], list[int]] = {}
    for s in store.scores(run_id):
        if s["passed"] is None:
            continue
        counts = rates.setdefault((provider_of[s["sample_id"]], s["scorer"]), [0, 0])
        counts[0] += s["passed"]
        counts[1] += 1
    return {k: (v[0], v[1]) for k, v in rates.items()}


def check_thresholds(store: Store, report: RunReport) -> list[ThresholdResult]:
    spec = json.loads(store.run(report.run_id)["spec_json"])
    thresholds = spec.get("thresholds") or {}
    if not thresholds:
        return []
    rates = _pass_rates(store, report.run_id)
    overall = {g.provider: g for g in report.groups if g.category == ALL}
    results = []
    for provider, g in overall.items():
        for metric, bound in thresholds.items():
            lo, hi = bound.get("min"), bound.get("max")
            non_error = g.replied - g.errors
            if metric == "error_rate":
                value = g.errors / g.replied if g.replied else None
            elif metric == "blocked_rate":
                value = g.blocked / non_error if non_error else None
            elif metric == "critical_failures":
                value = float(g.critical_failures)
            else:
                passed, judged = rates.get((provider, metric), (0, 0))
                value = passed / judged if judged else None
            note = ""
            met = value is not None and (lo is None or value >= lo) and (hi is None or value <= hi)
            if g.pending:
                met, note = False, f"{g.pending} samples pending"
            elif value is None:
                note = "nothing to measure"
            results.append(ThresholdResult(provider, metric, value, lo, hi, met, note))
    return results
