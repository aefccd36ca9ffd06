"""Keep secrets out of everything the harness writes: results, logs, reports, exception text."""
from __future__ import annotations

import os
import re

# Shapes of provider keys: OpenAI sk-..., Anthropic sk-ant-..., Google AIza..., bearer tokens,
# and the Hugging Face hf_... token. Matching by shape catches keys we were never told about.
_KEY_SHAPES = re.compile(
    r"(sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|hf_[A-Za-z0-9]{20,}|"
    r"(?i:bearer)\s+[A-Za-z0-9._\-]{12,})"
)
_KEY_ENV_HINTS = ("KEY", "TOKEN", "SECRET", "PASSWORD")


def _secret_values() -> list[str]:
    """Values of environment variables that look like credentials (checked on every call: tests and
    users may set them after import)."""
    values = []
    for name, value in os.environ.items():
        if any(h in name.upper() for h in _KEY_ENV_HINTS) and len(value) >= 8:
            values.append(value)
    return sorted(values, key=len, reverse=True)


def redact(text: str | None) -> str:
    if not text:
        return text or ""
    for value in _secret_values():
        text = text.replace(value, "[REDACTED]")
    return _KEY_SHAPES.sub("[REDACTED]", text)
