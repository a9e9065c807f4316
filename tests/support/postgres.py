"""A throwaway PostgreSQL server for tests: initdb into a temp dir, pg_ctl on loopback."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

_RUN_AS = "postgres"  # initdb and postgres refuse to run as root


def find_postgres_bindir() -> Path:
    """Returns the directory holding initdb and pg_ctl, or raises RuntimeError saying what to do."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "pg_ctl").exists() and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise RuntimeError("PostgreSQL server binaries not found: run `make install-postgres`")


def free_port() -> int:
    """Returns a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ThrowawayPostgres:
    """A PostgreSQL server in a temporary directory, reachable on 127.0.0.1 with trust auth."""

    bindir: Path = field(default_factory=find_postgres_bindir)
    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cg-pg-")))

    @property
    def datadir(self) -> Path:
        """The cluster's data directory."""
        return self.root / "data"

    @property
    def dsn(self) -> str:
        """A connection URL for the `postgres` database as the `postgres` superuser."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def dsn_for(self, database: str) -> str:
        """A connection URL for another database on this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            # initdb and postgres refuse root. `runuser` switches user in the child: with
            # subprocess's `user=`, Python fork()s, and in a process with gRPC threads the child
            # can die in gRPC's fork handlers (seen as pg_ctl exiting with SIGSEGV).
            entry = pwd.getpwnam(_RUN_AS)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            command = ["runuser", "-u", _RUN_AS, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
        if result.returncode != 0:
            message = result.stderr.strip() or result.stdout.strip()
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {message}")

    def start(self) -> None:
        """Creates the cluster on first use and starts the server; returns once it accepts."""
        if not self.datadir.exists():
            self._run(
                "initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8"
            )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.datadir), "-l", str(self.root / "server.log"),
            "-o", options, "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stops the server (mode "immediate" is a crash, as after a power cut of the process)."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "-t", "30", "stop")

    def create_database(self, name: str) -> str:
        """Creates an empty database and returns its connection URL."""
        subprocess.run(
            [str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-v", "ON_ERROR_STOP=1", "-qc", f'CREATE DATABASE "{name}"'],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        return self.dsn_for(name)

    def destroy(self) -> None:
        """Stops the server if running and removes its directory."""
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
