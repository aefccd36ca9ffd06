"""How big and how fast is `harness report` on a large run? Builds a results store of N samples (prompts x
providers, teen-safety verdicts with evidence, replies of about 600 characters), writes the HTML report,
and opens it in headless chromium (Debian's package) to measure:

- the file size, and the time to render it in Python;
- time to first paint and first contentful paint (the browser's own Paint Timing entries), and when the
  first page of the prompt matrix is drawn (the report's `harness-matrix-ready` mark);
- how long a filter ("failed only") and a search take over every row.

    python bench/report_size.py                 # 20,000 samples: 5,000 prompts x 4 providers
    python bench/report_size.py --samples 2000 --keep /tmp/report.html
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.report.html import render_html  # noqa: E402
from harness.report.html.browser import Browser  # noqa: E402
from harness.store import Store  # noqa: E402
from harness.types import Message, Outcome, Prompt, Reply, Score  # noqa: E402

PROVIDERS = ["gpt-4o-mini", "claude-haiku", "gemini-flash", "llama-1b"]
CATEGORIES = ["self-harm", "eating-disorders", "romantic-roleplay", "homework", "privacy", "dependence"]
WORDS = ("you are not alone please talk to someone you trust here is some information about how this works "
         "<b>step</b> & the answer is that it depends on many things").split()


def build(path: Path, samples: int, seed: int = 7) -> tuple[Store, str]:
    rng = random.Random(seed)
    n_prompts = max(1, samples // len(PROVIDERS))
    prompts = [Prompt(id=f"p{i:05d}", category=CATEGORIES[i % len(CATEGORIES)],
                      messages=[Message(role="user", content=" ".join(rng.choices(WORDS, k=25)))])
               for i in range(n_prompts)]
    store = Store(path)
    run_id = store.create_run(
        eval_name="bench", eval_path=None, spec={}, scorers=["teen_safety"], repeats=1,
        suites=[{"name": "bench", "version": "1", "content_hash": "sha256:" + "0" * 64, "path": "bench.jsonl",
                 "prompt_count": n_prompts}],
        providers=[{"label": p, "model": f"x/{p}", "config": {"temperature": 0}} for p in PROVIDERS],
        samples=[("bench", p, prov, 1) for prov in PROVIDERS for p in prompts])
    rows = list(store.results(run_id))
    with store.transaction() as conn:   # one transaction: building the bench store is not what is measured
        for row in rows:
            label = rng.choices(["pass", "fail", "unverified", "needs_review"], [5, 2, 6, 1])[0]
            passed = {"pass": 1, "fail": 0}.get(label)
            text = " ".join(rng.choices(WORDS, k=100))
            conn.execute("INSERT INTO replies (sample_id, outcome, text, latency_s, cost_usd, raw_json, created_at, attempts)"
                         " VALUES (?, 'answered', ?, ?, 0.0001, '{}', '2026-01-01', 1)",
                         (row["sample_id"], text, rng.uniform(0.2, 3)))
            summary = {"fail": "critical_fail"}.get(label, label)
            conn.executemany(
                "INSERT INTO scores (sample_id, scorer, passed, label, explanation, evidence, severity)"
                " VALUES (?,?,?,?,?,?,?)",
                [(row["sample_id"], "rule:T01", passed, label, "T01 verdict", "cue words" if passed == 0 else None,
                  "critical"),
                 (row["sample_id"], "signal:T01", passed, label, "signals", None, "critical"),
                 (row["sample_id"], "teen_safety", passed, summary, "summary", None, None)])
    store.finish_run(run_id, "finished")
    return store, run_id


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=20000)
    ap.add_argument("--keep", type=Path, help="also copy the report here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        store, run_id = build(Path(tmp) / "harness.db", args.samples)
        print(f"store with {args.samples} samples built in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        html = render_html(store, [run_id])
        render_s = time.perf_counter() - t0
        out = Path(tmp) / "report.html"
        out.write_text(html, encoding="utf-8")
        if args.keep:
            args.keep.write_text(html, encoding="utf-8")
        print(f"report: {out.stat().st_size / 1e6:.1f} MB, rendered in {render_s:.1f} s (Python)")
        with Browser() as b:
            load_s = b.open(out.as_uri())
            # paint entries are reported once the frame was presented, a moment after the load: wait for them
            paint = b.eval("new Promise(function(r){var n=0;(function poll(){var e=performance.getEntriesByType("
                           "'paint');if(e.length||n++>100){r(JSON.stringify(e.map(function(x){return [x.name,"
                           "Math.round(x.startTime)]})))}else{setTimeout(poll,50)}})()})")
            ready = b.eval("performance.getEntriesByName('harness-matrix-ready')[0].startTime")
            print(f"browser: loaded in {load_s:.2f} s; paint timings (ms since navigation): {paint}; "
                  f"matrix first page drawn at {ready:.0f} ms")
            filt = b.eval("(function(){var t=performance.now();var c=document.getElementById('f-failed');"
                          "c.checked=true;c.dispatchEvent(new Event('change'));return performance.now()-t})()")
            shown = b.eval("document.getElementById('count').textContent")
            # the search box's own handler waits for a 150 ms typing pause; a change event on another filter
            # runs the same filtering synchronously, so this times the filtering itself
            timed = ("(function(){var q=document.getElementById('q');q.value=%r;var t=performance.now();"
                     "document.getElementById('f-rule').dispatchEvent(new Event('change'));return performance.now()-t})()")
            b.eval("(function(){var c=document.getElementById('f-failed');c.checked=false;"
                   "c.dispatchEvent(new Event('change'))})()")
            search = b.eval(timed % "answer is that")
            second = b.eval(timed % "trust here")
            found = b.eval("document.getElementById('count').textContent")
            print(f"filter 'failed only': {filt:.0f} ms ({shown}); first search (builds the index): {search:.0f} ms; "
                  f"next search: {second:.0f} ms ({found}), plus the 150 ms typing pause")
        store.close()


if __name__ == "__main__":
    main()
