"""`harness judge calibrate` with several judge set-ups (both modes, two judges and their pair): one
row per set-up, so that what a judge costs is read beside how well it agrees with people.

Rows are built from `harness.scoring.calibrate.measure` results (the judge-alone checker, pooled,
on the headline split) and the judge's usage counts. Failure is the positive class, as everywhere
in calibration; the recall shown counts undecided failures as missed (the honest figure: an
undecided verdict is never a caught failure).
"""
from __future__ import annotations

from typing import Any

from harness.report.calibration import pct
from harness.report.judge_cost import count_text

_HEAD = ("judge set-up", "agreement (all)", "recall (all)", "recall (critical)", "precision (all)", "undecided",
         "calls", "tokens in/out", "cost $")


def variant_row(name: str, result: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
    """The figures of one set-up, as stored with the calibration (JSON-ready)."""
    from harness.scoring.calibrate import headline_split

    split = result["splits"][headline_split(result)]
    pooled = split["checkers"].get("judge", {}).get("pooled", {})
    every, critical = pooled.get("all") or {}, pooled.get("critical") or {}
    return {"name": name, "split": headline_split(result), "agreement": every.get("agreement"),
            "recall": every.get("recall_undecided_missed"), "recall_critical": critical.get("recall_undecided_missed"),
            "precision": every.get("precision"), "undecided": every.get("undecided", 0),
            "labels": every.get("n_labelled", 0), **usage}


def _cost(v: dict[str, Any]) -> str:
    if not v.get("calls"):
        return "0"
    if v.get("cost_unknown") == v["calls"]:
        return "unknown"
    return ("≥" if v.get("cost_unknown") else "") + f"{v.get('cost_usd', 0.0):.4f}"


def variants_table(variants: list[dict[str, Any]]) -> list[str]:
    rows = [_HEAD]
    for v in variants:
        calls = str(v.get("calls", 0)) + (f" (+{v['cached']} cached)" if v.get("cached") else "")
        rows.append((v["name"], pct(v["agreement"]), pct(v["recall"], True), pct(v["recall_critical"], True),
                     pct(v["precision"], True), f"{v['undecided']}/{v['labels']}", calls,
                     f"{count_text(v.get('input_tokens', 0))}/{count_text(v.get('output_tokens', 0))}", _cost(v)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEAD))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def _value(r: dict[str, Any] | None) -> float:
    return r["value"] if r else 0.0


def mode_verdict(per_reply: dict[str, Any], per_rule: dict[str, Any]) -> str:
    """Which mode calibrates no worse on this gold set: per_reply is kept when its agreement and its
    failure recall (all and critical, undecided counted as missed) are each at least per_rule's."""
    keys = ("agreement", "recall", "recall_critical")
    worse = [k for k in keys if _value(per_reply.get(k)) < _value(per_rule.get(k))]
    ratio = (per_rule.get("calls", 0) / per_reply["calls"]) if per_reply.get("calls") else None
    cheaper = f", with {ratio:.1f}x fewer calls" if ratio else ""
    if not worse:
        return (f"per_reply calibrates no worse than per_rule here (agreement, failure recall all and critical){cheaper}: "
                "keep the default judge_mode: per_reply")
    return (f"per_rule calibrates better here on {', '.join(worse)}: set judge_mode: per_rule in the eval file "
            "(or keep per_reply for its cost)")
