"""The OpenAI-compatible provider against the real llama.cpp server (llama_cpp.server) serving the
tiny GGUF, started and stopped by the test."""
from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading

import pytest

from harness.providers.base import GenerationParams, ProviderConfig
from harness.providers.registry import create_provider
from harness.types import Message, Outcome


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tiny_gguf):
    port = _free_port()
    # --interrupt_requests False: with the default, a queued request silently cuts the running
    # stream short (no finish_reason), which would corrupt results under concurrency.
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(tiny_gguf), "--host", "127.0.0.1",
         "--port", str(port), "--model_alias", "tiny-llama", "--n_ctx", "512", "--n_threads", "2",
         "--interrupt_requests", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ready = threading.Event()

    def watch() -> None:  # uvicorn announces readiness on stderr; wait for that line, not a timer
        for line in proc.stderr:
            if "Uvicorn running on" in line:
                ready.set()

    threading.Thread(target=watch, daemon=True).start()
    if not ready.wait(60):
        proc.kill()
        pytest.fail("llama_cpp.server did not start within 60 s")
    yield f"http://127.0.0.1:{port}/v1"
    proc.terminate()
    proc.wait(10)


def _provider(base_url: str, stream: bool):
    config = ProviderConfig(model="openai-compatible/tiny-llama", base_url=base_url, stream=stream, concurrency=3,
                            params=GenerationParams(temperature=0, max_tokens=12, seed=1))
    return create_provider(config)


@pytest.mark.parametrize("stream", [False, True])
def test_concurrent_requests_to_llama_cpp_server_all_complete(llama_server, stream):
    provider = _provider(llama_server, stream)

    async def go():
        await provider.start()
        try:
            return await asyncio.gather(*(provider.complete(
                [Message(role="system", content="Be brief."), Message(role="user", content=f"Count to {i}.")])
                for i in range(3)))
        finally:
            await provider.aclose()

    replies = asyncio.run(go())
    for reply in replies:
        # Random weights: any text, any of stop/length; but never an error or a silently cut stream.
        assert reply.outcome in (Outcome.ANSWERED, Outcome.TRUNCATED), (reply.outcome, reply.reason)
        assert reply.finish_reason in ("stop", "length")
        assert reply.model_reported == "tiny-llama"
        if stream:
            assert reply.ttft_s is not None and reply.ttft_s <= reply.latency_s
            assert reply.usage.output_tokens is None  # llama_cpp.server sends no usage in streams: unknown, not 0
        else:
            assert reply.usage.input_tokens and reply.usage.input_tokens > 0


def test_context_overflow_is_a_non_retried_error(llama_server):
    provider = _provider(llama_server, stream=False)

    async def go():
        await provider.start()
        try:
            return await provider.complete([Message(role="user", content="word " * 2000)])
        finally:
            await provider.aclose()

    reply = asyncio.run(go())
    assert reply.outcome is Outcome.ERROR
    assert reply.error_kind.value in ("context_length", "bad_request")
    assert reply.attempts == 1
