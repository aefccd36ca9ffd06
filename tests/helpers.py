"""Small helpers shared by the provider tests."""
from __future__ import annotations

import asyncio
import socket
from typing import Any

from harness.providers.base import GenerationParams, Provider
from harness.types import Message, Reply


def complete_with_identity(provider: Provider, messages: list[Message], params: GenerationParams | None = None,
                           count: int = 1) -> tuple[list[Reply], dict[str, Any]]:
    """Start the provider, send `count` samples one after another, read its identity while it is
    still started, close it (the real SDK, real HTTP)."""
    async def go() -> tuple[list[Reply], dict[str, Any]]:
        await provider.start()
        try:
            return [await provider.complete(messages, params) for _ in range(count)], provider.identity()
        finally:
            await provider.aclose()

    return asyncio.run(go())


def complete(provider: Provider, messages: list[Message], params: GenerationParams | None = None,
             count: int = 1) -> list[Reply]:
    return complete_with_identity(provider, messages, params, count)[0]


def closed_port() -> int:
    """A local port with nothing listening: connections to it are refused."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
