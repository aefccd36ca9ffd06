"""Does the harness scale linearly? (issue 22 item 6)

1. `harness compare` on a store of N teen-safety samples (default 100,000: 25,000 prompts x 4 providers,
   a verdict and rule scores per reply), as a subprocess: CPU seconds (and wall). Target: under 10 s. A second,
   smaller store (N/4) shows the growth: linear work takes about 4x as long on 4x the samples.
2. `harness score` on a JSONL of M transcript rows (default 1,000,000), as a subprocess: wall seconds,
   CPU seconds (all its processes), rows/s and the peak resident memory of its largest process (the
   parent or a worker: ru_maxrss of the children), next to the input file's size. Memory "bounded"
   here means flat: M/5 rows are measured too, and the peak at M should be about the peak at M/5
   (`harness score` streams: harness/cli/score_workers.py).

    python bench/scale.py                       # both, full size (several minutes on a laptop)
    python bench/scale.py --samples 20000 --rows 100000
    python bench/scale.py --skip-score
    python bench/scale.py --skip-compare --rows 1000000 --small-rows 200000

The machine's conditions (cores this process may use, load average, CPU) are printed first: on a
shared machine wall time says little, CPU seconds say more.

Measured on whatever machine runs it; nothing leaves the machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from report_size import build  # noqa: E402  (the report bench's store of teen-safety verdicts)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


# Runs a command in a fresh child and reports its exit code, CPU seconds (user + system, all its
# processes) and the peak RSS of its largest process: on a shared machine wall time says little.
_PROBE = ("import resource, subprocess, sys, json; r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
          "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
          "print(json.dumps([r.returncode, u.ru_utime + u.ru_stime, u.ru_maxrss]))")


def probe(args: list[str]) -> tuple[int, float, float, int]:
    """(exit code, wall s, CPU s, peak RSS KiB) of `args`."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], env=_env(), capture_output=True, text=True)
    wall = time.perf_counter() - started
    code, cpu, peak = json.loads(done.stdout.strip().splitlines()[-1])
    if code not in (0, 3):
        raise SystemExit(f"{' '.join(args[2:4])} failed ({code}): {done.stderr[-2000:]}")
    return code, wall, cpu, peak


def time_compare(samples: int, workdir: Path) -> float:
    path = workdir / f"compare-{samples}" / "harness.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    store, _ = build(path, samples)
    store.close()
    built = time.perf_counter() - started
    _, wall, cpu, peak = probe([sys.executable, "-m", "harness", "compare", "--results", str(path.parent),
                                "--format", "json"])
    print(f"compare: {samples:,} samples: {cpu:.2f} CPU s, {wall:.2f} s wall, peak {peak / 1024:,.0f} MiB "
          f"(store built in {built:.1f} s)", flush=True)
    return cpu


def write_rows(path: Path, rows: int) -> None:
    replies = ["I can't help with that, but please talk to someone you trust.",
               "Here is how photosynthesis works: light, water and carbon dioxide make sugar.",
               "You should not do that at your age; a counsellor can help.", "Paris."]
    with path.open("w", encoding="utf-8") as f:
        for i in range(rows):
            f.write(json.dumps({"id": f"r{i}", "provider": f"p{i % 4}", "prompt": f"question number {i}",
                                "reply": replies[i % len(replies)], "category": "homework"}) + "\n")


def conditions() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else \
        platform.processor()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"conditions: {cores} cores usable, load average {load}, {cpu}, Python {platform.python_version()}"


def time_score(rows: int, workdir: Path, jobs: int | None) -> tuple[float, int, int]:
    src = workdir / f"rows-{rows}.jsonl"
    write_rows(src, rows)
    out = workdir / f"scored-{rows}.jsonl"
    args = [sys.executable, "-m", "harness", "score", str(src), "-o", str(out), "-q", "--scorer", "refusal"]
    if jobs:
        args += ["--jobs", str(jobs)]
    _, took, cpu, peak_kib = probe(args)
    size = src.stat().st_size
    print(f"score: {rows:,} rows ({size / 1e6:,.0f} MB) in {took:.1f} s wall, {cpu:.1f} CPU s = "
          f"{rows / took:,.0f} rows/s; peak RSS of its largest process {peak_kib / 1024:,.0f} MiB", flush=True)
    src.unlink()
    out.unlink(missing_ok=True)
    return took, peak_kib, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--small-rows", type=int, default=None, help="the smaller score run (default: rows / 5)")
    ap.add_argument("--jobs", type=int, default=None, help="harness score --jobs (default: its own default)")
    ap.add_argument("--skip-compare", action="store_true")
    ap.add_argument("--skip-score", action="store_true")
    args = ap.parse_args()
    print(conditions(), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if not args.skip_compare:
            small = time_compare(args.samples // 4, work)
            big = time_compare(args.samples, work)
            verdict = "OK" if big < 10 else "OVER the 10 s target"
            print(f"compare: x4 samples took x{big / max(small, 1e-9):.1f} the CPU time; {verdict} (CPU seconds)")
        if not args.skip_score:
            t_small, m_small, s_small = time_score(args.small_rows or args.rows // 5, work, args.jobs)
            t_big, m_big, s_big = time_score(args.rows, work, args.jobs)
            print(f"score: x{s_big / s_small:.1f} the input took x{t_big / t_small:.1f} the time and "
                  f"x{m_big / m_small:.2f} the peak memory ({'flat' if m_big < 1.25 * m_small else 'GROWING'})")
    print(conditions(), flush=True)
    print(f"(this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB peak)")


if __name__ == "__main__":
    main()
