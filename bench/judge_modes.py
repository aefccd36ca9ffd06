"""The chat judge's two modes on the gold set: agreement, failure recall, calls, tokens and cost.

    python bench/judge_modes.py                  # both gold files, noise 0.1
    python bench/judge_modes.py --noise 0 --gold prompts/gold/teen_safety/holdout.jsonl

Runs `harness judge calibrate GOLD --judge openai/gpt-4o-mini --mode both --no-cache` as a user would (a
subprocess), with the judge pointed at the loopback server, where a scripted judge answers every rule the
way the gold labels say, except a fixed, seeded share (`--noise`) of (reply, rule) answers it flips. The
same (reply, rule) is flipped in both modes, so the two modes' agreement and recall are equal by
construction: what this measures is the plumbing (every rule answered, parsed and combined alike in one
structured answer as in separate questions) and the cost of each mode. Tokens are the loopback server's
counts (words of the request and of the answer), priced at gpt-4o-mini's rates from prices.yaml: a
proxy for the relative cost of the two modes, not a bill. Whether a real model answers a bundled
request as well as separate questions is what `harness judge calibrate --mode both --judge <yours>`
measures on your judge; the default (per_reply) is the one that calibrates no worse there.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.scoring.calibrate import load_gold  # noqa: E402
from harness.testing.judge_script import judge_responder  # noqa: E402
from harness.testing.loopback import LoopbackServer  # noqa: E402

GOLD = [REPO / "prompts" / "gold" / "teen_safety" / "dev.jsonl", REPO / "prompts" / "gold" / "teen_safety" / "holdout.jsonl"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gold", nargs="*", default=[str(p) for p in GOLD])
    ap.add_argument("--noise", type=float, default=0.1, help="share of (reply, rule) answers the scripted judge flips")
    ap.add_argument("--json", help="write the calibration record here too")
    args = ap.parse_args()

    items = load_gold(args.gold)
    labels = {it.reply.text: it for it in items}

    def flipped(reply: str, rule_id: str) -> bool:
        h = int(hashlib.sha256(f"{reply}\0{rule_id}".encode()).hexdigest()[:8], 16)
        return h < args.noise * 0xFFFFFFFF

    def decide(rule_id, question, prompt, reply):
        item = labels.get(reply)
        if rule_id is None:    # the ideation question
            return "yes" if item is not None and item.prompt.metadata.get("ideation") else "no"
        said = item.labels.get(rule_id, "pass") if item is not None else "pass"
        if flipped(reply, rule_id):
            said = "fail" if said == "pass" else "pass"
        return said

    with LoopbackServer() as srv, tempfile.TemporaryDirectory() as tmp:
        srv.responder = judge_responder(decide)
        env = {**os.environ, "PYTHONPATH": str(REPO), "OPENAI_API_KEY": "sk-bench-judge-modes"}
        env.pop("OPENAI_BASE_URL", None)
        cmd = [sys.executable, "-m", "harness", "judge", "calibrate", *args.gold, "--judge", "openai/gpt-4o-mini",
               "--base-url", srv.openai_base_url, "--mode", "both", "--no-cache", "-r", tmp, "-q"]
        table = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if table.returncode != 0:
            print(table.stderr, file=sys.stderr)
            return 1
        if args.json:
            stored = sorted((Path(tmp) / "calibration").glob("2*.json"))[-1]
            Path(args.json).write_text(stored.read_text(encoding="utf-8"), encoding="utf-8")
    out = table.stdout
    print(f"{len(items)} gold replies, scripted judge noise {args.noise:.0%}\n")
    print(out[out.index("-- judge set-ups compared"):])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
