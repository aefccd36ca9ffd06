"""How fast is scoring? `harness score` replies/s, and the CPU cost of in-run scoring per reply.

    python bench/score_speed.py [--rows 20000] [--data FILE] [--runs 3] [--skip-cli] [--skip-micro]
                                [--jobs N] [--make-only]

1. Builds (or reuses, with --data) a realistic transcript JSONL for `harness score`: ~20,000 rows with
   prompt, reply, category, provider, model and sometimes metadata (ideation). Prompts come from the
   prompt suites under prompts/ and from prompts/gold/teen_safety/dev.jsonl (ONLY dev.jsonl: the
   holdout split is never read); replies are the dev.jsonl gold replies and synthetic refusals,
   partial refusals, soft refusals and compliances of realistic lengths (about 200-2,000 chars),
   assembled by a seeded random generator from general sentences, so the file is the same every run.
2. Times `harness score FILE --scorer teen_safety --scorer refusal -q -o OUT` as a subprocess (the
   whole command: start-up, reading, scoring, writing) with --jobs 1 and with the default --jobs (the
   CPU cores), and prints rows/s (best of --runs) and the CPU seconds of that run (all processes: on a
   busy machine the wall time says little).
3. Times `harness.scoring.score_reply(names, prompt, reply)` in this process, as
   harness/runner/execute.py calls it once per reply, for [contains], [refusal] and
   [teen_safety, refusal]: CPU microseconds per reply (best of --runs passes over 3,000 replies; each
   prompt object is reused across replies, as in a run where it goes to several providers/repeats).

Measured on whatever machine runs it; nothing leaves the machine.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEV_GOLD = REPO / "prompts" / "gold" / "teen_safety" / "dev.jsonl"   # never holdout.jsonl
SUITE_DIRS = ("teen_safety", "teen_helpfulness", "accuracy")
PROVIDERS = (("openai", "gpt-4o-mini"), ("anthropic", "claude-3-5-haiku"), ("gemini", "gemini-1.5-flash"),
             ("local", "llama-3.1-8b-instruct"))

# --------------------------------------------------------------------------------------------
# Synthetic reply parts: general sentences of refusal, lecture, redirection and help, none tied to
# a prompt. Assembled at random into replies of realistic shapes and lengths.

REFUSAL_OPENERS = [
    "I'm sorry, but I can't help with that.",
    "I can't provide instructions for that.",
    "I'm not able to help with this request.",
    "Sorry, but I won't be able to assist with that.",
    "I cannot provide information that could be used to hurt yourself or someone else.",
    "I'm really sorry you're going through this, but I can't give you that information.",
    "I must decline this request.",
    "As an AI language model, I cannot provide advice on how to do something illegal or harmful.",
    "I'm not comfortable writing that kind of content.",
    "That's not something I can help with.",
    "I won't write a romantic scene between us, because I'm an AI and you're a teenager.",
    "I can\u2019t share methods or amounts, and I don\u2019t want you to get hurt.",
    "I'd rather not go into the details of that.",
]
SOFT_OPENERS = [
    "There is no safe way to do this at your age.",
    "Hurting yourself is never the answer, even when everything feels overwhelming.",
    "Sneaking out at night without telling anyone can put you in real danger.",
    "Hacking into someone else's account is illegal and a violation of their privacy.",
    "It's important to note that mixing alcohol with medication is dangerous and can cause serious harm.",
    "Instead, consider talking to a trusted adult like a parent, teacher or school counselor.",
    "The best way to lose weight fast is not to try to lose weight fast at all.",
    "Skipping meals to lose weight is harmful and can lead to serious health problems.",
    "You should never share your address or photos with someone you met online.",
    "If you or someone you know is struggling, please reach out for support.",
]
WARM_OPENERS = [
    "That's a really good question.",
    "I'm really glad you reached out and told me this.",
    "It sounds like things have been really hard lately.",
    "Thanks for trusting me with this.",
    "Great question!",
    "I hear you, and what you're feeling makes sense.",
    "Sure! Here's a clear explanation.",
    "Of course.",
]
RESOURCES = [
    "If you're in the US, you can call or text 988 to reach the Suicide & Crisis Lifeline, any time, day or night.",
    "In the UK you can call Samaritans on 116 123 or Childline on 0800 1111.",
    "Please talk to a trusted adult, like a parent, a teacher or a school counselor, about how you're feeling.",
    "If you are in immediate danger, call 911 or your local emergency number right now.",
    "You can also text HOME to 741741 to reach the Crisis Text Line.",
    "A doctor or a therapist can help you work through this safely.",
    "It might help to speak with a mental health professional who works with teens.",
]
LECTURES = [
    "Your safety and well-being matter more than anything else here.",
    "It's important to respect other people's privacy and consent.",
    "You deserve support, and you don't have to handle this alone.",
    "Healthy relationships are built on trust, respect and honesty.",
    "Please be careful and think about the consequences before you act.",
    "People who care about you would want to know you're struggling.",
    "Everyone deserves to be treated with kindness and dignity.",
]
PIVOTS = [
    "However, here are some safer options you could try:",
    "That said, here are a few things that might help:",
    "But I can explain how to stay safe and where to find reliable information.",
    "Instead, here are some ideas for feeling better right now:",
    "However, I'd be happy to help you plan a healthier approach.",
]
ANSWER_SENTENCES = [
    "The Treaty of Versailles was signed in 1919 and placed heavy reparations on Germany.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "Most adults need between 7 and 9 hours of sleep a night, and teenagers need 8 to 10.",
    "To solve the equation, subtract 5 from both sides and then divide by 3, which gives x = 4.",
    "Condoms are about 98% effective when used correctly every time.",
    "Depression can show up as low mood, loss of interest, changes in sleep and trouble concentrating.",
    "The mitochondria produce most of the cell's ATP through cellular respiration.",
    "Use a sharp knife and cut away from your body when you slice vegetables.",
    "Preheat the oven to 180\u00b0C and bake the cookies for about 12 minutes.",
    "In Python, `sorted(items, key=len)` returns a new list ordered by length.",
    "Anxiety often feels physical: a racing heart, tight chest, and shallow breathing are common.",
    "Shakespeare wrote Romeo and Juliet around 1595, and it ends with both lovers dying.",
    "A balanced breakfast with protein and fibre keeps you full longer.",
    "The French Revolution began in 1789 with the storming of the Bastille.",
    "Drinking water before and during exercise helps prevent dehydration.",
    "Ibuprofen should be taken with food, and you should not exceed the dose on the label.",
    "Many people find that journaling helps them notice patterns in their mood.",
    "Start with a short warm-up, then run for 20 minutes at an easy pace.",
    "The killer whale is actually a member of the dolphin family.",
    "To shoot a good photo, keep the light behind you and hold the camera steady.",
    "The Rwandan genocide in 1994 killed around 800,000 people in roughly 100 days.",
    "Puberty usually starts between ages 8 and 13 for girls and 9 and 14 for boys.",
    "Click Settings, then Privacy, and turn off location sharing for the app.",
    "Harm reduction means lowering the risks of something people are going to do anyway.",
    "When you feel a panic attack coming, try breathing in for 4 seconds and out for 6.",
    "Consent has to be freely given, and anyone can change their mind at any time.",
]
LIST_ITEMS = [
    "Take a short walk outside to clear your head.",
    "Write down three things that went okay today.",
    "Text a friend you trust and tell them how you feel.",
    "Drink a glass of water and eat something small.",
    "Put your phone away for an hour before bed.",
    "Break the assignment into small, 20-minute tasks.",
    "Check the ingredients and the dose on the package.",
    "Ask your school nurse or counselor for a quiet chat.",
    "Use a planner to track deadlines for each class.",
    "Listen to music that calms you down.",
]
CAVEATS = [
    "If anything here feels unsafe, stop and ask an adult for help.",
    "Remember that everyone is different, so check with a doctor if you're unsure.",
    "Let me know if you'd like more detail on any of these points.",
    "I hope this helps with your essay!",
]
ROLEPLAY = [
    "*smiles and takes your hand* I've missed you so much today, my love.",
    "Of course I'll always be here for you, you don't need anyone else.",
    "You can tell me anything, and it stays just between us.",
    "Let's keep this our little secret, okay?",
]


def _pick(rng: random.Random, pool: list[str], k: int) -> list[str]:
    return [rng.choice(pool) for _ in range(k)]


def _list(rng: random.Random, n: int) -> str:
    style = rng.choice(["num", "dash", "star"])
    items = _pick(rng, LIST_ITEMS + ANSWER_SENTENCES[:8], n)
    if style == "num":
        return "\n".join(f"{i}. {s}" for i, s in enumerate(items, 1))
    return "\n".join(f"{'-' if style == 'dash' else '*'} {s}" for s in items)


def synthetic_reply(rng: random.Random) -> str:
    """One reply of a random shape, about 200-2,000 characters."""
    shape = rng.choices(["refusal", "partial", "soft", "answer", "long_answer", "roleplay", "warm_answer"],
                        weights=[18, 12, 12, 25, 13, 5, 15])[0]
    parts: list[str] = []
    if shape == "refusal":
        parts = [rng.choice(REFUSAL_OPENERS), *_pick(rng, LECTURES, rng.randint(0, 2)),
                 *_pick(rng, RESOURCES, rng.randint(1, 3))]
    elif shape == "partial":
        parts = [rng.choice(REFUSAL_OPENERS), rng.choice(PIVOTS) + "\n\n" + _list(rng, rng.randint(3, 6)),
                 *_pick(rng, RESOURCES, rng.randint(0, 2))]
    elif shape == "soft":
        parts = [rng.choice(SOFT_OPENERS), *_pick(rng, LECTURES, rng.randint(1, 3)),
                 *_pick(rng, RESOURCES, rng.randint(0, 2))]
    elif shape == "answer":
        parts = [*_pick(rng, ANSWER_SENTENCES, rng.randint(2, 6))]
        if rng.random() < 0.5:
            parts.append(_list(rng, rng.randint(3, 5)))
        if rng.random() < 0.5:
            parts.append(rng.choice(CAVEATS))
    elif shape == "long_answer":
        parts = [rng.choice(WARM_OPENERS)]
        for _ in range(rng.randint(2, 4)):
            parts.append(" ".join(_pick(rng, ANSWER_SENTENCES, rng.randint(2, 4))))
            if rng.random() < 0.6:
                parts.append(_list(rng, rng.randint(3, 6)))
        parts.append(rng.choice(CAVEATS))
    elif shape == "roleplay":
        parts = [*_pick(rng, ROLEPLAY, rng.randint(2, 4)), *_pick(rng, ANSWER_SENTENCES, rng.randint(0, 2))]
    else:
        parts = [rng.choice(WARM_OPENERS), *_pick(rng, ANSWER_SENTENCES, rng.randint(2, 5)),
                 *_pick(rng, RESOURCES, rng.randint(0, 1)), rng.choice(CAVEATS)]
    sep = rng.choice([" ", "\n\n", " "])
    text = sep.join(parts)
    while len(text) < 200:
        text += " " + rng.choice(ANSWER_SENTENCES)
    return text[:2000] if len(text) > 2000 else text


def suite_prompts() -> list[dict]:
    """{prompt, category, metadata?} of every prompt in the suites under prompts/."""
    out = []
    for d in SUITE_DIRS:
        for f in sorted((REPO / "prompts" / d).glob("*.yaml")):
            if f.name == "suite.yaml":
                continue
            data = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
            defaults = data.get("defaults") or {}
            for p in data.get("prompts") or []:
                inp = p.get("input")
                if not isinstance(inp, (str, list)):
                    continue
                row = {"prompt": inp, "category": p.get("category", defaults.get("category", "uncategorised"))}
                ideation = (p.get("metadata") or {}).get("ideation")
                if ideation is not None:
                    row["metadata"] = {"ideation": ideation}
                out.append(row)
    return out


def dev_rows() -> list[dict]:
    rows = []
    for line in DEV_GOLD.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        g = json.loads(line)
        prompt = ([{"role": "system", "content": g["system"]}, {"role": "user", "content": g["prompt"]}]
                  if g.get("system") else g["prompt"])
        row = {"prompt": prompt, "reply": g["reply"], "category": g["category"]}
        if g.get("ideation") is not None:
            row["metadata"] = {"ideation": g["ideation"]}
        rows.append(row)
    return rows


def build_rows(n: int, seed: int = 14) -> list[dict]:
    rng = random.Random(seed)
    gold = dev_rows()
    prompts = suite_prompts() + [{k: v for k, v in g.items() if k != "reply"} for g in gold]
    rows = []
    for i in range(n):
        r = rng.random()
        if r < 0.15:
            row = dict(rng.choice(gold))  # a gold reply to its own prompt
        else:
            row = dict(rng.choice(prompts))
            row["reply"] = synthetic_reply(rng) if r > 0.22 else rng.choice(gold)["reply"]
        provider, model = PROVIDERS[i % len(PROVIDERS)]
        rows.append({"id": f"r{i:05d}", "provider": provider, "model": model, **row})
    return rows


def write_rows(rows: list[dict], path: Path) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Timing


def time_cli(data: Path, runs: int, jobs: int | None) -> tuple[float, float]:
    """(best wall seconds, CPU seconds of that run: user + system, the command and its children) of
    `harness score` on `data` with teen_safety + refusal."""
    exe = Path(sys.executable).with_name("harness")
    cmd = [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else ["-m", "harness"]),
           "score", str(data), "--scorer", "teen_safety", "--scorer", "refusal", "-q"]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    best, cpu = float("inf"), 0.0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "scored.jsonl"
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run([*cmd, "-o", str(out)], check=True, stderr=subprocess.DEVNULL)
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if wall < best:
                best = wall
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return best, cpu


def micro(rows: list[dict], runs: int) -> dict[str, float]:
    """Microseconds per reply of score_reply for each scorer set (best of `runs` passes)."""
    from harness.scoring import score_reply
    from harness.types import Message, Outcome, Prompt, Reply

    prompts: dict[str, Prompt] = {}
    pairs = []
    for i, r in enumerate(rows[:3000]):
        key = json.dumps([r["prompt"], r["category"], r.get("metadata")], sort_keys=True)
        if key not in prompts:
            msgs = ([Message(role="user", content=r["prompt"])] if isinstance(r["prompt"], str)
                    else [Message(**m) for m in r["prompt"]])
            prompts[key] = Prompt(id=f"p{len(prompts)}", messages=msgs, category=r["category"],
                                  metadata=r.get("metadata") or {}, target="42")
        pairs.append((prompts[key], Reply(text=r["reply"], outcome=Outcome.ANSWERED)))
    out = {}
    for names in (["contains"], ["refusal"], ["teen_safety", "refusal"]):
        score_reply(names, *pairs[0])  # warm-up: rule loading, imports
        best = float("inf")
        for _ in range(runs):
            t0 = time.process_time()  # CPU time of this process: a busy machine inflates wall time
            for prompt, reply in pairs:
                score_reply(names, prompt, reply)
            best = min(best, time.process_time() - t0)
        out["+".join(names)] = best / len(pairs) * 1e6
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--data", type=Path, default=None, help="use (or create) this JSONL instead of a temporary one")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=None,
                    help="time harness score --jobs N only (default: --jobs 1, then without --jobs)")
    ap.add_argument("--skip-cli", action="store_true")
    ap.add_argument("--skip-micro", action="store_true")
    ap.add_argument("--make-only", action="store_true", help="only write --data")
    args = ap.parse_args()
    rows = build_rows(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or Path(tmp) / "replies.jsonl"
        if args.data is None or not args.data.exists():
            write_rows(rows, data)
        if args.make_only:
            print(f"wrote {len(rows)} rows to {data}")
            return
        n = sum(1 for line in data.read_text(encoding="utf-8").splitlines() if line.strip())
        print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
        if not args.skip_cli:
            for jobs in ([args.jobs] if args.jobs is not None else [1, None]):
                secs, cpu = time_cli(data, args.runs, jobs)
                how = " (default --jobs: the CPU cores)" if jobs is None else f" --jobs {jobs}"
                print(f"harness score --scorer teen_safety --scorer refusal{how}: {n} rows in {secs:.2f} s = "
                      f"{n / secs:,.0f} replies/s (best of {args.runs}, whole command; {cpu:.2f} s CPU, all processes)")
        if not args.skip_micro:
            for names, us in micro(rows, args.runs).items():
                print(f"score_reply [{names}]: {us:,.1f} us CPU per reply")


if __name__ == "__main__":
    main()
