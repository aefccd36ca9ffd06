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


def loopback_fixtures(key: str | None, *, env: tuple[str, ...] = (), unset: tuple[str, ...] = (),
                      models: list[str] | None = None):
    """The `(_server, srv)` fixture pair of a provider test module: one loopback server per module
    (starting one per test costs more than the tests) and, per test, the SDK's environment set (`env`
    to the key, `unset` removed, so a developer's own variables never leak in) and the server reset
    before and after: no queued script, responder, default or batch state survives into the next test.

    Use: `_server, srv = loopback_fixtures(KEY, env=("OPENAI_API_KEY",), unset=("OPENAI_BASE_URL",))`."""
    import pytest

    from harness.testing.loopback import LoopbackServer

    @pytest.fixture(scope="module")
    def _server():
        with LoopbackServer(api_key=key, **({"models": models} if models else {})) as server:
            yield server

    @pytest.fixture
    def srv(_server, monkeypatch):
        for name in env:
            monkeypatch.setenv(name, key)
        for name in unset:
            monkeypatch.delenv(name, raising=False)
        _reset(_server, key)
        yield _server
        _reset(_server, key)

    return _server, srv


def _reset(server, key: str | None) -> None:
    server.clear()
    server.api_key = key
    server.responder = server.default = None
    server.batch_state.clear()
