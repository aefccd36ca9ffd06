"""`harness report`: one self-contained HTML file (or Markdown) for one run or several side by side.

Safety of untrusted text (model replies, prompts, labels, file names): the page is rendered by jinja2
with autoescaping on; the matrix data sits in a `<script type="application/json">` block whose `<`,
`>` and `&` are JSON escapes (data.script_json), and the page's script writes it with textContent only,
never innerHTML. The page has a Content-Security-Policy that allows no network at all and runs only
the report's own script (by its sha256), so even a markup escape bug could not load or run anything.
Charts are matplotlib SVGs embedded as data: images (no script in an image runs).
"""
from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timezone
from importlib import resources
from typing import Any

from harness import __version__
from harness.report.html.data import RunSection, config_items, identity_items, matrix, run_section, script_json
from harness.report.html.sections import PAIR_COLS, charts_for, combined_charts, leaderboard_rows, pair_rows
from harness.report.summary import ALL
from harness.store import Store


def _static(name: str) -> str:
    return resources.files("harness.report.html").joinpath("static", name).read_text(encoding="utf-8")


def _svg_img(svg: str | None) -> str | None:
    return None if svg is None else "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _environment():
    try:
        import jinja2
    except ImportError as err:
        raise RuntimeError("harness report needs jinja2: pip install 'chatbot-eval-harness[report]'") from err
    loader = jinja2.PackageLoader("harness.report.html", "templates")
    return jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)


def sections(store: Store, run_ids: list[str | None]) -> list[RunSection]:
    ids = [store.run(r)["id"] for r in (run_ids or [None])]
    return [run_section(store, rid, i + 1) for i, rid in enumerate(ids)]


def diff_section(store: Store, secs: list[RunSection]) -> dict[str, Any] | None:
    """HOOK for `harness diff` (harness/report/diff.py, diff_runs(store, a, b)): with exactly two runs,
    its Markdown (or its JSON) goes into the report as a section. Absent module: a note says so."""
    if len(secs) != 2:
        return None
    try:
        from harness.report import diff as diffmod
    except ImportError:
        return {"available": False, "text": "harness diff is not available in this version: run-to-run changes "
                                             "are not computed here (compare the sections side by side)."}
    result = diffmod.diff_runs(store, secs[0].run["id"], secs[1].run["id"])
    for name in ("diff_markdown", "markdown"):
        if callable(fn := getattr(diffmod, name, None)):
            try:
                return {"available": True, "text": fn(result)}
            except Exception:  # noqa: BLE001 - a diff renderer with another signature: fall back to JSON
                pass
    as_dict = result.as_dict() if hasattr(result, "as_dict") else result
    return {"available": True, "text": json.dumps(as_dict, indent=2, default=str, ensure_ascii=False)}


def render_html(store: Store, run_ids: list[str | None], *, charts: bool = True, page_size: int = 50) -> str:
    secs = sections(store, run_ids)
    data = matrix(secs)
    script = _static("report.js")
    script_hash = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    view = []
    for sec in secs:
        chart_svgs = charts_for(sec) if charts else []
        pairs = pair_rows(sec)
        view.append({"sec": sec, "leaderboard": leaderboard_rows(sec),
                     "pairs": {"all": [p for p in pairs if p[0] == ALL], "by_category": [p for p in pairs if p[0] != ALL]},
                     "providers": [{**p, "config_items": config_items(p["config"]),
                                    "identity_items": identity_items(p["identity"])} for p in sec.providers],
                     "charts": [(title, _svg_img(svg), note) for title, svg, note in chart_svgs]})
    side_by_side = None
    if len(secs) > 1 and len({tuple(v["leaderboard"]["columns"]) for v in view}) == 1:
        side_by_side = {"columns": ["run", *view[0]["leaderboard"]["columns"]],
                        "rows": [[v["sec"].tag, *row] for v in view for row in v["leaderboard"]["rows"]]}
    together = [(t, _svg_img(svg), note) for t, svg, note in combined_charts(secs)] if charts and len(secs) > 1 else []
    template = _environment().get_template("report.html.j2")
    return template.render(
        title="harness report - " + ", ".join(f"{s.run['eval_name']} {s.run['id']}" for s in secs),
        harness_version=__version__, generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        runs=view, pair_cols=PAIR_COLS, side_by_side=side_by_side, together=together, several=len(secs) > 1, diff=diff_section(store, secs), css=_static("report.css"),
        script=script, script_hash=script_hash, matrix_json=script_json({**data, "pageSize": page_size}),
        n_rows=len(data["rows"]), n_cells=sum(len(r["c"]) for r in data["rows"]))


def render_markdown(store: Store, run_ids: list[str | None]) -> str:
    from harness.report.html.markdown import markdown_report

    secs = sections(store, run_ids)
    return markdown_report(secs, diff_section(store, secs))
