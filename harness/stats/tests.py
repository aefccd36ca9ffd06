"""Paired tests and multiplicity: the exact McNemar test and Holm-Bonferroni adjustment."""
from __future__ import annotations


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: binomial test of b successes in b + c trials at p = 0.5."""
    m = b + c
    if m == 0:
        return 1.0
    # C(m, k) for k = 0..min(b, c) built from the previous one (exact integers, as math.comb gives):
    # one comb per k from scratch made this quadratic and the slowest part of `compare` at 100k samples.
    term = tail = 1
    for k in range(min(b, c)):
        term = term * (m - k) // (k + 1)
        tail += term
    return min(1.0, 2 * tail / 2 ** m)  # int / int: correctly rounded even for huge m


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni step-down adjusted p-values, in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
