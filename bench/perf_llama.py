"""llama-cpp-python called directly, for `bench/perf.py`'s local-Llama figure.

    python bench/perf_llama.py GGUF --prompts suite.jsonl --n-ctx 512 --max-tokens 64 --seed 7

Loads the GGUF once with the parameters the harness's llama provider uses (n_ctx, seed, no
n_threads, n_gpu_layers 0, verbose off), then for each prompt of the suite calls
``create_chat_completion(messages=[user turn], temperature=0, max_tokens=..., seed=...)``, one at a
time. Prints one JSON line: completion tokens, seconds spent generating (the loop, load excluded),
and the load time.
"""
from __future__ import annotations

import argparse
import json
import time


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
