"""Error tree shared by every layer: one root so callers can catch everything gendata raises."""

from __future__ import annotations


class GenDataError(Exception):
    """Root of every error gendata raises on purpose."""


class ContainerError(GenDataError):
    """The bytes are not a readable PNG/JPEG/WebP (truncated, bad CRC, bomb, not an image)."""


class UnsupportedFormat(ContainerError):
    """The file is not one of the containers gendata reads."""


class ParseError(GenDataError):
    """Text or JSON inside the container could not be understood by its dialect."""


class ValidationError(GenDataError):
    """An edit would give a parameter an invalid value; nothing was written."""


class WriteError(GenDataError):
    """Writing failed; the original file is left as it was."""


class FileChangedError(WriteError):
    """The file changed on disk since it was read (or while it was written); nothing was
    written, so the other change is kept. Read it again, or write without `expect`."""


class UsageError(GenDataError):
    """The caller asked for something that cannot be done (e.g. edit a dialect we cannot write)."""
