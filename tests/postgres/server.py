"""The throwaway PostgreSQL server, with its commands started without fork() as root."""

from __future__ import annotations

import os
import pwd
import subprocess

from tests.support.postgres import ThrowawayPostgres

RUN_AS = "postgres"


class ForkSafePostgres(ThrowawayPostgres):
    """ThrowawayPostgres whose initdb/pg_ctl run through `runuser` when we are root.

    subprocess only uses vfork() when it need not switch users; with `user=` it fork()s, and
    in a process with gRPC threads the forked child can crash in gRPC's fork handlers (seen
    as pg_ctl dying with SIGSEGV). Letting runuser switch users avoids that.
    """

    def _run(self, *args: str) -> None:
        if os.geteuid() != 0:
            super()._run(*args)
            return
        entry = pwd.getpwnam(RUN_AS)
        os.chown(self.root, entry.pw_uid, entry.pw_gid)
        result = subprocess.run(
            ["runuser", "-u", RUN_AS, "--", str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if result.returncode != 0:
            message = result.stderr.strip() or result.stdout.strip()
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {message}")
