"""Agreement between two labellings of the same items: raw agreement, Cohen's kappa, confusion matrix.

Standard library only. Labels can be any hashable values; pass `labels` to fix the order (and to
include classes that happen not to occur).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence


def _check(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> None:
    if len(gold) != len(pred):
        raise ValueError(f"length mismatch: {len(gold)} gold labels vs {len(pred)} predictions")
    if not gold:
        raise ValueError("no items to compare")


def agreement(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> float:
    """Fraction of items on which the two labellings agree."""
    _check(gold, pred)
    return sum(g == p for g, p in zip(gold, pred)) / len(gold)


def cohen_kappa(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> float:
    """Cohen's kappa: (p_o - p_e) / (1 - p_e), p_e from the two labellings' marginals.

    When chance agreement is already perfect (both labellings use one and the same class), kappa is
    undefined; we return 1.0 if the labellings agree everywhere and 0.0 otherwise.
    """
    _check(gold, pred)
    n = len(gold)
    p_o = agreement(gold, pred)
    g_counts, p_counts = Counter(gold), Counter(pred)
    p_e = sum(g_counts[c] * p_counts.get(c, 0) for c in g_counts) / (n * n)
    if p_e >= 1.0:
        return 1.0 if p_o == 1.0 else 0.0
    return (p_o - p_e) / (1.0 - p_e)


def confusion_matrix(
    gold: Sequence[Hashable], pred: Sequence[Hashable], labels: Sequence[Hashable] | None = None
) -> tuple[list[Hashable], list[list[int]]]:
    """Counts with rows = gold label, columns = predicted label. Returns (labels, matrix)."""
    _check(gold, pred)
    order = list(labels) if labels is not None else sorted(set(gold) | set(pred), key=str)
    index = {label: i for i, label in enumerate(order)}
    matrix = [[0] * len(order) for _ in order]
    for g, p in zip(gold, pred):
        if g not in index or p not in index:
            raise ValueError(f"label not in labels: {g if g not in index else p!r}")
        matrix[index[g]][index[p]] += 1
    return order, matrix


def format_confusion(labels: Sequence[Hashable], matrix: Sequence[Sequence[int]], names: Sequence[str] | None = None) -> str:
    """A plain-text table; rows = gold (human), columns = predicted."""
    names = list(names) if names is not None else [str(label) for label in labels]
    width = max(8, *(len(n) for n in names))
    head = " " * (width + 2) + " ".join(f"{n:>{width}}" for n in names)
    rows = [head]
    for name, row in zip(names, matrix):
        rows.append(f"{name:>{width}}  " + " ".join(f"{v:>{width}}" for v in row))
    return "\n".join(rows)
