"""The published API: generated Python matches proto/, and buf breaking guards released clients."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"
GENERATED = ROOT / "clients" / "python" / "commercegateway" / "v1"
BASELINE = PROTO / "releases" / "commercegateway-v1.binpb"
BIN = Path(sys.executable).parent


def _buf_breaking(proto_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "buf"), "breaking", str(proto_dir), "--against", str(BASELINE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_proto(tmp_path: Path) -> Path:
    copy = tmp_path / "proto"
    shutil.copytree(PROTO, copy, ignore=shutil.ignore_patterns("releases"))
    return copy


def test_committed_generated_code_matches_the_proto(tmp_path: Path) -> None:
    protos = sorted(str(p) for p in (PROTO / "commercegateway" / "v1").glob("*.proto"))
    out = str(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO}", f"--python_out={out}",
         f"--mypy_out=quiet:{out}", f"--grpc_python_out={out}", f"--mypy_grpc_out=quiet:{out}",
         *protos],
        check=True,
        capture_output=True,
        timeout=120,
        env={"PATH": f"{BIN}:/usr/bin:/bin"},
    )  # fmt: skip
    fresh = sorted(p.name for p in (tmp_path / "commercegateway" / "v1").glob("*_pb2*"))
    assert fresh == sorted(p.name for p in GENERATED.glob("*_pb2*"))
    for name in fresh:
        regenerated = (tmp_path / "commercegateway" / "v1" / name).read_bytes()
        assert regenerated == (GENERATED / name).read_bytes(), f"{name}: run `make proto`"


def test_removing_a_released_field_is_a_breaking_change(tmp_path: Path) -> None:
    copy = _copy_proto(tmp_path)
    events = copy / "commercegateway" / "v1" / "events.proto"
    text = events.read_text()
    assert "  string shop = 4;\n" in text
    events.write_text(text.replace("  string shop = 4;\n", ""))
    result = _buf_breaking(copy)
    assert result.returncode != 0
    assert '"shop"' in result.stdout + result.stderr


def test_the_current_api_and_an_added_field_are_not_breaking(tmp_path: Path) -> None:
    assert _buf_breaking(PROTO).returncode == 0
    copy = _copy_proto(tmp_path)
    events = copy / "commercegateway" / "v1" / "events.proto"
    text = events.read_text().replace(
        "  string delivery_id = 9;\n",
        "  string delivery_id = 9;\n  // A field added later.\n  string added_later = 10;\n",
    )
    events.write_text(text)
    result = _buf_breaking(copy)
    assert result.returncode == 0, result.stdout + result.stderr
