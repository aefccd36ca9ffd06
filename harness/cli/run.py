"""`harness run`: plan (validate everything), write the planned samples, execute, print the table."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Optional

import typer

from harness.cache import ResponseCache
from harness.cli.common import ResultsOption, enforce_thresholds, open_store, show_report
from harness.problems import InputError
from harness.providers.base import ProviderConfig
from harness.providers.pricing import reply_cost
from harness.providers.registry import create_provider
from harness.report.summary import summarise
from harness.runner import execute_run, plan_run
from harness.runner.coverage import coverage_lines
from harness.scoring.judge import JudgeCache
from harness.scoring.llamaguard import LlamaGuardJudge, make_judge


def _resumed(results_dir: Path, run_ref: str, only: list[str] | None):
    """The stored run: its scorers, its providers rebuilt from their stored configuration, its judge."""
    store = open_store(results_dir, must_exist=True)
    run_row = store.run(run_ref)
    configs = [ProviderConfig.model_validate_json(p["config_json"]) for p in store.run_providers(run_row["id"])]
    if only:
        unknown = [o for o in only if o not in {c.display for c in configs}]
        if unknown:
            raise InputError.single(store.path, f"run {run_row['id']} has no provider {unknown[0]!r}; it has: "
                                    + ", ".join(c.display for c in configs), field="--provider")
        configs = [c for c in configs if c.display in only]
    judge = json.loads(run_row["spec_json"]).get("judge")
    return (store, run_row["id"], json.loads(run_row["scorers_json"]), [create_provider(c) for c in configs],
            ProviderConfig.model_validate(judge) if judge else None)


def _planned(eval_file: Path, results_dir: Path, only: list[str] | None, limit: int | None):
    """Validate everything, then write the run and all its planned samples before any request."""
    planned = plan_run(eval_file, only_providers=only, limit=limit)
    store = open_store(results_dir)
    earlier = next((r for r in store.runs() if r["eval_name"] == planned.spec.name), None)
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
    first = planned.providers[0].config.display if planned.providers else None
    prompts = [prompt for _, prompt, label, repeat in planned.samples if label == first and repeat == 0]
    for line in coverage_lines(prompts, planned.spec.scorers):
        typer.echo(line, err=True)
    return store, run_id, planned.spec.scorers, planned.providers, planned.spec.judge


def run(
    eval_file: Optional[Path] = typer.Argument(None, help="The eval file (evals/*.yaml)."),
    provider: Optional[list[str]] = typer.Option(None, "--provider", "-p",
                                                 help="Only these providers (label, provider/model or kind). Repeatable."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1, help="Only the first N prompts."),
    results_dir: Path = ResultsOption,
    resume: Optional[str] = typer.Option(None, "--resume", help="Continue run RUN: send only samples with no reply."),
    retry_errors: bool = typer.Option(False, "--retry-errors", help="With --resume, also re-send samples that ended in error."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Live progress bars on stderr."),
    use_cache: bool = typer.Option(True, "--cache/--no-cache",
                                   help="Reuse stored replies for identical requests (errors are never cached)."),
    cache_ttl_days: float = typer.Option(30.0, "--cache-ttl-days", min=0, help="Cached replies older than this are re-requested."),
) -> None:
    """Run an eval: every prompt x provider x repeat, each reply stored and scored as it arrives."""
    if resume:
        if eval_file is not None:
            raise InputError.single(eval_file, "give either an eval file or --resume RUN: a resumed run keeps "
                                    "the eval it was started with")
        store, run_id, scorers, providers, judge_config = _resumed(results_dir, resume, provider)
    elif eval_file is None:
        raise InputError.single("harness run", "give an eval file, or --resume RUN")
    else:
        store, run_id, scorers, providers, judge_config = _planned(eval_file, results_dir, provider, limit)
    cache = ResponseCache(results_dir / "cache.db", ttl_s=cache_ttl_days * 86400) if use_cache else None
    judge = None
    if judge_config is not None:
        # judge_format (chat | llama-guard) as stored with the run, so a resumed run judges alike.
        judge_format = json.loads(store.run(run_id)["spec_json"]).get("judge_format")
        try:
            judge = make_judge(judge_config, judge_format, JudgeCache(results_dir / "judge_cache.db"),
                               judge_config.params.seed or 0)
        except ValueError as err:
            raise InputError.single(eval_file or "the stored run", str(err), field="judge") from None
        if isinstance(judge, LlamaGuardJudge) and "graded" in scorers:
            typer.echo(f"warning: the judge {judge.judge_model} is Llama Guard, which cannot answer the graded "
                       "scorer's question: graded scores will be unusable (set judge_format: chat)", err=True)
    try:
        summary = asyncio.run(execute_run(store, run_id, providers, scorers, retry_errors=retry_errors,
                                          show_progress=progress, cost_fn=reply_cost, cache=cache, judge=judge))
    except KeyboardInterrupt:
        store.finish_run(run_id, "interrupted")
        typer.echo(f"\ninterrupted; replies received so far are saved. Resume with:\n"
                   f"  harness run --resume {run_id} --results {results_dir}", err=True)
        raise typer.Exit(130)
    sent = sum(p.sent for p in summary.providers)
    typer.echo(f"{sent} requests sent" + (f", {cache.hits} replies from the cache" if cache else ""), err=True)
    report = summarise(store, run_id)
    show_report(store, report)
    if not summary.complete:
        pending = sum(p.pending for p in summary.providers)
        typer.echo(f"{pending} samples have no reply yet; resume with: harness run --resume {run_id}", err=True)
    enforce_thresholds(store, report)

