"""95% intervals: Wilson's for one proportion, Newcombe's (method 10) for a paired difference."""
from __future__ import annotations

import math

Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """95% Wilson score interval for a proportion; None when there is no data. Unlike the normal
    approximation it stays inside [0, 1] and is sensible at 0/n and n/n. The bounds always contain the
    observed rate: at 0/n the lower bound is exactly 0 and at n/n the upper exactly 1 (floating point
    would otherwise land them about 1e-16 on the wrong side, and an error bar drawn from them fails)."""
    if n == 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes <= 0 else min(p, max(0.0, centre - half))
    high = 1.0 if successes >= n else max(p, min(1.0, centre + half))
    return low, high


def newcombe_paired_ci(both: int, a_only: int, b_only: int, neither: int,
                       z: float = Z95) -> tuple[float, float] | None:
    """Newcombe's (1998) method 10 interval for p_A - p_B from a paired 2x2 table; None if empty.

    The Wilson score intervals of the two marginal rates combined with a correlation correction phi,
    where ad - bc is shrunk towards zero by n/2 when positive (Newcombe 1998, Stat Med 17:2635; Fagerland,
    Lydersen & Laake, "Statistical Analysis of Contingency Tables", ch. 8). Closed form, inside [-1, 1],
    non-zero width when there are no discordant pairs."""
    n = both + a_only + b_only + neither
    if n == 0:
        return None
    pa, pb = (both + a_only) / n, (both + b_only) / n
    la, ua = wilson(both + a_only, n, z)
    lb, ub = wilson(both + b_only, n, z)
    marginals = (both + a_only) * (b_only + neither) * (both + b_only) * (a_only + neither)
    phi = 0.0
    if marginals:
        cross = both * neither - a_only * b_only
        if cross > n / 2:
            phi = (cross - n / 2) / math.sqrt(marginals)
        elif cross < 0:
            phi = cross / math.sqrt(marginals)
    d = pa - pb
    low = d - math.sqrt(max(0.0, (pa - la) ** 2 - 2 * phi * (pa - la) * (ub - pb) + (ub - pb) ** 2))
    high = d + math.sqrt(max(0.0, (pb - lb) ** 2 - 2 * phi * (pb - lb) * (ua - pa) + (ua - pa) ** 2))
    return max(-1.0, min(d, low)), min(1.0, max(d, high))
