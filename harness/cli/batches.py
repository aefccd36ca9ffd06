"""`harness batches [RUN]` and `harness batches cancel RUN`: a run's batches at the providers.

`harness batches RUN` lists the run's batches (provider, remote id, state, counts, expiry, ignored
result lines) after polling the open ones and collecting those that ended: their answers are stored and
scored as they would have been live. Nothing new is submitted and nothing is sent live (that is
`harness run --resume RUN`). `harness batches cancel RUN` cancels the open batches at the provider; the
answers already done are collected, the rest of the samples are pending again.

Exit codes as `harness run`'s: 0 every sample of the run has a reply; 4 samples are still pending (in
a batch or not); 2 bad input; 7 another process executes the run.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Optional

import typer

from harness.batch.base import backend_for
from harness.batch.collect import counts_text
from harness.batch.engine import BatchContext, BatchOptions, BatchRefused, cancel_open
from harness.cli.common import ResultsOption
from harness.problems import InputError
from harness.providers.errors import ProviderError
from harness.providers.pricing import reply_cost
from harness.redact import redact
from harness.report.escape import terminal_text
from harness.runner import execute_run
from harness.runner.execute import SigtermGuard, sample_params, served_model_check
from harness.runner.progress import RunProgress
from harness.store import LeaseHeld
from harness.store import batches as sb
from harness.store.judge_batches import pending_count

EXIT_INCOMPLETE = 4
EXIT_LOCKED = 7


def batches(
    first: Optional[str] = typer.Argument(None, help="RUN (default: the latest run), or `cancel`."),
    second: Optional[str] = typer.Argument(None, help="With `cancel`: the run whose batches to cancel."),
    results_dir: Path = ResultsOption,
    use_cache: bool = typer.Option(True, "--cache/--no-cache", help="Put the collected answers in the response cache."),
    progress: bool = typer.Option(False, "--progress/--no-progress", help="Live progress bars on stderr."),
) -> None:
    """Poll a run's batches at the providers, collect the finished ones, list them (or cancel them)."""
    from harness.cli.run import _make_judge, _resumed
    from harness.cache import ResponseCache

    cancel = first == "cancel"
    run_ref = second if cancel else first
    if not cancel and second is not None:
        raise InputError.single("harness batches", f"unexpected {second!r}: give RUN, or `cancel RUN`")
    if cancel and run_ref is None:
        raise InputError.single("harness batches cancel", "name the run whose batches to cancel: "
                                "harness batches cancel RUN")
    store, run_id, scorers, providers, judge_config = _resumed(results_dir, run_ref, None)
    try:
        lease = store.acquire_lease(run_id)
    except LeaseHeld as err:
        typer.echo(f"error: {redact(str(err))}", err=True)
        raise typer.Exit(EXIT_LOCKED)
    try:
        with SigtermGuard():
            labels = {r["provider"] for r in sb.batches(store, run_id, open_only=True)}
            mine = [p for p in providers if p.config.display in labels]
            judging = "judge" in {r["purpose"] for r in sb.batches(store, run_id, open_only=True)}
            if cancel:
                asyncio.run(_cancel(store, run_id, mine, progress))
                if judging:
                    asyncio.run(_cancel_judge(store, run_id, _make_judge(store, run_id, judge_config, scorers, None),
                                              progress))
            # A judge batch (judge: {batch: true}) is collected, and the replies waiting for it judged or
            # their questions submitted (not after a cancel), even when no reply batch is open.
            if mine or judging or pending_count(store, run_id):
                cache = ResponseCache(results_dir / "cache.db") if use_cache else None
                judge = _make_judge(store, run_id, judge_config, scorers, None)
                asyncio.run(execute_run(store, run_id, mine, scorers, show_progress=progress, cost_fn=reply_cost,
                                        cache=cache, judge=judge, lease=lease,
                                        batch=BatchOptions(submit=False, live=False, judge_submit=not cancel)))
    finally:
        lease.release()
    pending = store.conn.execute("SELECT COUNT(*) FROM samples s LEFT JOIN replies p ON p.sample_id = s.id"
                                 " WHERE s.run_id = ? AND p.sample_id IS NULL", (run_id,)).fetchone()[0]
    judging = pending_count(store, run_id)
    store.finish_run(run_id, "finished" if not pending and not judging else "incomplete")
    _listing(store, run_id)
    if judging:
        typer.echo(f"{judging} replies wait for the judge batch's verdicts (their rule verdicts are the signals' "
                   f"alone until then); check again later with: harness batches {run_id}", err=True)
    if pending:
        waiting = sum(sb.in_open_batches(store, run_id, p.config.display) for p in providers)
        typer.echo(f"{pending} samples have no reply yet ({waiting} in open batches); "
                   + (f"check again later with: harness batches {run_id}; " if waiting else "")
                   + f"submit or send the rest with: harness run --resume {run_id} --results {results_dir}", err=True)
        raise typer.Exit(EXIT_INCOMPLETE)
    if judging:
        raise typer.Exit(EXIT_INCOMPLETE)
    typer.echo(f"every sample of run {run_id} has a reply; see it with: harness compare {run_id}", err=True)


async def _cancel(store, run_id: str, providers, show_progress: bool) -> None:
    with RunProgress(enabled=show_progress) as progress:
        for provider in providers:
            label = provider.config.display
            try:
                await provider.start()
            except ProviderError as err:
                progress.line(f"{label}: cannot cancel, {redact(err.message)}")
                continue
            backend = backend_for(provider)
            try:
                if backend is None:
                    progress.line(f"{label}: no batch backend for {provider.config.kind!r}")
                    continue
                ctx = BatchContext(store, run_id, provider, backend, identity=provider.identity(), score=None,
                                   cost_fn=reply_cost, cache=None, progress=progress, strict_model=False,
                                   served_model_check=served_model_check, sample_params=sample_params)
                await cancel_open(ctx, backend)
            except (ProviderError, BatchRefused) as err:
                progress.line(f"{label}: {redact(err.message if isinstance(err, ProviderError) else str(err))}")
            finally:
                await provider.aclose()


async def _cancel_judge(store, run_id: str, judge, show_progress: bool) -> None:
    from harness.batch.judge import cancel_judge_batches

    with RunProgress(enabled=show_progress) as progress:
        await cancel_judge_batches(store, run_id, judge, progress)


def _listing(store, run_id: str) -> None:
    rows = sb.batches(store, run_id)
    if not rows:
        typer.echo(f"run {run_id} has no batches")
        return
    typer.echo(f"batches of run {run_id}:")
    for r in rows:
        ignored = json.loads(r["ignored_json"] or "{}")
        parts = [r["provider"], r["remote_id"] or "(not confirmed)", r["state"] + ("" if r["collected"] else " (open)"),
                 counts_text(r["counts_json"]), f"{sb.item_count(store, r['id'])} samples"]
        if r["expires_at"] and not r["collected"]:
            parts.append(f"expires {r['expires_at']}")
        if ignored:
            parts.append("ignored " + ", ".join(f"{n} {why}" for why, n in sorted(ignored.items())))
        if r["note"]:
            parts.append(r["note"])
        typer.echo(terminal_text("  " + " | ".join(str(p) for p in parts)))
