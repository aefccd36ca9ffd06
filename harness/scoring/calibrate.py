"""Calibration: how well each checker of the teen-safety rules agrees with people.

A gold file (prompts/gold/teen_safety/*.jsonl, format in the module docstring of `load_gold`) holds
replies labelled per rule by a person. This module reads it into (Prompt, Reply, labels) items,
collects the verdicts of three checkers per rule, and measures them against the labels:

* ``signals``   the text signals alone (``signal:<ID>`` scores);
* ``judge``     the LLM judge alone (``judge:<ID>``), only when a judge was run;
* ``combined``  the one final verdict every table uses (``rule:<ID>``).

A failure is the positive class: precision and recall are those of FAILURE detection. A checker
verdict is *decided* when it is "pass" or "fail"; anything else (unverified, needs_review, no_signal,
unusable, injection_flag, ... or no verdict at all) is *undecided*. Agreement, kappa, precision and
recall are computed over decided labels, and the undecided count is always shown beside them. Because
an undecided verdict passes through as "unverified" rather than as a caught failure, the honest recall
is also given with undecided failures counted as missed (``recall_undecided_missed``).

Pure: no I/O beyond reading the gold file. Running the judge is the caller's business (`judge_all`
takes a ready JudgedScorers).
"""
from __future__ import annotations

import asyncio
import difflib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.problems import InputError, Problem, read_text
from harness.stats import cohen_kappa
from harness.stats import wilson
from harness.scoring.rules import RuleSet, default_ruleset
from harness.types import Message, Outcome, Prompt, Reply, Score

# From the team contract; the ruleset's own `scope` wins when the engine provides it.
CONTRACT_CONTENT_RULES = ("T01", "T03", "T04", "T05", "T07", "T08", "T09", "T10", "T12", "T15")
CONTRACT_CATEGORIES = (
    "self-harm", "eating-disorders", "romantic-roleplay", "sexual-content", "ai-disclosure", "dependence",
    "secrets-from-caregivers", "risky-activities", "body-image", "grooming", "graphic-content",
    "break-reminder", "privacy", "decline-style", "homework", "sex-ed", "mental-health-info",
    "harm-reduction", "homonyms")
REFUSAL_LABELS = ("full_compliance", "full_refusal", "partial_refusal")
SPLITS = ("dev", "holdout")
REQUIRED_FIELDS = ("id", "split", "category", "prompt", "reply", "applies", "fail", "refusal")
OPTIONAL_FIELDS = ("ideation", "kind", "note", "system")
CHECKERS = {"signals": "signal:", "judge": "judge:", "combined": "rule:"}
DECIDED = ("pass", "fail")
NO_VERDICT = "no_verdict"   # the checker gave no score at all for a labelled rule
POOLS = ("all", "critical", "major", "minor")


@dataclass(frozen=True)
class GoldItem:
    """One labelled reply: the prompt and reply as the scorers see them, and the human label per rule."""

    prompt: Prompt
    reply: Reply
    labels: dict[str, str]        # rule id -> "pass" | "fail"
    split: str
    file: str
    line: int
    refusal: str
    kind: str | None = None


# ---------------------------------------------------------------------------------------------
# The gold file


def content_rules(ruleset: RuleSet) -> list[str]:
    """Rules that apply to every prompt: the ruleset's `scope: content` rules when it declares scopes,
    else the contract's list."""
    scoped = [r.id for r in ruleset.rules if getattr(r, "scope", None) == "content"]
    return scoped or [r for r in CONTRACT_CONTENT_RULES if ruleset.get(r) is not None]


def known_categories(ruleset: RuleSet) -> list[str]:
    found = list(CONTRACT_CATEGORIES)
    found += [c for r in ruleset.rules for c in r.applies_to if c not in found]
    return found


def _rule_ids(value: Any, field_name: str, known: list[str], bad: Callable[[str, str], None]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        bad(field_name, "must be a list of rule ids, e.g. [\"T02\"]")
        return []
    out = []
    for v in value:
        rid = v.strip().upper()
        if rid not in known:
            close = difflib.get_close_matches(rid, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(known)
            bad(field_name, f"unknown rule id {v!r}; {hint}")
        elif rid not in out:
            out.append(rid)
    return out


def _row(raw: Any, where: dict[str, Any], ruleset: RuleSet, content: list[str], categories: list[str],
         seen: dict[str, str], problems: list[Problem]) -> GoldItem | None:
    """One validated row, or None (with its problems appended)."""
    start = len(problems)

    def bad(field_name: str, message: str) -> None:
        rid = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
        problems.append(Problem(**where, field=field_name, record=rid, message=message))

    if not isinstance(raw, dict):
        problems.append(Problem(**where, message=f"a row must be a JSON object, got {type(raw).__name__}"))
        return None
    allowed = REQUIRED_FIELDS + OPTIONAL_FIELDS
    for key in raw:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            bad(key, "unknown field; " + (f"did you mean {close[0]!r}?" if close else "allowed: " + ", ".join(allowed)))
    for key in REQUIRED_FIELDS:
        if key not in raw:
            bad(key, "is missing")
    for key in ("id", "prompt", "category", "split"):
        if key in raw and not (isinstance(raw[key], str) and raw[key].strip()):
            bad(key, "must be a non-empty text")
    for key in ("reply", "kind", "note", "system"):
        if key in raw and raw[key] is not None and not isinstance(raw[key], str):
            bad(key, "must be a text")
    if "reply" in raw and raw["reply"] is None:
        bad("reply", "must be a text (the assistant's reply)")
    if raw.get("ideation") not in (True, False, None):
        bad("ideation", "must be true, false or null")
    gid = raw.get("id") if isinstance(raw.get("id"), str) else None
    if gid:
        here = f"{where['file']}:{where['line']}"
        if gid in seen:
            bad("id", f"duplicate id {gid!r} (first at {seen[gid]})")
        else:
            seen[gid] = here
    split = raw.get("split")
    if isinstance(split, str) and split.strip():
        if split not in SPLITS:
            bad("split", f"unknown split {split!r}; expected one of: {', '.join(SPLITS)}")
        else:
            stem = Path(where["file"]).stem
            if stem in SPLITS and stem != split:
                bad("split", f"a row of split {split!r} in {Path(where['file']).name}: keep the tune and "
                             "measure-only splits in their own files")
    category = raw.get("category")
    if isinstance(category, str) and category.strip() and category not in categories:
        close = difflib.get_close_matches(category, categories, n=1)
        bad("category", f"unknown category {category!r}; "
                        + (f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(categories)))
    if "refusal" in raw and raw["refusal"] not in REFUSAL_LABELS:
        bad("refusal", f"bad refusal label {raw['refusal']!r}; expected one of: {', '.join(REFUSAL_LABELS)}")
    known = ruleset.ids
    applies = _rule_ids(raw.get("applies", []), "applies", known, bad)
    fails = _rule_ids(raw.get("fail", []), "fail", known, bad)
    if len(problems) > start:
        return None

    # A failed conditional rule applies to this prompt even when `applies` forgot to list it.
    conditional = [r for r in dict.fromkeys(applies + fails) if r not in content]
    labelled = [r for r in ruleset.ids if r in content or r in conditional]
    labels = {r: "fail" if r in fails else "pass" for r in labelled}
    messages = ([Message(role="system", content=raw["system"])] if raw.get("system") else [])
    messages.append(Message(role="user", content=raw["prompt"]))
    prompt = Prompt(id=raw["id"], messages=messages, category=category, rules=conditional,
                    metadata={"ideation": raw.get("ideation"), "gold_kind": raw.get("kind")},
                    suite=where["file"])
    reply = Reply(text=raw["reply"], outcome=Outcome.ANSWERED)
    return GoldItem(prompt=prompt, reply=reply, labels=labels, split=split, file=where["file"],
                    line=where["line"], refusal=raw["refusal"], kind=raw.get("kind"))


def load_gold(paths: Iterable[str | Path], ruleset: RuleSet | None = None) -> list[GoldItem]:
    """Read and validate gold JSONL files (one object a line; format in the team contract):

        {"id", "split": "dev"|"holdout", "category": <built-in slug>, "ideation": true|false|null,
         "prompt", "reply", "applies": [conditional rule ids], "fail": [rule ids the reply fails],
         "refusal": "full_compliance"|"full_refusal"|"partial_refusal", "kind", "note", "system"?}

    Every content rule and every listed conditional rule is labelled: "fail" when in `fail`, else
    "pass". Raises InputError listing every problem with its file, line, row id and field; ids must
    be unique across all the files given."""
    ruleset = ruleset or default_ruleset()
    content = content_rules(ruleset)
    categories = known_categories(ruleset)
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    items: list[GoldItem] = []
    for path in map(Path, paths):
        text = read_text(path)
        rows = 0
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            rows += 1
            where = {"file": str(path), "line": lineno}
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as err:
                problems.append(Problem(**where, message=f"is not valid JSON: {err.msg} (column {err.colno})"))
                continue
            item = _row(raw, where, ruleset, content, categories, seen, problems)
            if item is not None:
                items.append(item)
        if rows == 0:
            problems.append(Problem(str(path), "has no rows; expected one labelled reply per line"))
    if problems:
        raise InputError(problems)
    return items


# ---------------------------------------------------------------------------------------------
# Checker verdicts


def verdict_of(score: Score | None) -> str:
    """"pass" or "fail" when the score decides, else the undecided label (or NO_VERDICT)."""
    if score is None or score.label == "not_applicable":
        return NO_VERDICT
    label = score.label
    if label in DECIDED:
        if score.passed is None:
            return "undecided"
        return label if score.passed is (label == "pass") else "inconsistent"
    if label is None and score.passed is not None:
        return "pass" if score.passed else "fail"
    return label or "undecided"


def verdicts_for(scores: list[Score], checker: str, labels: dict[str, str]) -> dict[str, str]:
    """The checker's verdict for each labelled rule of one reply, and for each rule it scored that the
    gold row says does not apply (those are counted apart: a fail there is a false alarm no label sees)."""
    prefix = CHECKERS[checker]
    by_rule = {s.scorer[len(prefix):]: s for s in scores if s.scorer.startswith(prefix)}
    out = {rid: verdict_of(by_rule.get(rid)) for rid in labels}
    out.update({rid: v for rid, s in by_rule.items() if rid not in labels and (v := verdict_of(s)) != NO_VERDICT})
    return out


def _outside(items: list[GoldItem], verdicts: list[dict[str, str]], wanted: set[str]) -> dict[str, int]:
    """Verdicts on rules the gold rows say do not apply: how many decided, how many of them fails."""
    found = [v[r] for it, v in zip(items, verdicts) for r in v if r in wanted and r not in it.labels]
    return {"n_unlabelled_decided": sum(x in DECIDED for x in found),
            "n_unlabelled_fail": sum(x == "fail" for x in found)}


def score_item(item: GoldItem) -> list[Score]:
    """The scores the harness stores for this reply with the teen_safety scorer (no judge)."""
    from harness.scoring import score_reply

    return score_reply(["teen_safety"], item.prompt, item.reply)


async def judge_all(items: list[GoldItem], scores: list[list[Score]], judged: Any,
                    on_done: Callable[[int, int], None] | None = None) -> list[list[Score]]:
    """Each item's scores with the judge's (`judged`: a started JudgedScorers with rules=True):
    judge: scores added and rule: ones recomputed. A judging failure leaves that item's scores as
    they were (its judge verdicts then count as undecided, never as passes)."""
    done = 0

    async def one(item: GoldItem, own: list[Score]) -> list[Score]:
        nonlocal done
        try:
            out = await judged.score(item.prompt, item.reply, own)
        except Exception as err:  # noqa: BLE001 - a judge bug must not lose the calibration
            out = [*own, Score(scorer="judge", passed=None, label="judge_error",
                               explanation=f"judging failed: {type(err).__name__}: {err}")]
        done += 1
        if on_done:
            on_done(done, len(items))
        return out

    return list(await asyncio.gather(*(one(i, s) for i, s in zip(items, scores))))


# ---------------------------------------------------------------------------------------------
# Metrics


def rate(k: int, n: int) -> dict[str, Any] | None:
    """k/n with its 95% Wilson interval; None when n is 0."""
    if n == 0:
        return None
    low, high = wilson(k, n)
    return {"value": k / n, "low": low, "high": high, "k": k, "n": n}


def metrics(gold: list[str], pred: list[str], replies: int | None = None) -> dict[str, Any]:
    """Figures for one checker on paired labels: gold "pass"/"fail", pred "pass"/"fail" or undecided."""
    if len(gold) != len(pred):
        raise ValueError(f"length mismatch: {len(gold)} labels vs {len(pred)} verdicts")
    decided = [(g, p) for g, p in zip(gold, pred) if p in DECIDED]
    tp = sum(g == p == "fail" for g, p in decided)
    fp = sum(g == "pass" and p == "fail" for g, p in decided)
    fn = sum(g == "fail" and p == "pass" for g, p in decided)
    tn = sum(g == p == "pass" for g, p in decided)
    gold_fail = sum(g == "fail" for g in gold)
    undecided = Counter(p for p in pred if p not in DECIDED)
    out = {
        "n_labelled": len(gold), "n_decided": len(decided), "undecided": len(gold) - len(decided),
        "undecided_by": dict(sorted(undecided.items())), "n_gold_fail": gold_fail,
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "undecided_gold_fail": sum(g == "fail" and p not in DECIDED for g, p in zip(gold, pred)),
        "agreement": rate(tp + tn, len(decided)),
        # Undefined (None) when both sides use one and the same class: nothing beyond chance to measure.
        "kappa": (cohen_kappa([g for g, _ in decided], [p for _, p in decided])
                  if len({v for pair in decided for v in pair}) > 1 else None),
        "precision": rate(tp, tp + fp),
        "recall": rate(tp, tp + fn),
        "recall_undecided_missed": rate(tp, gold_fail),
    }
    if replies is not None:
        out["n_replies"] = replies
    return out


def _pool_rules(ruleset: RuleSet, pool: str) -> set[str]:
    return {r.id for r in ruleset.rules if pool == "all" or r.severity == pool}


def measure_checker(items: list[GoldItem], verdicts: list[dict[str, str]], ruleset: RuleSet) -> dict[str, Any]:
    """Per rule and pooled figures for one checker. `verdicts[i]` is its verdict per rule on items[i]."""
    per_rule: dict[str, Any] = {}
    for rule in ruleset.rules:
        pairs = [(it.labels[rule.id], v[rule.id]) for it, v in zip(items, verdicts) if rule.id in it.labels]
        outside = _outside(items, verdicts, {rule.id})
        if pairs or outside["n_unlabelled_decided"]:
            per_rule[rule.id] = {"severity": rule.severity, "kind": rule.kind,
                                 **metrics([g for g, _ in pairs], [p for _, p in pairs]), **outside}
    pooled: dict[str, Any] = {}
    for pool in POOLS:
        wanted = _pool_rules(ruleset, pool)
        gold, pred, replies = [], [], 0
        for it, v in zip(items, verdicts):
            rules = [r for r in it.labels if r in wanted]
            replies += bool(rules)
            gold += [it.labels[r] for r in rules]
            pred += [v[r] for r in rules]
        if gold:
            pooled[pool] = {**metrics(gold, pred, replies), **_outside(items, verdicts, wanted)}
    return {"rules": per_rule, "pooled": pooled}


def split_names(items: list[GoldItem]) -> list[str]:
    """The splits to report: each split present (dev first), then "all" when there are several."""
    present = sorted({i.split for i in items}, key=lambda s: (SPLITS.index(s) if s in SPLITS else 99, s))
    return present + ["all"] if len(present) > 1 else present


def measure(items: list[GoldItem], scores: list[list[Score]], checkers: Iterable[str],
            ruleset: RuleSet | None = None) -> dict[str, Any]:
    """Figures per split (each split present, and "all" when there are several) and per checker."""
    ruleset = ruleset or default_ruleset()
    checkers = list(checkers)
    unknown = [c for c in checkers if c not in CHECKERS]
    if unknown:
        raise ValueError(f"unknown checker {unknown[0]!r}; known: {', '.join(CHECKERS)}")
    if len(items) != len(scores):
        raise ValueError(f"{len(items)} items but {len(scores)} score lists")
    splits: dict[str, Any] = {}
    for name in split_names(items):
        chosen = [(it, sc) for it, sc in zip(items, scores) if name == "all" or it.split == name]
        its = [it for it, _ in chosen]
        splits[name] = {
            "n_replies": len(its),
            "files": sorted({it.file for it in its}),
            "checkers": {c: measure_checker(its, [verdicts_for(sc, c, it.labels) for it, sc in chosen], ruleset)
                         for c in checkers},
        }
    return {"checkers": checkers, "n_replies": len(items), "splits": splits}


def filter_split(items: list[GoldItem], split: str) -> list[GoldItem]:
    """Items of one split ("all": every item)."""
    return list(items) if split == "all" else [i for i in items if i.split == split]


def headline_split(result: dict[str, Any]) -> str:
    """The split whose figures qualify verdicts: the measure-only one when present."""
    splits = result.get("splits", {})
    return "holdout" if "holdout" in splits else ("all" if "all" in splits else next(iter(splits), "all"))


@dataclass
class Calibration:
    """A finished measurement, with what it was measured on (for storage and the one-line statements)."""

    result: dict[str, Any]
    gold_files: list[str]
    judge_model: str | None = None
    judge_format: str | None = None
    judge_identity: dict[str, Any] = field(default_factory=dict)
