"""`harness judge ...`: the LLM judge of the teen-safety rules, measured against people.

`harness judge calibrate GOLD.jsonl [--judge provider/model]` scores every labelled reply of the gold
file(s) with the real teen_safety scorer (signal: and rule: scores) and, with a judge, the real
JudgedScorers (judge: scores, rule: recomputed), then prints per rule and pooled, per split: agreement,
Cohen's kappa, precision and recall of failure detection with 95% intervals, and the undecided counts,
for the signals alone, the judge alone and the combined verdict. The figures are stored under
<results>/calibration/ (see harness/report/calibration.py), where `compare` finds them.

Judge set-ups are compared side by side (agreement, failure recall, calls, tokens, cost): with
`--mode both` the chat judge's per_reply and per_rule modes, and with `--judge` given twice each judge
alone and the pair whose verdicts must agree (harness/scoring/judge_pair.py).

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
from harness.report.judge_compare import mode_verdict, variant_row, variants_table
from harness.scoring.calibrate import filter_split, judge_all, load_gold, measure, score_item
from harness.scoring.judge import DEFAULT_MODE
from harness.scoring.rules import default_ruleset

app = typer.Typer(no_args_is_help=True, help="The LLM judge: measure it against human labels.")


class JudgeFormat(str, Enum):
    chat = "chat"
    llama_guard = "llama-guard"
    llama_guard_1 = "llama-guard-1"
    llama_guard_2 = "llama-guard-2"
    llama_guard_3 = "llama-guard-3"
    llama_guard_4 = "llama-guard-4"


class ModeChoice(str, Enum):
    per_reply = "per_reply"
    per_rule = "per_rule"
    both = "both"


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


def _provider_errors(scores) -> tuple[int, int, str | None]:
    """(judge verdicts, of which provider errors, the first such reason) over some score lists."""
    judged = [s for sc in scores for s in sc if s.scorer.startswith("judge:") or s.scorer == "judge"]
    failed = [s for s in judged if s.passed is None and ("provider error" in s.explanation
                                                         or "judging failed" in s.explanation)]
    return len(judged), len(failed), failed[0].explanation if failed else None


def _set_cache(judge, cache) -> None:
    """Give every judge inside `judge` (one, or both of a pair) the verdict cache."""
    from harness.scoring.judge_pair import PairJudge

    for j in (judge.judges if isinstance(judge, PairJudge) else [judge]):
        inner = getattr(j, "inner", j)
        if hasattr(inner, "cache"):
            inner.cache = cache


def _usage_sum(usages) -> dict[str, Any]:
    keys = ("calls", "cached", "input_tokens", "output_tokens", "tokens_unknown", "cost_usd", "cost_unknown")
    return {k: sum(getattr(u, k) for u in usages) for k in keys}


async def _run_variant(entries, mode: str | None, items, scores, cache, quiet: bool, probe: bool,
                       label: str) -> tuple[list, dict[str, Any], dict[str, Any]]:
    """Judge every gold reply with one judge set-up: (scores, usage counts, the first judge's identity).
    With `probe`, one reply is judged first without the cache: a judge that answers every question
    with a provider error stops there (exit 2), before anything is written."""
    from harness.providers.errors import ProviderError
    from harness.scoring.judge_pair import build_judge, counted, usages_of
    from harness.scoring.judged import JudgedScorers

    try:
        judge = counted(build_judge(entries, None if probe else cache(), mode))
    except (ValueError, ImportError) as err:
        raise InputError.single("--judge", f"the judge cannot be built: {redact(str(err))}") from None
    models = " + ".join(c.model for c, _ in entries)
    try:
        await judge.start()
    except ProviderError as err:
        raise InputError.single("--judge", f"judge {models} could not start: {redact(err.message)}") from None
    except (ImportError, OSError, ValueError) as err:
        raise InputError.single("--judge", f"judge {models} could not start: {redact(str(err))}") from None
    try:
        concurrency = getattr(judge, "concurrency", None) or judge.provider.config.concurrency
        judged = JudgedScorers(judge, default_ruleset(), rules=True, graded=False, concurrency=concurrency)
        first: list = []
        if probe:
            first = await judge_all(items[:1], scores[:1], judged)
            asked, failed, reason = _provider_errors(first)
            if asked and failed == asked:
                raise InputError.single("--judge", f"judge {models} gave no usable answer on the first reply: "
                                        f"{redact(reason or '')}")
            _set_cache(judge, cache())   # opened only now: a judge that cannot answer writes nothing
        step = max(1, len(items) // 10)

        def progress(done: int, total: int) -> None:
            if not quiet and (done % step == 0 or done == total):
                typer.echo(f"{label}: judged {done + len(first)}/{total + len(first)} replies", err=True)

        rest = await judge_all(items[len(first):], scores[len(first):], judged, on_done=progress)
        inner = getattr(judge, "judges", [judge])[0]
        identity = inner.provider.identity()
    finally:
        await judge.aclose()
    out = first + rest
    asked, failed, reason = _provider_errors(out)
    if asked and failed == asked:
        raise InputError.single("--judge", f"judge {models} gave no usable answer: {redact(reason or '')}")
    return out, _usage_sum(usages_of(judge)), identity


def _variants(entries, modes: list[str]) -> list[tuple[str, list, str]]:
    """(name, entries, mode) of each judge set-up to measure: each judge alone in each mode (a judge
    that does not ask in modes, such as Llama Guard, once), and the pair in each mode. The set-up
    the eval would use comes LAST (its scores are the ones shown in full and stored)."""
    out = []
    for mode in modes:
        for config, fmt in entries:
            chat = fmt == "chat"
            if chat or mode == modes[0]:
                out.append((config.model + (f" ({mode})" if chat and len(modes) > 1 else ""), [(config, fmt)], mode))
        if len(entries) == 2:
            out.append((" + ".join(c.model for c, _ in entries) + (f" ({mode})" if len(modes) > 1 else ""),
                        entries, mode))
    main = [v for v in out if len(v[1]) == len(entries) and v[2] == DEFAULT_MODE] or out[-1:]
    return [v for v in out if v is not main[0]] + [main[0]]


async def _run_all(entries, modes, items, scores, cache_path: Path | None, quiet: bool):
    from harness.scoring.judge import JudgeCache

    opened: list = []

    def cache():
        if not opened:
            opened.append(JudgeCache(cache_path) if cache_path is not None else JudgeCache(":memory:"))
        return opened[0]

    rows: list[dict[str, Any]] = []
    solo: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        for i, (name, chosen, mode) in enumerate(_variants(entries, modes)):
            out, usage, identity = await _run_variant(chosen, mode, items, scores, cache, quiet, i == 0, name)
            if len(chosen) == 1:
                solo[(chosen[0][0].model, mode)] = usage
            else:   # the pair asks both judges: its cost is theirs together (its own calls were cache hits)
                parts = [solo.get((c.model, mode)) or solo.get((c.model, modes[0])) or {} for c, _ in chosen]
                usage = {k: sum(p.get(k, 0) for p in parts) for k in usage}
            result = measure(items, out, ["signals", "judge", "combined"])
            rows.append(variant_row(name, result, {**usage, "mode": mode, "n_judges": len(chosen)}))
    finally:
        for c in opened:
            c.close()
    return out, identity, result, rows


def calibrate(
    gold: list[Path] = typer.Argument(..., help="Gold JSONL file(s): replies labelled per rule by people."),
    judge: Optional[list[str]] = typer.Option(None, "--judge", help="The judge to measure, provider/model "
                                              "(e.g. openai/gpt-4o-mini); twice for two judges that must agree "
                                              "(each alone and the pair are measured). Without it: signals and "
                                              "combined only."),
    judge_format: Optional[list[JudgeFormat]] = typer.Option(
        None, "--judge-format", help="chat (any chat model) or llama-guard (Meta's classifier; llama-guard-1|2|3|4 "
        "names its version); default: llama-guard for a model named like Llama Guard, else chat. Once per --judge, "
        "in order."),
    base_url: Optional[list[str]] = typer.Option(None, "--base-url", help="The judge's server (OpenAI-compatible, "
                                                 "e.g. http://127.0.0.1:11434/v1). Once per --judge, in order "
                                                 "('' for none)."),
    mode: ModeChoice = typer.Option(ModeChoice.per_reply, "--mode", help="How a chat judge asks: per_reply (one "
                                    "call answers every rule of a reply), per_rule (one call per rule), or both "
                                    "(measure the two side by side: agreement, recall, calls, tokens, cost)."),
    split: SplitChoice = typer.Option(SplitChoice.all, "--split",
                                      help="Only rows of this split (dev: tuned on; holdout: measure-only)."),
    results_dir: Path = ResultsOption,
    fmt: OutFormat = typer.Option(OutFormat.table, "--format", "-f", help="table or json (stdout)."),
    seed: int = typer.Option(0, "--seed", help="The judge's sampling seed (temperature is always 0)."),
    use_cache: bool = typer.Option(True, "--cache/--no-cache", help="Reuse cached judge verdicts."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress lines on stderr."),
) -> None:
    """Measure the signals, the judge and the combined verdict against human labels, per rule."""
    judges = list(judge or [])
    formats, urls = list(judge_format or []), list(base_url or [])
    if not judges and (urls or formats):
        raise InputError.single("--judge", "--base-url and --judge-format need --judge provider/model")
    if len(judges) > 2:
        raise InputError.single("--judge", f"{len(judges)} judges given; calibrate measures one judge or a pair")
    for what, given in (("--base-url", urls), ("--judge-format", formats)):
        if given and len(given) != len(judges) and not (len(given) == 1 and len(judges) == 1):
            raise InputError.single(what, f"give {what} once per --judge, in the same order ({len(judges)} judges, "
                                    f"{len(given)} {what})")
    configs = [_judge_config(m, (urls[i] or None) if i < len(urls) else None) for i, m in enumerate(judges)]
    configs = [c.model_copy(update={"params": c.params.model_copy(update={"seed": seed})}) for c in configs]
    fmts = [_resolved_format(m, formats[i] if i < len(formats) else None) for i, m in enumerate(judges)]
    items = filter_split(load_gold(gold), split.value)
    if not items:
        raise InputError.single(", ".join(map(str, gold)), f"has no rows of split {split.value!r}")
    scores = [score_item(item) for item in items]
    checkers = ["signals", "combined"]
    identity: dict[str, Any] = {}
    notes, rows = [], []
    judge_name = " + ".join(judges) or None
    fmt_used = " + ".join(fmts) or None
    modes = ["per_reply", "per_rule"] if mode is ModeChoice.both else [mode.value]
    if configs:
        cache = results_dir / "judge_cache.db" if use_cache else None
        entries = list(zip(configs, fmts))
        scores, identity, result, rows = asyncio.run(_run_all(entries, modes, items, scores, cache, quiet))
        checkers = ["signals", "judge", "combined"]
        main_mode = DEFAULT_MODE if mode is ModeChoice.both else mode.value
        notes.append(f"judge {judge_name} ({fmt_used} format, {main_mode} mode, seed {seed}) on {len(items)} replies"
                     + (": a rule's judge verdict needs both judges to agree" if len(configs) == 2 else ""))
    else:
        notes.append("no judge: measuring the signals and the combined verdict only (a pass the signals cannot "
                     "confirm is undecided); add --judge provider/model to measure a judge")
        result = measure(items, scores, checkers)
    if rows:
        result["variants"] = rows
    files = [_display_path(p) for p in gold]
    path = store_calibration(results_dir, result, gold_files=files, judge_model=judge_name,
                             judge_format=fmt_used, judge_identity=identity,
                             rules=rules_fingerprint(default_ruleset()), split_filter=split.value)
    if fmt is OutFormat.json:
        typer.echo(json.dumps(json.loads(path.read_text(encoding="utf-8")), indent=1, sort_keys=True))
    else:
        typer.echo(format_tables(result, notes))
        typer.echo("")
        if len(rows) > 1:
            typer.echo(f"-- judge set-ups compared (judge alone, {rows[0]['split']} split; recall counts undecided "
                       "failures as missed; a pair's calls are both judges')")
            for line in variants_table(rows):
                typer.echo(line)
            by_mode = {r["mode"]: r for r in rows if r["n_judges"] == len(configs)}
            if {"per_reply", "per_rule"} <= set(by_mode):
                typer.echo(mode_verdict(by_mode["per_reply"], by_mode["per_rule"]))
            typer.echo("")
        for line in calibration_lines(results_dir, judge_name):
            typer.echo(line)
    typer.echo(f"stored: {os.path.relpath(path) if not path.is_absolute() else path}", err=True)


app.command("calibrate")(calibrate)
