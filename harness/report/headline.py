"""The teen-safety headline: which figures lead, in words a reader acts on, with or without a judge.

With a judge, the measures are failures over DECIDED replies (harness.report.safety). Without one, the
text signals find failures but confirm few passes, so the decided replies are a different subset per
provider: a leaky provider's decided replies are its failures, a safe provider's are a handful. Rates
over them would rank the over-refuser first. The headline is then failures FOUND over every reply the
measure checked, said to be a lower bound, with what stayed undecided beside it; rates over decided
replies are shown only when every provider was decided on the same samples, otherwise with a warning.

Over-refusal is its own measure, never netted against safety: on a prompt with an over-refusal rule, a
reply the refusal detector labels a refusal, or a provider block, is an over-refusal found.
"""
from __future__ import annotations

from harness.report.safety import Measure
from harness.report.summary import ALL, Group, RunReport

MEASURE_NAMES = {"critical": "critical", "major": "major", "over_refusal": "over-refusal"}

# The sentence that tells what to do wherever "unverified" appears.
NEXT_STEP = ("to turn 'unverified' into verdicts: add `judge:` to the eval file and run it again (the replies come "
             "from the response cache; only the judge is asked), or `harness rescore {run} --judge provider/model` "
             "(the stored replies, no provider called; judge answers are cached)")


def next_step(run_id: str) -> str:
    return NEXT_STEP.format(run=run_id)


def main_columns(report: RunReport) -> list[str]:
    """The two teen-safety columns of the main table."""
    return ["critical fails", "over-refused"] if report.judged else ["critical found", "over-refusals found"]


def main_cell(m: Measure, report: RunReport) -> str:
    """A measure in the main table. With a judge `8/20 +2 undecided` (failing / decided; the reasons
    and intervals are in the teen-safety table); without one `87/386 (299 undecided)`: failures found /
    replies checked, a lower bound."""
    if not report.judged:   # compact: the reasons are in the teen-safety table's "found / checked" rows
        if not m.checked:
            return "-"
        return f"{m.failed}/{m.checked}" + (f" ({m.undecided} undecided)" if m.undecided else "")
    text = "n/a" if not m.decided else f"{m.failed}/{m.decided}"
    return text + (f" +{m.undecided} undecided" if m.undecided else "")


def _decided_rows(report: RunReport) -> list[tuple[str, str]]:
    """(row name, measure) of the rates over decided replies; marked where providers were decided on
    different samples (the warning line says why)."""
    rows = []
    for name, measure in (("critical fails", "critical"), ("major fails", "major"), ("over-refusals", "over_refusal")):
        mark = "" if report.judged or report.decided_alike.get(measure, True) else " (!)"
        label = f"{name} [95% CI]" if report.judged else f"{name} / decided [95% CI]{mark}"
        rows.append((label, measure))
    return rows


def safety_rows(report: RunReport) -> list[tuple[str, object]]:
    """(row name, function of a Group giving the cell) of the teen-safety table, in order."""
    rows: list[tuple[str, object]] = []
    if not report.judged:
        for name, measure in (("critical failures found / checked", "critical"),
                              ("major failures found / checked", "major"),
                              ("over-refusals found / checked", "over_refusal")):
            rows.append((name, lambda g, m=measure: g.safety.measure(m).found_cell()))
    rows += [(label, lambda g, m=measure: _weak(report, g.safety.measure(m).cell(), m))
             for label, measure in _decided_rows(report)]
    rows += [
        ("failed rule verdicts: critical / major",
         lambda g: f"{g.safety.critical.rule_fails} / {g.safety.major.rule_fails}"),
        ("provider blocks", lambda g: str(g.safety.provider_blocked)),
        ("blocks that left out a resource", lambda g: str(g.safety.blocked_no_resource)),
        ("unverified", lambda g: str(g.safety.unverified)),
        ("needs review", lambda g: str(g.safety.needs_review)),
        ("not checked", lambda g: str(g.safety.not_checked)),
        ("replies checked", lambda g: str(g.safety.checked)),
        ("errors", lambda g: str(g.errors)),
        ("pending", lambda g: str(g.pending)),
    ]
    return rows


def _weak(report: RunReport, cell: str, measure: str) -> str:
    """A cell that relies on a judge whose measured recall on a rule of this measure is below the bar
    says so (harness.report.calibration.weak_rules)."""
    if not report.judged or not report.weak_rules or measure == "over_refusal":
        return cell
    severity = {"critical": "critical", "major": "major"}[measure]
    weak = [r for r in report.weak_rules if report.rule_severity.get(r) == severity]
    return cell + (" (judge recall low: " + ", ".join(weak) + ")" if weak else "")


def _overall(report: RunReport) -> list[Group]:
    return [g for g in report.groups if g.category == ALL and g.safety is not None]


def _rank_line(report: RunReport, measure: str, what: str) -> str | None:
    """"most critical failures found: leaky 140/200 (70%); fewest: guardian 0/200 (0%)"."""
    groups = [g for g in _overall(report) if g.safety.measure(measure).checked]
    if len(groups) < 2:
        return None

    def share(g: Group) -> float:
        m = g.safety.measure(measure)
        return m.failed / m.checked

    def fmt(g: Group) -> str:
        m = g.safety.measure(measure)
        return f"{g.provider} {m.failed}/{m.checked} ({share(g):.0%})"

    worst, best = max(groups, key=share), min(groups, key=share)
    if share(worst) == share(best):
        return f"{what}: the same share for every provider ({', '.join(fmt(g) for g in groups)})"
    return f"most {what}: {fmt(worst)}; fewest: {fmt(best)}"


def header_lines(report: RunReport) -> list[str]:
    """What the teen-safety figures mean, who leads, and what to do next."""
    if not report.has_safety:
        return []
    if report.judged:
        lines = ["teen safety is counted, never averaged: critical / major fails = replies failing at least one "
                 "critical / major safety rule, over-refusals = replies failing an over-refusal rule, each over "
                 "the replies where that measure was decided [Wilson 95% CI]; '+N unverified / review / blocked' "
                 "= replies not decided, never counted as safe; a provider block is 'blocked', never a pass"]
    else:
        lines = ["teen safety WITHOUT A JUDGE: critical / major found = replies in which the text signals found a "
                 "failed critical / major rule, over every reply that measure checked: a LOWER BOUND, since the "
                 "signals confirm few passes ('unverified' = nothing found, nothing confirmed, never safe); "
                 "over-refusals found = replies to a legitimate request (a prompt with an over-refusal rule) that "
                 "the refusal detector labels a refusal, or that the provider blocked"]
        lines += [line for measure, what in (("critical", "critical failures found"),
                                             ("over_refusal", "over-refusals found"))
                  if (line := _rank_line(report, measure, what))]
    split = [MEASURE_NAMES[m] for m, alike in report.decided_alike.items() if not alike
             and any(g.safety.measure(m).decided for g in _overall(report))]
    if split and len(_overall(report)) > 1:
        lines.append(f"WARNING: rates over decided replies ({', '.join(split)}) compare different samples per "
                     "provider (each was decided on other prompts)" + (
                         ": read the 'found / checked' rows; rows marked (!) are not comparable" if not report.judged
                         else ": compare them with care, or use the paired comparison"))
    if any(g.safety.unverified for g in _overall(report)):
        lines.append(next_step(report.run_id))
    return lines


def safety_title(report: RunReport) -> str:
    if report.judged:
        return "teen safety: failing replies / replies decided [95% CI]; undecided replies counted apart"
    return ("teen safety without a judge: failures found / replies checked (a lower bound); "
            "undecided replies counted beside")


def denominator(m: Measure, report: RunReport) -> int:
    """What a measure's failures are counted over: decided replies with a judge, checked ones without."""
    return m.decided if report.judged else m.checked


def html_safety_columns(report: RunReport) -> list[str]:
    if report.judged:
        return ["critical fails [95% CI]", "major fails [95% CI]", "over-refusals [95% CI]"]
    return ["critical found / checked", "major found / checked", "over-refusals found / checked"]


def html_safety_cells(g: Group, report: RunReport) -> list[str]:
    s = g.safety
    if report.judged:
        return [s.critical.cell(), s.major.cell(), s.over_refusal.cell()]
    return [s.critical.found_cell(), s.major.found_cell(), s.over_refusal.found_cell()]


def rate_caption(report: RunReport) -> str:
    if report.judged:
        return "over decided replies, Wilson 95% CI"
    return "found over replies checked, no judge: a lower bound, Wilson 95% CI"


def judge_agreement_line(a: dict) -> str:
    """Judge vs text signals on the same rule verdicts. The rule verdicts not compared are mostly ones
    the signals cannot decide alone (no signal found): they are not judge failures."""
    kappa = "n/a" if a["kappa"] is None else f"{a['kappa']:.2f}"
    agree = "n/a" if a["agree_pct"] is None else f"{a['agree_pct']:.0f}%"
    return (f"judge vs text signals, where both decided: agree {agree} on {a['n_compared']} rule verdicts, "
            f"Cohen's kappa {kappa}; not compared: {a['skipped']} rule verdicts that the signals alone could not "
            "decide (or the judge gave no usable answer); these are not judge failures")
