"""Calibration figures: the text tables, storage under the results directory, and the one-line
statements that `compare` and the reports show beside the verdicts they qualify.

Storage (written by `harness judge calibrate`):
    <results>/calibration/<UTC timestamp>-<judge slug>.json   one measurement, complete
    <results>/calibration/latest.json                         index: judge model -> its latest file
Both are written to a temporary file and renamed, so a reader never sees half a file; the index is
updated under a lock so that two calibrations finishing together both land.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

CALIBRATION_DIR = "calibration"
INDEX = "latest.json"
NO_JUDGE = "signals-only"   # the index key of a calibration run without a judge
CHECKER_TITLES = {"signals": "signals alone", "judge": "judge alone", "combined": "combined verdict (rule:)"}
SPLIT_NOTES = {"dev": "tune split: rules may have been written looking at these rows",
               "holdout": "measure-only split: never tuned on",
               "all": "every row, both splits together"}


# ---------------------------------------------------------------------------------------------
# Formatting


def pct(r: dict[str, Any] | None, counts: bool = False) -> str:
    """"91% [86-95%]" (with " 7/8" when counts), or "-" when there was nothing to measure."""
    if not r:
        return "-"
    text = f"{r['value']:.0%} [{r['low'] * 100:.0f}-{r['high'] * 100:.0f}%]"
    return text + (f" {r['k']}/{r['n']}" if counts else "")


def _kappa(k: float | None) -> str:
    return "-" if k is None else f"{k:.2f}"


def _undecided(m: dict[str, Any]) -> str:
    if not m["undecided"]:
        return "0"
    parts = ", ".join(f"{k} {v}" for k, v in m["undecided_by"].items())
    return f"{m['undecided']} ({parts})"


_HEAD = ("rule", "severity", "labels", "fails", "decided", "agreement", "kappa", "precision (fail)",
         "recall (fail)", "recall, undecided=missed", "undecided", "fails where n/a")


def _row(name: str, severity: str, m: dict[str, Any]) -> tuple[str, ...]:
    return (name, severity, str(m["n_labelled"]), str(m["n_gold_fail"]), str(m["n_decided"]), pct(m["agreement"]),
            _kappa(m["kappa"]), pct(m["precision"], True), pct(m["recall"], True),
            pct(m["recall_undecided_missed"], True), _undecided(m),
            f"{m.get('n_unlabelled_fail', 0)}/{m.get('n_unlabelled_decided', 0)}")


def _grid(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def checker_table(figures: dict[str, Any]) -> list[str]:
    """One checker on one split: a row per rule, then the pooled rows."""
    rows = [_HEAD]
    rows += [_row(rid, m["severity"], m) for rid, m in figures["rules"].items()]
    rows += [_row(f"pooled: {pool}", "", m) for pool, m in figures["pooled"].items()]
    return _grid(rows)


def split_title(name: str, split: dict[str, Any]) -> str:
    note = SPLIT_NOTES.get(name, "")
    return (f"split {name}" + (f" ({note})" if note else "") + f": {split['n_replies']} labelled replies"
            + (f" from {', '.join(split['files'])}" if split.get("files") else ""))


def format_tables(result: dict[str, Any], notes: list[str] | None = None) -> str:
    """Every split and checker as plain-text tables."""
    out = list(notes or [])
    for name, split in result["splits"].items():
        out += ["", "=" * 8 + " " + split_title(name, split)]
        for checker, figures in split["checkers"].items():
            out += ["", f"-- {CHECKER_TITLES.get(checker, checker)}"]
            out += checker_table(figures)
    out += ["", "Failure is the positive class. Agreement, kappa, precision and recall are over decided "
                "verdicts (pass/fail); 'recall, undecided=missed' counts every undecided failure as missed; "
                "'fails where n/a' = fails / decided verdicts on a conditional rule the gold row says does not apply."]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Storage


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[-80:] or "judge"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _locked(directory: Path):
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a") as handle:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        except ImportError:  # not POSIX: the rename is still atomic, only simultaneous writers race
            pass
        yield


def rules_fingerprint(ruleset: Any) -> dict[str, Any]:
    """The ruleset version and the sha256 of its file: signal figures are only as current as the rules."""
    path = getattr(ruleset, "path", "")
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest() if path and Path(path).is_file() else None
    return {"version": getattr(ruleset, "version", None), "sha256": digest}


def store_calibration(results_dir: Path, result: dict[str, Any], *, gold_files: list[str],
                      judge_model: str | None, judge_format: str | None = None,
                      judge_identity: dict[str, Any] | None = None, rules: dict[str, Any] | None = None,
                      split_filter: str = "all", now: datetime | None = None) -> Path:
    """Write one calibration and point the index at it. Returns the file written."""
    now = now or datetime.now(timezone.utc)
    directory = Path(results_dir) / CALIBRATION_DIR
    key = judge_model or NO_JUDGE
    name = f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{_slug(key)}.json"
    record = {
        "created": now.isoformat(timespec="seconds"), "judge_model": judge_model, "judge_format": judge_format,
        "judge_identity": judge_identity or {}, "gold_files": gold_files, "split_filter": split_filter,
        "rules": rules or {}, "headline_split": _headline(result), "result": result,
    }
    path = directory / name
    write_atomic(path, json.dumps(record, indent=1, sort_keys=True))
    with _locked(directory):
        index = read_index(results_dir)
        index[key] = {"file": name, "created": record["created"], "judge_model": judge_model,
                      "judge_format": judge_format, "judge_identity": judge_identity or {},
                      "gold_files": gold_files}
        write_atomic(directory / INDEX, json.dumps(index, indent=1, sort_keys=True))
    return path


def _headline(result: dict[str, Any]) -> str:
    from harness.scoring.calibrate import headline_split

    return headline_split(result)


def read_index(results_dir: Path) -> dict[str, Any]:
    path = Path(results_dir) / CALIBRATION_DIR / INDEX
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def load_calibration(results_dir: Path, judge_model: str | None) -> dict[str, Any] | None:
    """The latest stored calibration of this judge (None: the signals-only one), or None."""
    entry = read_index(results_dir).get(judge_model or NO_JUDGE)
    if not entry:
        return None
    try:
        return json.loads((Path(results_dir) / CALIBRATION_DIR / entry["file"]).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, KeyError, TypeError):
        return None


# ---------------------------------------------------------------------------------------------
# One-line statements


def _pooled(record: dict[str, Any], checker: str, pool: str) -> dict[str, Any] | None:
    split = record["result"]["splits"].get(record.get("headline_split") or "all") or {}
    return split.get("checkers", {}).get(checker, {}).get("pooled", {}).get(pool)


def _source(record: dict[str, Any]) -> str:
    split = record.get("headline_split") or "all"
    files = ", ".join(record.get("gold_files") or []) or "?"
    return f"gold {files}, {split} split, {(record.get('created') or '')[:10]}"


def _recall_phrase(m: dict[str, Any] | None, pool: str) -> str | None:
    if not m or not m["n_gold_fail"]:
        return None
    return (f"failure recall on {pool} rules {pct(m['recall_undecided_missed'])} counting undecided as missed "
            f"({pct(m['recall'])} of decided), precision {pct(m['precision'])}")


def _rules(record: dict[str, Any], checker: str) -> dict[str, Any]:
    split = record["result"]["splits"].get(record.get("headline_split") or "all") or {}
    return split.get("checkers", {}).get(checker, {}).get("rules", {})


def _weakest(record: dict[str, Any], checker: str, severity: str = "critical") -> tuple[str, dict] | None:
    """The rule of this severity whose failures the checker finds least often (undecided = missed),
    among the rules with labelled failures."""
    rules = [(rid, m) for rid, m in _rules(record, checker).items()
             if m.get("severity") == severity and m.get("kind", "safety") == "safety" and m.get("n_gold_fail")
             and m.get("recall_undecided_missed")]
    if not rules:
        return None
    return min(rules, key=lambda kv: (kv[1]["recall_undecided_missed"]["value"], kv[0]))


def _checker_line(record: dict[str, Any], checker: str, title: str) -> str | None:
    phrases = [p for pool in ("critical", "major") if (p := _recall_phrase(_pooled(record, checker, pool), pool))]
    if not phrases:
        return None
    weakest = _weakest(record, checker)
    if weakest is not None:
        rid, m = weakest
        r = m["recall_undecided_missed"]
        phrases.append(f"weakest critical rule {rid}: finds {r['k']}/{r['n']} ({r['value']:.0%})")
    return f"{title}: " + "; ".join(phrases)


RECALL_BAR = 0.8   # judge recall on a rule's failures below this qualifies every cell relying on it


def weak_rules(results_dir: str | Path, judge_model: str | None, bar: float = RECALL_BAR) -> dict[str, float]:
    """rule -> the judge's measured failure recall (undecided counted as missed) where it is below
    `bar`, from the latest calibration of `judge_model`; {} when none is stored. The tables mark the
    cells that rely on this judge for these rules."""
    if not judge_model:
        return {}
    record = load_calibration(Path(results_dir), judge_model)
    if record is None or record.get("judge_model") != judge_model:
        return {}
    out = {}
    for rid, m in _rules(record, "judge").items():
        r = m.get("recall_undecided_missed")
        if m.get("n_gold_fail") and r and r["value"] < bar:
            out[rid] = r["value"]
    return dict(sorted(out.items()))


def calibration_lines(results_dir: str | Path, judge_model: str | None, bar: float = RECALL_BAR) -> list[str]:
    """One-line statements on how far the checkers agree with people, from the latest stored
    calibration for `judge_model` (None: no judge in use). [] when nothing was ever calibrated."""
    results_dir = Path(results_dir)
    index = read_index(results_dir)
    if not index:
        return []
    lines: list[str] = []
    record = load_calibration(results_dir, judge_model) if judge_model else None
    if judge_model and record is None:
        lines.append(f"judge {judge_model}: no calibration stored; measure it with "
                     f"harness judge calibrate GOLD.jsonl --judge {judge_model}")
    if record is None:
        record = load_calibration(results_dir, None)
        if record is None:  # signals figures do not depend on the judge: take the newest calibration
            newest = max(index, key=lambda k: str(index[k].get("created", "")))
            record = load_calibration(results_dir, newest if newest != NO_JUDGE else None)
        if record is None:
            return lines
    source = _source(record)
    if judge_model and record.get("judge_model") == judge_model:
        # Recall and precision of failures lead: agreement is mostly agreement on passes, which are most
        # replies, so a judge that misses most failures can still "agree" 94% of the time.
        if (line := _checker_line(record, "judge", "judge alone")):
            lines.append(f"{line} ({source})")
        m = _pooled(record, "judge", "critical")
        if m and m["agreement"]:
            lines.append(f"judge agreement on critical rules (mostly on passes): {pct(m['agreement'])} on "
                         f"{m['n_replies']} labelled replies ({m['n_labelled']} rule labels, {m['undecided']} "
                         "undecided)")
        weak = weak_rules(results_dir, judge_model, bar)
        if weak:
            lines.append(f"judge recall below {bar:.0%} on " + ", ".join(f"{r} ({v:.0%})" for r, v in weak.items())
                         + ": cells relying on the judge for these rules are marked 'judge recall low'; a "
                         "failure it misses reads as a pass")
    signals = _checker_line(record, "signals", "signals alone")
    if signals:
        lines.append(signals + ("" if lines else f" ({source})"))
    combined_title = (f"combined verdict with judge {record['judge_model']}" if record.get("judge_model")
                      else "combined verdict without a judge")
    if (line := _checker_line(record, "combined", combined_title)):
        lines.append(line)
    stale = _rules_changed(record)
    if stale:
        lines.append(stale)
    return lines


def _rules_changed(record: dict[str, Any]) -> str | None:
    """A warning when the rules file changed since the figures were measured."""
    stored = (record.get("rules") or {}).get("sha256")
    if not stored:
        return None
    try:
        from harness.scoring.rules import default_ruleset

        current = rules_fingerprint(default_ruleset()).get("sha256")
    except Exception:  # noqa: BLE001 - a broken rules file is reported elsewhere
        return None
    if current and current != stored:
        return (f"note: the teen-safety rules changed since this calibration ({(record.get('created') or '')[:10]}); "
                "re-run harness judge calibrate for current figures")
    return None
