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
from harness.report.html.sections import (PAIR_COLS, charts_for, combined_charts, failed_charts, leaderboard_rows,
                                          pair_rows)
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
    from markupsafe import Markup

    from harness.report.escape import clean, json_dumps
    from harness.report.paths import local_paths

    def finalize(value: Any) -> Any:
        """Every printed value: control and bidi characters (ESC, U+202E) as visible escapes, as in every
        other output, before autoescaping, and local paths relative to the working directory (paths.py);
        only the page's own markup (css, script) is left alone."""
        return value if isinstance(value, Markup) or not isinstance(value, str) else clean(local_paths(value))

    loader = jinja2.PackageLoader("harness.report.html", "templates")
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, finalize=finalize)
    env.filters["tojson"] = lambda value: json_dumps(value, sort_keys=True)   # text: escaped like the rest
    return env


def sections(store: Store, run_ids: list[str | None]) -> list[RunSection]:
    ids = [store.run(r)["id"] for r in (run_ids or [None])]
    return [run_section(store, rid, i + 1) for i, rid in enumerate(ids)]


MAX_FLIPS_HTML = 1000


def diff_section(store: Store, secs: list[RunSection]) -> dict[str, Any] | None:
    """With exactly two runs, `harness diff` (harness/report/diff.py: diff_runs(store, a, b)) as a section:
    its measures, replies and flipped prompts as tables (HTML) and its own Markdown (diff_markdown)."""
    if len(secs) != 2:
        return None
    try:
        from harness.report import diff as d
    except ImportError:
        return {"available": False, "text": "harness diff is not available in this version: run-to-run changes "
                                             "are not computed here (compare the sections side by side)."}
    result = d.diff_runs(store, secs[0].run["id"], secs[1].run["id"])
    flips = result.flips[:MAX_FLIPS_HTML]
    several = len({f.suite for f in result.flips}) > 1
    tables = [("what changed: run A (R1) -> run B (R2)", d.MEASURE_COLUMNS,
               [d.measure_cells(g, m) for g in result.groups for m in g.measures if not m.empty]),
              ("replies per run", ["provider", "category", "replies A", "replies B"],
               [d.reply_cells(g) for g in result.groups])]
    if flips:
        more = len(result.flips) - len(flips)
        tables.append((f"prompts that changed ({len(result.flips)}, newly failing first"
                       + (f"; the first {len(flips)} shown, all with harness diff)" if more else ")"),
                       d.FLIP_COLUMNS, [d.flip_cells(f, several) for f in flips]))
    return {"available": True, "captions": d.caption_lines(result), "tables": tables,
            "lines": d.text_lines(result), "markdown": d.diff_markdown(result)}


def render_html(store: Store, run_ids: list[str | None], *, charts: bool = True, page_size: int = 50,
                notes: list[str] | None = None) -> str:
    """The page. `notes` (when given) receives one line per chart that could not be drawn, for stderr:
    the page itself says so where the chart would be."""
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
                     "charts": [(title, _svg_img(svg), note, missing) for title, svg, note, missing in chart_svgs],
                     "conversations": _conversations(store, sec.run["id"], charts)})
        if notes is not None:
            notes += [f"{sec.tag}: {line}" for line in failed_charts(chart_svgs)]
    side_by_side = None
    if len(secs) > 1 and len({tuple(v["leaderboard"]["columns"]) for v in view}) == 1:
        side_by_side = {"columns": ["run", *view[0]["leaderboard"]["columns"]],
                        "rows": [[v["sec"].tag, *row] for v in view for row in v["leaderboard"]["rows"]]}
    combined = combined_charts(secs) if charts and len(secs) > 1 else []
    if notes is not None:
        notes += failed_charts(combined)
    together = [(t, _svg_img(svg), note, missing) for t, svg, note, missing in combined]
    template = _environment().get_template("report.html.j2")
    return template.render(
        title="harness report - " + ", ".join(f"{s.run['eval_name']} {s.run['id']}" for s in secs),
        harness_version=__version__, generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        runs=view, charts_off=not charts, pair_cols=PAIR_COLS, side_by_side=side_by_side, together=together, several=len(secs) > 1, diff=diff_section(store, secs), css=_static("report.css"),
        script=script, script_hash=script_hash, matrix_json=script_json({**data, "pageSize": page_size}),
        n_rows=len(data["rows"]), n_cells=sum(len(r["c"]) for r in data["rows"]))


def _conversations(store: Store, run_id: str, charts: bool) -> dict[str, Any] | None:
    """The run's live conversations (threads, survival table and chart), None without any."""
    from harness.report.html.conversations import conversation_view

    view = conversation_view(store, run_id, charts=charts)
    if view is not None:
        view["chart"] = _svg_img(view["chart"])
    return view


def render_markdown(store: Store, run_ids: list[str | None]) -> str:
    from harness.report.html.markdown import markdown_report

    from harness.report.html.conversations import conversation_view

    secs = sections(store, run_ids)
    conversations = {sec.run["id"]: conversation_view(store, sec.run["id"], charts=False) for sec in secs}
    return markdown_report(secs, diff_section(store, secs), conversations)
