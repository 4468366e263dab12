"""Web service: the gallery's Starlette application (docs/index.md#gendata-serve).

Read-only by construction: the index is opened with `mode=ro`, every route answers GET and
HEAD only, and a picture is served only by its id in the index, never by a path from the
request, and only while the file there still starts like a picture. Pages carry a
Content-Security-Policy that allows nothing but the gallery's own scripts, styles and
images, and requests must name the host the gallery was bound to (a web page elsewhere
cannot reach it through DNS rebinding).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, BinaryIO

import jinja2
import markupsafe
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ContainerError
from ..indexing.query import QueryError
from ..indexing.schema import IndexDatabaseError
from . import view
from .store import DEFAULT_SORT, SORTS, Library
from .thumbs import MEDIA_TYPES, Thumbnails, open_image_file, sniff

__all__ = ["PAGE_SIZE", "allowed_hosts", "create_app"]

PAGE_SIZE = 60
SORT_LABELS = {"path": "path A→Z", "path:desc": "path Z→A",
               "mtime:desc": "newest first", "mtime": "oldest first"}
_HERE = Path(__file__).parent
_HEADERS = [
    (b"content-security-policy",
     b"default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
     b"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
_NO_PREVIEW = (_HERE / "static" / "nopreview.svg").read_bytes()


class Guard:
    """In front of every route: only GET and HEAD, only for the hosts the gallery answers
    to, and the gallery's security headers on every response."""

    def __init__(self, app: ASGIApp, hosts: list[str]) -> None:
        self.app = app
        self.hosts = None if "*" in hosts else {h.lower() for h in hosts}

    def _host_ok(self, scope: Scope) -> bool:
        if self.hosts is None:
            return True
        header = dict(scope["headers"]).get(b"host", b"").decode("latin-1").lower()
        # "[::1]:8000" names an IPv6 address, "localhost:8000" a host and a port
        bracketed = header.startswith("[")
        name = header[:header.find("]") + 1] if bracketed else header.split(":", 1)[0]
        return name in self.hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        if scope["method"] not in ("GET", "HEAD"):
            response = Response("the gallery is read-only", 405, media_type="text/plain",
                                headers={"allow": "GET, HEAD"})
        elif not self._host_ok(scope):
            response = Response("unknown host", 400, media_type="text/plain")
        else:
            await self.app(scope, receive, with_headers)
            return
        await response(scope, receive, with_headers)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True,
        # every value a template prints has its control characters spelled out
        # (a macro's output is Markup, made of values already through here)
        finalize=lambda v: view.visible(v) if isinstance(v, str)
        and not isinstance(v, markupsafe.Markup) else v)
    env.filters["thousands"] = lambda n: f"{n:,}"
    env.globals["url"] = view.page_url
    return env


def _chunks(f: BinaryIO, size: int) -> Iterator[bytes]:
    """At most `size` bytes of `f` (the length announced), then `f` closed."""
    with f:
        while size > 0:
            block = f.read(min(size, 1 << 20))
            if not block:
                return
            size -= len(block)
            yield block


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def allowed_hosts(host: str) -> list[str]:
    """The Host headers the gallery answers: its own address and the loopback names; any,
    when bound to every interface (the user chose to be reached by other names)."""
    if host in ("0.0.0.0", "::", ""):
        return ["*"]
    return sorted({f"[{host}]" if ":" in host else host, "127.0.0.1", "localhost", "[::1]"})


def create_app(db: str | os.PathLike[str], *, cache_dir: str | os.PathLike[str] | None = None,
               host: str = "127.0.0.1") -> Starlette:
    """The gallery over the index at `db`. Raises IndexDatabaseError when there is no
    usable index there."""
    library = Library(db)
    thumbs = Thumbnails(cache_dir)
    templates = Jinja2Templates(env=_environment())

    def render(request: Request, name: str, context: dict[str, Any],
               status: int = 200) -> Response:
        context.setdefault("q", request.query_params.get("q", ""))
        context.setdefault("sort", _sort(request))
        context["sorts"] = SORT_LABELS
        context["db_path"] = str(library.path)
        return templates.TemplateResponse(request, name, context, status_code=status)

    def _sort(request: Request) -> str:
        sort = request.query_params.get("sort", DEFAULT_SORT)
        return sort if sort in SORTS else DEFAULT_SORT

    def failure(request: Request, status: int, title: str, message: str) -> Response:
        return render(request, "error.html", {"title": title, "message": message}, status)

    def grid(request: Request) -> Response:
        q = request.query_params.get("q", "").strip()
        sort = _sort(request)
        sort_param = None if sort == DEFAULT_SORT else sort
        try:
            page = library.page(q, sort=sort, start=_int(request.query_params.get("start")),
                                before=_int(request.query_params.get("before")),
                                size=PAGE_SIZE)
            total, counted = library.summary(q)
            facets = {name: view.facet_values(name, values, q, sort_param)
                      for name, values in counted.items()}
        except QueryError as exc:
            return render(request, "grid.html", {
                "q": q, "problem": view.query_problem(q, exc), "cells": [], "total": 0,
                "facets": {}, "next_url": None, "prev_url": None, "focus": None}, 400)
        except IndexDatabaseError as exc:
            return failure(request, 503, "The index cannot be read", str(exc))
        return render(request, "grid.html", {
            "q": q, "problem": None, "cells": page.cells, "total": total, "facets": facets,
            "focus": _int(request.query_params.get("start")),
            "qs": {"q": q or None, "sort": sort_param},
            "next_url": None if page.next_start is None else view.page_url(
                "/", q=q, sort=sort_param, start=page.next_start),
            "prev_url": None if page.prev_before is None else view.page_url(
                "/", q=q, sort=sort_param, before=page.prev_before)})

    def image(request: Request) -> Response:
        image_id = request.path_params["id"]
        q = request.query_params.get("q", "").strip()
        sort = _sort(request)
        sort_param = None if sort == DEFAULT_SORT else sort
        try:
            rec = library.record(image_id)
            if rec is None:
                return failure(request, 404, "Not in the index",
                               f"No image {image_id} in the index.")
            try:
                prev_id = library.neighbour(q, sort, image_id, forward=False)
                next_id = library.neighbour(q, sort, image_id, forward=True)
            except QueryError:
                q, prev_id, next_id = "", None, None
        except IndexDatabaseError as exc:
            return failure(request, 503, "The index cannot be read", str(exc))
        nav = {"q": q or None, "sort": sort_param}
        gone = "://" not in rec.path and not os.path.isfile(rec.path)
        return render(request, "detail.html", {
            "q": q, "d": view.detail(image_id, rec), "gone": gone,
            "prev_url": None if prev_id is None else view.page_url(f"/image/{prev_id}", **nav),
            "next_url": None if next_id is None else view.page_url(f"/image/{next_id}", **nav),
            "back_url": view.page_url("/", **nav, start=image_id)})

    def _indexed_file(request: Request) -> str | Response:
        """The path the index holds for the request's image id, or the response saying why
        there is none."""
        try:
            found = library.file(request.path_params["id"])
        except IndexDatabaseError as exc:
            return Response(str(exc), 503, media_type="text/plain")
        if found is None:
            return Response("not in the index", 404, media_type="text/plain")
        return found

    def thumb(request: Request) -> Response:
        found = _indexed_file(request)
        if isinstance(found, Response):
            return found
        made = thumbs.get(found)
        headers = {"cache-control": "private, max-age=86400"}
        if made.etag:
            headers["etag"] = f'"{made.etag}"'
            if request.headers.get("if-none-match") == headers["etag"]:
                return Response(status_code=304, headers=headers)
        if made.path is not None:
            return FileResponse(made.path, media_type="image/webp", headers=headers)
        if made.data is not None:
            return Response(made.data, media_type="image/webp", headers=headers)
        return Response(_NO_PREVIEW, media_type="image/svg+xml", headers={
            "cache-control": "no-store",
            "x-gendata-no-preview": made.reason[:200].encode("ascii", "backslashreplace")
            .decode("ascii")})

    def original(request: Request) -> Response:
        found = _indexed_file(request)
        if isinstance(found, Response):
            return found
        try:
            f, st = open_image_file(found)
        except (OSError, ContainerError):  # gone, unreadable, or no longer a regular file
            return Response("the file cannot be read", 404, media_type="text/plain")
        kind = sniff(f.read(12))
        if kind is None:
            f.close()
            return Response("the file is no longer a picture", 404, media_type="text/plain")
        f.seek(0)
        # streamed from the file just checked, so what is sent is what was sniffed
        return StreamingResponse(_chunks(f, st.st_size), media_type=MEDIA_TYPES[kind],
                                 headers={"cache-control": "private, no-cache",
                                          "content-length": str(st.st_size)})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        library.warm()
        yield
        library.close()

    routes = [
        Route("/", grid, methods=["GET", "HEAD"]),
        Route("/image/{id:int}", image, methods=["GET", "HEAD"]),
        Route("/thumb/{id:int}", thumb, methods=["GET", "HEAD"]),
        Route("/file/{id:int}", original, methods=["GET", "HEAD"]),
        Mount("/static", StaticFiles(directory=_HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(Guard, hosts=allowed_hosts(host))])
    app.state.library = library
    app.state.thumbs = thumbs
    return app

