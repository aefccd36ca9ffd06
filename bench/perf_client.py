"""The bare-SDK baseline for `bench/perf.py`: the `openai` SDK alone, no harness.

    python bench/perf_client.py --base-url http://127.0.0.1:PORT/v1 --concurrency 64 --prompts suite.jsonl [--stream]

``AsyncOpenAI(base_url=..., max_retries=0)`` + ``asyncio.Semaphore(C)`` + ``asyncio.gather`` of
``chat.completions.create``, one request per prompt of the JSONL suite (its ``input`` as the user
message, the same request the harness sends for it). Reads each reply's text and usage as the harness
does, and prints one JSON line: requests, errors, seconds from the first request to the last reply.
The key is read from BENCH_KEY, like the harness's eval file says.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import time


async def run(args: argparse.Namespace) -> dict:
    from openai import AsyncOpenAI

    with open(args.prompts, encoding="utf-8") as f:
        inputs = [json.loads(line)["input"] for line in f if line.strip()]
    # A prompt's input is a text (one user turn) or a list of {role, content} messages.
    prompts = [[{"role": "user", "content": x}] if isinstance(x, str) else
               [{"role": m["role"], "content": m["content"]} for m in x] for x in inputs]
    if args.requests:
        prompts = (prompts * (args.requests // max(1, len(prompts)) + 1))[:args.requests]
    client = AsyncOpenAI(base_url=args.base_url, api_key=os.environ.get("BENCH_KEY", "sk-bench"), max_retries=0,
                         timeout=120.0)
    sem = asyncio.Semaphore(args.concurrency)
    errors = 0
    chars = 0
    tokens = 0

    async def one(messages: list) -> None:
        nonlocal errors, chars, tokens
        async with sem:
            try:
                if args.stream:
                    stream = await client.chat.completions.create(
                        model="bench", messages=messages, stream=True,
                        stream_options={"include_usage": True})
                    parts = []
                    async for chunk in stream:
                        if chunk.choices and chunk.choices[0].delta.content:
                            parts.append(chunk.choices[0].delta.content)
                    chars += len("".join(parts))
                else:
                    resp = await client.chat.completions.create(model="bench",
                                                                messages=messages)
                    chars += len(resp.choices[0].message.content or "")
                    tokens += resp.usage.completion_tokens if resp.usage else 0
            except Exception:  # noqa: BLE001 - counted, reported by the driver
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(one(p) for p in prompts))
    elapsed = time.perf_counter() - started
    await client.close()
    return {"requests": len(prompts), "errors": errors, "elapsed_s": elapsed, "reply_chars": chars,
            "completion_tokens": tokens}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--prompts", required=True, help="a JSONL suite (one prompt per line, with 'input')")
    ap.add_argument("--requests", type=int, default=0, help="send this many (cycling the prompts); 0: one each")
    ap.add_argument("--stream", action="store_true")
    print(json.dumps(asyncio.run(run(ap.parse_args()))), flush=True)


if __name__ == "__main__":
    main()
