"""The normalised error every adapter raises, whatever its SDK raised."""
from __future__ import annotations

from harness.types import ErrorKind

# Statuses worth another attempt (issue: retries only 408, 409, 429, 5xx, 529 and connection errors).
RETRYABLE_STATUSES = frozenset({408, 409, 429, 529}) | frozenset(range(500, 600))


class ProviderError(Exception):
    """A failed attempt. `retryable` decides the retry; `stop_provider` ends the provider early."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after_s: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after_s = retry_after_s
        if retryable is None:
            retryable = kind in (ErrorKind.TIMEOUT, ErrorKind.CONNECTION) or (
                status is not None and status in RETRYABLE_STATUSES and kind is not ErrorKind.QUOTA
            )
        self.retryable = retryable

    def __str__(self) -> str:
        return self.message

    @property
    def stop_provider(self) -> bool:
        """A rejected key or an exhausted quota will fail every later sample the same way."""
        return self.kind in (ErrorKind.AUTH, ErrorKind.QUOTA)


def kind_for_status(status: int) -> ErrorKind:
    if status in (401, 403):
        return ErrorKind.AUTH
    if status == 404:
        return ErrorKind.NOT_FOUND
    if status == 429:
        return ErrorKind.RATE_LIMIT
    if status in (408, 504):
        return ErrorKind.TIMEOUT
    if status >= 500:
        return ErrorKind.SERVER
    if status in (400, 409, 413, 422):
        return ErrorKind.BAD_REQUEST
    return ErrorKind.OTHER


# -- shared by the adapters (additive) -----------------------------------------------------------

def retry_after_from_headers(headers: object) -> float | None:
    """The server's retry hint in seconds, read the way the OpenAI/Anthropic SDKs read it:
    `retry-after-ms` first, then `retry-after` as seconds (floats allowed), then as an HTTP date.
    None when there is no usable hint (the retry policy then backs off on its own)."""
    if headers is None or not hasattr(headers, "get"):
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            value = float(ms) / 1000.0
            if value > 0:
                return value
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    try:
        value = float(ra)
        return value if value > 0 else None
    except ValueError:
        pass
    import email.utils
    import time

    try:
        when = email.utils.parsedate_to_datetime(ra)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    value = when.timestamp() - time.time()
    return value if value > 0 else None


def missing_key_error(env_name: str, *, named_by_eval: bool) -> ProviderError:
    """The one clear 'no credentials' error; the runner turns it into a single skipped line."""
    where = "named by api_key_env in the eval file" if named_by_eval else "or api_key_env in the eval file"
    return ProviderError(ErrorKind.AUTH, f"no API key: set {env_name} ({where})", retryable=False)


def body_message(body: object, limit: int = 300) -> str:
    """A short human-readable message from an error body of any provider's shape
    ({"error": {"message": ..}}, {"message": ..}, FastAPI's {"detail": ..}, or raw text)."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            for key in ("message", "detail"):
                if inner.get(key):
                    return str(inner[key])[:limit]
        elif isinstance(inner, str) and inner:
            return inner[:limit]
        if body.get("detail"):
            return str(body["detail"])[:limit]
    if body is None:
        return ""
    return " ".join(str(body).split())[:limit]
