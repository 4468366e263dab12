"""Web service: `gendata serve`, a local, read-only web gallery over the index.

`create_app(db)` is a Starlette application (ASGI) that any ASGI server can run; the
`gendata serve` command runs it with uvicorn on 127.0.0.1. The queries live in `store`,
thumbnails in `thumbs`, what a page shows in `view`; the templates and the stylesheet are
package data. Needs the `serve` extra: `pip install 'gendata[serve]'`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["create_app"]


def create_app(db: Any, **options: Any) -> Starlette:
    """The gallery over the index at `db`: `gendata.web.app.create_app`."""
    from .app import create_app as make

    return make(db, **options)
