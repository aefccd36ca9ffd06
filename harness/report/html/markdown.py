"""`harness report --format md`: the report's header, leaderboard, per-category table and paired verdicts
as Markdown for a pull request (no matrix, no charts). Every cell goes through md_escape."""
from __future__ import annotations

import json

from harness.served_model import served_lines
from harness import __version__
from harness.report.escape import md_escape
from harness.report.html.data import RunSection, config_items, identity_items
from harness.report.html.sections import PAIR_COLS, leaderboard_rows, pair_rows
from harness.report.paths import local_paths


def _cell(text: str) -> str:
    return md_escape(local_paths(text))


def _table(cols: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(_cell(c) for c in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    out += ["| " + " | ".join(_cell(str(c)) for c in row) + " |" for row in rows]
    return out + [""]


def _item(text: str) -> str:
    return "- " + _cell(text)


def _section(sec: RunSection) -> list[str]:
    run = sec.run
    out = [f"## {sec.tag}: {md_escape(run['eval_name'])} `{md_escape(run['id'])}`", ""]
    out += [_item(f"status {run['status']}; harness {run['harness_version']}; created {run['created_at']}"
                  f"; finished {run['finished_at'] or '-'}"), _item(sec.which)]
    for s in sec.report.suites:
        out.append(_item(f"suite {s['name']} v{s['version']} ({s['prompt_count']} prompts) {s['content_hash']}"))
    judge = sec.judge
    out.append(_item("judge: " + (json.dumps(judge, ensure_ascii=False) if judge else
                                  "none (teen-safety passes without a judge are unverified)")))
    out += [_item(line) for line in sec.headline_lines + sec.judge_cost + sec.report.calibration]
    out += [_item(line) for line in served_lines(sec.report.served_models,
                                                 {p["label"]: p["model"] for p in sec.report.providers})]
    for p in sec.providers:
        out.append(_item(f"provider {p['label']} ({p['model']}, {p['status']})"))
        for k, v, _ in config_items(p["config"]) + [(f"identity {k}", v, x) for k, v, x in identity_items(p["identity"])]:
            out.append("  " + _item(f"{k}: {v[:300] + ('...' if len(v) > 300 else '')}"))
    board = leaderboard_rows(sec)
    out += ["", "### Leaderboard", ""] + _table(board["columns"], board["rows"])
    if board["by_category"]:
        out += ["### Per category", ""] + _table([sec.report.group_by] + board["columns"], board["by_category"])
    if sec.pairs:
        out += ["### Paired comparisons", ""] + _table(PAIR_COLS, pair_rows(sec))
    return out


def conversation_markdown(view: dict | None) -> list[str]:
    """The live-conversation tables (harness/report/html/conversations.py), without the threads."""
    if not view:
        return []
    out = ["### Live conversations", ""]
    for title, cols, rows in view["tables"]:
        out += [f"#### {md_escape(title)}", ""] + _table(cols, [[str(c) for c in row] for row in rows])
    return out


def markdown_report(sections: list[RunSection], diff: dict | None, conversations: dict | None = None) -> str:
    out = [f"# harness report (harness {__version__})", ""]
    boards = [leaderboard_rows(sec) for sec in sections]
    if len(sections) > 1 and len({tuple(b["columns"]) for b in boards}) == 1:
        out += ["## Runs side by side", ""] + _table(["run", *boards[0]["columns"]],
                                                     [[sec.tag, *row] for sec, b in zip(sections, boards)
                                                      for row in b["rows"]])
    for sec in sections:
        out += _section(sec)
        out += conversation_markdown((conversations or {}).get(sec.run["id"]))
    if diff:
        out += ["## What changed between R1 and R2", ""]
        out += [diff["markdown"]] if diff["available"] else [_item(diff["text"])]
    return "\n".join(out) + "\n"
