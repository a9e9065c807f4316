"""A subscription cursor kept in a file, so a process resumes where it stopped."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path


class CursorFileError(ValueError):
    """A cursor file exists but does not hold a sequence number."""


class CursorFile:
    """The last fully processed sequence of one subscription, stored in one small file.

    The file holds a decimal sequence number and a newline. Writes are atomic (a temporary
    file in the same folder renamed over the old one), so a crash leaves the old or the new
    value, never a torn one.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def read(self) -> int | None:
        """Returns the stored sequence, or None when the file does not exist yet."""
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise CursorFileError(f"cannot read cursor file {self.path}: {error}") from None
        if not text.isdigit():
            raise CursorFileError(f"cursor file {self.path} does not hold a sequence number")
        return int(text)

    def write(self, sequence: int) -> None:
        """Stores `sequence` atomically, creating the folder when needed."""
        if sequence < 0:
            raise ValueError("a cursor is a non-negative sequence")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(f"{sequence}\n")
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    async def write_async(self, sequence: int) -> None:
        """Stores `sequence` without blocking the event loop."""
        await asyncio.to_thread(self.write, sequence)


CursorLike = CursorFile | str | os.PathLike[str] | None
"""A cursor file, or the path of one, or None for no cursor file."""
