"""`harness providers`: which providers exist, which are usable here, and (--check) whether they answer."""
from __future__ import annotations

import asyncio
import importlib.util
import os
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from harness.cli.common import table_console
from harness.providers.base import GenerationParams, Provider, RetrySettings
from harness.providers.errors import ProviderError
from harness.providers.registry import PROVIDERS, create_provider
from harness.redact import redact
from harness.types import Message, Outcome

SDK_MODULES = {"llama": "llama_cpp", "openai": "openai", "anthropic": "anthropic", "gemini": "google.genai",
               "gemini-legacy": "google.generativeai", "openai-compatible": "openai"}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


# --check answers within a few seconds: its own short retry budget (not the run's six attempts and two
# minutes of waits), a short per-request timeout, and a deadline over the whole check of one provider.
CHECK_RETRY = RetrySettings(max_attempts=2, base_delay_s=0.25, max_delay_s=0.5, max_total_wait_s=1.0,
                            max_retry_after_s=1.0)
CHECK_TIMEOUT_S = 4.0
CHECK_DEADLINE_S = 10.0


def check_provider(provider: Provider) -> Provider:
    """The same provider with the check's short retry budget and timeout."""
    config = provider.config.model_copy(update={"retry": CHECK_RETRY,
                                                "timeout_s": min(provider.config.timeout_s, CHECK_TIMEOUT_S)})
    return create_provider(config)


def check_params(provider: Provider) -> GenerationParams:
    """The check's request: the run's own resolved parameters (harness.providers.resolve: nothing the
    model rejects) with a visible budget of 8 tokens, plus the model's reasoning allowance."""
    return provider.config.params.model_copy(update={"max_tokens": CHECK_MAX_TOKENS})


CHECK_MAX_TOKENS = 8


async def _check(provider: Provider) -> tuple[str, str]:
    """One tiny request; (status, detail) with the latency or the exact error. A local model has no
    deadline: loading a large GGUF can take longer than any network check, and nothing is retried."""
    if provider.config.kind == "llama":
        return await _check_once(provider)
    try:
        return await asyncio.wait_for(_check_once(provider), CHECK_DEADLINE_S)
    except asyncio.TimeoutError:
        return "error", f"no answer within {CHECK_DEADLINE_S:.0f}s"


async def _check_once(provider: Provider) -> tuple[str, str]:
    try:
        await provider.start()
    except ProviderError as err:
        return "not configured", redact(err.message)
    try:
        reply = await provider.complete([Message(role="user", content="Say OK.")], check_params(provider))
    finally:
        await provider.aclose()
    if reply.outcome is Outcome.ERROR:
        return "error", redact(f"{reply.error_kind.value}: {reply.reason}")
    return "ok", f"{reply.latency_s:.2f}s, {reply.outcome.value}, model {reply.model_reported or '?'}"


async def _check_all(providers: list[Provider]) -> list[tuple[str, str]]:
    """The remote providers together, then the local models one by one: a GGUF loads and generates on
    this process's event loop thread, and while it does no other check's timer can run, so a cloud
    provider that answered in time would read as timed out."""
    remote = [i for i, p in enumerate(providers) if p.config.kind != "llama"]
    out: dict[int, tuple[str, str]] = dict(zip(remote, await asyncio.gather(
        *(_check(check_provider(providers[i])) for i in remote))))
    for i, p in enumerate(providers):
        if i not in out:
            out[i] = await _check(check_provider(p))
    return [out[i] for i in range(len(providers))]


def providers(
    eval_file: Optional[Path] = typer.Argument(None, help="Also list (and check) the providers of this eval file."),
    check: bool = typer.Option(False, "--check", help="Send one tiny request to each configured provider of the eval."),
) -> None:
    """List the known providers and which are configured; --check sends one tiny request to each."""
    table = Table(title="provider kinds")
    for col in ("kind", "SDK installed", "key", "description"):
        table.add_column(col)
    for info in PROVIDERS.values():
        keys = [k for k in info.key_envs if os.environ.get(k)]
        key = f"set ({keys[0]})" if keys else ("not needed" if not info.key_envs or info.kind == "openai-compatible"
                                              else f"missing ({' or '.join(info.key_envs)})")
        if info.plugin:  # added by an installed package (entry point group harness.providers)
            module = info.target.split(":")[0]
            table.add_row(*(Text(v) for v in (info.kind, "yes" if _installed(module) else f"no: {module} not found",
                                              "see its package", f"{info.description} ({info.target})")))
            continue
        table.add_row(*(Text(v) for v in (info.kind, "yes" if _installed(SDK_MODULES[info.kind]) else
                                          f"no: pip install 'chatbot-eval-harness[{info.extra}]'", key,
                                          info.description)))
    console = table_console()
    console.print(table)
    if eval_file is None:
        if check:
            typer.echo("--check needs an eval file naming the models to check", err=True)
            raise typer.Exit(2)
        return
    from harness.runner.plan import plan_run

    planned = plan_run(eval_file)
    rows = Table(title=f"providers in {eval_file}")
    for col in ("label", "model", "status", "detail"):
        rows.add_column(col)
    checked = asyncio.run(_check_all(planned.providers)) if check else \
        [("listed", "use --check to send a request")] * len(planned.providers)
    for provider, (status, detail) in zip(planned.providers, checked):
        rows.add_row(*(Text(v) for v in (provider.config.display, provider.config.model, status, detail)))
    console.print(rows)
    failed = [p.config.display for p, (status, _) in zip(planned.providers, checked) if status == "error"]
    if failed:   # a check that failed is never an exit 0: scripts and CI gate on it
        typer.echo(f"check failed for: {', '.join(failed)} (see the detail column)", err=True)
        raise typer.Exit(1)
