"""The start-time check that the bridge's data dir can hold its outbox and quarantine."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from bridge.outbox import OUTBOX_FILE
from bridge.quarantine import QUARANTINE_FILE


class DataDirError(RuntimeError):
    """The data dir cannot be used; the message is one line naming the path and the cause."""


def check_data_dir(data_dir: Path) -> None:
    """Creates `data_dir` when missing and checks that the outbox and quarantine files in it
    can be opened and written (a write lock is taken and released; nothing is written).

    Raises DataDirError, so the bridge fails at start instead of at its first delivery.
    """
    if data_dir.exists() and not data_dir.is_dir():
        raise DataDirError(f"cannot use the data dir {data_dir}: it is not a directory")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataDirError(f"cannot use the data dir {data_dir}: {_cause(error)}") from None
    for name in (OUTBOX_FILE, QUARANTINE_FILE):
        path = data_dir / name
        try:
            _check_writable(path)
        except (OSError, sqlite3.Error) as error:
            raise DataDirError(
                f"cannot use the data dir {data_dir}: {name}: {_cause(error)}"
            ) from None


def _check_writable(path: Path) -> None:
    connection = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    with contextlib.closing(connection):
        connection.execute("PRAGMA journal_mode=WAL")
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if error.sqlite_errorname != "SQLITE_BUSY":
                raise
            return  # another process of this bridge holds the write lock: the file is writable
        connection.execute("ROLLBACK")


def _cause(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error).splitlines()[0] if str(error) else type(error).__name__
