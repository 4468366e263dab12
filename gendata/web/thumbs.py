"""Web service: thumbnails, made on first request and kept on disk.

A thumbnail is a WebP of about 256 pixels on its long side, stored under the user's cache
folder (platformdirs: ~/.cache/gendata/thumbs on Linux) by a name made of the file's path,
size, modification time and inode: a file changed on disk gets a new thumbnail, and the
folder can be deleted at any time.

Decoding is the one place the gallery looks at pixels, and the files are anyone's: the
picture's size is read from its header and checked against a cap before a pixel is decoded
(a PNG of 700 KB can say 13000 x 13000, 676 MB as RGBA), a JPEG is decoded at the smallest
scale that still gives the thumbnail (libjpeg's draft mode), only a regular file is opened
(never a FIFO or device), and at most one decode per core runs at a time.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import struct
import tempfile
import threading
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import ContainerError

__all__ = ["MAX_PIXELS", "THUMB_SIZE", "Thumbnails", "default_cache_dir", "open_image_file",
           "sniff"]

THUMB_SIZE = 256
MAX_PIXELS = 64_000_000  # 8000 x 8000: every generated or upscaled picture we know of
_QUALITY = 80
_VERSION = b"1"  # part of every cache name: raise it when thumbnails are made differently

# First bytes -> container, for what the gallery serves as it is.
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"))
MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def default_cache_dir() -> Path:
    """Where thumbnails are kept: `thumbs` in the user's cache folder (platformdirs)."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("gendata", appauthor=False)) / "thumbs"


def sniff(head: bytes) -> str | None:
    """The container of a file from its first 12 bytes, or None: the gallery serves only
    pictures, whatever a path in the index has become since."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def open_image_file(path: str) -> tuple[io.BufferedReader, os.stat_result]:
    """The file at `path` opened for reading, and its stat, if it is a regular file.
    Opened without blocking, so a FIFO put in a picture's place cannot hang a request.
    Raises OSError (ContainerError for something that is not a regular file)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ContainerError("not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb"), st
    except BaseException:
        os.close(fd)
        raise


@dataclass(frozen=True)
class Thumbnail:
    """A thumbnail: on disk (`path`), just made (`data`), or neither, and why (`reason`)."""

    etag: str
    path: Path | None = None
    data: bytes | None = None
    reason: str = ""


class Thumbnails:
    """Thumbnails of the indexed files, kept in `cache_dir`."""

    def __init__(self, cache_dir: str | os.PathLike[str] | None = None, *,
                 size: int = THUMB_SIZE, max_pixels: int = MAX_PIXELS) -> None:
        self.dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.size = size
        self.max_pixels = max_pixels
        self._decoding = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))

    def get(self, path: str) -> Thumbnail:
        """The thumbnail of the file at `path`, made now if it is not cached."""
        try:
            f, st = open_image_file(path)
        except (OSError, ContainerError) as exc:
            return Thumbnail("", reason=_reason(exc))
        with f:
            key = hashlib.sha256(b"\0".join([
                _VERSION, os.fsencode(path), str(st.st_size).encode(),
                str(st.st_mtime_ns).encode(), str(st.st_ino).encode(),
                str(self.size).encode()])).hexdigest()
            target = self.dir / key[:2] / f"{key}.webp"
            if target.is_file():
                return Thumbnail(key, path=target)
            with self._decoding:
                if target.is_file():  # made by another request meanwhile
                    return Thumbnail(key, path=target)
                try:
                    data = self.make(f)
                except ContainerError as exc:
                    return Thumbnail(key, reason=str(exc))
        _store(target, data)
        return Thumbnail(key, data=data)

    def make(self, f: io.BufferedReader) -> bytes:
        """WebP bytes of a thumbnail of the open picture `f`. Raises ContainerError for a
        file that is not a picture Pillow reads, or one over the pixel cap."""
        from PIL import Image, ImageOps

        source: BinaryIO = f
        if f.read(8) == _PNG:
            source = io.BytesIO(_png_pixels(f, self.max_pixels))
        f.seek(0)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Pillow's notes on odd files, its bomb warning
                im = Image.open(source)
                with im:
                    _check_size(*im.size, self.max_pixels)
                    if im.format == "JPEG":
                        im.draft("RGB", (self.size, self.size))
                    frame = ImageOps.exif_transpose(im)
                    if frame.mode not in ("RGB", "RGBA"):
                        has_alpha = "A" in frame.mode or "transparency" in frame.info
                        frame = frame.convert("RGBA" if has_alpha else "RGB")
                    frame.thumbnail((self.size, self.size), Image.Resampling.LANCZOS,
                                    reducing_gap=2.0)
                    out = io.BytesIO()
                    frame.save(out, "WEBP", quality=_QUALITY, method=4)
        except ContainerError:
            raise
        except Image.DecompressionBombError as exc:
            raise ContainerError(f"refusing a huge picture: {exc}") from None
        except Image.UnidentifiedImageError:
            raise ContainerError("not a picture Pillow can read") from None
        except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
            raise ContainerError(f"not a picture Pillow can decode ({exc})") from None
        return out.getvalue()


def _check_size(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ContainerError(f"refusing a huge picture: {width}x{height} is more than the "
                             f"{max_pixels:,} pixels the gallery decodes")


_PNG = b"\x89PNG\r\n\x1a\n"
# What a PNG's picture is made of; everything else (text, ICC profiles, APNG frames after
# the first) is left out of the copy Pillow decodes: a thumbnail needs none of it, and
# Pillow refuses a whole file for one text chunk it dislikes (a wrong CRC, more than 1 MB),
# which generators' workflows often are.
_PIXEL_CHUNKS = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"})


def _png_pixels(f: BinaryIO, max_pixels: int) -> bytes:
    """The PNG open in `f` (just past its signature) with only the chunks that make its
    picture, and an EXIF chunk whose checksum is right (it may turn the picture). Raises
    ContainerError, before the image data is read, when the header says more than
    `max_pixels`."""
    out = [_PNG]
    while True:
        head = f.read(8)
        if len(head) < 8:
            break
        length, ctype = struct.unpack(">I4s", head)
        if ctype == b"IHDR" and length >= 8:
            width, height = struct.unpack(">II", f.read(8))
            f.seek(-8, 1)
            _check_size(width, height, max_pixels)
        if ctype in _PIXEL_CHUNKS or ctype == b"eXIf":
            body = f.read(length + 4)
            if ctype == b"eXIf" and (len(body) < length + 4 or zlib.crc32(
                    body[:length], zlib.crc32(ctype)) != struct.unpack(">I", body[-4:])[0]):
                continue
            out += [head, body]
            if len(body) < length + 4 or ctype == b"IEND":
                break
        else:
            f.seek(length + 4, 1)
    return b"".join(out)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


def _store(target: Path, data: bytes) -> None:
    """Write a thumbnail so that a reader never sees half of one; a cache that cannot be
    written is no error (the thumbnail is made again next time)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass
