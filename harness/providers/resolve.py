"""Parameter resolution: what is sent to a model, what is left to the provider's default, and why.

The real APIs of late 2026 answer 400 to parameters they used to accept (capabilities.yaml), and a run
in which every request is a 400 measures nothing. So, before anything is sent:

* an eval's `defaults:` apply only where the model accepts them; otherwise they are left out and the
  run's provider record says "provider default" and why;
* a value set explicitly on one provider that its model rejects is bad input (a problem naming the
  provider, the model and the field: exit 2, nothing sent);
* `field: null` on a provider removes a default;
* `max_tokens` means the visible answer: where the model's hidden reasoning counts against the budget,
  the model's reasoning allowance (table, or `reasoning_allowance:`) is added to what is sent;
* a model past its shutdown date is bad input unless the provider says `allow_retired: true`; one
  within 30 days of it gets a warning.

The judge and `harness providers --check` resolve through here too. Pure: no I/O besides reading the
table (and the installed SDK's shutdown dates).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from harness.providers.base import GenerationParams, ProviderConfig
from harness.providers.capabilities import SAME_MODELS, ModelCaps, load_table, model_caps

PROVIDER_DEFAULT = "provider default"
WARN_DAYS = 30
# Kinds whose models the table covers (others, e.g. local models, have no table: sent as given).
TABLE_KINDS = ("openai", "anthropic", "gemini", "gemini-legacy")
# Kinds with no reasoning control of their own (an explicit `reasoning:` is bad input there).
NO_REASONING_KINDS = ("llama",)


def today_date() -> date:
    """Today, for shutdown dates; HARNESS_TODAY=YYYY-MM-DD pins it (tests, reproducing an old run's checks)."""
    pinned = os.environ.get("HARNESS_TODAY")
    return date.fromisoformat(pinned) if pinned else date.today()


@dataclass
class Resolution:
    params: GenerationParams
    notes: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field, message)
    warnings: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """What is stored with the run (ProviderConfig.resolution)."""
        out: dict[str, Any] = dict(self.notes)
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


def explicit_fields(params: GenerationParams) -> set[str]:
    """The fields an eval file's provider entry set, including those set to null."""
    return set(params.model_fields_set)


def _rule_outcome(rule: str, value: Any, effort: Any) -> tuple[bool, str]:
    """(sendable, why not) for a table rule and a value."""
    if rule == "accepted":
        return True, ""
    if rule == "rejected":
        return False, "rejected by the API at any value"
    if rule == "unsupported":
        return False, "the API has no such field"
    if rule == "only_1":
        return (value == 1, "only the default value 1 is accepted")
    if rule == "reasoning_none":
        return (effort == "none", "accepted only with reasoning: none (reasoning_effort none)")
    if rule == "discouraged":
        return True, "the provider asks to keep its default"
    return False, f"unknown rule {rule!r}"


class _Resolver:
    def __init__(self, config: ProviderConfig, defaults: GenerationParams, explicit: set[str],
                 today: date | None) -> None:
        self.config = config
        self.kind = config.kind
        self.model = config.model_name
        self.caps: ModelCaps | None = model_caps(self.kind, self.model) if self.kind in TABLE_KINDS else None
        self.today = today or today_date()
        self.res = Resolution(params=GenerationParams())
        # value and where it came from: "provider" (explicit) or "defaults"
        self.values: dict[str, tuple[Any, str]] = {}
        given = config.params
        for name in GenerationParams.model_fields:
            if name in explicit:
                value = getattr(given, name)
                if value is None:
                    if getattr(defaults, name) is not None:
                        self.res.notes[name] = f"{PROVIDER_DEFAULT}: the default was removed by the provider entry " \
                                               f"({name}: null)"
                    continue
                self.values[name] = (value, "provider")
            elif getattr(defaults, name) is not None:
                self.values[name] = (getattr(defaults, name), "defaults")

    def where(self) -> str:
        c = self.config
        return f"{c.label} ({c.model})" if c.label and c.label != c.model else c.model

    def drop_or_fail(self, name: str, why: str) -> None:
        value, origin = self.values.pop(name)
        if origin == "provider":
            self.res.problems.append((name, f"{self.where()}: {name}: {value!r} is not accepted by this model: "
                                            f"{why}; remove it (or set {name}: null)"))
        else:
            self.res.notes[name] = f"{PROVIDER_DEFAULT}: the default {value!r} left out: {why}"

    # -- steps ------------------------------------------------------------------------------------
    def lifecycle(self) -> None:
        caps = self.caps
        if caps is None:
            if self.kind in TABLE_KINDS:
                table = load_table()
                self.res.warnings.append(
                    f"{self.where()}: model not in the capability table (capabilities.yaml {table.version}): "
                    "parameters are sent as given, unchecked; its shutdown date is unknown")
                self.res.notes["capabilities"] = "not in the capability table: sent as given"
            return
        self.res.notes["capabilities"] = (f"capabilities.yaml {load_table().version}, entry {caps.pattern!r} "
                                          f"(sources: {', '.join(caps.sources)})")
        if caps.api == "unsupported":
            self.res.problems.append(("model", f"{self.where()}: {self.model} is not a supported model id "
                                               f"({', '.join(caps.sources)})"
                                               + (f"; use {caps.successor}" if caps.successor else "")))
        if caps.api == "responses":
            self.res.problems.append(("model", f"{self.where()}: {self.model} is served only by OpenAI's Responses "
                                               "API (openai/types/shared/responses_model.py); the openai provider "
                                               "uses Chat Completions: choose a chat model"))
        if caps.shutdown is None:
            return
        successor = f"; use {caps.successor}" if caps.successor else ""
        days = (caps.shutdown - self.today).days
        if days <= 0:
            message = (f"{self.where()}: {self.model} was shut down on {caps.shutdown} ({caps.shutdown_source})"
                       f"{successor}")
            if self.config.allow_retired:
                self.res.warnings.append(message + " (run anyway: allow_retired: true)")
            else:
                self.res.problems.append(("model", message + ", or set allow_retired: true on the provider "
                                                             "to run it anyway"))
        elif days <= WARN_DAYS:
            self.res.warnings.append(f"{self.where()}: {self.model} shuts down on {caps.shutdown} (in {days} days, "
                                     f"{caps.shutdown_source}){successor}")

    def reasoning(self) -> Any:
        """The effective reasoning value (effort string, budget int, or None for the model's default)."""
        if "reasoning" not in self.values:
            return None
        value, origin = self.values["reasoning"]
        caps = self.caps
        if self.kind == "gemini-legacy":
            self.drop_or_fail("reasoning", "the google-generativeai SDK cannot send a thinking config; use the "
                              "gemini provider")
            return None
        if caps is None:
            if self.kind in NO_REASONING_KINDS:
                self.drop_or_fail("reasoning", f"the {self.kind} provider has no reasoning control")
                return None
            return value  # openai-compatible, plugins, unlisted models: sent as given
        r = caps.reasoning
        if isinstance(value, int):
            if not r.budget_ok:
                self.drop_or_fail("reasoning", "this model takes no thinking budget"
                                  + (f" (efforts: {', '.join(r.efforts)})" if r.efforts else ""))
                return None
            if value < r.budget_min or (r.budget_max is not None and value > r.budget_max):
                self.drop_or_fail("reasoning", f"a thinking budget must be between {r.budget_min} and "
                                  f"{r.budget_max if r.budget_max is not None else 'max_tokens'}")
                return None
            return value
        if not caps.reasons:
            if value == "none":   # nothing to turn off: the model does not reason
                self.values.pop("reasoning")
                self.res.notes["reasoning"] = "not sent: the model does not reason"
                return "none"
            self.drop_or_fail("reasoning", "the model has no reasoning control")
            return None
        if value not in r.efforts:
            budget = f"a thinking budget of at least {r.budget_min} tokens" if r.budget_ok else ""
            takes = ", ".join(r.efforts) + (f", or {budget}" if budget else "") if r.efforts else f"only {budget}"
            self.drop_or_fail("reasoning", f"it takes {takes}")
            return None
        return value

    def sampling(self, effort: Any) -> None:
        for name in ("temperature", "seed", "stop"):
            if name not in self.values:
                continue
            if self.caps is None:
                if name == "seed" and self.kind == "anthropic":
                    self.drop_or_fail(name, "the Messages API has no seed")
                elif name == "temperature" and self.kind == "anthropic":
                    self.drop_or_fail(name, "rejected at any value under anthropic-version 2026-10-21")
                continue
            rule = self.caps.rule(name)
            value, origin = self.values[name]
            ok, why = _rule_outcome(rule, value, effort)
            if rule == "discouraged":
                if origin == "provider":
                    self.res.notes[name] = f"sent as set on the provider, although {why} ({self.caps.model})"
                    continue
                ok = False
            if not ok:
                self.drop_or_fail(name, f"{why} ({', '.join(self.caps.sources)})")

    def allowance(self, effort: Any) -> None:
        explicit = self.values.pop("reasoning_allowance", (None, ""))[0]
        caps = self.caps
        reasons = caps.reasons if caps is not None else explicit is not None
        if not reasons or effort == "none":
            if explicit is not None and caps is not None:
                self.res.notes["reasoning_allowance"] = "not used: the model does not reason here"
            return
        if isinstance(effort, int):
            allowance = effort if explicit is None else explicit
            if allowance < effort:
                self.res.problems.append(("reasoning_allowance", f"{self.where()}: reasoning_allowance {allowance} "
                                          f"is below the thinking budget {effort}: the budget would never fit"))
        else:
            allowance = explicit if explicit is not None else (caps.reasoning.allowance if caps else 0)
        if not allowance:
            return
        self.values["reasoning_allowance"] = (allowance, "resolved")
        counted = caps.reasoning.counts_toward if caps is not None else "the budget"
        visible = self.values.get("max_tokens", (None, ""))[0]
        source = "reasoning_allowance on the provider" if explicit is not None else (
            "the thinking budget" if isinstance(effort, int) else "the capability table")
        if visible is None:
            self.res.notes["max_tokens"] = (f"{PROVIDER_DEFAULT}: no max_tokens given; a reasoning allowance of "
                                            f"{allowance} ({source}) is added where a budget is required")
        else:
            self.res.notes["max_tokens"] = (f"{visible} visible + {allowance} reasoning allowance ({source}) = "
                                            f"{visible + allowance} sent as {counted}")

    def run(self) -> Resolution:
        self.lifecycle()
        effort = self.reasoning()
        self.sampling(effort)
        self.allowance(effort)
        if "seed" in self.values:
            self.res.notes["seed"] = f"{self.values['seed'][0]} + k for repeat k (each repeat its own sample)"
        if self.caps is not None and "reasoning" not in self.values and self.caps.reasons \
                and "reasoning" not in self.res.notes:
            self.res.notes["reasoning"] = f"{PROVIDER_DEFAULT} ({self.caps.reasoning.default})"
        for name in ("temperature",):
            if name not in self.values and name not in self.res.notes:
                self.res.notes[name] = PROVIDER_DEFAULT
        self.res.params = GenerationParams(**{k: v for k, (v, _) in self.values.items()})
        return self.res


def resolve(config: ProviderConfig, defaults: GenerationParams | None = None, *,
            explicit: set[str] | None = None, today: date | None = None) -> Resolution:
    """Resolve one provider entry's parameters against the eval's defaults and the model's capabilities.

    `explicit`: the fields the entry set itself (default: all fields of `config.params` that are not None)."""
    defaults = defaults or GenerationParams()
    if explicit is None:
        explicit = {k for k, v in config.params.model_dump().items() if v is not None}
    return _Resolver(config, defaults, explicit, today).run()


def resolved_config(config: ProviderConfig, defaults: GenerationParams | None = None, *,
                    explicit: set[str] | None = None, today: date | None = None) -> tuple[ProviderConfig, Resolution]:
    """The provider entry with the parameters to send and the resolution record filled in."""
    res = resolve(config, defaults, explicit=explicit, today=today)
    return config.model_copy(update={"params": res.params, "resolution": res.record()}), res


def judge_params(config: ProviderConfig, *, seed: int, max_tokens: int) -> tuple[GenerationParams, Resolution]:
    """The judge's parameters: temperature 0, a fixed seed and a small max_tokens where its model accepts
    them (its own entry's values win), resolved like any provider's."""
    defaults = GenerationParams(temperature=0.0, seed=seed, max_tokens=max_tokens)
    res = resolve(config, defaults)
    return res.params, res


__all__ = ["PROVIDER_DEFAULT", "Resolution", "explicit_fields", "judge_params", "resolve", "resolved_config",
           "SAME_MODELS"]
