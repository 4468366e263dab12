"""A real S3 API on 127.0.0.1 for the tests: moto's server, wrapped in a WSGI middleware that
counts the requests and the response bytes it serves per object and can answer chosen keys
with errors (throttling, 5xx), as a real bucket sometimes does."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


class Counter:
    """What the server sent: per object path (`bucket/key`), GET requests and body bytes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: dict[str, int] = defaultdict(int)
        self.bytes: dict[str, int] = defaultdict(int)
        self.fail_always: set[str] = set()  # keys answered 503 SlowDown every time
        self.fail_once: set[str] = set()  # keys answered 503 the first time
        self.delay = 0.0  # seconds added to every object GET

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.bytes.clear()


_SLOW_DOWN = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
              b"<Message>Please reduce your request rate.</Message></Error>")


class CountingApp:
    def __init__(self, app: Any, counter: Counter) -> None:
        self.app = app
        self.counter = counter

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = unquote(environ.get("PATH_INFO", "")).lstrip("/")
        is_get = environ.get("REQUEST_METHOD") == "GET" and not environ.get("QUERY_STRING")
        c = self.counter
        if is_get and "/" in path:
            with c.lock:
                c.requests[path] += 1
                fail = path in c.fail_always or path in c.fail_once
                c.fail_once.discard(path)
            if fail:
                start_response("503 Slow Down", [("Content-Type", "application/xml"),
                                                 ("Content-Length", str(len(_SLOW_DOWN)))])
                return [_SLOW_DOWN]
            if c.delay:
                import time

                time.sleep(c.delay)
            body = self.app(environ, start_response)
            return self._count(path, body)
        return self.app(environ, start_response)

    def _count(self, path: str, body: Iterable[bytes]) -> Iterable[bytes]:
        for chunk in body:
            with self.counter.lock:
                self.counter.bytes[path] += len(chunk)
            yield chunk
        close = getattr(body, "close", None)
        if close is not None:
            close()


class CountingMotoServer(ThreadedMotoServer):
    """moto's threaded server on a free port of 127.0.0.1, behind `CountingApp`."""

    def __init__(self) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.counter = Counter()

    def _server_entry(self) -> None:
        app = CountingApp(DomainDispatcherApplication(create_backend_app), self.counter)
        self._server = make_server(self._ip_address, self._port, app, threaded=True)
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def endpoint(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"
