"""Turning an eval file into a run: everything that can be wrong with the input is found here, before
anything is written to the store."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from harness.evalfile import EvalSpec, load_eval, resolve_path
from harness.problems import InputError, Problem
from harness.providers.base import Provider, ProviderConfig
from harness.providers.registry import create_provider
from harness.scoring.traits import rule_verdict_scorers
from harness.suites import Suite, load_suites
from harness.suites.categories import apply_map, parse_declared, parse_map, unmapped, unused_map_keys
from harness.suites.hub import load_hub_suite
from harness.types import Prompt


@dataclass
class PlannedRun:
    eval_path: Path
    spec: EvalSpec
    suites: list[Suite]
    providers: list[Provider]
    samples: list[tuple[str, Prompt, str, int]]  # (suite, prompt, provider label, repeat)


def _select_providers(spec: EvalSpec, eval_path: Path, only: list[str] | None) -> list[ProviderConfig]:
    configs = spec.provider_configs()
    if only:
        known = {c.display for c in configs} | {c.model for c in configs} | {c.kind for c in configs}
        missing = [o for o in only if o not in known]
        if missing:
            raise InputError.single(eval_path, f"--provider {missing[0]!r} is not in this eval; it has: "
                                    + ", ".join(c.display for c in configs))
        configs = [c for c in configs if {c.display, c.model, c.kind} & set(only)]
    resolved = []
    for c in configs:
        if c.kind == "llama" and "model_path" not in c.options:
            local = resolve_path(eval_path, c.model_name)
            if local is not None:
                c = c.model_copy(update={"options": {**c.options, "model_path": str(local)}})
        resolved.append(c)
    return resolved


def map_categories(spec: EvalSpec, eval_path: Path, suites: list[Suite],
                   refs: list) -> tuple[list[Suite], list[Problem]]:
    """Apply the eval's category maps (a suite entry's own map wins over the eval-wide one, and both over
    the suite file's), and, when the eval scores teen_safety, require every category to be built in,
    mapped or declared: a user's category must never silently lose its conditional rules."""
    problems: list[Problem] = []
    eval_map, found = parse_map(spec.category_map or None, {"file": str(eval_path)})
    problems += found
    out = []
    for suite, ref in zip(suites, refs):
        ref_map, found = parse_map(ref.category_map or None, {"file": str(eval_path), "record": f"suite {suite.name}"})
        problems += found
        declared = suite.declared_categories + parse_declared(ref.categories, {"file": str(eval_path)})[0]
        prompts = apply_map(suite.prompts, {**eval_map, **ref_map})
        if rule_verdict_scorers(spec.scorers):   # rules apply by category: none may be lost
            problems += unmapped(prompts, declared, suite.path, map_keys=[*eval_map, *ref_map])
        warnings = unused_map_keys(ref_map, [p.category for p in suite.prompts], f"{eval_path} (suite {suite.name})")
        out.append(replace(suite, prompts=prompts, declared_categories=declared,
                           warnings=[*suite.warnings, *warnings]))
    every = [p.category for s in suites for p in s.prompts]
    if out:   # the eval-wide map: its keys against the prompts of every suite
        out[0].warnings.extend(unused_map_keys(eval_map, every, str(eval_path)))
    return out, problems


def plan_run(eval_path: str | Path, *, only_providers: list[str] | None = None, limit: int | None = None) -> PlannedRun:
    eval_path = Path(eval_path)
    spec = load_eval(eval_path)
    path_refs = [r for r in spec.suites if r.path is not None]
    hub_refs = [r for r in spec.suites if r.hub is not None]
    problems: list[Problem] = []
    suites: list[Suite] = []
    try:  # suite problems are collected with the providers' ones: every problem is reported at once
        suites = load_suites([r.path for r in path_refs])
    except InputError as err:
        problems += err.problems
    for ref in hub_refs:
        try:
            suites.append(load_hub_suite(ref, eval_path))
        except InputError as err:
            problems += err.problems
    if not problems:
        suites, problems = map_categories(spec, eval_path, suites, path_refs + hub_refs)
        # Back into the eval file's order (hub suites were loaded after the files): --limit takes the first
        # N prompts overall in that order, and the tables list the suites as the eval file does.
        place = [i for i, r in enumerate(spec.suites) if r.path is not None] + \
                [i for i, r in enumerate(spec.suites) if r.hub is not None]
        suites = [s for _, s in sorted(zip(place, suites), key=lambda pair: pair[0])]
    configs = _select_providers(spec, eval_path, only_providers)
    providers = []
    for i, c in enumerate(configs):
        try:
            provider = create_provider(c)
        except (ImportError, ValueError) as err:
            problems.append(Problem(str(eval_path), str(err), field=f"providers: {c.display}"))
            continue
        # Adapters name "eval file" in their problems; point them at the real path.
        problems += [replace(p, file=str(eval_path)) if p.file == "eval file" else p for p in provider.preflight()]
        providers.append(provider)
    from harness.scoring.rules import check_prompt_rules

    problems += check_prompt_rules([p for s in suites for p in s.prompts])
    problems += _simulator_problems(spec, eval_path, suites)
    if problems:
        raise InputError(problems)
    prompts = [(s.name, p) for s in suites for p in s.prompts]
    if limit is not None:
        prompts = prompts[:limit]
    samples = [(suite, prompt, provider.config.display, repeat)
               for provider in providers for repeat in range(spec.repeats) for suite, prompt in prompts]
    return PlannedRun(eval_path, spec, suites, providers, samples)


def _simulator_problems(spec: EvalSpec, eval_path: Path, suites: list[Suite]) -> list[Problem]:
    """Simulated users need the eval's `simulator:`, and a simulator must be a usable provider."""
    problems: list[Problem] = []
    simulated = [p.id for s in suites for p in s.prompts if p.simulate is not None]
    if simulated and spec.simulator is None:
        problems.append(Problem(str(eval_path), f"{len(simulated)} prompts simulate a user (e.g. {simulated[0]!r}) "
                                "but the eval has no simulator; add e.g. simulator: {model: openai/gpt-4o-mini, "
                                "temperature: 0.7, seed: 7}", field="simulator"))
    if spec.simulator is not None:
        try:
            problems += [replace(p, file=str(eval_path), field="simulator") if p.file == "eval file" else p
                         for p in create_provider(spec.simulator).preflight()]
        except (ImportError, ValueError) as err:
            problems.append(Problem(str(eval_path), str(err), field="simulator"))
    return problems
