"""Service layer: retrying what object storage says will pass (throttling, 5xx, dropped
connections) with exponential backoff, and nothing else.

A missing object or a refused permission fails at once: retrying cannot help, and a
million such objects must not cost a million backoffs. What counts as transient is read from
the error and everything it was raised from, because each filesystem library wraps the
HTTP status differently (s3fs turns botocore's ClientError into OSError, fsspec's HTTP
filesystem raises aiohttp's ClientResponseError).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["RetryPolicy", "is_transient"]

T = TypeVar("T")

_TRANSIENT_CODES = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
    "TooManyRequests", "TooManyRequestsException", "RequestThrottled", "InternalError",
    "ServiceUnavailable", "RequestTimeout", "RequestTimeoutException", "ServerBusy",
    "OperationTimedOut", "InternalServerError", "BandwidthLimitExceeded",
})
_TRANSIENT_TYPES = frozenset({
    "ServerDisconnectedError", "ClientConnectionError", "ClientOSError",
    "ClientPayloadError", "ClientConnectorError", "IncompleteRead", "FSTimeoutError",
    "ReadTimeoutError", "ConnectTimeoutError", "EndpointConnectionError",
    "ConnectionClosedError", "ResponseStreamingError", "ProtocolError",
})
_TRANSIENT_WORDS = ("SlowDown", "Throttl", "ServiceUnavailable", "Service Unavailable",
                    "InternalError", "Internal Server Error", "Too Many Requests",
                    "RequestTimeout", "Bad Gateway", "Gateway Timeout")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        yield node
        node = node.__cause__ or node.__context__


def _status(exc: BaseException) -> int | None:
    for attr in ("status", "status_code", "code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if isinstance(status, int):
            return status
    return None


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` (or what it was raised from) is throttling, a 5xx answer, a timeout or
    a dropped connection: an error that the same request may not meet again."""
    for e in _chain(exc):
        if isinstance(e, (FileNotFoundError, PermissionError, IsADirectoryError)):
            return False
        if isinstance(e, (TimeoutError, ConnectionError)):
            return True
        status = _status(e)
        if status is not None and (status == 429 or status >= 500):
            return True
        response = getattr(e, "response", None)
        if isinstance(response, dict):
            code = response.get("Error", {}).get("Code")
            if code in _TRANSIENT_CODES:
                return True
        if type(e).__name__ in _TRANSIENT_TYPES:
            return True
        text = str(e)
        if any(word in text for word in _TRANSIENT_WORDS):
            return True
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a transient error is retried: `attempts` tries in all,
    waiting a random time up to `base` * 2**n seconds (capped at `cap`) before try n + 1
    ("full jitter", so that many workers throttled at once do not come back at once).

    These tries come on top of the filesystem's own (s3fs and botocore retry throttling
    several times before giving up), so the default is small."""

    attempts: int = 3
    base: float = 0.5
    cap: float = 10.0

    def delays(self) -> Iterator[float]:
        for n in range(self.attempts - 1):
            yield random.uniform(0, min(self.cap, self.base * 2 ** n))

    def call(self, fn: Callable[[], T], *, on_retry: Callable[[BaseException], Any] | None = None
             ) -> T:
        """`fn()`, retried on transient errors; the last error is raised as it came."""
        delays = self.delays()
        while True:
            try:
                return fn()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                delay = next(delays, None)
                if delay is None:
                    raise
                if on_retry is not None:
                    on_retry(exc)
                time.sleep(delay)
