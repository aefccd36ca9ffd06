"""llama-cpp-python called directly, for `bench/perf.py`'s local-Llama figure.

    python bench/perf_llama.py GGUF --prompts suite.jsonl --n-ctx 512 --max-tokens 256 --seed 7

Loads the GGUF once with the parameters the harness's llama provider uses (n_ctx, seed, no
n_threads, n_gpu_layers 0, verbose off), then for each prompt of the suite calls
``create_chat_completion(messages=[user turn], temperature=0, max_tokens=..., seed=...)``, one at a
time. Prints one JSON line: completion tokens, seconds spent generating (the loop, load excluded),
and the load time.

``sec_llama`` is `bench/perf.py`'s figure 8: this script vs the harness's llama provider on the same GGUF.
"""
from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sqlite3
import sys
import time
from pathlib import Path


# -- figure 8 for bench/perf.py -----------------------------------------------------------------------
def sec_llama(a, pin, work: Path, detail: dict) -> list[dict]:
    from perf_lib import (BENCH, MeasurementFailed, check, harness_cmd, median, not_measured, row, run_child,
                          write_eval, write_suite)

    fig, target = "8. local Llama tokens/s, harness / llama-cpp-python direct", ">= 0.95 (within 5%)"
    try:
        import llama_cpp  # noqa: F401
    except ImportError as err:
        return [not_measured(fig, target, f"llama_cpp not importable ({err})")]
    gguf = a.gguf
    if gguf is None:
        try:
            from harness.testing.tiny_gguf import write_tiny_llama
            gguf = write_tiny_llama(work / "tiny-llama.gguf")
        except ImportError as err:
            return [not_measured(fig, target, f"no --gguf and the tiny test model needs the gguf package ({err})")]
    gguf = Path(gguf).resolve()
    if not gguf.is_file():
        raise MeasurementFailed(f"--gguf {gguf}: no such file")
    suite, one = write_suite(work / "ll.jsonl", a.llama_prompts, text_only=True), write_suite(work / "ll1.jsonl", 1,
                                                                                          text_only=True)
    params = {"temperature": 0, "max_tokens": a.llama_max_tokens, "seed": 7}
    direct, harness, tok = [], [], {}

    def via_harness(prompts: Path, tag: str):
        ev = write_eval(work / f"ll-{tag}.yaml", prompts, model=f"llama/{gguf}", scorers=["contains"], params=params,
                        options={"n_ctx": a.llama_n_ctx})
        results = work / f"r-ll-{tag}"
        child = check(run_child(pin.client(harness_cmd("run", str(ev), "--results", str(results), "--no-progress")),
                                work), "harness run (llama)")
        with sqlite3.connect(results / "harness.db") as db:
            tokens, lat, errors = db.execute("SELECT SUM(output_tokens), SUM(latency_s), SUM(outcome = 'error') "
                                             "FROM replies").fetchone()
            stamps = db.execute("SELECT created_at, latency_s FROM replies").fetchall()
        shutil.rmtree(results, ignore_errors=True)
        if errors or len(stamps) != sum(1 for _ in open(prompts, encoding="utf-8")):
            raise MeasurementFailed(f"harness llama run: {len(stamps)} replies, {errors} in error")
        # Generation window as the harness lived it: first generation's start -> last reply stored.
        ends = [(datetime.datetime.fromisoformat(c).timestamp(), lat_s or 0.0) for c, lat_s in stamps]
        window = max(e for e, _ in ends) - min(e - lat_s for e, lat_s in ends)
        return child.wall_s, tokens or 0, lat or 0.0, window

    for rep in range(a.reps):
        cmd = [sys.executable, str(BENCH / "perf_llama.py"), str(gguf), "--prompts", str(suite), "--n-ctx",
               str(a.llama_n_ctx), "--max-tokens", str(a.llama_max_tokens), "--seed", "7"]
        out = json.loads(check(run_child(pin.client(cmd), work), "llama-cpp-python direct").stdout.splitlines()[-1])
        direct.append(out)
        w1, t1, _, _ = via_harness(one, f"1-{rep}")
        wn, tn, lat, window = via_harness(suite, f"n-{rep}")
        harness.append({"wall_s": wn, "tokens": tn, "sum_latency_s": lat, "window_s": window, "one_wall_s": w1,
                        "one_tokens": t1, "tok_s_window": tn / window if window > 0 else None,
                        "tok_s_marginal": (tn - t1) / (wn - w1) if wn > w1 else None,
                        "tok_s_in_provider": tn / lat if lat else None})
        tok = {"direct": out["completion_tokens"], "harness": tn}
    d = median([x["completion_tokens"] / x["generation_s"] for x in direct])
    if not all(x["tok_s_window"] for x in harness):
        raise MeasurementFailed("no generation window in the harness's replies")
    hw = median([x["tok_s_window"] for x in harness])
    marg = [x["tok_s_marginal"] for x in harness if x["tok_s_marginal"]]
    hm = median(marg) if marg else None
    hp = median([x["tok_s_in_provider"] for x in harness if x["tok_s_in_provider"]] or [0.0])
    detail["llama"] = {"gguf": str(gguf), "prompts": a.llama_prompts, "params": params, "n_ctx": a.llama_n_ctx,
                       "direct": direct, "harness": harness}
    same = "same completion tokens" if tok["direct"] == tok["harness"] else \
        f"token counts differ: direct {tok['direct']}, harness {tok['harness']}"
    tiny = "" if a.gguf else "; tiny random test model: overhead only, not a speed figure"
    return [row(fig + " (harness: first generation start -> last reply stored)", hw / d if d else None, target,
                ok=bool(d) and hw / d >= 0.95, fmt="{:.3f}", note=f"{hw:.0f} vs {d:.0f} tok/s; {same}{tiny}"),
            row("8. ... harness: whole-process wall, a 1-prompt run's subtracted", hm / d if d and hm else None,
                "(info)", fmt="{:.3f}", note=f"{hm:.0f} vs {d:.0f} tok/s" if hm else "N-prompt run not longer than "
                "the 1-prompt run (noise): more --llama-prompts"),
            row("8. ... harness: tokens / its own per-call latency (in-provider)", hp / d if d else None, "(info)",
                fmt="{:.3f}", note=f"{hp:.0f} vs {d:.0f} tok/s")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("gguf")
    ap.add_argument("--prompts", required=True)
    ap.add_argument("--n-ctx", type=int, default=512)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    from llama_cpp import Llama

    with open(args.prompts, encoding="utf-8") as f:
        prompts = [json.loads(line)["input"] for line in f if line.strip()]
    t0 = time.perf_counter()
    llm = Llama(model_path=args.gguf, n_ctx=args.n_ctx, n_threads=None, n_gpu_layers=0, seed=args.seed,
                verbose=False)
    loaded = time.perf_counter() - t0
    tokens = 0
    per_call = []
    started = time.perf_counter()
    for text in prompts:
        t = time.perf_counter()
        out = llm.create_chat_completion(messages=[{"role": "user", "content": text}], temperature=0,
                                         max_tokens=args.max_tokens, seed=args.seed, stream=False)
        per_call.append(time.perf_counter() - t)
        tokens += out["usage"]["completion_tokens"]
    gen = time.perf_counter() - started
    llm.close()
    print(json.dumps({"prompts": len(prompts), "completion_tokens": tokens, "generation_s": gen,
                      "sum_call_s": sum(per_call), "load_s": loaded}), flush=True)


if __name__ == "__main__":
    main()
