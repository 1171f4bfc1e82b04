"""A polite HTTP client for public APIs (Wikidata, Wikimedia): descriptive User-Agent, timeouts,
retries with capped exponential backoff on 429 / 5xx / timeouts / dropped connections — urllib3's
``Retry``, which honours ``Retry-After`` in seconds or as an HTTP date (capped too) — and an optional
on-disk cache of raw JSON responses so a re-run does not hit the endpoint again. Nothing is ever
unpickled.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .._version import __version__
from ..errors import IconicityError
from .atomic import atomic_write

USER_AGENT = (f"IconicityExplorer/{__version__} (research tool; contact: set ICONICITY_CONTACT) "
              f"python-requests/{requests.__version__}")
RETRY_STATUSES = (429, 500, 502, 503, 504)


class HTTPError(IconicityError, RuntimeError):
    """A request failed for good (after retries); the message says what and where."""


class NotFound(HTTPError):
    """404: the item does not exist at the endpoint."""


class CappedRetry(Retry):
    """urllib3 ``Retry`` whose ``Retry-After`` waits are capped at ``backoff_max`` too (a server asking
    for a day's pause gets the cap; the request is retried, then reported)."""

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), self.backoff_max)


class PoliteClient:
    def __init__(self, cache_dir: str | Path | None = None, timeout: float = 30.0, retries: int = 4,
                 backoff: float = 1.0, user_agent: str | None = None, backoff_max: float = 60.0) -> None:
        contact = os.environ.get("ICONICITY_CONTACT")
        ua = user_agent or (USER_AGENT.replace("set ICONICITY_CONTACT", contact) if contact else USER_AGENT)
        retry = CappedRetry(total=retries, connect=retries, read=retries, status=retries, other=0,
                            backoff_factor=backoff, backoff_max=backoff_max, status_forcelist=RETRY_STATUSES,
                            allowed_methods=frozenset({"GET"}), respect_retry_after_header=True,
                            raise_on_status=False)
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = ua
        self.cache = Path(cache_dir) if cache_dir else None
        self.timeout, self.retries = timeout, retries

    def _cache_path(self, url: str, params: dict | None) -> Path | None:
        if self.cache is None:
            return None
        key = hashlib.sha256(json.dumps([url, sorted((params or {}).items())]).encode()).hexdigest()
        return self.cache / f"{key}.json"

    def get(self, url: str, params: dict | None = None, headers: dict | None = None) -> requests.Response:
        """GET with retries; raises :class:`NotFound` on 404 and :class:`HTTPError` on other failures."""
        try:
            r = self.session.get(url, params=params, headers=headers, timeout=self.timeout)
        except requests.RequestException as e:
            raise HTTPError(f"giving up on {url} after {self.retries + 1} attempts ({type(e).__name__}: {e})") from None
        if r.status_code == 404:
            raise NotFound(f"404 Not Found: {r.url}")
        if r.status_code in RETRY_STATUSES:
            raise HTTPError(f"giving up on {r.url} after {self.retries + 1} attempts (HTTP {r.status_code})")
        if r.status_code >= 400:
            raise HTTPError(f"HTTP {r.status_code} from {r.url}: {r.text[:200]}")
        return r

    def get_json(self, url: str, params: dict | None = None, headers: dict | None = None) -> Any:
        """GET and decode JSON; cached responses are returned without a request."""
        cp = self._cache_path(url, params)
        if cp is not None and cp.is_file():
            return json.loads(cp.read_text(encoding="utf-8"))
        r = self.get(url, params, headers)
        try:
            data = r.json()
        except ValueError:
            raise HTTPError(f"{r.url} did not return valid JSON (first bytes: {r.text[:80]!r})") from None
        if cp is not None:
            atomic_write(cp, json.dumps(data), create_parents=True)
        return data

    def get_bytes(self, url: str, params: dict | None = None) -> bytes:
        return self.get(url, params).content
