"""What went wrong per provider, in the words the provider used: the most common error of each provider
of a run (its kind, its message and how many replies it took), for the run's final banner.

A run that measured nothing used to end with counts only ("20 errors"); the connection refused at a
URL, the rejected key or the unknown model was only in `harness export`. The message is stored redacted
(harness.redact) and is untrusted text: the caller escapes it for the terminal.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from harness.store import Store

MESSAGE_LIMIT = 160


@dataclass(frozen=True)
class CommonError:
    provider: str
    kind: str           # harness.types.ErrorKind value
    message: str        # the stored (redacted) reason, shortened
    count: int          # replies with this kind and message
    errors: int         # all error replies of the provider

    def line(self) -> str:
        share = f"all {self.errors}" if self.count == self.errors else f"{self.count} of {self.errors}"
        return f"most common error ({share} errors): {self.kind}: {self.message}"


def _short(text: str | None) -> str:
    text = " ".join((text or "no message").split())
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT - 3] + "..."


def common_errors(store: Store, run_id: str) -> dict[str, CommonError]:
    """Per provider with at least one error reply: its most common (kind, message)."""
    seen: dict[str, Counter] = {}
    for row in store.results(run_id):
        if row["outcome"] == "error":
            seen.setdefault(row["provider"], Counter())[(row["error_kind"] or "other", _short(row["reason"]))] += 1
    out = {}
    for provider, counts in seen.items():
        (kind, message), count = counts.most_common(1)[0]
        out[provider] = CommonError(provider, kind, message, count, sum(counts.values()))
    return out
