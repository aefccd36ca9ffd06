"""Charts for the HTML report, drawn by matplotlib (the optional extra `report`) and returned as SVG text.

Labels come from user files (provider labels, categories): matplotlib's SVG writer escapes them as XML
text, mathtext is switched off (a `$` in a label is a dollar sign, never a formula), and the HTML report
embeds each SVG as a data: image, where no script inside it could run anyway.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from harness.stats import wilson


def whiskers(k: int, n: int) -> tuple[float, float]:
    """The (below, above) lengths of a 95% Wilson whisker around k/n, never negative: at 0/n and n/n
    the float bounds land about 1e-16 on the wrong side of the point, and matplotlib refuses a
    negative error bar (`'xerr' must not contain negative values`)."""
    value = k / n
    low, high = wilson(k, n)
    return max(0.0, value - low), max(0.0, high - value)


@dataclass
class Rate:
    """One rate to plot: `label` (provider, category), failures or passes `k` over `n`."""
    series: str       # the bar colour (provider, or run + provider)
    group: str        # the y position group (category, or a measure)
    k: int
    n: int

    @property
    def value(self) -> float | None:
        return self.k / self.n if self.n else None


def _pyplot():
    try:
        import matplotlib
    except ImportError as err:  # the extra is optional: say how to get it
        raise RuntimeError("charts need matplotlib: pip install 'chatbot-eval-harness[report]'") from err
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _svg(fig) -> str:
    plt = _pyplot()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _style():
    plt = _pyplot()
    return plt.rc_context({"svg.fonttype": "none", "text.parse_math": False, "font.size": 9,
                           "svg.hashsalt": "harness-report"})   # fixed ids: the same report twice is the same file


def rates_chart(title: str, xlabel: str, rates: list[Rate]) -> str | None:
    """Horizontal points with Wilson 95% whiskers: one row per group, one colour per series. None when
    no rate has a denominator."""
    rates = [r for r in rates if r.n]
    if not rates:
        return None
    plt = _pyplot()
    with _style():
        groups = list(dict.fromkeys(r.group for r in rates))
        series = list(dict.fromkeys(r.series for r in rates))
        height = max(2.0, 0.28 * len(groups) * max(1, len(series)) + 1.0)
        fig, ax = plt.subplots(figsize=(7.5, min(height, 40)))
        step = 0.8 / max(1, len(series))
        for si, name in enumerate(series):
            ys, xs, lo, hi = [], [], [], []
            for r in rates:
                if r.series != name:
                    continue
                below, above = whiskers(r.k, r.n)
                ys.append(groups.index(r.group) + (si - (len(series) - 1) / 2) * step)
                xs.append(r.value)
                lo.append(below)
                hi.append(above)
            ax.errorbar(xs, ys, xerr=[lo, hi], fmt="o", capsize=3, label=name, markersize=4)
        ax.set_yticks(range(len(groups)), groups)
        ax.invert_yaxis()
        ax.set_xlim(-0.02, 1.02)
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
        return _svg(fig)


@dataclass
class Point:
    """One provider in the safety-vs-over-refusal chart."""
    label: str
    fail_k: int
    fail_n: int
    over_k: int
    over_n: int


def tradeoff_chart(points: list[Point], fail_name: str = "critical failures") -> str | None:
    """Safety failures (y) against over-refusal (x), one point per provider with 95% whiskers both ways.
    A provider missing one of the two measures is left out (said in the caption by the caller)."""
    points = [p for p in points if p.fail_n and p.over_n]
    if not points:
        return None
    plt = _pyplot()
    with _style():
        fig, ax = plt.subplots(figsize=(6, 4.5))
        for p in points:
            x, y = p.over_k / p.over_n, p.fail_k / p.fail_n
            (xl, xh), (yl, yh) = whiskers(p.over_k, p.over_n), whiskers(p.fail_k, p.fail_n)
            ax.errorbar([x], [y], xerr=[[xl], [xh]], yerr=[[yl], [yh]], fmt="o", capsize=3, label=p.label)
            ax.annotate(p.label, (x, y), textcoords="offset points", xytext=(6, 6), fontsize=8)
        fmt = plt.FuncFormatter(lambda v, _: f"{v:.0%}")
        ax.xaxis.set_major_formatter(fmt)
        ax.yaxis.set_major_formatter(fmt)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("over-refusal rate (legitimate needs refused), 95% CI")
        ax.set_ylabel(f"{fail_name} rate, 95% CI")
        ax.set_title(f"{fail_name} vs over-refusal (lower left is better)")
        ax.grid(alpha=0.3)
        return _svg(fig)
