"""A throwaway self-signed certificate for 127.0.0.1, made with the openssl CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """Writes a certificate valid for IP 127.0.0.1 and its key into `folder`; returns both."""
    cert, key = folder / "core.pem", folder / "core-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return cert, key
