"""How long validating and loading a large suite takes, and how much memory, per file format.

    python bench/suite_load.py [--prompts 100000] [--formats yaml,jsonl,csv,xlsx,parquet]

Writes a suite of N prompts (about 1 KB each, like the 50 MB / 51,062-prompt suite of issue 10) in a
temporary directory, then, each in a fresh Python process, runs what `harness prompts validate` runs
(load_suite(light=True) + the rule-id check: every prompt validated, only a stub of each kept) and what
`harness run` does before writing its plan (load_suite + the content hash: every prompt kept), and
prints the wall time and the peak resident memory of that process (ru_maxrss), with the memory of the
imports alone subtracted. Target (issue 10 item 9): 100,000 prompts in under 10 s and 300 MB.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FILLER = ("Please explain, step by step and in plain words that a fourteen-year-old would follow, how the "
          "water cycle moves water between the oceans, the air and the land, and why it matters for the "
          "weather we see every day. ")


def record(i: int) -> dict:
    return {"id": f"p{i:06d}", "input": f"Question {i}: " + FILLER * 3, "target": f"answer {i}",
            "category": ("facts", "homework", "reading")[i % 3], "expect": [{"contains": f"answer {i}"}],
            "metadata": {"source": "bench", "row": i, "note": "generated"}}


def write(directory: Path, n: int, fmt: str) -> Path:
    path = directory / f"bench.{fmt}"
    if fmt == "jsonl":
        with path.open("w", encoding="utf-8") as out:
            for i in range(n):
                out.write(json.dumps(record(i)) + "\n")
    elif fmt == "yaml":
        with path.open("w", encoding="utf-8") as out:
            out.write("name: bench\nversion: '1'\nprompts:\n")
            for i in range(n):
                r = record(i)
                out.write(f"  - id: {r['id']}\n    input: {json.dumps(r['input'])}\n    target: {r['target']}\n"
                          f"    category: {r['category']}\n    expect:\n      - contains: {r['target']}\n"
                          f"    metadata: {{source: bench, row: {i}, note: generated}}\n")
    elif fmt in ("csv", "xlsx", "parquet"):
        rows = [{"id": r["id"], "prompt": r["input"], "target": r["target"], "category": r["category"],
                 "source": "bench", "note": "generated"} for r in map(record, range(n))]
        if fmt == "csv":
            import csv

            with path.open("w", encoding="utf-8", newline="") as out:
                w = csv.DictWriter(out, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
        elif fmt == "xlsx":
            import openpyxl

            book = openpyxl.Workbook(write_only=True)
            sheet = book.create_sheet("prompts")
            sheet.append(list(rows[0]))
            for r in rows:
                sheet.append(list(r.values()))
            book.save(path)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pylist(rows), path)
    return path


CHILD = """
import resource, sys, time
from harness.scoring.rules import check_prompt_rules
from harness.suites import load_suite
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
if sys.argv[2] == "validate":  # what `harness prompts validate` does
    suite = load_suite(sys.argv[1], light=True)
    problems = check_prompt_rules(suite.prompts)
else:                          # what `harness run` does before it writes the plan
    suite = load_suite(sys.argv[1])
    digest = suite.content_hash
t1 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(suite.prompts), round(t1 - t0, 2), round((peak - base) / 1024), round(peak / 1024))
"""


def measure(path: Path, mode: str) -> str:
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), mode], capture_output=True, text=True,
                          cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": ""})
    if done.returncode != 0:
        return f"failed: {done.stderr.strip().splitlines()[-1] if done.stderr else done.returncode}"
    n, seconds, peak, total = done.stdout.split()
    return f"{n:>8} {seconds:>7} {peak:>8} {total:>8}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=100_000)
    parser.add_argument("--formats", default="yaml,jsonl,csv,xlsx,parquet")
    parser.add_argument("--write", help=argparse.SUPPRESS)  # internal: write the files into this directory
    args = parser.parse_args()
    if args.write:
        for fmt in args.formats.split(","):
            write(Path(args.write), args.prompts, fmt)
        return
    print("peak MB: the process's peak resident memory minus that of its imports; (total): with them")
    print(f"{'format':8} {'file MB':>8} {'mode':9} {'prompts':>8} {'seconds':>7} {'peak MB':>8} {'(total)':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            # Written by a child process: a child's peak memory (ru_maxrss) starts from its parent's, so
            # the process that measures must come from a small parent.
            subprocess.run([sys.executable, __file__, "--write", tmp, "--prompts", str(args.prompts), "--formats", fmt],
                           check=True, cwd=REPO)
            path = Path(tmp) / f"bench.{fmt}"
            for mode in ("validate", "load"):
                print(f"{fmt:8} {path.stat().st_size / 1e6:8.1f} {mode:9} {measure(path, mode)}", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
