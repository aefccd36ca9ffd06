"""The eval file: which suites, which providers, which scorers, how many repeats, which thresholds.

    name: smoke
    suites: [prompts/smoke.yaml]
    defaults: {temperature: 0, max_tokens: 128, seed: 7}
    providers:
      - model: llama/models/Llama-3.2-1B-Instruct-Q4_K_M.gguf
      - model: openai/gpt-4o-mini
        label: gpt-4o-mini
    scorers: [match]
    repeats: 1
    thresholds: {match: 0.8}
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.problems import InputError, Problem
from harness.providers.base import GenerationParams, ProviderConfig
from harness.providers.registry import PROVIDERS
from harness.yamlfile import load_yaml_model

PARAM_KEYS = set(GenerationParams.model_fields)


def _provider_entry(entry: Any) -> Any:
    """Accept `- openai/gpt-4o-mini` and flat generation parameters next to `model:`."""
    if isinstance(entry, str):
        entry = {"model": entry}
    if isinstance(entry, dict):
        entry = dict(entry)
        params = dict(entry.pop("params", {}) or {})
        for key in list(entry):
            if key in PARAM_KEYS:
                params[key] = entry.pop(key)
        entry["params"] = params
    return entry


class SuiteRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str | None = None
    # A dataset on the Hugging Face hub (or a local dataset folder) loaded with `datasets`.
    hub: str | None = None
    split: str = "test"
    revision: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    name: str | None = None
    version: str | None = None
    category: str | None = None
    # Their categories onto ours (harness/suites/categories.py), and categories declared content-rules-only.
    category_map: dict[str, list[str] | str] = Field(default_factory=dict)
    categories: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_source(self) -> "SuiteRef":
        if (self.path is None) == (self.hub is None):
            raise ValueError("give either 'path' or 'hub'")
        return self


class ThresholdSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: float | None = None
    max: float | None = None


class EvalSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    description: str = ""
    suites: list[SuiteRef] = Field(min_length=1)
    defaults: GenerationParams = Field(default_factory=GenerationParams)
    providers: list[ProviderConfig] = Field(min_length=1)
    scorers: list[str] = Field(default_factory=lambda: ["match"])
    repeats: int = Field(default=1, ge=1, le=100)
    thresholds: dict[str, ThresholdSpec] = Field(default_factory=dict)
    # A provider that judges teen-safety rules beside the signal checks (temperature 0, fixed seed).
    judge: ProviderConfig | None = None
    # How the judge is asked: "chat" (any chat model answers each rule's question) or "llama-guard"
    # (Meta's safety classifier, our rules as its categories). Default: from the judge's model name.
    judge_format: Literal["chat", "llama-guard"] | None = None
    # Their prompt categories onto ours, for every suite of the eval (a suite entry's own map wins).
    category_map: dict[str, list[str] | str] = Field(default_factory=dict)

    @field_validator("suites", mode="before")
    @classmethod
    def _suite_strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"path": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("providers", mode="before")
    @classmethod
    def _provider_entries(cls, value: Any) -> Any:
        return [_provider_entry(v) for v in value] if isinstance(value, list) else value

    @field_validator("providers")
    @classmethod
    def _known_providers(cls, value: list[ProviderConfig]) -> list[ProviderConfig]:
        for p in value:
            if "/" not in p.model or not p.model_name:
                raise ValueError(f"{p.model!r} must be written provider/model, e.g. openai/gpt-4o-mini")
            if p.kind not in PROVIDERS:
                raise ValueError(f"unknown provider {p.kind!r} in {p.model!r}; known: {', '.join(sorted(PROVIDERS))}")
        labels = [p.display for p in value]
        dupes = sorted({l for l in labels if labels.count(l) > 1})
        if dupes:
            raise ValueError(f"provider {dupes[0]!r} is listed twice; give each entry a distinct 'label'")
        return value

    @field_validator("judge", mode="before")
    @classmethod
    def _judge_entry(cls, value: Any) -> Any:
        return _provider_entry(value) if value is not None else None

    @field_validator("thresholds", mode="before")
    @classmethod
    def _threshold_shorthand(cls, value: Any) -> Any:
        # `match: 0.8` means "at least 0.8"; `critical_failures: {max: 0}` states an upper bound.
        if isinstance(value, dict):
            return {k: ({"min": v} if isinstance(v, (int, float)) else v) for k, v in value.items()}
        return value

    def provider_configs(self) -> list[ProviderConfig]:
        """Providers with the eval-wide defaults filled in where the entry did not set a value."""
        out = []
        for p in self.providers:
            merged = {**self.defaults.model_dump(exclude_none=True), **p.params.model_dump(exclude_none=True)}
            out.append(p.model_copy(update={"params": GenerationParams(**merged)}))
        return out


def resolve_path(eval_path: Path, relative: str) -> Path | None:
    """Paths in an eval file are tried next to the eval file, then from the current directory."""
    p = Path(relative).expanduser()
    if p.is_absolute():
        return p if p.exists() else None
    for base in (eval_path.parent, Path.cwd()):
        if (base / p).exists():
            return (base / p).resolve()
    return None


def load_eval(path: str | Path) -> EvalSpec:
    """Load and validate an eval file, including that its suite paths and scorers exist."""
    from harness.scoring import SCORERS  # local: scoring imports are not needed to parse YAML

    path = Path(path)
    spec, _ = load_yaml_model(path, EvalSpec)
    problems = []
    for i, ref in enumerate(spec.suites):
        if ref.path is not None:
            resolved = resolve_path(path, ref.path)
            if resolved is None:
                problems.append(Problem(str(path), f"suite {ref.path!r} not found next to the eval file "
                                        "or in the current directory", field=f"suites[{i}]"))
            else:
                ref.path = str(resolved)
    if spec.judge is not None:
        if spec.judge.kind not in PROVIDERS:
            problems.append(Problem(str(path), f"unknown provider {spec.judge.kind!r}", field="judge.model"))
        from harness.scoring.llamaguard import judge_problems

        problems += [Problem(str(path), message, field="judge") for message in
                     judge_problems(spec.judge, spec.judge_format, spec.scorers)]
        if "teen_safety" not in spec.scorers and "graded" not in spec.scorers:
            problems.append(Problem(str(path), "a judge is used by the teen_safety and graded scorers: add one "
                                    "of them to scorers", field="judge"))
    elif "graded" in spec.scorers:
        problems.append(Problem(str(path), "the graded scorer needs a judge: add e.g. judge: openai/gpt-4o-mini",
                                field="scorers"))
    for name in spec.scorers:
        if name not in SCORERS:
            problems.append(Problem(str(path), f"unknown scorer {name!r}; known: {', '.join(sorted(SCORERS))}",
                                    field="scorers"))
    for key in spec.thresholds:
        if key not in SCORERS and key not in THRESHOLD_METRICS:
            problems.append(Problem(str(path), f"threshold on unknown metric {key!r}; use a scorer name or one of "
                                    f"{', '.join(sorted(THRESHOLD_METRICS))}", field=f"thresholds.{key}"))
    if problems:
        raise InputError(problems)
    return spec


THRESHOLD_METRICS = {"error_rate", "critical_failures", "blocked_rate", "major_failure_rate", "over_refusal_rate", "unverified_rate"}
