"""The optional TOML configuration file named by COMMERCE_GATEWAY_CONFIG, read once."""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

CONFIG_ENV_VAR = "COMMERCE_GATEWAY_CONFIG"
TABLES = ("core", "bridge", "secrets")


class ConfigFileError(ValueError):
    """The configuration file is missing, unreadable or not valid TOML."""


def load_config_file(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Returns the parsed TOML file (the given path, else $COMMERCE_GATEWAY_CONFIG), or {}."""
    chosen = path if path is not None else os.environ.get(CONFIG_ENV_VAR)
    if not chosen:
        return {}
    file = Path(chosen)
    try:
        with file.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigFileError(f"{CONFIG_ENV_VAR}: file not found: {file}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigFileError(f"{CONFIG_ENV_VAR}: {file} is not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigFileError(f"{CONFIG_ENV_VAR}: cannot read {file}: {error.strerror}") from None
    for key in document:
        if key not in TABLES:
            raise ConfigFileError(
                f"{CONFIG_ENV_VAR}: unknown table or key {key!r} at the top of {file}"
                f"{_suggestion(key, TABLES)}; settings go in the"
                f" {', '.join(f'[{table}]' for table in TABLES)} tables"
            )
    return document


def config_section(
    name: str,
    path: str | os.PathLike[str] | None = None,
    *,
    known: Collection[str] | None = None,
) -> dict[str, Any]:
    """Returns one top-level table of the configuration file (for example "core"), or {}.

    With `known`, a key of the table outside it is refused (ConfigFileError naming it).
    """
    section = load_config_file(path).get(name, {})
    if not isinstance(section, dict):
        raise ConfigFileError(f"{CONFIG_ENV_VAR}: [{name}] must be a table")
    if known is not None:
        check_keys(name, section, known)
    return section


def check_keys(table: str, values: Mapping[str, Any], known: Collection[str]) -> None:
    """Refuses a key of `table` (as written in the file) that is not in `known`."""
    for key in values:
        if key not in known:
            raise ConfigFileError(
                f"{CONFIG_ENV_VAR}: unknown key {key!r} in [{table}] of"
                f" {os.environ.get(CONFIG_ENV_VAR, 'the configuration file')}"
                f"{_suggestion(key, known)}"
            )


def _suggestion(key: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
