"""Front end: `gendata serve` — a local, read-only web gallery over the index."""

from __future__ import annotations

import socket
import sys

import click

from ._common import error
from .index import db_option

_EXTRA = "gendata serve needs the serve extra: pip install 'gendata[serve]'"


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (port 0: any free one), so that the address printed is
    the one served and a port in use is said in one line."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
    except (OSError, socket.gaierror) as exc:
        raise click.UsageError(f"cannot listen on {host}:{port}: {exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise click.UsageError(f"cannot listen on {host}:{port}: "
                               f"{exc.strerror or exc}") from None
    return sock


@click.command()
@db_option
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Only this machine can reach the default; "
                   "0.0.0.0 opens the gallery to your network.")
def serve(db: str | None, port: int, host: str) -> None:
    """A web gallery over the index: thumbnails, search, facets, details. Read-only.

    Open the address it prints in a browser; Ctrl-C stops it. The page takes the same
    queries as `gendata search` (`/?q=fox+steps>=30`).
    """
    try:
        import uvicorn

        from ..web import create_app
    except ImportError:
        error(_EXTRA)
        sys.exit(2)
    from ..errors import GenDataError
    from ..indexing import default_db

    path = db if db is not None else default_db()
    try:
        app = create_app(path, host=host)
    except GenDataError as exc:
        error(str(exc))
        sys.exit(2)
    sock = _listen(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    click.echo(f"gendata: serving {path} at http://{shown}:{bound_port}/ (Ctrl-C stops)",
               err=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
