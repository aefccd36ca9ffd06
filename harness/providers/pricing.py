"""What a reply cost, from a price table kept as data (prices.yaml) that an eval file can override.

The rule everywhere: an unknown price or unknown token counts give None, never 0, so that a report
cannot show a paid model as free. A local model costs 0.0 only when someone priced it so.
"""
from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from harness.types import Reply, Usage

PRICES_FILE = Path(__file__).with_name("prices.yaml")
OVERRIDE_KEYS = ("input_per_mtok", "output_per_mtok")
# Kinds that call another kind's models, so they share its prices.
_SAME_PRICES = {"gemini-legacy": "gemini"}


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float
    checked: date | None = None
    source: str = "table"  # "table" (prices.yaml) or "eval file" (options.price)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{what} must be a number >= 0, got {value!r}")
    return float(value)


@functools.lru_cache(maxsize=4)
def load_prices(path: Path = PRICES_FILE) -> dict[str, Price]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    prices = {}
    for model, entry in data.items():
        checked = entry.get("checked")
        if isinstance(checked, str):
            checked = date.fromisoformat(checked)
        prices[str(model)] = Price(_number(entry.get("input"), f"{path.name}: {model}.input"),
                                   _number(entry.get("output"), f"{path.name}: {model}.output"), checked)
    return prices


def price_override(override: Any) -> Price | None:
    """The eval file's `options.price`, validated; None when there is none. Raises ValueError."""
    if override is None:
        return None
    if not isinstance(override, Mapping):
        raise ValueError(f"options.price must be a mapping with {', '.join(OVERRIDE_KEYS)}")
    unknown = set(override) - set(OVERRIDE_KEYS)
    missing = [k for k in OVERRIDE_KEYS if k not in override]
    if unknown or missing:
        raise ValueError(f"options.price needs exactly {', '.join(OVERRIDE_KEYS)} "
                         f"(missing: {missing or 'none'}, unknown: {sorted(unknown) or 'none'})")
    return Price(_number(override["input_per_mtok"], "options.price.input_per_mtok"),
                 _number(override["output_per_mtok"], "options.price.output_per_mtok"), source="eval file")


def check_price_option(options: Mapping[str, Any]) -> str | None:
    """The problem with `options.price`, for a provider's preflight; None when it is fine or absent."""
    try:
        price_override(options.get("price"))
    except ValueError as err:
        return str(err)
    return None


def option_problem(config: Any, message: str) -> Any:
    """A preflight Problem about one provider entry of the eval file."""
    from harness.problems import Problem

    return Problem(file="eval file", field=f"providers: {config.display}", message=message)


def price_problems(config: Any) -> list[Any]:
    """Preflight check of `options.price` for any provider."""
    problem = check_price_option(config.options)
    return [option_problem(config, problem)] if problem else []


def price_for(model_id: str, override: Any = None, table: Mapping[str, Price] | None = None) -> Price | None:
    """The price of `provider/model`: the eval's override, else the table, else None (unknown).

    Only exact names match (a dated snapshot is not its alias); `models/` prefixes of Gemini names
    are ignored, and gemini-legacy shares gemini's prices."""
    explicit = price_override(override)
    if explicit is not None:
        return explicit
    table = load_prices() if table is None else table
    kind, _, name = model_id.partition("/")
    name = name.removeprefix("models/")
    for k in (kind, _SAME_PRICES.get(kind)):
        if k and f"{k}/{name}" in table:
            return table[f"{k}/{name}"]
    return None


def cost(model_id: str, usage: Usage | None, overrides: Any = None,
         table: Mapping[str, Price] | None = None) -> float | None:
    """USD for one reply, or None when the price or either token count is unknown."""
    price = price_for(model_id, overrides, table)
    if price is None or usage is None or usage.input_tokens is None or usage.output_tokens is None:
        return None
    return (usage.input_tokens * price.input_per_mtok + usage.output_tokens * price.output_per_mtok) / 1_000_000


def reply_cost(provider: Any, reply: Reply) -> float | None:
    """The runner's cost function: the provider's model, its eval-file override, the reply's usage.
    A malformed override (which preflight reports before a run) gives None with a warning here,
    rather than stopping a run half-way."""
    try:
        return cost(provider.config.model, reply.usage, provider.config.options.get("price"))
    except ValueError as err:
        warnings.warn(f"{provider.config.display}: cost unknown: {err}", stacklevel=2)
        return None
