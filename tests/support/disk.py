"""Test support: a small tmpfs mounted for one test, which the test can fill and free.

Mounting needs root (or CAP_SYS_ADMIN); the test suites run as root in CI and in development
containers. A filled disk has no free block at all, like a real full disk.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

FILLER = "filler.bin"
CHUNK = 64 * 1024


class SmallDisk:
    """A tmpfs of a few MiB at `path`; fill() takes every free block, free() gives them back."""

    def __init__(self, path: Path) -> None:
        """Uses the mount at `path` (see small_disk())."""
        self.path = path

    def fill(self) -> int:
        """Writes a filler file until the disk is full; returns the bytes written."""
        written = 0
        chunk = b"\0" * CHUNK
        size = CHUNK
        with (self.path / FILLER).open("ab", buffering=0) as handle:
            while size:
                try:
                    written += handle.write(chunk[:size])
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
                    size //= 2  # the last blocks, down to one byte
        return written

    def free(self) -> None:
        """Deletes the filler file."""
        (self.path / FILLER).unlink(missing_ok=True)

    def available(self) -> int:
        """Free bytes now."""
        stats = os.statvfs(self.path)
        return stats.f_bavail * stats.f_frsize


@contextlib.contextmanager
def small_disk(path: Path, size_mib: int = 8) -> Iterator[SmallDisk]:
    """Mounts a tmpfs of `size_mib` MiB at `path` for the block; unmounts it afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0700", "tmpfs", str(path)],
        check=True,
        capture_output=True,
    )
    try:
        yield SmallDisk(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)
