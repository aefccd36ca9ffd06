"""JUnit XML for CI dashboards (`--junit FILE` on harness run, compare and diff).

* One <testsuite> per provider with one <testcase> per prompt (repeats together): classname
  ``harness.<eval>.<provider>``, name the prompt id (``suite/id`` when the run has several suites).
  - <failure> when any repeat failed a scorer or a teen-safety rule: the message names the failed rules
    (and scorers); the body has each rule's evidence and explanation and an excerpt of the reply;
  - <error> when a repeat ended in a transport / API error (no verdict);
  - <skipped message="undecided: ..."> when no repeat failed but a verdict is undecided (unverified,
    needs_review, blocked without a resource, not checked by any rule) or the sample is pending.
    Undecided is NEVER a pass: skipped with its reason, and the threshold test cases (which it blocks)
    fail;
  - otherwise the test case passes.
* One <testsuite name="thresholds"> with one <testcase> per threshold verdict, <failure> when not met
  (message: the verdict line; body: measured value, interval, bound, the prompts responsible).

Text from models and files is written with control and bidi characters as visible escapes (XML 1.0
cannot carry most control characters at all); ElementTree escapes markup.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from harness.report.escape import clean
from harness.report.safety import prompt_label, rule_label, summary_names
from harness.store import Store

EXCERPT = 500
UNDECIDED = {"unverified", "needs_review", "blocked_no_resource"}


def _x(text: object) -> str:
    return clean("" if text is None else str(text))


@dataclass
class Case:
    """One prompt x provider, its repeats folded together."""
    provider: str
    prompt: str
    category: str
    status: str = "passed"          # passed, failure, error, skipped
    failed: list[str] = field(default_factory=list)       # "T01 (critical)", "match"
    undecided: list[str] = field(default_factory=list)    # "T04 unverified", "pending", "not checked"
    errors: list[str] = field(default_factory=list)
    ended_by_error: list[str] = field(default_factory=list)   # live conversations cut short by an error
    details: list[str] = field(default_factory=list)
    excerpt: str = ""

    @property
    def message(self) -> str:
        if self.status == "failure":
            return "failed: " + ", ".join(dict.fromkeys(self.failed))
        if self.status == "error":
            return "error: " + ", ".join(dict.fromkeys(self.errors or self.ended_by_error))
        if self.status == "skipped":
            return "undecided (never a pass): " + ", ".join(dict.fromkeys(self.undecided))
        return ""

    @property
    def text(self) -> str:
        lines = list(dict.fromkeys(self.details))
        if self.undecided and self.status != "skipped":
            lines.append("also undecided: " + ", ".join(dict.fromkeys(self.undecided)))
        if self.excerpt:
            lines.append("reply excerpt: " + self.excerpt)
        return "\n".join(lines)


def prompt_cases(store: Store, run_id: str) -> list[Case]:
    run = store.run(run_id)
    scorers = set(json.loads(run["scorers_json"]))
    # a scorer with per-rule verdicts (teen_safety) fails a case through its rules, never its summary;
    # refusal's passed reads "is a refusal", not a verdict
    safety = summary_names(scorers) & scorers
    verdict_scorers = scorers - safety - {"refusal"}
    several = len(store.run_suites(run["id"])) > 1
    by_sample: dict[int, list] = {}
    for s in store.scores(run["id"]):
        by_sample.setdefault(s["sample_id"], []).append(s)
    from harness.store.conversations import conversation_rows

    conversations = {c["sample_id"]: c for c in conversation_rows(store, run["id"])}
    cases: dict[tuple[str, str], Case] = {}
    for row in store.results(run["id"]):
        label = prompt_label(row, several)
        case = cases.setdefault((row["provider"], label), Case(row["provider"], label, row["category"]))
        rep = f" (repeat {row['repeat']})" if row["repeat"] else ""
        if row["outcome"] is None:
            case.undecided.append("pending: no reply yet" + rep)
            continue
        if row["outcome"] == "error":
            case.errors.append(f"{row['error_kind'] or 'error'}{rep}")
            case.details.append(f"error{rep}: {_x(row['reason'])[:EXCERPT]}")
            continue
        if (conv := conversations.get(row["sample_id"])) is not None:
            # A live conversation is one test case; its failure is located at a turn.
            first = conv["first_failing_turn"]
            case.details.append(f"conversation{rep}: {conv['sent_turns']} of {conv['planned_turns']} turns sent, "
                                f"ended {conv['ended']}" + (f" at turn {conv['ended_turn']}" if conv["ended"] != "completed"
                                                           else "") + (f"; first failing turn {first}" if first else ""))
            if conv["ended"] == "error":
                case.ended_by_error.append(f"conversation ended by a provider error at turn {conv['ended_turn']}{rep}")
        text = _x(row["text"])
        if not case.excerpt:
            case.excerpt = text[:EXCERPT] + ("..." if len(text) > EXCERPT else "")
        rules_applied = False
        for s in by_sample.get(row["sample_id"], []):
            name = s["scorer"]
            if name.startswith("rule:"):
                lab = rule_label(s)
                if lab is None:
                    continue
                rules_applied = True
                rid = name[5:]
                if lab == "fail":
                    case.failed.append(f"{rid} ({s['severity'] or '?'})")
                    case.details.append(f"{rid} failed{rep}: {_x(s['explanation'])}"
                                        + (f"; evidence: {_x(s['evidence'])}" if s["evidence"] else ""))
                elif lab in UNDECIDED:
                    case.undecided.append(f"{rid} {lab}{rep}")
            elif name in verdict_scorers and s["passed"] == 0:
                case.failed.append(name)
                case.details.append(f"{name} failed{rep}: {_x(s['explanation'])}")
        if safety and not rules_applied:
            case.undecided.append("not checked: no teen-safety rule applied" + rep)
    for case in cases.values():
        case.status = ("error" if case.errors else "failure" if case.failed else "error" if case.ended_by_error
                       else "skipped" if case.undecided else "passed")
    return list(cases.values())


def _suite(parent: ET.Element, name: str, cases: list[tuple[str, str, str, str, str]]) -> None:
    """cases: (classname, name, status, message, text)."""
    suite = ET.SubElement(parent, "testsuite", name=_x(name), tests=str(len(cases)),
                          failures=str(sum(c[2] == "failure" for c in cases)),
                          errors=str(sum(c[2] == "error" for c in cases)),
                          skipped=str(sum(c[2] == "skipped" for c in cases)), time="0")
    for classname, case_name, status, message, text in cases:
        tc = ET.SubElement(suite, "testcase", classname=_x(classname), name=_x(case_name), time="0")
        if status != "passed":
            el = ET.SubElement(tc, status, message=_x(message)[:2000])
            if status != "skipped":
                el.set("type", status)
            if text:
                el.text = _x(text)


def junit_xml(store: Store, run_id: str, thresholds: list | None = None, *, extra_cases: list | None = None) -> str:
    """The run's JUnit XML: per provider its prompt cases, then the thresholds (ThresholdResult list)."""
    run = store.run(run_id)
    eval_name = _x(run["eval_name"]).replace(" ", "_")
    root = ET.Element("testsuites", name=f"harness {_x(run['eval_name'])} {run['id']}")
    cases = prompt_cases(store, run["id"])
    for provider in dict.fromkeys(c.provider for c in cases):
        _suite(root, f"{run['eval_name']}: {provider}",
               [(f"harness.{eval_name}.{provider}", c.prompt, c.status, c.message, c.text)
                for c in cases if c.provider == provider])
    gate = [(f"harness.{eval_name}.thresholds", f"{r.name} [{r.provider}]", "passed" if r.met else "failure",
             str(r), "\n".join(r.details())) for r in (thresholds or [])]
    gate += list(extra_cases or [])
    if gate:
        _suite(root, f"{run['eval_name']}: thresholds", gate)
    _totals(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def diff_junit(diff) -> str:
    """`harness diff --junit`: one test case per provider x category x measure (failure when it got
    worse at Holm p < 0.05), one per newly failing prompt."""
    root = ET.Element("testsuites", name=f"harness diff {diff.run_a} -> {diff.run_b}")
    measures = [("harness.diff", f"{g.provider} {g.category} {m.name}",
                 "failure" if m.verdict == "worse" else "passed",
                 f"{m.name} worse in B (Holm p={m.p_holm:.4g})" if m.verdict == "worse" else "", "")
                for g in diff.groups for m in g.measures if not m.empty]
    _suite(root, "diff: measures", measures)
    flips = [("harness.diff.flips", f"{f.provider} {f.suite}/{f.prompt_id} r{f.repeat} {f.measure}", "failure",
              f"{f.kind}: {f.before} -> {f.after}", "") for f in diff.flips if f.kind == "newly_failing"]
    if flips:
        _suite(root, "diff: newly failing", flips)
    _totals(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _totals(root: ET.Element) -> None:
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in root)))
    root.set("time", "0")


def write_junit(path: Path, text: str) -> None:
    """Written whole or not at all (harness.atomic): a CI gate never reads half a file."""
    from harness.atomic import write_atomic

    write_atomic(path, text)
