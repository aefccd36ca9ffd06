"""harness.stats: the intervals always contain the observed rate (an error bar drawn from them never
has a negative length), and statistics sit below scoring and report: no import runs back up."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harness.stats import mcnemar_exact, newcombe_paired_ci, wilson

HARNESS = Path(__file__).resolve().parents[1] / "harness"


def test_wilson_bounds_contain_the_rate_exactly_at_the_edges():
    bad = []
    for n in range(1, 400):
        for k in range(n + 1):
            lo, hi = wilson(k, n)
            p = k / n
            if not (0.0 <= lo <= p <= hi <= 1.0):
                bad.append((k, n, lo, hi))
        assert wilson(0, n)[0] == 0.0 and wilson(n, n)[1] == 1.0
    assert bad == []
    assert wilson(0, 0) is None
    assert wilson(0, 24)[1] == pytest.approx(0.1380, abs=1e-4)   # the published 0/24 upper bound


@pytest.mark.parametrize("table", [(0, 0, 0, 10), (10, 0, 0, 0), (3, 4, 0, 5), (0, 7, 7, 0)])
def test_newcombe_interval_contains_the_difference(table):
    lo, hi = newcombe_paired_ci(*table)
    n = sum(table)
    d = (table[1] - table[2]) / n
    assert -1.0 <= lo <= d <= hi <= 1.0


def test_mcnemar_is_symmetric():
    assert mcnemar_exact(3, 11) == mcnemar_exact(11, 3)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return out


@pytest.mark.parametrize("package, forbidden", [
    ("stats", ("harness.scoring", "harness.report", "harness.cli", "harness.store", "harness.runner")),
    ("scoring", ("harness.report", "harness.cli")),
    ("report", ("harness.cli",)),
    ("store", ("harness.report", "harness.cli")),
])
def test_imports_only_run_downward(package, forbidden):
    bad = [(str(p.relative_to(HARNESS)), m) for p in (HARNESS / package).rglob("*.py")
           for m in _imports(p) if m.startswith(forbidden)]
    assert bad == []
