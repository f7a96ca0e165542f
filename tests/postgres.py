"""A throwaway PostgreSQL server from Debian's postgresql package, for tests and local clusters.

`PostgresServer` makes a cluster in a temporary directory (initdb), starts it
with pg_ctl listening on a Unix socket in that directory (and on TCP only when
asked), creates databases, and stops and removes it. As root it runs the
server as the `postgres` user (PostgreSQL refuses to run as root), so the
directory is handed to that user.

As a command, for a cluster that outlives one test run:

    python -m tests.postgres start DIR [--listen 127.0.0.1] [--port 5432] [--database NAME]
    python -m tests.postgres stop DIR

`start` prints the database's URL (GRADTRACE_DATABASE_URL's form).
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: `make test` installs this Debian package when the programs are missing.
DEBIAN_PACKAGE = "postgresql"
SERVER_USER = "postgres"


def find_bin_dir() -> Path | None:
    """The directory of Debian's newest PostgreSQL programs, or the one on PATH, or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).resolve().parent if on_path else None


class PostgresServer:
    """One PostgreSQL cluster in a directory of its own, started and stopped by this object."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        listen_addresses: str = "",
        port: int = 5432,
        durable: bool = False,
    ) -> None:
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise FileNotFoundError(
                f"PostgreSQL is not installed (Debian's {DEBIAN_PACKAGE} package; make test installs it)"
            )
        self.bin_dir = bin_dir
        self.owns_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="gradtrace-pg-")) if root is None else Path(root)
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log = self.root / "server.log"
        self.listen_addresses = listen_addresses
        self.port = port
        # Tests skip fsync: the cluster is thrown away, and syncing is most of initdb's time.
        self.durable = durable
        self.as_other_user = os.geteuid() == 0

    def _run(self, *command: str | Path) -> subprocess.CompletedProcess[str]:
        args = [str(part) for part in command]
        if self.as_other_user:
            args = ["runuser", "-u", SERVER_USER, "--", *args]
        result = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=self.root)
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}{log}")
        return result

    def _hand_over(self) -> None:
        """Give the directory to the server's user, which cannot run as root."""
        if not self.as_other_user:
            return
        user = pwd.getpwnam(SERVER_USER)
        for path in (self.root, self.data, self.socket_dir):
            os.chown(path, user.pw_uid, user.pw_gid)
        if self.log.exists():
            os.chown(self.log, user.pw_uid, user.pw_gid)

    def start(self) -> PostgresServer:
        """Make the cluster if it is new, and start the server; returns self."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        fresh = not (self.data / "PG_VERSION").exists()
        if fresh:
            self.data.mkdir(exist_ok=True)
        self._hand_over()
        os.chmod(self.root, 0o755)
        if fresh:
            initdb = [self.bin_dir / "initdb", "-D", self.data, "-U", SERVER_USER, "--auth=trust"]
            initdb += ["-E", "UTF8", "--no-locale"]
            if not self.durable:
                initdb.append("--no-sync")
            self._run(*initdb)
        options = [
            f"-k {self.socket_dir}",
            f"-p {self.port}",
            f"-c listen_addresses='{self.listen_addresses}'",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(self.bin_dir / "pg_ctl", "-D", self.data, "-l", self.log, "-o", " ".join(options), "-w", "start")
        return self

    def create_database(self, name: str) -> str:
        """Create a database (a name of letters, digits and _) and return its URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a plain database name: {name!r}")
        self._run(self.bin_dir / "createdb", "-h", self.socket_dir, "-p", str(self.port), "-U", SERVER_USER, name)
        return self.url(name)

    def url(self, database: str = "postgres") -> str:
        """The database's URL for GRADTRACE_DATABASE_URL, through the socket."""
        return f"postgresql://{SERVER_USER}@/{database}?host={self.socket_dir}&port={self.port}"

    def stop(self, remove: bool | None = None) -> None:
        """Stop the server (fast shutdown) and, if this object made the directory, remove it."""
        if (self.data / "postmaster.pid").exists():
            self._run(self.bin_dir / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        if self.owns_root if remove is None else remove:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.postgres", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="make (if new) and start a cluster in DIR; print its URL")
    start.add_argument("dir", type=Path)
    start.add_argument("--listen", default="", help="TCP addresses to listen on (default: none, socket only)")
    start.add_argument("--port", type=int, default=5432)
    start.add_argument("--database", default="gradtrace", help="a database to create if it is missing")
    stop = commands.add_parser("stop", help="stop the cluster in DIR (its files stay)")
    stop.add_argument("dir", type=Path)
    stop.add_argument("--port", type=int, default=5432)
    args = parser.parse_args(argv)
    if args.command == "start":
        fresh = not (args.dir / "data" / "PG_VERSION").exists()
        server = PostgresServer(args.dir, listen_addresses=args.listen, port=args.port, durable=True).start()
        print(server.create_database(args.database) if fresh else server.url(args.database))
    else:
        PostgresServer(args.dir, port=args.port).stop(remove=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
