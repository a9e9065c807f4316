"""The package layers: `common` below, `service` and `bridge` side by side, `launcher` on top.

Every module of each package is parsed (ast) and each import it makes, at any depth (also inside
functions, and `importlib.import_module("…")` with a constant name), is resolved to the top-level
package it names. Neither `service` nor `bridge` may import the other; neither may import
`launcher`; `common` imports none of them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN: dict[str, frozenset[str]] = {
    "common": frozenset({"service", "bridge", "launcher"}),
    "service": frozenset({"bridge", "launcher"}),
    "bridge": frozenset({"service", "launcher"}),
}


def module_name(path: Path) -> str:
    """The dotted module name of a file under ROOT (a package's `__init__` is the package)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> Iterator[str]:
    """Every module name `source` (the text of `module`) imports, relative ones resolved."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                yield node.module or ""
                continue
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            yield ".".join([*base, node.module] if node.module else base)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value


def crossings(package: str) -> list[str]:
    """Each import of a module of `package` into a package it must not import, as
    "file:module -> imported"."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        name = module_name(path)
        source = path.read_text(encoding="utf-8")
        for imported in imported_modules(source, name, path.name == "__init__.py"):
            if imported.split(".")[0] in FORBIDDEN[package]:
                found.append(f"{path.relative_to(ROOT)}: {name} -> {imported}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_no_package_above_or_beside_it(package: str) -> None:
    """`service` and `bridge` do not import each other (nor `launcher`); `common` imports none."""
    assert list((ROOT / package).rglob("*.py")), f"no modules found under {package}/"
    assert crossings(package) == []


def test_the_walk_sees_every_form_of_import() -> None:
    """Top-level, nested, relative and importlib imports are all seen, so a crossing written
    in any of these forms fails the test above."""
    source = """
import bridge.app
from service import errors
from . import sibling
from ..store import base

def later():
    from bridge.settings import BridgeSettings
    importlib.import_module("launcher.cli")
    import_module("service.server")
"""
    assert sorted(imported_modules(source, "service.store.sqlite")) == [
        "bridge.app",
        "bridge.settings",
        "launcher.cli",
        "service",
        "service.server",
        "service.store",
        "service.store",
    ]
