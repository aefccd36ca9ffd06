"""`harness run --workers N`: one run spread over N worker processes that share its store.

Where a run is CPU-bound (the SDK's own parsing, scoring, a fast local server answering thousands of
requests a second), one Python process saturates one core. With N workers, worker i sends the pending
samples whose id is i modulo N, for every provider, each with 1/N of the provider's concurrency and
of its rpm/tpm budget, so the limits the eval file sets hold for the run as a whole.

Each worker is `harness run --resume RUN --shard i/N` (a hidden option): it rebuilds the providers
and the judge from the stored run exactly as a resume does, commits its replies to the shared store
(SQLite WAL; writers wait for each other's short transactions) and prints its summary as one JSON
line. The parent holds the run's lease (workers check they run under it), shows progress from the
store, and sets each provider's and the run's status when all workers are done. A worker that fails
leaves its samples pending, which makes the run incomplete (exit 4), never silently complete.

Stopping: SIGTERM or Ctrl-C to the parent stops every worker the same way (each keeps what it
stored and marks its providers interrupted). A worker whose parent dies (SIGKILL) sees its stdin
close and stops too, so no orphan goes on sending and paying.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
from pathlib import Path

from harness.redact import redact
from harness.runner.execute import ProviderResult, RunSummary
from harness.runner.progress import RunProgress
from harness.store import Store

#: The lease token a worker must find on its run (set by the parent in the worker's environment).
LEASE_ENV = "HARNESS_WORKER_LEASE"
POLL_S = 0.5


def parse_shard(text: str) -> tuple[int, int]:
    """'i/n' with 0 <= i < n."""
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard {text!r}: write it as i/n, e.g. 0/4") from None
    if not 0 <= index < count:
        raise ValueError(f"--shard {text!r}: i must be between 0 and n-1")
    return index, count


def share(value: int | None, count: int, *, at_least: int = 1) -> int | None:
    """One worker's share of a limit (concurrency, rpm, tpm): the limit over `count`, rounded up so
    that a small limit still lets each worker send; None stays None (no limit)."""
    if value is None:
        return None
    return max(at_least, -(-value // count))


def watch_parent() -> None:
    """In a worker: when the parent's end of stdin closes (the parent died), stop like on SIGTERM."""
    def wait() -> None:
        try:   # the raw descriptor: a daemon thread blocked in sys.stdin's buffer breaks interpreter exit
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=wait, name="parent-watch", daemon=True).start()


def summary_json(summary: RunSummary) -> str:
    return json.dumps({"cache_hits": summary.cache_hits, "providers": [
        {"label": p.label, "status": p.status, "note": p.note, "sent": p.sent, "errors": p.errors,
         "pending": p.pending} for p in summary.providers]})


async def run_workers(store: Store, run_id: str, results_dir: Path, count: int, *, labels: list[str],
                      lease_token: str, retry_errors: bool, use_cache: bool, cache_ttl_days: float,
                      show_progress: bool, strict_model: bool = False) -> RunSummary:
    command = [sys.executable, "-m", "harness", "run", "--resume", run_id, "--results", str(results_dir),
               "--no-progress", "--cache" if use_cache else "--no-cache", "--cache-ttl-days", str(cache_ttl_days)]
    command += ["--retry-errors"] if retry_errors else []
    command += ["--strict-model"] if strict_model else []
    for label in labels:
        command += ["--provider", label]
    env = {**os.environ, LEASE_ENV: lease_token}
    totals = {label: store.count_pending(run_id, label, include_errors=retry_errors) for label in labels}
    procs: list[asyncio.subprocess.Process] = []
    outputs: list[tuple[bytes, bytes]] = []
    with RunProgress(enabled=show_progress) as progress:
        for label in labels:
            progress.add(label, totals[label])
        try:
            for i in range(count):
                procs.append(await asyncio.create_subprocess_exec(
                    *command, "--shard", f"{i}/{count}", env=env, stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE))
            # Not communicate(): it would close stdin, which tells a worker its parent is gone.
            waiting = asyncio.ensure_future(asyncio.gather(*(_collect(p) for p in procs)))
            while not waiting.done():
                await asyncio.wait([waiting], timeout=POLL_S)
                _show(store, run_id, labels, totals, retry_errors, progress)
            outputs = waiting.result()
        except asyncio.CancelledError:
            await _stop(procs)
            raise
    return _merge(store, run_id, labels, procs, outputs, progress)


async def _collect(proc: asyncio.subprocess.Process) -> tuple[bytes, bytes]:
    out, err = await asyncio.gather(proc.stdout.read(), proc.stderr.read())
    await proc.wait()
    return out, err


def _show(store: Store, run_id: str, labels: list[str], totals: dict[str, int], retry_errors: bool,
          progress: RunProgress) -> None:
    counts = store.reply_counts(run_id)
    for label in labels:
        left = store.count_pending(run_id, label, include_errors=retry_errors)
        progress.set(label, done=max(0, totals[label] - left), errors=counts.get(label, (0, 0))[1])


async def _stop(procs: list[asyncio.subprocess.Process]) -> None:
    """Stop the workers as the parent was stopped: SIGTERM, then a bounded wait, then SIGKILL."""
    for p in procs:
        if p.returncode is None:
            p.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.gather(*(p.wait() for p in procs)), timeout=30)
    except asyncio.TimeoutError:
        for p in procs:
            if p.returncode is None:
                p.kill()


def _merge(store: Store, run_id: str, labels: list[str], procs, outputs, progress: RunProgress) -> RunSummary:
    """One summary from the workers' ones; each provider's status set once, from all of them."""
    summary = RunSummary(run_id)
    parts: dict[str, list[dict]] = {label: [] for label in labels}
    for i, (proc, (out, err)) in enumerate(zip(procs, outputs)):
        lines = out.decode("utf-8", "replace").strip().splitlines()
        try:
            report = json.loads(lines[-1]) if proc.returncode == 0 and lines else None
        except json.JSONDecodeError:
            report = None
        if report is None:
            tail = redact(err.decode("utf-8", "replace").strip())[-2000:]
            progress.line(f"worker {i}/{len(procs)} failed (exit {proc.returncode}); its samples stay pending:\n{tail}")
            continue
        summary.cache_hits += report["cache_hits"]
        for p in report["providers"]:
            parts.setdefault(p["label"], []).append(p)
    for label in labels:
        result = ProviderResult(label, sent=sum(p["sent"] for p in parts[label]),
                                errors=sum(p["errors"] for p in parts[label]))
        stopped = [p for p in parts[label] if p["status"] == "stopped"]
        if stopped:
            result.status, result.note = "stopped", stopped[0]["note"]
        elif parts[label] and all(p["status"] == "skipped" for p in parts[label]):
            result.status, result.note = "skipped", parts[label][0]["note"]
        elif len(parts[label]) < len(procs):
            result.status, result.note = "stopped", "a worker process failed"
        else:
            result.status = "finished"
        result.pending = store.count_pending(run_id, label)
        store.set_provider(run_id, label, status=result.status, note=result.note)
        summary.providers.append(result)
    store.finish_run(run_id, "finished" if summary.complete else "incomplete")
    return summary
