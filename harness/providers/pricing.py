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
OPTIONAL_OVERRIDE_KEYS = ("cached_input_per_mtok", "cache_write_per_mtok")
# Kinds that call another kind's models, so they share its prices.
_SAME_PRICES = {"gemini-legacy": "gemini"}


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float
    checked: date | None = None
    source: str = "table"  # "table" (prices.yaml) or "eval file" (options.price)
    # Cached input (a prompt-cache read) and a prompt-cache write; None: not known.
    cached_input_per_mtok: float | None = None
    cache_write_per_mtok: float | None = None


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{what} must be a number >= 0, got {value!r}")
    return float(value)


@functools.lru_cache(maxsize=4)
def load_prices(path: Path = PRICES_FILE) -> dict[str, Price]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    prices = {}
    for model, entry in data.items():
        if str(model).startswith("_"):   # a table-wide setting (_batch_discount), not a model
            continue
        checked = entry.get("checked")
        if isinstance(checked, str):
            checked = date.fromisoformat(checked)
        cached, write = entry.get("cached_input"), entry.get("cache_write")
        prices[str(model)] = Price(
            _number(entry.get("input"), f"{path.name}: {model}.input"),
            _number(entry.get("output"), f"{path.name}: {model}.output"), checked,
            cached_input_per_mtok=None if cached is None else _number(cached, f"{path.name}: {model}.cached_input"),
            cache_write_per_mtok=None if write is None else _number(write, f"{path.name}: {model}.cache_write"))
    return prices


def price_override(override: Any) -> Price | None:
    """The eval file's `options.price`, validated; None when there is none. Raises ValueError."""
    if override is None:
        return None
    if not isinstance(override, Mapping):
        raise ValueError(f"options.price must be a mapping with {', '.join(OVERRIDE_KEYS)}")
    unknown = set(override) - set(OVERRIDE_KEYS) - set(OPTIONAL_OVERRIDE_KEYS)
    missing = [k for k in OVERRIDE_KEYS if k not in override]
    if unknown or missing:
        raise ValueError(f"options.price needs exactly {', '.join(OVERRIDE_KEYS)} and may have "
                         f"{', '.join(OPTIONAL_OVERRIDE_KEYS)} "
                         f"(missing: {missing or 'none'}, unknown: {sorted(unknown) or 'none'})")
    optional = {k: _number(override[k], f"options.price.{k}") for k in OPTIONAL_OVERRIDE_KEYS if k in override}
    return Price(_number(override["input_per_mtok"], "options.price.input_per_mtok"),
                 _number(override["output_per_mtok"], "options.price.output_per_mtok"), source="eval file",
                 **optional)


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
    """USD for one reply, or None when the price or either token count is unknown.

    Cached input tokens (part of input_tokens) are priced at the cached rate and cache writes at the
    write rate; when some were used and that rate is unknown, the cost is unknown (None), never the
    full input price. Reasoning tokens are part of output_tokens and priced as output, as billed."""
    price = price_for(model_id, overrides, table)
    if price is None or usage is None or usage.input_tokens is None or usage.output_tokens is None:
        return None
    cached, written = usage.cached_input_tokens or 0, usage.cache_write_input_tokens or 0
    if (cached and price.cached_input_per_mtok is None) or (written and price.cache_write_per_mtok is None):
        return None
    plain = max(0, usage.input_tokens - cached - written)
    total = (plain * price.input_per_mtok + cached * (price.cached_input_per_mtok or 0)
             + written * (price.cache_write_per_mtok or 0) + usage.output_tokens * price.output_per_mtok)
    return total / 1_000_000


def reply_cost(provider: Any, reply: Reply) -> float | None:
    """The runner's cost function: the provider's model, its eval-file override, the reply's usage.
    A malformed override (which preflight reports before a run) gives None with a warning here,
    rather than stopping a run half-way."""
    try:
        return cost(provider.config.model, reply.usage, provider.config.options.get("price"))
    except ValueError as err:
        warnings.warn(f"{provider.config.display}: cost unknown: {err}", stacklevel=2)
        return None


@functools.lru_cache(maxsize=4)
def batch_discounts(path: Path = PRICES_FILE) -> dict[str, float]:
    """{provider kind: factor} of prices.yaml's `_batch_discount` (0.5: a batch request bills half the
    live price). A kind missing there has no known batch price: its batch replies cost None (unknown)."""
    data = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("_batch_discount") or {}
    return {str(k): _number(v, f"{path.name}: _batch_discount.{k}") for k, v in data.items()
            if k not in ("source", "checked")}


def batch_reply_cost(provider: Any, reply: Reply) -> float | None:
    """What a reply that came through the provider's batch API cost: the live cost times the kind's batch
    discount (an eval file's `options.price` override is a live price and is discounted the same way)."""
    live = reply_cost(provider, reply)
    kind = _SAME_PRICES.get(provider.config.kind, provider.config.kind)
    factor = batch_discounts().get(kind)
    if live is None or factor is None:
        return None
    return live * factor
