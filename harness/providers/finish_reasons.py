"""What each provider's finish/stop reason means for a reply, from `finish_reasons.yaml`.

Why a table and not `if` chains in each adapter: an unmapped value used to become "answered", so a
reply the provider stopped for its own reasons was scored as the model's answer. Now every value of
every SDK enum is listed (a test walks the installed enums), and a value the table lacks is an error
that names it. Adapters call `decide()` on the parsing side and `finish_error()` to raise.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from harness.providers.errors import ProviderError
from harness.types import ErrorKind, Outcome

TABLE_FILE = Path(__file__).with_name("finish_reasons.yaml")
OUTCOMES = ("answered", "truncated", "blocked", "error", "stop_provider")
_OUTCOME = {"answered": Outcome.ANSWERED, "truncated": Outcome.TRUNCATED, "blocked": Outcome.PROVIDER_BLOCKED}


@dataclass(frozen=True)
class Decision:
    """What one finish value means: the outcome word and the reason to store."""

    value: str
    outcome: str  # one of OUTCOMES
    reason: str

    @property
    def reply_outcome(self) -> Outcome | None:
        """The Reply outcome, or None when the value is an error (raise finish_error instead)."""
        return _OUTCOME.get(self.outcome)


@lru_cache(maxsize=1)
def table() -> dict[str, dict[str, dict[str, dict]]]:
    with TABLE_FILE.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    for provider, fields in data.items():
        for fieldname, values in fields.items():
            for value, entry in values.items():
                if entry.get("outcome") not in OUTCOMES:
                    raise ValueError(f"{TABLE_FILE.name}: {provider}.{fieldname}.{value}: outcome must be one of "
                                     f"{', '.join(OUTCOMES)}, not {entry.get('outcome')!r}")
    return data


def decide(provider: str, field: str, value: str) -> Decision:
    """The table's decision for `value`; an unknown value is an error that names it."""
    entry = table().get(provider, {}).get(field, {}).get(value)
    if entry is None:
        return Decision(value, "error", f"unknown {field} {value!r} from {provider} (not in "
                                        f"harness/providers/{TABLE_FILE.name}): not taken as an answer")
    return Decision(value, entry["outcome"], str(entry.get("reason") or value))


def finish_error(d: Decision, provider: str, field: str) -> ProviderError:
    """The ProviderError for an `error` or `stop_provider` decision. Not retried: the same request
    would most likely end the same way. stop_provider uses AUTH, the kind that stops a provider."""
    if d.outcome == "stop_provider":
        return ProviderError(ErrorKind.AUTH, f"{provider} stopped the reply with {field} {d.value}: {d.reason}; "
                                             f"stopping this provider", retryable=False)
    text = d.reason if d.reason.startswith("unknown ") else f"{field} {d.value}: {d.reason}"
    return ProviderError(ErrorKind.OTHER, f"{provider}: {text}", retryable=False)
