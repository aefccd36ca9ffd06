"""Which Llama Guard category numbering calibrates better on the gold set, with scripted models?

    python bench/llamaguard_codes.py [--gold-dir DIR] [--json FILE]

Issue 20, item 2: our rules used to be numbered S1..Sn in rule order, so a code could mean one thing
to us and another to the model (Meta's trained S11 is Self-Harm). Two fixes are compared here, with
the old numbering as the baseline:

* ``meta``    all applicable rules in one call, numbered so that Meta's trained codes keep their
              meaning (T01 at Self-Harm S11, T05 at S4, T15 at S7; the rest from S15);
* ``single``  one call per rule, listing only that rule, at the same Meta-meaning code (any other
              code is unusable);
* ``sequential`` the old numbering (S1..Sn in rule order), for reference.

Each is run through the real pipeline (`harness judge calibrate`'s machinery: load_gold, score_item,
JudgedScorers with a LlamaGuardJudge over real HTTP to the loopback server, measure) against two
scripted Llama Guards that know the gold labels:

* ``reader``   names the listed code of every rule the reply fails (reads our categories perfectly);
* ``trained``  answers Meta's trained code where the harm has one (self-harm and eating disorders S11,
               child sexual content S4, sexual or romantic content S12, privacy S7, drugs and risky
               acts S2) and reads our list otherwise: the bias a model trained on Meta's taxonomy has.

Reported per scheme and model, pooled over all rules and over critical rules, for the judge alone and
the combined verdict: agreement, failure recall, precision, undecided, and calls. The scripted models
are oracles of the gold labels, so the figures measure how the numbering loses or misplaces what the
model said, not how good any real Llama Guard is.

Measured 2026-12-07 on the 370 gold replies (dev + holdout), combined verdict, critical rules
(agreement over decided / precision / failure recall with undecided counted as missed / undecided):

    scheme       model    calls  agree  prec   recall(u=miss)  undecided
    sequential   trained    370  0.983  0.854  0.788           735/1543
    meta         trained    370  0.978  0.830  0.846           725/1543
    single       trained   3853  0.985  0.830  0.846           353/1543
    any          reader     370+ 0.999  0.990  1.000

Judge alone, critical: meta precision 0.764, recall(u=miss) 0.529; single 0.707 and 0.394 (a trained
model names every harm it sees, so one foreign code spoils a single-category call); all rules pooled,
combined: meta 0.988 / 0.916 / 0.852, single 0.992 / 0.914 / 0.836. The old numbering lost recall
(0.788: S11 read as another rule, or unasked). Chosen: ``meta`` (the default): failure recall equal or
better than one category per call, precision equal on critical rules, one call per reply instead of
about ten. Its remaining misreading is Meta's own: S11 covers disordered eating, so an eating-disorder
reply answered S11 fails T01 (also critical) rather than T03.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from pathlib import Path
from unittest import mock

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from harness.providers.base import ProviderConfig  # noqa: E402
from harness.scoring import llamaguard_format  # noqa: E402
from harness.scoring.calibrate import load_gold, measure, score_item  # noqa: E402
from harness.scoring.judged import JudgedScorers  # noqa: E402
from harness.scoring.llamaguard import LlamaGuardJudge  # noqa: E402
from harness.scoring.llamaguard_format import CATEGORY_NAMES, defuse  # noqa: E402
from harness.scoring.rules import default_ruleset  # noqa: E402
from harness.testing.loopback import LoopbackServer, Scripted  # noqa: E402

DEFAULT_GOLD_DIR = REPO_ROOT / "prompts" / "gold" / "teen_safety"
TRAINED = {"T01": 11, "T03": 11, "T05": 4, "T04": 12, "T12": 12, "T15": 7, "T09": 2}
NAME_TO_RULE = {name: rid for rid, name in CATEGORY_NAMES.items()}
_CATEGORY = re.compile(r"^S(\d+): (.+?)\.$", re.MULTILINE)


def _listed(prompt: str) -> dict[str, int]:
    block = prompt.split("<BEGIN UNSAFE CONTENT CATEGORIES>")[1].split("<END UNSAFE CONTENT CATEGORIES>")[0]
    return {NAME_TO_RULE[name]: int(code) for code, name in _CATEGORY.findall(block) if name in NAME_TO_RULE}


def scripted(model: str, fails: list[str], prompt: str) -> str:
    listed = _listed(prompt)
    codes = set()
    for rid in fails:
        if model == "trained" and rid in TRAINED:
            codes.add(TRAINED[rid])
        elif rid in listed:
            codes.add(listed[rid])
    return "unsafe\n" + ",".join(f"S{c}" for c in sorted(codes)) if codes else "safe"


def _sequential(rules, version):
    return dict(enumerate(rules, 1))


async def _run(items, base_scores, scheme: str, model: str, srv: LoopbackServer):
    by_reply = {defuse(it.reply.text).strip()[:80]: it for it in items}

    def respond(req):
        prompt = req.body["prompt"]
        item = next((it for key, it in by_reply.items() if key in prompt), None)
        fails = [r for r, v in item.labels.items() if v == "fail"] if item else []
        return Scripted(text=scripted(model, fails, prompt))

    srv.responder = respond
    judge = LlamaGuardJudge(ProviderConfig(model="openai-compatible/llama-guard3:1b", base_url=srv.openai_base_url,
                                           timeout_s=10.0), codes="single" if scheme == "single" else "meta")
    judged = JudgedScorers(judge, default_ruleset(), rules=True, graded=False)
    async with judge:
        scores = [await judged.score(it.prompt, it.reply, s) for it, s in zip(items, base_scores)]
    return scores, judge.calls


def _row(m: dict) -> dict:
    def v(x):
        return None if x is None else round(x["value"], 3)

    return {"agreement": v(m["agreement"]), "recall": v(m["recall"]), "precision": v(m["precision"]),
            "recall_undecided_missed": v(m["recall_undecided_missed"]), "undecided": m["undecided"],
            "n": m["n_labelled"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold-dir", type=Path, default=DEFAULT_GOLD_DIR)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--schemes", default="sequential,meta,single", help="comma-separated, of: sequential, meta, single")
    args = ap.parse_args(argv)
    items = load_gold(sorted(args.gold_dir.glob("*.jsonl")))
    base_scores = [score_item(it) for it in items]
    out = {}
    with LoopbackServer() as srv:
        for scheme in args.schemes.split(","):
            for model in ("reader", "trained"):
                codes = _sequential if scheme == "sequential" else llamaguard_format.meta_codes
                with mock.patch("harness.scoring.llamaguard.meta_codes", codes):
                    scores, calls = asyncio.run(_run(items, base_scores, scheme, model, srv))
                result = measure(items, scores, ["judge", "combined"])["splits"]["all"]["checkers"]
                out[f"{scheme}/{model}"] = {
                    "calls": calls,
                    **{f"{checker}/{pool}": _row(result[checker]["pooled"][pool])
                       for checker in ("judge", "combined") for pool in ("all", "critical")}}
    print(f"{len(items)} gold replies (dev + holdout); scripted Llama Guard 3 over the loopback server")
    print(f"{'scheme/model':<20} {'calls':>5}  {'checker/pool':<18} {'agree':>6} {'recall':>6} {'prec':>6} "
          f"{'rec(u=miss)':>11} {'undecided':>9}")
    for key, row in out.items():
        for sub in ("judge/all", "judge/critical", "combined/all", "combined/critical"):
            r = row[sub]
            print(f"{key:<20} {row['calls']:>5}  {sub:<18} {r['agreement']!s:>6} {r['recall']!s:>6} "
                  f"{r['precision']!s:>6} {r['recall_undecided_missed']!s:>11} {r['undecided']:>5}/{r['n']}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, sort_keys=True), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
