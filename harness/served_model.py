"""Which model answered: the model a provider reports (`model_reported`) against the one requested.

Why: providers route requests for retired models to a successor (gemini-2.5-flash to a Gemini 3.5
model, billed at its rates) and say so only in the reply's `modelVersion` / `model`. A run labelled
with the requested model but answered by another measures the other model. A dated snapshot of the
same model (`claude-haiku-4-5-20251001`, `gpt-4o-2024-08-06`, `gemini-1.5-flash-001`) is the same
model and is not reported. Only cloud kinds are compared: a local model reports its file's name.

Pure and import-free (below the runner, the reports and the CLI, which all use it).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

#: Provider kinds whose reported model is a model id comparable with the requested one.
COMPARED_KINDS = frozenset({"openai", "anthropic", "gemini", "gemini-legacy"})

# One dated-snapshot or version suffix: -20251001, -2024-08-06, -001, -09-2025, -latest.
_SNAPSHOT = re.compile(r"(?:-\d{8}|-\d{4}-\d{2}-\d{2}|-\d{3}|-\d{2}-\d{4}|-latest)$")


def base_model(name: str) -> str:
    """The model id without a `models/` prefix or a dated-snapshot suffix, lower-cased."""
    name = name.strip().lower()
    if name.startswith("models/"):
        name = name[len("models/"):]
    return _SNAPSHOT.sub("", name)


def served_by_other(provider_model: str, reported: str | None) -> bool:
    """Whether `reported` names a different model than `provider_model` ("kind/model") requested."""
    kind, _, requested = provider_model.partition("/")
    if kind not in COMPARED_KINDS or not reported or not requested:
        return False
    return base_model(reported) != base_model(requested)


def mismatch_message(provider_model: str, reported: str) -> str:
    requested = provider_model.partition("/")[2]
    return f"answered by {reported} (the model the provider reported), not the requested {requested}"


def served_counts(rows: Iterable[tuple[str, str, str | None]]) -> dict[str, dict[str, int]]:
    """{provider label: {reported model: replies}} over (label, provider/model, reported) rows, for
    the replies a different model answered; providers with none are left out."""
    out: dict[str, dict[str, int]] = {}
    for label, provider_model, reported in rows:
        if reported and served_by_other(provider_model, reported):
            counts = out.setdefault(label, {})
            counts[reported] = counts.get(reported, 0) + 1
    return out


def served_lines(served: dict[str, dict[str, int]], models: dict[str, str]) -> list[str]:
    """One WARNING line per provider answered by another model (run banner, compare, reports)."""
    lines = []
    for label, counts in served.items():
        requested = models.get(label, label).partition("/")[2] or models.get(label, label)
        which = ", ".join(f"{m} ({n} replies)" for m, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        lines.append(f"WARNING: {label} was answered by {which}, not the requested {requested}: its numbers "
                     f"measure the model that served (harness run --strict-model makes this an error)")
    return lines
