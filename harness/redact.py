"""Keep secrets out of everything the harness writes: results, logs, reports, exception text."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MARK = "[REDACTED]"

# Shapes of provider keys: OpenAI sk-..., Anthropic sk-ant-..., Google AIza..., bearer tokens,
# and the Hugging Face hf_... token. Matching by shape catches keys we were never told about.
_KEY_SHAPES = re.compile(
    r"(sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|hf_[A-Za-z0-9]{20,}|"
    r"(?i:bearer)\s+[A-Za-z0-9._\-]{12,})"
)
_KEY_ENV_HINTS = ("KEY", "TOKEN", "SECRET", "PASSWORD")

# Credentials written into a URL: the user part (`https://user:key@host`, or a bare `https://key@host`)
# and query parameters whose name says they hold one (`?key=...`, `&api_key=...`, `?token=...`).
_SECRET_PARAM = r"(?:[A-Za-z0-9_\-]*(?:key|token|secret|passw(?:or)?d|pwd|auth|sig(?:nature)?|credential|session))"
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^/\s?#@\"'<>]+)@")
_URL_SECRET_QUERY = re.compile(rf"(?i)([?&;]{_SECRET_PARAM}=)([^&#\s\"'<>]+)")
_SECRET_NAME = re.compile(rf"(?i)^{_SECRET_PARAM}$")


_frozen: list[list[str]] = []   # a stack: the secrets of the runs in progress, computed once each


@contextmanager
def frozen_secrets() -> Iterator[None]:
    """Within this block redact() uses the credential values the environment holds on entry, computed
    once, instead of walking os.environ on every call (two or three times a reply: 3% of a run in the
    issue 14 profile). A run's environment does not change while it sends."""
    _frozen.append(_scan_environment())
    try:
        yield
    finally:
        _frozen.pop()


def _secret_values() -> list[str]:
    """Values of environment variables that look like credentials: those frozen for the run in
    progress, else read now (tests and users may set them after import)."""
    return _frozen[-1] if _frozen else _scan_environment()


def _scan_environment() -> list[str]:
    values = []
    for name, value in os.environ.items():
        if any(h in name.upper() for h in _KEY_ENV_HINTS) and len(value) >= 8:
            values.append(value)
    return sorted(values, key=len, reverse=True)


def redact(text: str | None) -> str:
    if not text:
        return text or ""
    for value in _secret_values():
        text = text.replace(value, MARK)
    text = _URL_USERINFO.sub(lambda m: m.group(1) + MARK + "@", text)
    text = _URL_SECRET_QUERY.sub(lambda m: m.group(1) + MARK, text)
    return _KEY_SHAPES.sub(MARK, text)


def redact_url(url: str | None) -> str | None:
    """A URL with any credential in it replaced by [REDACTED]: the user part (user and password) and
    the value of every query parameter whose name says it holds a secret; the rest (scheme, host,
    port, path, other parameters) is kept, so the stored URL still says where requests went."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MARK + "@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MARK if _SECRET_NAME.match(k) else redact(v)) for k, v in pairs], safe="[]")
    return redact(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def is_redacted(value: str | None) -> bool:
    return bool(value) and MARK in value


def redact_config(value: Any) -> Any:
    """A copy of a stored configuration (run spec, provider config, identity) with every string passed
    through redact() and every URL-valued field (`base_url`, `*_url`) through redact_url()."""
    if isinstance(value, dict):
        return {k: (redact_url(v) if isinstance(v, str) and isinstance(k, str) and
                    (k == "url" or k.endswith("_url")) else redact_config(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_config(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value
