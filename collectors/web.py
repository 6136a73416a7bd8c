"""Retries and HTTP for the collectors: tenacity around every call, errors mapped to the contract.

A collector mixes in :class:`RetryPolicy` (tests shrink ``retry_wait`` to 0) and calls
:func:`with_retries`; requests-based sources fetch with :func:`get`, which turns timeouts,
connection errors and 5xx into :class:`Transient` (retried), 429 into
:class:`~collectors.base.RateLimited` and 401/403/other 4xx into
:class:`~collectors.base.FatalSourceError`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar

from collectors.base import FatalSourceError, RateLimited, RetriableError
from collectors.text import from_iso

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)
T = TypeVar("T")


def session() -> requests.Session:
    """A new requests session (requests is imported on first use: the registry imports every
    collector module to build the config, and ``monitor --help`` must stay fast)."""
    import requests

    return requests.Session()


class Transient(Exception):
    """A failure worth retrying: timeout, connection error, 5xx."""


class RetryPolicy:
    """Retry settings a collector carries; instances may override them (tests set waits to 0)."""

    retry_attempts: int = 4
    retry_wait: float = 1.0
    """Multiplier of the exponential backoff, in seconds (1, 2, 4, ... capped by retry_wait_max)."""
    retry_wait_max: float = 30.0
    timeout: float = 30.0
    """Seconds to wait for a server to answer one request."""


def with_retries(
    policy: RetryPolicy,
    fn: Callable[..., T],
    *args: Any,
    source: str,
    what: str,
    retry_on: tuple[type[BaseException], ...] = (Transient,),
    **kwargs: Any,
) -> T:
    """Return ``fn(*args, **kwargs)``, retried with exponential backoff on ``retry_on``.

    Raises :class:`RetriableError` naming ``what`` once ``policy.retry_attempts`` are used up;
    any other exception propagates unchanged on the first occurrence.
    """
    import tenacity

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.retry_attempts),
        wait=tenacity.wait_exponential(multiplier=policy.retry_wait, max=policy.retry_wait_max),
        retry=tenacity.retry_if_exception_type(retry_on),
        before_sleep=tenacity.before_sleep_log(log, logging.WARNING),
        reraise=True,
    )
    try:
        return retrying(fn, *args, **kwargs)
    except retry_on as err:
        raise RetriableError(
            f"{source}: {what} still failing after {policy.retry_attempts} attempts ({err}); "
            f"the cursor is unchanged, the next run retries"
        ) from err


def reset_time(headers: Mapping[str, str], now: datetime | None = None) -> datetime | None:
    """When a 429 says to come back, from ``X-RateLimit-Reset`` (epoch, seconds or ISO) or ``Retry-After``.

    Returns an aware UTC datetime, or None when the headers do not say.
    """
    now = now or datetime.now(UTC)
    for name in ("x-ratelimit-reset", "x-rate-limit-reset"):
        value = headers.get(name)
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            try:
                return from_iso(value)
            except ValueError:
                continue
        return datetime.fromtimestamp(number, UTC) if number > 1e9 else now + timedelta(seconds=number)
    retry_after = headers.get("retry-after")
    if retry_after:
        if retry_after.strip().isdigit():
            return now + timedelta(seconds=int(retry_after))
        try:
            return parsedate_to_datetime(retry_after).astimezone(UTC)
        except (TypeError, ValueError):
            return None
    return None


def get(
    session: requests.Session,
    url: str,
    *,
    source: str,
    timeout: float,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    auth_hint: str = "check the credentials",
) -> requests.Response:
    """GET ``url`` and return the response when it is 2xx or 304.

    Raises :class:`Transient` (timeout, connection error, 408, 5xx), :class:`RateLimited` (429),
    :class:`FatalSourceError` (401/403 with ``auth_hint``; any other 4xx).
    """
    import requests

    started = time.monotonic()
    try:
        resp = session.get(url, params=params, headers=dict(headers or {}), timeout=timeout)
    except (requests.Timeout, requests.ConnectionError) as err:
        raise Transient(f"GET {url}: {type(err).__name__}") from err
    log.debug("%s: GET %s -> %s in %.2fs", source, resp.url, resp.status_code, time.monotonic() - started)
    code = resp.status_code
    if code == 429:
        when = reset_time(resp.headers)
        raise RateLimited(
            f"{source}: rate limited by {url}; try again after {when or 'a few minutes'}", reset_at=when
        )
    if code >= 500 or code == 408:
        raise Transient(f"GET {url}: HTTP {code}")
    if code in (401, 403):
        raise FatalSourceError(f"{source}: {url} answered {code}: {auth_hint}")
    if code >= 400:
        raise FatalSourceError(f"{source}: {url} answered {code}; check this URL in config.yaml")
    return resp


def json_body(resp: requests.Response, *, source: str) -> Any:
    """The response's JSON; raises :class:`Transient` when the body is not JSON (a proxy error page)."""
    try:
        return resp.json()
    except ValueError as err:
        raise Transient(f"{source}: {resp.url} returned a body that is not JSON") from err
