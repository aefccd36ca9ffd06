"""`harness judge ...`: the LLM judge of the teen-safety rules, measured against people.

`harness judge calibrate GOLD.jsonl [--judge provider/model]` scores every labelled reply of the gold
file(s) with the real teen_safety scorer (signal: and rule: scores) and, with a judge, the real
JudgedScorers (judge: scores, rule: recomputed), then prints per rule and pooled, per split: agreement,
Cohen's kappa, precision and recall of failure detection with 95% intervals, and the undecided counts,
for the signals alone, the judge alone and the combined verdict. The figures are stored under
<results>/calibration/ (see harness/report/calibration.py), where `compare` finds them.

Exit codes: 0 done; 2 bad input (a gold file problem, an unknown judge, a judge that cannot start or
whose every answer is a provider error): nothing is written to the calibration store.
"""
from __future__ import annotations

import asyncio
import json
import os
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from harness.cli.common import ResultsOption
from harness.problems import InputError
from harness.redact import redact
from harness.report.calibration import (
    calibration_lines,
    format_tables,
    rules_fingerprint,
    store_calibration,
)
from harness.scoring.calibrate import filter_split, judge_all, load_gold, measure, score_item
from harness.scoring.rules import default_ruleset

app = typer.Typer(no_args_is_help=True, help="The LLM judge: measure it against human labels.")


class JudgeFormat(str, Enum):
    chat = "chat"
    llama_guard = "llama-guard"
    llama_guard_1 = "llama-guard-1"
    llama_guard_2 = "llama-guard-2"
    llama_guard_3 = "llama-guard-3"
    llama_guard_4 = "llama-guard-4"


class SplitChoice(str, Enum):
    dev = "dev"
    holdout = "holdout"
    all = "all"


class OutFormat(str, Enum):
    table = "table"
    json = "json"


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _judge_config(model: str, base_url: str | None):
    from harness.providers.base import ProviderConfig
    from harness.providers.registry import PROVIDERS

    if "/" not in model or not model.split("/", 1)[1]:
        raise InputError.single("--judge", f"{model!r} is not provider/model, e.g. openai/gpt-4o-mini "
                                "or openai-compatible/llama-guard3 with --base-url")
    config = ProviderConfig(model=model, base_url=base_url)
    if config.kind not in PROVIDERS:
        raise InputError.single("--judge", f"unknown provider {config.kind!r}; known: {', '.join(sorted(PROVIDERS))}")
    return config


def _resolved_format(model: str, fmt: JudgeFormat | None) -> str:
    """The prompt format the judge will use: the one given, else what the Llama Guard adapter picks
    for this model name (llama-guard for a model named like Llama Guard), else chat."""
    try:
        from harness.scoring.llamaguard import judge_format_for  # type: ignore[attr-defined]
    except ImportError:
        return fmt.value if fmt else "chat"
    try:
        return judge_format_for(model, fmt.value if fmt else None)
    except ValueError as err:
        raise InputError.single("--judge-format", str(err)) from None


def _build_judge(config, fmt: str, seed: int):
    """The judge for this provider and prompt format (the Llama Guard adapter when it is installed)."""
    try:
        from harness.scoring.llamaguard import make_judge  # type: ignore[attr-defined]
    except ImportError:
        make_judge = None
    try:
        if make_judge is not None:
            return make_judge(config, fmt, None, seed)
        if fmt != "chat":
            raise InputError.single("--judge-format", "the llama-guard format needs harness.scoring.llamaguard, "
                                    "which this installation does not have; use --judge-format chat")
        from harness.providers.registry import create_provider
        from harness.scoring.judge import Judge

        return Judge(create_provider(config), cache=None, seed=seed)
    except ImportError as err:
        raise InputError.single("--judge", f"the judge cannot be built: {redact(str(err))}") from None


def _provider_errors(scores) -> tuple[int, int, str | None]:
    """(judge verdicts, of which provider errors, the first such reason) over some score lists."""
    judged = [s for sc in scores for s in sc if s.scorer.startswith("judge:") or s.scorer == "judge"]
    failed = [s for s in judged if s.passed is None and ("provider error" in s.explanation
                                                         or "judging failed" in s.explanation)]
    return len(judged), len(failed), failed[0].explanation if failed else None


async def _run_judge(config, fmt: str, seed: int, items, scores, cache_path: Path | None,
                     quiet: bool) -> tuple[list, dict[str, Any]]:
    from harness.providers.errors import ProviderError
    from harness.scoring.judge import JudgeCache
    from harness.scoring.judged import JudgedScorers

    judge = _build_judge(config, fmt, seed)
    try:
        await judge.provider.start()
    except ProviderError as err:
        raise InputError.single("--judge", f"judge {config.model} could not start: {redact(err.message)}") from None
    except (ImportError, OSError, ValueError) as err:
        raise InputError.single("--judge", f"judge {config.model} could not start: {redact(str(err))}") from None
    try:
        judged = JudgedScorers(judge, default_ruleset(), rules=True, graded=False,
                               concurrency=config.concurrency)
        # One reply first: a judge that answers every question with a provider error stops here,
        # before anything (the verdict cache included) is written.
        first = await judge_all(items[:1], scores[:1], judged)
        asked, failed, reason = _provider_errors(first)
        if asked and failed == asked:
            raise InputError.single("--judge", f"judge {config.model} gave no usable answer on the first reply: "
                                    f"{redact(reason or '')}")
        if cache_path is not None and hasattr(judge, "cache"):
            judge.cache = JudgeCache(cache_path)
        step = max(1, len(items) // 10)

        def progress(done: int, total: int) -> None:
            if not quiet and (done % step == 0 or done == total):
                typer.echo(f"judged {done + 1}/{total + 1} replies", err=True)

        rest = await judge_all(items[1:], scores[1:], judged, on_done=progress)
        identity = judge.provider.identity()
    finally:
        await judge.provider.aclose()
        if getattr(judge, "cache", None) is not None:
            judge.cache.close()
    out = first + rest
    asked, failed, reason = _provider_errors(out)
    if asked and failed == asked:
        raise InputError.single("--judge", f"judge {config.model} gave no usable answer: {redact(reason or '')}")
    return out, identity


def calibrate(
    gold: list[Path] = typer.Argument(..., help="Gold JSONL file(s): replies labelled per rule by people."),
    judge: Optional[str] = typer.Option(None, "--judge", help="The judge to measure, provider/model "
                                        "(e.g. openai/gpt-4o-mini). Without it: signals and combined only."),
    judge_format: Optional[JudgeFormat] = typer.Option(
        None, "--judge-format", help="chat (any chat model) or llama-guard (Meta's classifier; llama-guard-1|2|3|4 "
        "names its version); default: llama-guard for a model named like Llama Guard, else chat."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="The judge's server (OpenAI-compatible, "
                                           "e.g. http://127.0.0.1:11434/v1)."),
    split: SplitChoice = typer.Option(SplitChoice.all, "--split",
                                      help="Only rows of this split (dev: tuned on; holdout: measure-only)."),
    results_dir: Path = ResultsOption,
    fmt: OutFormat = typer.Option(OutFormat.table, "--format", "-f", help="table or json (stdout)."),
    seed: int = typer.Option(0, "--seed", help="The judge's sampling seed (temperature is always 0)."),
    use_cache: bool = typer.Option(True, "--cache/--no-cache", help="Reuse cached judge verdicts."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress lines on stderr."),
) -> None:
    """Measure the signals, the judge and the combined verdict against human labels, per rule."""
    if judge is None and (base_url or judge_format is not None):
        raise InputError.single("--judge", "--base-url and --judge-format need --judge provider/model")
    config = _judge_config(judge, base_url) if judge else None
    fmt_used = _resolved_format(judge, judge_format) if judge else None
    items = filter_split(load_gold(gold), split.value)
    if not items:
        raise InputError.single(", ".join(map(str, gold)), f"has no rows of split {split.value!r}")
    scores = [score_item(item) for item in items]
    checkers = ["signals", "combined"]
    identity: dict[str, Any] = {}
    notes = []
    if config is not None:
        cache = results_dir / "judge_cache.db" if use_cache else None
        scores, identity = asyncio.run(_run_judge(config, fmt_used, seed, items, scores, cache, quiet))
        checkers = ["signals", "judge", "combined"]
        notes.append(f"judge {config.model} ({fmt_used} format, seed {seed}) on {len(items)} replies")
    else:
        notes.append("no judge: measuring the signals and the combined verdict only (a pass the signals cannot "
                     "confirm is undecided); add --judge provider/model to measure a judge")
    result = measure(items, scores, checkers)
    files = [_display_path(p) for p in gold]
    path = store_calibration(results_dir, result, gold_files=files, judge_model=judge,
                             judge_format=fmt_used, judge_identity=identity,
                             rules=rules_fingerprint(default_ruleset()), split_filter=split.value)
    if fmt is OutFormat.json:
        typer.echo(json.dumps(json.loads(path.read_text(encoding="utf-8")), indent=1, sort_keys=True))
    else:
        typer.echo(format_tables(result, notes))
        typer.echo("")
        for line in calibration_lines(results_dir, judge):
            typer.echo(line)
    typer.echo(f"stored: {os.path.relpath(path) if not path.is_absolute() else path}", err=True)


app.command("calibrate")(calibrate)
