"""The optional TOML configuration file named by COMMERCE_GATEWAY_CONFIG, read once."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

CONFIG_ENV_VAR = "COMMERCE_GATEWAY_CONFIG"


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
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigFileError(f"{CONFIG_ENV_VAR}: file not found: {file}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigFileError(f"{CONFIG_ENV_VAR}: {file} is not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigFileError(f"{CONFIG_ENV_VAR}: cannot read {file}: {error.strerror}") from None


def config_section(name: str, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Returns one top-level table of the configuration file (for example "core"), or {}."""
    section = load_config_file(path).get(name, {})
    if not isinstance(section, dict):
        raise ConfigFileError(f"{CONFIG_ENV_VAR}: [{name}] must be a table")
    return section
