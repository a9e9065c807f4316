"""The client package imports without the service's or the bridge's dependencies."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKED = ("service", "bridge", "litestar", "pydantic", "pydantic_settings", "uvicorn")

PROBE = textwrap.dedent(
    f"""
    import sys
    from importlib.abc import MetaPathFinder

    BLOCKED = {BLOCKED!r}

    class Block(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"blocked in this test: {{name}}")
            return None

    sys.meta_path.insert(0, Block())
    import commercegateway
    import commercegateway.tail
    import commercegateway.groups_cli
    from commercegateway import CoreClient, run_callbacks
    loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set(BLOCKED))
    print("loaded:", loaded)
    """
)


def test_client_imports_with_service_and_bridge_dependencies_blocked() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "loaded: []"
