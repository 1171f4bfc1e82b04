"""A real HTTP server on 127.0.0.1 that replays scripted responses per path:
``(status, body, delay)`` or ``(status, body, delay, headers)``."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


class ReplayServer:
    def __init__(self, script: dict[str, list[tuple[int, object, float]]], default=(404, {"detail": "not found"}, 0)):
        self.script = {k: list(v) for k, v in script.items()}
        self.default, self.log = default, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = unquote(urlsplit(self.path).path)
                outer.log.append((self.path, self.headers.get("User-Agent", "")))
                queue = outer.script.get(path)
                status, body, delay, *extra = queue.pop(0) if queue else outer.default
                headers = extra[0] if extra else {}
                time.sleep(delay)
                data = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    if status == 429 and "Retry-After" not in headers:
                        self.send_header("Retry-After", "0")
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
