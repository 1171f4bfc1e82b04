"""A polite HTTP client for public APIs (Wikidata, Wikimedia): descriptive User-Agent, timeouts,
retries with exponential backoff on 429 / 5xx / timeouts (honouring ``Retry-After``), and an optional
on-disk cache of raw JSON responses so a re-run does not hit the endpoint again. Nothing is ever
unpickled.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import requests

from . import __version__

USER_AGENT = (f"IconicityExplorer/{__version__} (research tool; contact: set ICONICITY_CONTACT) "
              f"python-requests/{requests.__version__}")


class HTTPError(RuntimeError):
    """A request failed for good (after retries); the message says what and where."""


class NotFound(HTTPError):
    """404: the item does not exist at the endpoint."""


class PoliteClient:
    def __init__(self, cache_dir: str | Path | None = None, timeout: float = 30.0, retries: int = 4,
                 backoff: float = 1.0, user_agent: str | None = None) -> None:
        contact = os.environ.get("ICONICITY_CONTACT")
        ua = user_agent or (USER_AGENT.replace("set ICONICITY_CONTACT", contact) if contact else USER_AGENT)
        self.session = requests.Session()
        self.session.headers["User-Agent"] = ua
        self.cache = Path(cache_dir) if cache_dir else None
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.requests_made = 0

    def _cache_path(self, url: str, params: dict | None) -> Path | None:
        if self.cache is None:
            return None
        key = hashlib.sha256(json.dumps([url, sorted((params or {}).items())]).encode()).hexdigest()
        return self.cache / f"{key}.json"

    def get(self, url: str, params: dict | None = None, headers: dict | None = None) -> requests.Response:
        """GET with retries on 429 / 5xx / timeouts / connection errors; raises :class:`NotFound` on 404
        and :class:`HTTPError` on other failures."""
        last = ""
        for attempt in range(self.retries + 1):
            try:
                self.requests_made += 1
                r = self.session.get(url, params=params, headers=headers, timeout=self.timeout)
            except (requests.Timeout, requests.ConnectionError) as e:
                last = f"{type(e).__name__}: {e}"
                wait = self.backoff * 2 ** attempt
            else:
                if r.status_code == 404:
                    raise NotFound(f"404 Not Found: {r.url}")
                if r.status_code < 400:
                    return r
                if r.status_code != 429 and r.status_code < 500:
                    raise HTTPError(f"HTTP {r.status_code} from {r.url}: {r.text[:200]}")
                last = f"HTTP {r.status_code} from {r.url}"
                retry_after = r.headers.get("Retry-After", "")
                wait = float(retry_after) if retry_after.isdigit() else self.backoff * 2 ** attempt
            if attempt < self.retries:
                time.sleep(wait)
        raise HTTPError(f"giving up on {url} after {self.retries + 1} attempts ({last})")

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
            cp.parent.mkdir(parents=True, exist_ok=True)
            tmp = cp.with_suffix(".tmp")
            tmp.write_text(json.dumps(data), encoding="utf-8")
            tmp.replace(cp)
        return data

    def get_bytes(self, url: str, params: dict | None = None) -> bytes:
        return self.get(url, params).content
