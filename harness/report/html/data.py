"""What the report shows, gathered from the store: per run, the reproducibility header, the leaderboard,
the chart inputs and the paired verdicts; across runs, the matrix (prompts x run-provider columns).

Nothing here is escaped: the HTML template autoescapes every value, the matrix data goes through
`script_json`, the Markdown writer through `md_escape`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from harness.report.paths import local_paths
from harness.report.safety import SAFETY
from harness.report.summary import ALL, Group, RunReport, summarise
from harness.store import Store

FAILED_SUMMARIES = {"fail", "critical_fail"}


def _loads(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


@dataclass
class RunSection:
    index: int                  # R1, R2, ... in a report of several runs
    run: dict
    spec: dict
    report: RunReport
    providers: list[dict]       # label, model, config, identity, status, note
    pairs: list                 # PairResult
    which: str                  # which scoring is shown
    leaderboard: list[Group] = field(default_factory=list)
    categories: list[Group] = field(default_factory=list)

    @property
    def tag(self) -> str:
        return f"R{self.index}"

    @property
    def scorers(self) -> list[str]:
        return _loads(self.run["scorers_json"]) or []

    @property
    def judge(self) -> Any:
        return self.spec.get("judge") or self.spec.get("judges") or None

    @property
    def judge_cost(self) -> list[str]:
        """Judge calls, tokens and cost, one line per judge model."""
        from harness.report.judge_cost import usage_line

        replies = sum(g.replied - g.errors for g in self.report.groups if g.category == ALL) or None
        return [usage_line(u, replies) for u in self.report.judge_usage]

    @property
    def headline_lines(self) -> list[str]:
        """What the teen-safety figures mean (with or without a judge), who leads, what to do next."""
        from harness.report.headline import header_lines

        return header_lines(self.report)

    @property
    def judge_agreement_line(self) -> str:
        from harness.report.headline import judge_agreement_line

        return judge_agreement_line(self.report.judge_agreement) if self.report.judge_agreement else ""


def run_section(store: Store, run_id: str, index: int) -> RunSection:
    from harness.report.paired import comparisons
    from harness.store.view import run_view

    view = run_view(store, run_id, None)
    report = summarise(view, run_id)
    run = dict(store.run(run_id))
    providers = []
    for p in store.run_providers(run_id):
        providers.append({"label": p["label"], "model": p["model"], "config": _loads(p["config_json"]) or {},
                          "identity": _loads(p["identity_json"]) or {}, "status": p["status"], "note": p["note"]})
    section = RunSection(index=index, run=run, spec=_loads(run["spec_json"]) or {}, report=report,
                         providers=providers, pairs=comparisons(view, report, None), which=view.describe())
    section.leaderboard = [g for g in report.groups if g.category == ALL]
    section.categories = [g for g in report.groups if g.category != ALL]
    section.view = view  # type: ignore[attr-defined]   # the scored view, for the matrix
    return section


def identity_items(identity: dict) -> list[tuple[str, str, bool]]:
    """(key, value, long) for a provider's stored identity: SDK versions, model hashes, chat templates.
    Long values (a chat template) are shown folded."""
    out = []
    for key, value in sorted(identity.items()):
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        out.append((key, text, len(text) > 120 or "\n" in text))
    return out


def config_items(config: dict) -> list[tuple[str, str, bool]]:
    """Parameters, system prompt and options of a provider entry, as stored (keys already redacted)."""
    return identity_items(config)


# -- the matrix ------------------------------------------------------------------------------------

def _prompt_text(prompt: dict) -> str:
    lines = []
    for m in prompt.get("messages", []):
        content = m.get("content")
        if not isinstance(content, str):
            content = json.dumps(content, ensure_ascii=False)
        lines.append(content if len(prompt.get("messages", [])) == 1 else f"{m.get('role')}: {content}")
    return "\n".join(lines)


def _cell(row, scores: list, primary: str | None, run_id: str | None = None,
          safety: frozenset[str] = frozenset([SAFETY])) -> dict:
    """One reply: outcome, text, verdict (teen-safety summary, else the first scorer's pass/fail) and
    its evidence: every stored score with label, explanation and evidence. `safety`: the names the
    run's safety summaries are stored under (RunReport.safety_scorers)."""
    verdict = None
    evidence = []
    rules_seen: dict[str, str] = {}
    for s in scores:
        name = s["scorer"]
        if name in safety:
            verdict = s["label"] or verdict
        elif name == primary and verdict is None and s["passed"] is not None:
            verdict = "pass" if s["passed"] else "fail"
        if name.startswith("rule:") and s["label"] and s["label"] != "not_applicable":
            rules_seen[name[5:]] = s["label"]
        evidence.append([name, s["label"] or ("pass" if s["passed"] else "fail" if s["passed"] == 0 else ""),
                         s["explanation"] or "", s["evidence"] or "", s["severity"] or ""])
    if primary in safety and verdict is None and row["outcome"] not in (None, "error"):
        verdict = "not_checked"
    return {"o": row["outcome"] or "pending", "t": _embedded(row["text"], run_id),
            "e": row["error_kind"] or "", "v": verdict or "", "rules": rules_seen, "sc": evidence}


#: Characters of one reply the HTML report embeds; the rest is named, with the command for the full text.
MAX_EMBEDDED_CHARS = 20_000


def _embedded(text: str | None, run_id: str | None) -> str:
    """A reply as the report embeds it: at most MAX_EMBEDDED_CHARS, so one huge reply cannot make a
    report no browser opens; the full text stays in the store (`harness export`)."""
    if text is None:
        return ""
    if len(text) <= MAX_EMBEDDED_CHARS:
        return text
    where = f"harness export {run_id}" if run_id else "harness export"
    return (text[:MAX_EMBEDDED_CHARS] + f"\n[... {len(text) - MAX_EMBEDDED_CHARS:,} more characters not shown; "
            f"the full reply: {where}]")


def _status(cell: dict) -> str | None:
    v = cell["v"]
    if v in FAILED_SUMMARIES:
        return "fail"
    if v == "pass":
        return "pass"
    return None


def matrix(sections: list[RunSection]) -> dict:
    """Prompts x columns (one column per run and provider). Each row carries flags for the filters:
    failed (a reply failed), disagree (decided replies of the row differ), review (needs a person)."""
    several = len(sections) > 1
    columns: list[dict] = []
    rows: dict[tuple, dict] = {}
    for sec in sections:
        view = sec.view  # type: ignore[attr-defined]
        run_id = sec.run["id"]
        primary = sec.report.primary_scorer
        by_sample: dict[int, list] = {}
        for s in view.scores(run_id) if hasattr(view, "scores") else []:
            by_sample.setdefault(s["sample_id"], []).append(s)
        for p in sec.providers:
            columns.append({"key": f"{sec.index}|{p['label']}", "label": (f"{sec.tag} " if several else "") + p["label"],
                            "run": sec.tag, "provider": p["label"], "model": local_paths(p["model"] or "")})
        for row in view.results(run_id):
            key = (row["suite"], row["prompt_id"], row["repeat"])
            entry = rows.get(key)
            if entry is None:
                prompt = _loads(row["prompt_json"]) or {}
                entry = rows[key] = {"id": row["prompt_id"], "suite": row["suite"], "rep": row["repeat"],
                                     "cat": row["category"], "p": _prompt_text(prompt), "c": {}}
            entry["c"][f"{sec.index}|{row['provider']}"] = _cell(row, by_sample.get(row["sample_id"], []), primary,
                                                                  run_id, sec.report.safety_scorers)
    out_rows = []
    for entry in rows.values():
        cells = list(entry["c"].values())
        statuses = {st for c in cells if (st := _status(c))}
        entry["f"] = int(any(_status(c) == "fail" for c in cells))
        entry["d"] = int(len(statuses) > 1)
        entry["r"] = int(any(c["v"] == "needs_review" or "needs_review" in c["rules"].values() for c in cells))
        entry["rules"] = sorted({r for c in cells for r in c["rules"]}, key=_rule_key)
        out_rows.append(entry)
    rules = sorted({r for e in out_rows for r in e["rules"]}, key=_rule_key)
    categories = sorted({e["cat"] for e in out_rows})
    return {"columns": columns, "rows": out_rows, "rules": rules, "categories": categories}


def _rule_key(rule: str) -> tuple:
    m = re.match(r"([A-Za-z]+)(\d+)$", rule)
    return ({"T": 0, "O": 1}.get(m.group(1), 2), int(m.group(2)), rule) if m else (3, 0, rule)


def script_json(data: Any) -> str:
    """JSON for a <script type="application/json"> block: `<`, `>` and `&` written as \\u003c, \\u003e,
    \\u0026 so that no text inside (a reply holding `</script>`, `<!--`) can end the block; control
    and bidi characters escaped (harness.report.escape.json_dumps). JSON.parse gives the text back."""
    from harness.report.escape import json_dumps

    text = json_dumps(data, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
