"""Throughput and overhead of `harness run` against the loopback server.

    python bench/throughput.py [--samples 400] [--latency 0.05] [--concurrency 16] [--stream]

The loopback server answers every request after a fixed latency, so the ideal wall time is
samples / concurrency x latency; the difference is the harness's own overhead (SDK, scoring, one
SQLite transaction per reply). Prints samples/s and the overhead per sample. Nothing leaves 127.0.0.1.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.testing.loopback import LoopbackServer, Scripted  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=400)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--stream", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer(api_key="sk-bench-000000000000") as srv:
        tmp = Path(tmp)
        srv.responder = lambda req: Scripted(text="The answer is 42.", delay_s=args.latency)
        suite = {"name": "bench", "prompts": [{"id": f"p{i}", "input": f"question {i}", "target": "42",
                                               "category": f"c{i % 4}"} for i in range(args.samples)]}
        (tmp / "s.yaml").write_text(yaml.safe_dump(suite))
        spec = {"name": "bench", "suites": ["s.yaml"], "scorers": ["contains", "refusal"],
                "providers": [{"model": "openai/bench", "base_url": srv.openai_base_url, "api_key_env": "BENCH_KEY",
                               "concurrency": args.concurrency, "max_concurrency": args.concurrency,
                               "stream": args.stream}]}
        (tmp / "e.yaml").write_text(yaml.safe_dump(spec))
        env = {**os.environ, "BENCH_KEY": "sk-bench-000000000000", "PYTHONPATH": str(REPO)}
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "harness", "run", str(tmp / "e.yaml"), "-r", str(tmp / "r"),
                               "--no-progress", "--no-cache"], env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(done.stderr)
    ideal = args.samples / args.concurrency * args.latency
    print(f"samples {args.samples}, concurrency {args.concurrency}, server latency {args.latency * 1000:.0f} ms, "
          f"stream {args.stream}")
    print(f"wall {wall:.2f} s (process start, imports and the table included); ideal {ideal:.2f} s")
    print(f"throughput {args.samples / wall:.1f} samples/s; overhead {(wall - ideal) / args.samples * 1000:.1f} ms/sample")


if __name__ == "__main__":
    main()
