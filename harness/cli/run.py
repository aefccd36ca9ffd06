"""`harness run`: plan (validate everything), write the planned samples, execute, print the table.

Exit codes (documented in the README; `harness.cli.main` maps the exceptions):

* 0  every planned sample has a reply, the error rate is within its bound, every threshold is met;
* 1  internal error;  2 bad input (nothing written);  3 a threshold of the eval file not met;
* 4  incomplete: samples left pending (a provider skipped for want of a key, or stopped after a
     rejected key or an exhausted quota, or samples waiting in a provider's batch: `--batch`);
* 5  nothing measured: no provider returned a single usable (non-error) reply;
* 6  too many errors: a provider's error rate passed the bound (--max-error-rate, default 0.2;
     an eval file's own `thresholds: {error_rate: ...}` replaces it and is reported with 3), or the
     judge was of no use: it never started, or most of its verdicts were unusable (the cause is printed);
* 7  the run is being executed by another live process (its lease is held);
* 130 interrupted by Ctrl-C;  143 terminated by SIGTERM (replies so far kept, resume printed).

When several apply, the first in the order 5, 4, 6, 3 is the exit code; all are printed.
"""
from __future__ import annotations

import asyncio
import errno
import json
import os
import sqlite3
from pathlib import Path
from typing import Optional

import typer

from harness.served_model import served_lines
from harness.cache import CacheDamaged, ResponseCache
from harness.batch.engine import BatchOptions, open_summary
from harness.cli.common import ResultsOption, enforce_thresholds, open_store, show_report
from harness.evalfile import JudgeEntry, load_eval
from harness.problems import InputError
from harness.providers.base import ProviderConfig
from harness.providers.pricing import reply_cost
from harness.providers.registry import create_provider
from harness.redact import is_redacted, redact, redact_url
from harness.report.errors import common_errors
from harness.report.escape import terminal_text
from harness.report.paths import shown_path
from harness.report.summary import ALL, summarise
from harness.runner import execute_run, plan_run
from harness.runner.execute import SigtermGuard, Terminated, guarded
from harness.runner.coverage import coverage_lines
from harness.runner.workers import LEASE_ENV, parse_shard, run_workers, share, summary_json, watch_parent
from harness.scoring.judge import JudgeCache
from harness.scoring.judge_pair import build_judge
from harness.scoring.judge_usage import judge_failure
from harness.scoring.llamaguard import LlamaGuardJudge
from harness.store.judge_usage import judge_usage
from harness.store import LeaseHeld

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INPUT = 2
EXIT_THRESHOLD = 3
EXIT_INCOMPLETE = 4
EXIT_NOTHING_MEASURED = 5
EXIT_ERROR_RATE = 6
EXIT_LOCKED = 7
EXIT_SIGINT = 130
EXIT_SIGTERM = 143

DEFAULT_MAX_ERROR_RATE = 0.2


def run_verdict(report, thresholds: dict, max_error_rate: float, errors: dict | None = None,
                eval_file: str | None = None) -> tuple[int, list[str]]:
    """The exit code a finished (not interrupted) run deserves, and the banner lines that say why.
    `report` is harness.report.summary.RunReport; `thresholds` the eval file's; `errors` the most common
    error per provider (harness.report.errors.common_errors), said under each provider with a hint."""
    code, lines = _run_verdict(report, thresholds, max_error_rate)
    errors = errors or {}
    if code == EXIT_NOTHING_MEASURED:   # the cause on the first line: the one a reader sees
        causes = [f"{e.kind} errors" for e in errors.values()]
        causes += [f"{p['label']} {p['status']}" for p in report.providers if p["status"] == "skipped"]
        if causes:
            lines[0] += " (" + ", ".join(dict.fromkeys(causes)) + ")"
    if code and errors:
        out = []
        for line in lines:
            out.append(line)
            name = line[2:].split(": ", 1)[0] if line.startswith("  ") else None
            if name in errors and errors[name].message not in line:   # not said twice
                out.append(f"    {errors[name].line()}")
        check = "harness providers --check" + (f" {shown_path(eval_file)}" if eval_file else "")
        out.append(f"  check that each provider answers with: {check}")
        lines = out
    return code, lines


def _run_verdict(report, thresholds: dict, max_error_rate: float) -> tuple[int, list[str]]:
    overall = [g for g in report.groups if g.category == ALL]
    status = {p["label"]: (p["status"], p["note"]) for p in report.providers}

    def why(provider: str) -> str:
        st, note = status.get(provider, ("?", None))
        st = {"skipped": "never started", "pending": "never started"}.get(st, st)
        return st + (f" - {note}" if note else "")

    usable = sum(g.replied - g.errors for g in overall)
    # Samples waiting in a provider's batch are not a failure to measure: the run is incomplete (4).
    batched = any(p["status"] == "batched" for p in report.providers)
    if usable == 0 and not batched:
        lines = ["NOTHING MEASURED: no provider returned a single usable reply"]
        lines += [f"  {g.provider}: {g.errors} errors, {g.pending} pending of {g.planned} ({why(g.provider)})"
                  for g in overall]
        return EXIT_NOTHING_MEASURED, lines
    pending = [g for g in overall if g.pending]
    if pending:
        lines = [f"INCOMPLETE: {sum(g.pending for g in pending)} samples have no reply"]
        lines += [f"  {g.provider}: {g.pending} of {g.planned} pending ({why(g.provider)})" for g in pending]
        if batched:
            lines.append(f"  collect the batches with: harness batches {report.run_id}  (or harness run --resume "
                         f"{report.run_id})")
        else:
            lines.append(f"  send them with: harness run --resume {report.run_id}")
        return EXIT_INCOMPLETE, lines
    if "error_rate" not in thresholds:
        over = [g for g in overall if g.replied and g.errors / g.replied > max_error_rate]
        if over:
            lines = [f"TOO MANY ERRORS: error rate above {max_error_rate:.0%} (--max-error-rate; "
                     "or set thresholds: {error_rate: {max: ...}} in the eval file)"]
            lines += [f"  {g.provider}: {g.errors} errors of {g.replied} replies ({g.errors / g.replied:.1%})"
                      for g in over]
            return EXIT_ERROR_RATE, lines
    return EXIT_OK, []


def resolution_lines(configs: list[ProviderConfig]) -> list[str]:
    """Warnings (models near or past shutdown, models not in the capability table) and the eval defaults
    each provider leaves to the provider's default, one line each (harness.providers.resolve)."""
    lines = []
    for c in configs:
        lines += [f"warning: {w}" for w in c.resolution.get("warnings", [])]
        left = [k for k, v in c.resolution.items() if isinstance(v, str) and v.startswith("provider default: ")]
        if left:
            lines.append(f"note: {c.display}: {', '.join(left)} left to the provider's default "
                         f"({'; '.join(c.resolution[k][len('provider default: '):] for k in left)})")
    return lines


def banner(code: int, lines: list[str]) -> None:
    rule = "=" * 78
    typer.echo(rule, err=True)
    for i, line in enumerate(lines):   # provider labels and notes come from files and servers: escaped
        typer.echo(terminal_text(line) + (f"  [exit {code}]" if i == 0 else ""), err=True)
    typer.echo(rule, err=True)


def _restore_url(stored: ProviderConfig, original: ProviderConfig | None, what: str, run_row) -> ProviderConfig:
    """A stored config whose base_url held a credential was stored redacted: take the URL back from
    the eval file the run was started with, provided it is the same URL once redacted."""
    if not is_redacted(stored.base_url):
        return stored
    if original is not None and original.base_url and redact_url(original.base_url) == stored.base_url:
        return stored.model_copy(update={"base_url": original.base_url})
    raise InputError.single(run_row["eval_path"] or "the stored run",
                            f"the base_url of {what} held a credential, which is never stored; it is read back "
                            f"from the eval file on resume, but {run_row['eval_path']!r} no longer has the same "
                            "URL for it. Put the key in an environment variable (api_key_env) instead",
                            field="base_url")


def _original_spec(run_row):
    try:
        return load_eval(run_row["eval_path"]) if run_row["eval_path"] else None
    except Exception:  # the eval file is gone or changed: only needed for a redacted URL
        return None


def _resumed(results_dir: Path, run_ref: str, only: list[str] | None, shard: tuple[int, int] | None = None):
    """The stored run: its scorers, its providers rebuilt from their stored configuration, its judge.
    A worker process (`shard`) gets its share of each provider's concurrency and rpm/tpm budget."""
    store = open_store(results_dir, must_exist=True)
    run_row = store.run(run_ref)
    configs = [ProviderConfig.model_validate_json(p["config_json"]) for p in store.run_providers(run_row["id"])]
    if any(is_redacted(c.base_url) for c in configs):
        spec = _original_spec(run_row)
        originals = {c.display: c for c in spec.provider_configs()} if spec else {}
        configs = [_restore_url(c, originals.get(c.display), f"provider {c.display}", run_row) for c in configs]
    if only:
        unknown = [o for o in only if o not in {c.display for c in configs}]
        if unknown:
            raise InputError.single(store.path, f"run {run_row['id']} has no provider {unknown[0]!r}; it has: "
                                    + ", ".join(c.display for c in configs), field="--provider")
        configs = [c for c in configs if c.display in only]
    if shard is not None:
        n = shard[1]
        configs = [c.model_copy(update={"concurrency": share(c.concurrency, n),
                                        "max_concurrency": share(c.max_concurrency, n),
                                        "rpm": share(c.rpm, n), "tpm": share(c.tpm, n)}) for c in configs]
    judge = json.loads(run_row["spec_json"]).get("judge")
    judge_config = ProviderConfig.model_validate(judge) if judge else None
    if judge_config is not None and is_redacted(judge_config.base_url):
        spec = _original_spec(run_row)
        judge_config = _restore_url(judge_config, spec.judge if spec else None, "the judge", run_row)
    return (store, run_row["id"], json.loads(run_row["scorers_json"]), [create_provider(c) for c in configs],
            judge_config)


def _planned(eval_file: Path, results_dir: Path, only: list[str] | None, limit: int | None, batch: bool = False):
    """Validate everything, then write the run and all its planned samples before any request."""
    planned = plan_run(eval_file, only_providers=only, limit=limit)
    if batch:   # --batch: stored with each provider's configuration, so a resume goes on in batches
        for p in planned.providers:
            p.config = p.config.model_copy(update={"batch": True})
    store = open_store(results_dir)
    earlier = store.latest_run(planned.spec.name)
    if earlier is not None and earlier["status"] in ("interrupted", "incomplete"):
        typer.echo(f"note: the last run of {planned.spec.name!r} ({earlier['id']}) is {earlier['status']}; "
                   f"to finish it instead of starting over: harness run --resume {earlier['id']}", err=True)
    run_id = store.create_run(
        eval_name=planned.spec.name, eval_path=str(eval_file), spec=planned.spec.model_dump(mode="json"),
        scorers=planned.spec.scorers, repeats=planned.spec.repeats,
        suites=[{"name": s.name, "version": s.version, "content_hash": s.content_hash, "path": s.path,
                 "prompt_count": len(s.prompts)} for s in planned.suites],
        providers=[{"label": p.config.display, "model": p.config.model, "config": p.config.model_dump(mode="json")}
                   for p in planned.providers],
        samples=planned.samples)
    typer.echo(f"run {run_id}: {len(planned.samples)} samples ({len(planned.providers)} providers) -> {store.path}",
               err=True)
    for line in resolution_lines([p.config for p in planned.providers]):
        typer.echo(terminal_text(line), err=True)
    first = planned.providers[0].config.display if planned.providers else None
    prompts = [prompt for _, prompt, label, repeat in planned.samples if label == first and repeat == 0]
    for line in [w for s in planned.suites for w in s.warnings]:   # said, not fatal
        typer.echo(terminal_text(line), err=True)
    for line in coverage_lines(prompts, planned.spec.scorers):
        typer.echo(line, err=True)
    return store, run_id, planned.spec.scorers, planned.providers, planned.spec.judge


def run(
    eval_file: Optional[Path] = typer.Argument(None, help="The eval file (evals/*.yaml)."),
    provider: Optional[list[str]] = typer.Option(None, "--provider", "-p",
                                                 help="Only these providers (label, provider/model or kind). Repeatable."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1, help="Only the first N prompts overall, in the eval file's suite order (all of the first suite before "
                                  "the second), for each provider and repeat."),
    results_dir: Path = ResultsOption,
    resume: Optional[str] = typer.Option(None, "--resume", help="Continue run RUN: send only samples with no reply."),
    retry_errors: bool = typer.Option(False, "--retry-errors", help="With --resume, also re-send samples that ended in error."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Live progress bars on stderr."),
    use_cache: bool = typer.Option(True, "--cache/--no-cache",
                                   help="Reuse stored replies for identical requests (errors are never cached)."),
    cache_ttl_days: float = typer.Option(30.0, "--cache-ttl-days", min=0, help="Cached replies older than this are re-requested."),
    max_error_rate: float = typer.Option(DEFAULT_MAX_ERROR_RATE, "--max-error-rate", min=0, max=1,
                                         help="Exit 6 when a provider's error rate is above this (the eval "
                                              "file's thresholds: {error_rate: ...} replaces it)."),
    baseline: Optional[str] = typer.Option(None, "--baseline",
                                           help="Also gate on no significant regression against run BASELINE "
                                                "(paired exact McNemar on the shared prompts; exit 3)."),
    junit: Optional[Path] = typer.Option(None, "--junit", help="Write JUnit XML here: a test case per prompt x "
                                         "provider and per threshold."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, max=256,
                                help="Worker processes sharing the run (for CPU-bound runs: fast local servers, "
                                     "heavy scoring); each gets 1/N of every provider's concurrency and rpm/tpm."),
    shard: Optional[str] = typer.Option(None, "--shard", hidden=True, help="Internal: run as worker i/n."),
    strict_model: bool = typer.Option(False, "--strict-model",
                                      help="A reply from another model than the one requested (a retired model "
                                           "routed to its successor; dated snapshots excepted) is an error that "
                                           "stops the provider."),
    batch: bool = typer.Option(False, "--batch",
                               help="Send through the providers' batch APIs (about half the price, answers within "
                                    "24 hours): submit, store the batch ids and exit; collect with harness batches "
                                    "RUN or harness run --resume RUN. Providers without one run live."),
    wait: bool = typer.Option(False, "--wait", help="With --batch: poll until every batch has ended and collect it."),
    poll_interval: float = typer.Option(60.0, "--poll-interval", min=0, help="Seconds between two polls of --wait."),
) -> None:
    """Run an eval: every prompt x provider x repeat, each reply stored and scored as it arrives."""
    state: dict = {}
    with SigtermGuard():
        try:
            if shard is not None:
                _run_shard(state, results_dir, resume, provider, shard, retry_errors, use_cache, cache_ttl_days,
                           strict_model)
                return
            _run(state, eval_file, provider, limit, results_dir, resume, retry_errors, progress, use_cache,
                 cache_ttl_days, max_error_rate, baseline, junit, workers, strict_model,
                 BatchOptions(everywhere=batch, wait=wait, poll_s=poll_interval))
        except LeaseHeld as err:   # another live process executes this run: one writer per run
            typer.echo(f"error: {redact(str(err))}", err=True)
            raise typer.Exit(EXIT_LOCKED)
        except (CacheDamaged, sqlite3.DatabaseError, OSError) as err:
            if isinstance(err, OSError) and err.errno not in _DISK_ERRNOS:
                raise
            _stopped_by_storage(state, results_dir, err)
        except (KeyboardInterrupt, Terminated) as stopped:
            code = EXIT_SIGTERM if isinstance(stopped, Terminated) else EXIT_SIGINT
            what = "terminated (SIGTERM)" if code == EXIT_SIGTERM else "interrupted"
            store, run_id = state.get("store"), state.get("run_id")
            if run_id is None:
                typer.echo(f"\n{what} before the run started; nothing was sent", err=True)
            elif state.get("executed"):
                typer.echo(f"\n{what} while printing the report; run {run_id} itself had ended and is stored. "
                           f"See it with: harness compare {run_id} --results {results_dir}", err=True)
            else:
                store.interrupt_providers(run_id)
                store.finish_run(run_id, "interrupted")
                typer.echo(f"\n{what}; replies received so far are saved. Resume with:\n"
                           f"  harness run --resume {run_id} --results {results_dir}", err=True)
            raise typer.Exit(code)
        finally:
            if state.get("lease") is not None:
                state["lease"].release()


# A full disk, a quota, an I/O error, a read-only file system: the run stops, resumable.
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS}


def _stopped_by_storage(state: dict, results_dir: Path, err: BaseException) -> None:
    """A cache or the disk failed during a run: never an "internal error" with the run left `running`.
    The run is marked interrupted (when the store can still take that), the replies stored so far
    stay, and the message gives the cause, the fix and the resume command. Exit 2."""
    store, run_id = state.get("store"), state.get("run_id")
    why = redact(str(err)) if isinstance(err, CacheDamaged) else f"cannot write ({type(err).__name__}: {redact(str(err))})"
    if isinstance(err, sqlite3.DatabaseError) and "full" not in str(err) and not isinstance(err, CacheDamaged):
        why = (f"a results file is damaged ({redact(str(err))}); if it is a cache: harness cache clear "
               f"[--judge] --results {results_dir}, or run with --no-cache")
    if run_id is None or state.get("executed"):
        typer.echo(f"error: {why}" + ("; nothing was sent" if run_id is None else ""), err=True)
        raise typer.Exit(EXIT_INPUT)
    try:
        store.interrupt_providers(run_id)
        store.finish_run(run_id, "interrupted")
    except sqlite3.Error:
        pass   # the disk is still full: the run's lease shows no live writer, and resume works all the same
    typer.echo(f"error: {why}\nrun {run_id} stopped; replies received so far are saved. Once fixed, resume with:\n"
               f"  harness run --resume {run_id} --results {results_dir}", err=True)
    raise typer.Exit(EXIT_INPUT)


def _open_caches(results_dir: Path, use_cache: bool) -> None:
    """Open (and so check) the caches before anything is written: a damaged one is reported with its
    fix (exit 2) and leaves no run behind."""
    if use_cache and (results_dir / "cache.db").is_file():
        ResponseCache(results_dir / "cache.db").close()
    if (results_dir / "judge_cache.db").is_file():
        JudgeCache(results_dir / "judge_cache.db").close()


def _run_shard(state: dict, results_dir, resume, provider, shard_text, retry_errors, use_cache,
               cache_ttl_days, strict_model=False) -> None:
    """A worker process of `--workers`: send this shard's samples under the parent's lease, print the
    summary as one JSON line. The parent sets the statuses and prints the report."""
    try:
        shard = parse_shard(shard_text)
    except ValueError as err:
        raise InputError.single("--shard", str(err)) from None
    if not resume:
        raise InputError.single("--shard", "is only for the worker processes of harness run --workers")
    store, run_id, scorers, providers, judge_config = _resumed(results_dir, resume, provider, shard)
    state.update(store=store, run_id=run_id)
    held = store.lease(run_id)
    if held is None or held["token"] != os.environ.get(LEASE_ENV):
        raise LeaseHeld(f"run {run_id}: --shard runs only under the lease of the harness run --workers that "
                        "started it")
    watch_parent()   # from here on, stop when the parent is gone: no orphan goes on sending
    cache = ResponseCache(results_dir / "cache.db", ttl_s=cache_ttl_days * 86400) if use_cache else None
    judge = _make_judge(store, run_id, judge_config, scorers, None, shard)
    summary = asyncio.run(execute_run(store, run_id, providers, scorers, retry_errors=retry_errors,
                                      show_progress=False, cost_fn=reply_cost, cache=cache, judge=judge, shard=shard,
                                      strict_model=strict_model, simulator=_make_simulator(store, run_id)))
    state["executed"] = True
    typer.echo(summary_json(summary))


def _stored_judges(run_row, stored: dict) -> list:
    """The two judges of `judges:` as stored with the run (a credential in a base_url read back from
    the eval file, as for the providers)."""
    entries = [JudgeEntry.model_validate(j) for j in stored.get("judges") or []]
    if any(is_redacted(e.base_url) for e in entries):
        spec = _original_spec(run_row)
        originals = spec.judges if spec is not None else []
        entries = [_restore_url(e, originals[i] if i < len(originals) else None, f"judge {e.model}", run_row)
                   for i, e in enumerate(entries)]
    return [(e, e.judge_format) for e in entries]


def _make_simulator(store, run_id: str):
    """The simulated users' provider (`simulator:` of the eval, as stored with the run), or None."""
    run_row = store.run(run_id)
    stored = json.loads(run_row["spec_json"]).get("simulator")
    if not stored:
        return None
    config = ProviderConfig.model_validate(stored)
    if is_redacted(config.base_url):
        spec = _original_spec(run_row)
        config = _restore_url(config, spec.simulator if spec else None, "the simulator", run_row)
    return create_provider(config)


def _make_judge(store, run_id: str, judge_config, scorers: list[str], eval_file, shard=None):
    # judge_format (chat | llama-guard), judge_mode and judges as stored with the run, so a resumed run
    # judges alike.
    run_row = store.run(run_id)
    stored = json.loads(run_row["spec_json"])
    entries = [(judge_config, stored.get("judge_format"))] if judge_config is not None else \
        _stored_judges(run_row, stored)
    if not entries:
        return None
    results_dir = store.path.parent
    try:
        judge = build_judge(entries, JudgeCache(results_dir / "judge_cache.db"), stored.get("judge_mode"))
    except ValueError as err:
        raise InputError.single(eval_file or "the stored run", str(err), field="judge") from None
    if isinstance(judge, LlamaGuardJudge) and "graded" in scorers:
        typer.echo(f"warning: the judge {judge.judge_model} is Llama Guard, which cannot answer the graded "
                   "scorer's question: graded scores will be unusable (set judge_format: chat)", err=True)
    resolution = getattr(judge, "resolution", None)   # a chat judge's parameters, resolved like a provider's
    if resolution is not None and shard is None:
        for line in resolution_lines([judge_config.model_copy(update={"label": "judge",
                                                                      "resolution": resolution.record()})]):
            typer.echo(terminal_text(line), err=True)
    return judge


def _run(state: dict, eval_file, provider, limit, results_dir, resume, retry_errors, progress, use_cache,
         cache_ttl_days, max_error_rate, baseline=None, junit=None, workers=1, strict_model=False,
         batch_options: BatchOptions | None = None) -> None:
    if workers > 1 and batch_options is not None and batch_options.everywhere:   # checked before anything is written
        raise InputError.single("--workers", "worker processes do not share batches; drop --workers or --batch")
    if baseline:   # checked before anything is written: a gate against a run that is not there is bad input
        from harness.store import StoreError

        try:
            open_store(results_dir, must_exist=True).run(baseline)
        except StoreError as err:
            raise InputError.single("--baseline", str(err)) from None
    _open_caches(results_dir, use_cache)
    if resume:
        if eval_file is not None:
            raise InputError.single(eval_file, "give either an eval file or --resume RUN: a resumed run keeps "
                                    "the eval it was started with")
        store, run_id, scorers, providers, judge_config = _resumed(results_dir, resume, provider)
        state.update(store=store)
        # One writer per run: refused (exit 7) while another live process executes it.
        state["lease"] = store.acquire_lease(run_id)
        state["run_id"] = run_id
        if state["lease"].previous:
            typer.echo(f"note: took over run {run_id}: {state['lease'].previous}", err=True)
    elif eval_file is None:
        raise InputError.single("harness run", "give an eval file, or --resume RUN")
    else:
        store, run_id, scorers, providers, judge_config = _planned(eval_file, results_dir, provider, limit,
                                                                   bool(batch_options and batch_options.everywhere))
        state.update(store=store, run_id=run_id)
        state["lease"] = store.acquire_lease(run_id)
    cache = ResponseCache(results_dir / "cache.db", ttl_s=cache_ttl_days * 86400) if use_cache else None
    judge = _make_judge(store, run_id, judge_config, scorers, eval_file)
    if workers > 1 and (any(p.config.batch for p in providers) or getattr(judge_config, "batch", False)):
        raise InputError.single("--workers", "worker processes do not share batches (batch: true); drop --workers")
    if workers > 1:
        summary = asyncio.run(guarded(run_workers(
            store, run_id, results_dir, workers, labels=[p.config.display for p in providers],
            lease_token=state["lease"].token, retry_errors=retry_errors, use_cache=use_cache,
            cache_ttl_days=cache_ttl_days, show_progress=progress, strict_model=strict_model)))
    else:
        summary = asyncio.run(execute_run(store, run_id, providers, scorers, retry_errors=retry_errors,
                                          show_progress=progress, cost_fn=reply_cost, cache=cache, judge=judge,
                                          lease=state["lease"], strict_model=strict_model,
                                          simulator=_make_simulator(store, run_id), batch=batch_options))
    state["executed"] = True   # the run's status is final: a signal from here on only cuts the report short
    state["lease"].release()
    state["lease"] = None
    sent = sum(p.sent for p in summary.providers)
    typer.echo(f"{sent} requests sent" + (f", {summary.cache_hits} replies from the cache" if cache else "")
               + (f" ({workers} worker processes)" if workers > 1 else ""), err=True)
    report = summarise(store, run_id)
    for line in served_lines(report.served_models, {p["label"]: p["model"] for p in report.providers}):
        typer.echo(redact(line), err=True)   # said where the run's own messages go, not only in the table
    show_report(store, report)
    if pending := sum(p.pending for p in summary.providers):
        typer.echo(f"{pending} samples have no reply yet; resume with: harness run --resume {run_id}", err=True)
    if waiting := open_summary(store, run_id, results_dir):
        typer.echo(terminal_text(waiting), err=True)
    thresholds = json.loads(store.run(run_id)["spec_json"]).get("thresholds") or {}
    errors = common_errors(store, run_id)
    code, lines = run_verdict(report, thresholds, max_error_rate, errors, store.run(run_id)["eval_path"])
    if summary.judge_pending and code in (EXIT_OK, EXIT_ERROR_RATE, EXIT_INCOMPLETE):
        # Replies waiting for a judge batch: their verdicts are the signals' alone until it is collected.
        head = [] if code == EXIT_INCOMPLETE else [f"INCOMPLETE: {summary.judge_pending} replies wait for the judge"]
        code, lines = EXIT_INCOMPLETE, head + lines + [
            f"  {summary.judge_pending} replies wait for the judge batch's verdicts (rule verdicts are the signals' "
            f"alone until then); collect it with: harness batches {run_id}"]
    if not code:   # errors within bounds: still say what they were (the banner does when they are not)
        for e in errors.values():
            typer.echo(terminal_text(f"{e.provider}: {e.line()}"), err=True)
    if not code and "error_rate" not in thresholds:
        from harness.report.conversations import conversation_error_lines

        if lines := conversation_error_lines(store, run_id, max_error_rate):
            code = EXIT_ERROR_RATE
    if code not in (EXIT_NOTHING_MEASURED, EXIT_INCOMPLETE) and (failed := judge_failure(judge_usage(store, run_id))):
        code, lines = EXIT_ERROR_RATE, lines + failed if code == EXIT_ERROR_RATE else failed
    try:
        enforce_thresholds(store, report, baseline=baseline, junit=junit)
    except typer.Exit:
        code = code or EXIT_THRESHOLD
    if lines:
        banner(code, lines)
    if code:
        raise typer.Exit(code)
