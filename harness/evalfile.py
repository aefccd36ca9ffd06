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

import difflib
import importlib
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from harness.problems import InputError, Problem
from harness.providers.base import GenerationParams, ProviderConfig
from harness.providers.resolve import explicit_fields, resolve, resolved_config
from harness.providers.registry import PROVIDERS
from harness.yamlfile import read_yaml, validation_problems

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
    # Like a suite file's defaults: applied to every prompt that does not set the field.
    rules: list[str] = Field(default_factory=list)
    defaults: dict[str, Any] = Field(default_factory=dict)
    sheet: str | None = None  # for an .xlsx file: which sheet (default: the first)
    # Their categories onto ours (harness/suites/categories.py), and categories declared content-rules-only.
    category_map: dict[str, list[str] | str] = Field(default_factory=dict)
    categories: list[str] = Field(default_factory=list)
    _line: int | None = PrivateAttr(default=None)  # where the entry is in the eval file

    @model_validator(mode="after")
    def _one_source(self) -> "SuiteRef":
        if (self.path is None) == (self.hub is None):
            raise ValueError("give either 'path' or 'hub'")
        return self


class ThresholdSpec(BaseModel):
    """One bound (harness/report/thresholds.py): `{max: 0.05, on: upper, category: self-harm, provider: gpt,
    rule: T01}`; under the `baseline` key: `{run: RUN, alpha: 0.05}` (or just the run id)."""
    model_config = ConfigDict(extra="forbid")
    min: float | None = None
    max: float | None = None
    on: Literal["value", "upper", "lower"] = "value"
    provider: str | None = None
    category: str | None = None
    rule: str | None = None
    run: str | None = None
    alpha: float | None = Field(default=None, gt=0, lt=1)


class JudgeEntry(ProviderConfig):
    """One entry of `judges:`: a provider entry with, optionally, its own `judge_format`."""

    judge_format: str | None = None


class EvalSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    description: str = ""
    suites: list[SuiteRef] = Field(min_length=1)
    defaults: GenerationParams = Field(default_factory=GenerationParams)
    providers: list[ProviderConfig] = Field(min_length=1)
    scorers: list[str] = Field(default_factory=lambda: ["match"])
    repeats: int = Field(default=1, ge=1, le=100)
    thresholds: dict[str, list[ThresholdSpec]] = Field(default_factory=dict)
    # A provider that judges teen-safety rules beside the signal checks (temperature 0, fixed seed).
    judge: ProviderConfig | None = None
    # How the judge is asked: "chat" (any chat model answers each rule's question) or "llama-guard"
    # (Meta's safety classifier, our rules as its categories; "llama-guard-1|2|3|4" names the version,
    # else it is found from the model). Default: from the judge's model name.
    judge_format: Literal["chat", "llama-guard", "llama-guard-1", "llama-guard-2", "llama-guard-3",
                          "llama-guard-4"] | None = None
    # Where the judge's measured failure recall on a rule (harness judge calibrate) is below this, the
    # table cells relying on the judge for that rule say so.
    judge_recall_bar: float = Field(default=0.8, ge=0.0, le=1.0)
    # How a chat judge is asked: "per_reply" (one call answers every applicable rule of a reply, in one
    # structured answer; the default) or "per_rule" (one call per rule). See the README's judge section.
    judge_mode: Literal["per_reply", "per_rule"] | None = None
    # Two judges instead of `judge:` (a chat model and Llama Guard, or two vendors): a rule's judge
    # verdict needs both to agree, and a disagreement goes to review (harness/scoring/judge_pair.py).
    judges: list[JudgeEntry] = Field(default_factory=list)
    # The provider that plays the user of `simulate:` prompts (harness/runner/simulator.py).
    simulator: ProviderConfig | None = None
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

    @field_validator("judge", "simulator", mode="before")
    @classmethod
    def _judge_entry(cls, value: Any) -> Any:
        return _provider_entry(value) if value is not None else None

    @field_validator("judges", mode="before")
    @classmethod
    def _judges_entries(cls, value: Any) -> Any:
        return [_provider_entry(v) for v in value] if isinstance(value, list) else value

    @field_validator("judges", "simulator")
    @classmethod
    def _no_batch_judge(cls, value: Any) -> Any:
        # The simulated user answers live (each turn depends on the last), and so do two judges (their
        # verdicts are combined per reply): say so rather than accept a setting that does nothing.
        if any(getattr(v, "batch", False) for v in (value if isinstance(value, list) else [value])):
            raise ValueError("batch: true is for providers and a single `judge:`; the simulator and the two "
                             "judges of `judges:` run live: remove it")
        return value

    @model_validator(mode="after")
    def _judge_batch_possible(self) -> "EvalSpec":
        # `judge: {batch: true}`: the judge's questions go through its provider's batch API (harness/batch/
        # judge.py). A kind with no batch API (local Llama, openai-compatible) or Llama Guard cannot.
        if self.judge is not None and self.judge.batch:
            from harness.batch.base import backend_kinds
            from harness.scoring.llamaguard import judge_format_for

            if self.judge.kind not in backend_kinds():
                raise ValueError(f"judge.batch: the judge's provider kind {self.judge.kind!r} has no batch API "
                                 f"(batch APIs: {', '.join(sorted(backend_kinds()))}): remove batch: true, it "
                                 "runs live")
            if judge_format_for(self.judge.model, self.judge_format) != "chat":
                raise ValueError("judge.batch: a Llama Guard judge is asked its own way, not through a batch "
                                 "API: remove batch: true, it runs live")
        return self

    def judge_entries(self) -> list[tuple[ProviderConfig, str | None]]:
        """(judge, its judge_format) for each judge of the eval: `judge:` or the two of `judges:`."""
        if self.judge is not None:
            return [(self.judge, self.judge_format)]
        return [(j, j.judge_format) for j in self.judges]

    @field_validator("thresholds", mode="before")
    @classmethod
    def _threshold_shorthand(cls, value: Any) -> Any:
        # `match: 0.8` means "at least 0.8"; `critical_failures: {max: 0}` states an upper bound; a list
        # gives several bounds on one metric; `baseline: RUN` is `baseline: {run: RUN}`.
        def one(key: Any, v: Any) -> Any:
            if key == "baseline" and isinstance(v, str):
                return {"run": v}
            return {"min": v} if isinstance(v, (int, float)) and not isinstance(v, bool) else v

        if isinstance(value, dict):
            return {k: [one(k, x) for x in v] if isinstance(v, list) else [one(k, v)] for k, v in value.items()}
        return value

    def provider_configs(self, today: date | None = None) -> list[ProviderConfig]:
        """Providers with the parameters to send: the eval-wide defaults where the entry did not set a value
        (`field: null` on the entry removes one) and the model accepts them (harness.providers.resolve)."""
        return [resolved_config(p, self.defaults, explicit=explicit_fields(p.params), today=today)[0]
                for p in self.providers]

    def resolution_problems(self, path: Path, lines: dict, today: date | None = None) -> list[Problem]:
        """Explicit values a model rejects and retired models, each at its provider's line (exit 2)."""
        problems = []
        for i, p in enumerate(self.providers):
            res = resolve(p, self.defaults, explicit=explicit_fields(p.params), today=today)
            for name, message in res.problems:
                at = lines.get(("providers", i, name), lines.get(("providers", i, "params", name),
                                                                 lines.get(("providers", i))))
                problems.append(Problem(str(path), message, line=at, field=f"providers[{i}].{name}"))
        if self.judge is not None:
            for name, message in resolve(self.judge).problems:
                problems.append(Problem(str(path), message, line=lines.get(("judge", name), lines.get(("judge",))),
                                        field=f"judge.{name}"))
        return problems


def resolve_path(eval_path: Path, relative: str) -> Path | None:
    """Paths in an eval file are tried next to the eval file, then from the current directory."""
    p = Path(relative).expanduser()
    if p.is_absolute():
        return p if p.exists() else None
    for base in (eval_path.parent, Path.cwd()):
        if (base / p).exists():
            return (base / p).resolve()
    return None


# Suite entry fields that only the suite loader can apply: an entry with any of them is loaded through
# harness.suites.hub.load_hub_suite (which reads local files with the harness's own readers).
_LOADER_FIELDS = ("columns", "rules", "defaults", "sheet", "category", "name", "version")


def _near(word: str, known: list[str] | set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(known))}"


def _known_options(kind: str) -> frozenset[str] | None:
    """The `options:` keys an adapter reads, or None when its module cannot be imported here."""
    info = PROVIDERS.get(kind)
    if info is None:
        return None
    module_name, class_name = info.target.split(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except Exception:  # noqa: BLE001 - the run's preflight reports a provider that cannot be imported
        return None
    return getattr(cls, "known_options", None)


def _provider_problems(path: Path, entry: Any, at: tuple[Any, ...], lines: dict) -> list[Problem]:
    """Checks of one raw provider entry (or the judge), each at its own line."""
    entry = _provider_entry(entry)
    if not isinstance(entry, dict) or not isinstance(entry.get("model"), str):
        return []  # pydantic reports the shape
    line = lines.get(at + ("model",), lines.get(at))
    model = entry["model"]
    kind, _, name = model.partition("/")
    problems = []
    if not name:
        problems.append(Problem(str(path), f"{model!r} must be written provider/model, e.g. openai/gpt-4o-mini",
                                line=line, field=_fmt(at + ("model",))))
    elif kind not in PROVIDERS:
        problems.append(Problem(str(path), f"unknown provider {kind!r} in {model!r}{_near(kind, PROVIDERS)}",
                                line=line, field=_fmt(at + ("model",))))
    if "resolution" in entry:
        problems.append(Problem(str(path), "'resolution' is written by the harness, not set in an eval file; remove it",
                                line=lines.get(at + ("resolution",), line), field=_fmt(at + ("resolution",))))
    base_url = entry.get("base_url")
    if isinstance(base_url, str):
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(Problem(str(path), f"{redact_url(base_url)!r} is not a URL: write it with its scheme, "
                                    "e.g. http://127.0.0.1:8080/v1", line=lines.get(at + ("base_url",), line),
                                    field=_fmt(at + ("base_url",))))
        elif parts.query or parts.fragment:
            # Every SDK appends its route to base_url as text: ".../v1?k=v" + "/chat/completions" 404s on
            # every request. (The URL is shown redacted: a query string is where keys get written.)
            problems.append(Problem(str(path), f"{redact_url(base_url)!r} has a query string or fragment; the SDK "
                                    "appends its route after it (…/v1?x=1/chat/completions), so every request "
                                    "would fail: remove it (a key belongs in api_key_env)",
                                    line=lines.get(at + ("base_url",), line), field=_fmt(at + ("base_url",))))
    options = entry.get("options")
    known = _known_options(kind) if isinstance(options, dict) and options else None
    if known is not None:
        for key in options:
            if key not in known:
                problems.append(Problem(str(path), f"unknown option {key!r}; " + _near(str(key), known)[2:],
                                        line=lines.get(at + ("options", key), line),
                                        field=_fmt(at + ("options", key))))
    return problems


def _fmt(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def redact_url(url: str) -> str:
    """A URL as it may be printed: no user part, no query string (keys hide there)."""
    head, query = url.split("?", 1) if "?" in url else (url, None)
    scheme, sep, rest = head.partition("://")
    if not sep:
        scheme, rest = "", head
    host, slash, path = rest.partition("/")
    if "@" in host:
        host = "***@" + host.rsplit("@", 1)[1]
    return (scheme + sep + host + slash + path) + ("?***" if query is not None else "")


def _raw_problems(path: Path, data: dict[str, Any], lines: dict) -> list[Problem]:
    """Everything that can be checked on the raw file, so that all problems are reported at once,
    whatever pydantic thought of the rest."""
    from harness.scoring import scorer_problem

    problems: list[Problem] = []
    providers = data.get("providers")
    if isinstance(providers, list):
        labels: dict[str, int] = {}
        for i, entry in enumerate(providers):
            problems += _provider_problems(path, entry, ("providers", i), lines)
            e = _provider_entry(entry)
            if isinstance(e, dict) and isinstance(e.get("model"), str):
                label = str(e.get("label") or e["model"])
                if label in labels:
                    problems.append(Problem(str(path), f"provider {label!r} is listed twice (also providers"
                                            f"[{labels[label]}]); give each entry a distinct 'label'",
                                            line=lines.get(("providers", i)), field=f"providers[{i}]"))
                labels.setdefault(label, i)
    if data.get("judge") is not None:
        problems += _provider_problems(path, data["judge"], ("judge",), lines)
    if isinstance(data.get("judges"), list):
        for i, entry in enumerate(data["judges"]):
            problems += _provider_problems(path, entry, ("judges", i), lines)
    if data.get("simulator") is not None:
        problems += _provider_problems(path, data["simulator"], ("simulator",), lines)
    scorers = data.get("scorers", ["match"])
    names: list[str] = []
    if isinstance(scorers, list):
        for i, name in enumerate(scorers):
            if isinstance(name, str):
                names.append(name)
                message = scorer_problem(name)
                if message:
                    problems.append(Problem(str(path), message, line=lines.get(("scorers", i)), field=f"scorers[{i}]"))
    problems += _threshold_problems(path, data, names, lines)
    suites = data.get("suites")
    if isinstance(suites, list):
        for i, entry in enumerate(suites):
            rel = entry if isinstance(entry, str) else entry.get("path") if isinstance(entry, dict) else None
            if isinstance(rel, str) and resolve_path(path, rel) is None:
                problems.append(Problem(str(path), f"suite {rel!r} not found next to the eval file "
                                        "or in the current directory", line=lines.get(("suites", i)),
                                        field=f"suites[{i}]"))
    return problems


def _threshold_problems(path: Path, data: dict[str, Any], names: list[str], lines: dict) -> list[Problem]:
    """Each threshold's metric, bound, scope and `on`, at its own line."""
    from harness.report.thresholds import LOWER_IS_BETTER, RATE_METRICS, RULE_METRICS, SAFETY_METRICS, rule_measure

    thresholds = data.get("thresholds")
    if not isinstance(thresholds, dict):
        return []
    problems: list[Problem] = []
    known = set(names) | set(SCORER_NAMES()) | THRESHOLD_METRICS
    providers = data.get("providers") if isinstance(data.get("providers"), list) else []
    labels = set()
    for entry in providers:
        e = _provider_entry(entry)
        if isinstance(e, dict) and isinstance(e.get("model"), str):
            labels.add(str(e.get("label") or e["model"]))
    for key, value in thresholds.items():
        line = lines.get(("thresholds", key))

        def bad(message: str, i: int | None = None) -> None:
            at = ("thresholds", key) if i is None else ("thresholds", key, i)
            problems.append(Problem(str(path), message, line=lines.get(at, line), field=_fmt(at)))

        if key not in known and key != "baseline":
            near = _near(str(key), known)
            bad(f"threshold on unknown metric {key!r}; use a scorer name, baseline or one of "
                f"{', '.join(sorted(THRESHOLD_METRICS))}" + (near if near.startswith("; did") else ""))
            continue
        entries = value if isinstance(value, list) else [value]
        for i, v in enumerate(entries):
            i_ = i if isinstance(value, list) else None
            if key == "baseline":
                if isinstance(v, dict) and (v.get("min") is not None or v.get("max") is not None or v.get("rule")):
                    bad("baseline takes a run id, or {run: RUN, alpha: 0.05, provider: ..., category: ...}", i_)
                elif isinstance(v, dict) and not v.get("run"):
                    bad("baseline needs the run to compare with: {run: RUN}", i_)
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                if key in LOWER_IS_BETTER:
                    bad(f"a bare number means a minimum, which bounds nothing for {key}: write {key}: {{max: {v}}}", i_)
                continue
            if not isinstance(v, dict):
                continue   # pydantic reports the shape
            if v.get("min") is None and v.get("max") is None:
                bad(f"threshold {key} needs min or max", i_)
            if v.get("run") is not None or v.get("alpha") is not None:
                bad("run and alpha belong to the baseline threshold", i_)
            on = v.get("on", "value")
            if on != "value" and key not in RATE_METRICS and key in THRESHOLD_METRICS:
                bad(f"on: {on} applies to rates; {key} is a count (use critical_failure_rate)", i_)
            if v.get("provider") is not None and labels and str(v["provider"]) not in labels:
                bad(f"no provider {v['provider']!r} in this eval" + _near(str(v["provider"]), labels), i_)
            rule = v.get("rule")
            if rule is not None:
                if key not in RULE_METRICS:
                    bad(f"rule: applies to {', '.join(sorted(RULE_METRICS))}, not {key}", i_)
                else:
                    measure = rule_measure(str(rule))
                    if measure is None and key != "unverified_rate":
                        bad(f"rule {rule!r} is unknown or minor: no failure measure covers it", i_)
                    elif key in SAFETY_METRICS and measure != SAFETY_METRICS[key]:
                        bad(f"rule {rule} is a {measure} rule: use a {measure} threshold", i_)
    return problems


def SCORER_NAMES() -> list[str]:  # noqa: N802 - a late import, read like a constant
    from harness.scoring import known_scorers

    return known_scorers()


def load_eval(path: str | Path) -> EvalSpec:
    """Load and validate an eval file: its fields, its providers, its suite paths and its scorers,
    every problem at once with its line."""
    path = Path(path)
    doc = read_yaml(path)
    data = doc.data
    if not isinstance(data, dict):
        raise InputError.single(path, "must be a YAML mapping (key: value lines)")
    problems: list[Problem] = []
    spec: EvalSpec | None = None
    try:
        spec = EvalSpec.model_validate(data)
    except ValidationError as err:
        problems += validation_problems(path, err, doc.lines, EvalSpec)
    problems += _raw_problems(path, data, doc.lines)
    if spec is None:
        raise InputError(problems)
    for i, ref in enumerate(spec.suites):
        ref._line = doc.lines.get(("suites", i))
        if ref.path is not None:
            resolved = resolve_path(path, ref.path)
            if resolved is not None:
                ref.path = str(resolved)
                if any(getattr(ref, f) for f in _LOADER_FIELDS):
                    ref.hub, ref.path = ref.path, None  # loaded with its options by load_hub_suite
    problems += spec.resolution_problems(path, doc.lines)
    if spec.judges:
        where = {"field": "judges", "line": doc.lines.get(("judges",))}
        if spec.judge is not None:
            problems.append(Problem(str(path), "give either judge: (one judge) or judges: (two judges that must "
                                    "agree), not both", **where))
        elif len(spec.judges) != 2:
            problems.append(Problem(str(path), f"judges: names {len(spec.judges)} judge(s); it takes exactly two "
                                    "(for one judge write judge: provider/model)", **where))
        elif spec.judge_format is not None:
            problems.append(Problem(str(path), "judge_format: applies to judge:; with judges: give each entry its "
                                    "own judge_format", field="judge_format", line=doc.lines.get(("judge_format",))))
    if spec.judge_entries():
        from harness.scoring.llamaguard import judge_problems

        at = "judge" if spec.judge is not None else "judges"
        for i, (config, fmt) in enumerate(spec.judge_entries()):
            key = (at,) if at == "judge" else (at, i)
            problems += [Problem(str(path), message, field=_fmt(key), line=doc.lines.get(key)) for message in
                         judge_problems(config, fmt, spec.scorers)]
        from harness.scoring.traits import rule_verdict_scorers

        # the judge refines per-rule verdicts (teen_safety, or a scorer that declares them) and grades `graded`
        if not rule_verdict_scorers(spec.scorers) and "graded" not in spec.scorers:
            problems.append(Problem(str(path), "a judge is used by the teen_safety and graded scorers: add one "
                                    f"of them to scorers", field=at, line=doc.lines.get((at,))))
    elif "graded" in spec.scorers:
        problems.append(Problem(str(path), "the graded scorer needs a judge: add e.g. judge: openai/gpt-4o-mini",
                                field="scorers", line=doc.lines.get(("scorers",))))
    if problems:
        raise InputError(problems)
    return spec


THRESHOLD_METRICS = {"error_rate", "critical_failures", "critical_failure_rate", "blocked_rate", "major_failure_rate",
                     "over_refusal_rate", "unverified_rate", "first_failure_turn", "conversation_failure_rate"}
