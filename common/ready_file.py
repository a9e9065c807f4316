"""The ready file: a server's real addresses as JSON, written once it serves (useful with
port 0)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_ready_file(path: str | os.PathLike[str], content: dict[str, str]) -> None:
    """Writes the JSON object atomically (temporary file in the same directory, then rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".ready-")
    with os.fdopen(descriptor, "w") as handle:
        json.dump(content, handle)
    os.replace(temporary, target)
