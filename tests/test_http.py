"""The polite HTTP client against a real server on 127.0.0.1: retries, Retry-After (seconds and HTTP
dates, capped), errors that name the URL, the raw-response cache."""
from __future__ import annotations

import socket
import time
from email.utils import formatdate

import pytest
from replay_server import ReplayServer

from iconicity_core.io.http import HTTPError, NotFound, PoliteClient


def test_retry_after_http_date_is_honoured_but_capped(tmp_path):
    far = formatdate(time.time() + 3600, usegmt=True)          # "come back in an hour"
    script = {"/x": [(503, "busy", 0, {"Retry-After": far}), (429, "slow", 0, {"Retry-After": "3600"}),
                     (200, {"ok": 1}, 0)]}
    with ReplayServer(script) as srv:
        client = PoliteClient(None, timeout=5, retries=3, backoff=0.01, backoff_max=0.2)
        assert client.get_json(srv.url + "/x") == {"ok": 1}
        assert len(srv.log) == 3


def test_gives_up_with_a_message_that_names_the_url(tmp_path):
    with ReplayServer({"/y": [(503, "busy", 0)] * 5}) as srv:
        client = PoliteClient(None, timeout=5, retries=2, backoff=0.01)
        with pytest.raises(HTTPError, match=r"giving up on .*/y after 3 attempts \(HTTP 503\)"):
            client.get(srv.url + "/y")
        assert len(srv.log) == 3
        with pytest.raises(NotFound):
            client.get(srv.url + "/missing")
    with socket.socket() as s:                                   # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(HTTPError, match="giving up"):
        PoliteClient(None, timeout=1, retries=1, backoff=0.01).get(f"http://127.0.0.1:{port}/z")


def test_cache_answers_without_a_request(tmp_path):
    with ReplayServer({"/c": [(200, {"v": 1}, 0)]}) as srv:
        client = PoliteClient(tmp_path / "cache", retries=0)
        assert client.get_json(srv.url + "/c", params={"q": "a"}) == {"v": 1}
        assert client.get_json(srv.url + "/c", params={"q": "a"}) == {"v": 1}
        assert len(srv.log) == 1
        assert not list((tmp_path / "cache").glob("*.tmp"))
