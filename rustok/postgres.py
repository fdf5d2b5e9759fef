"""PostgreSQL for the embedded runtime and the tests.

With no URL configured we run the PostgreSQL 16 binaries shipped in the ``pgserver``
wheel ourselves rather than through pgserver's own wrapper: the wrapper listens on a
Unix socket only and stops the server at interpreter exit, while Debezium needs TCP
and ``rustok up`` needs a server whose life it controls. The server listens on
127.0.0.1 only, with logical WAL, replication slots and WAL senders enabled.

With a URL configured we use that server and check that it can feed logical
replication.

Errors::

    PostgresError
     ├── PostgresStartError      the embedded server did not start (log excerpt inside)
     └── PostgresNotReady        a configured server is unreachable or not wal_level=logical
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

# PostgreSQL refuses to run as root; when we are root the server runs as this user.
SYSTEM_USER = "pgserver"

SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "wal_level": "logical",
    "max_replication_slots": "20",
    "max_wal_senders": "20",
    # Bounds how much WAL an abandoned or lagging slot may pin before PostgreSQL
    # invalidates it; a full disk is worse than a slot that must be re-snapshotted.
    "max_slot_wal_keep_size": "'4GB'",
    "wal_sender_timeout": "'60s'",
    "max_connections": "200",
    "shared_buffers": "'256MB'",
    "logging_collector": "off",
    "log_min_messages": "warning",
    "timezone": "'UTC'",
    # Each connection caches the plans of its foreign-key checks, made from the statistics
    # of the moment, and replans them only when the table is analyzed. A plan made while a
    # table was empty or tiny (a seq scan, or any tenant_id index at all) costs more with
    # every row until then: product creations slowed by half within 4,000 products of a
    # fresh database under the default one-minute nap. A short nap lets autovacuum analyze
    # growing tables within seconds.
    "autovacuum_naptime": "'5s'",
}


class PostgresError(Exception):
    """Root of this module's errors."""


class PostgresStartError(PostgresError):
    """The embedded server failed to initialise or start."""


class PostgresNotReady(PostgresError):
    """A configured server cannot be used for RusToK."""


def _bin_dir() -> Path:
    # Located without importing pgserver: its package import sets up file locks in the
    # user's runtime directory, which we do not need just to find the binaries.
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresStartError("the pgserver wheel is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SYSTEM_USER)


def _make_traversable(path: Path) -> None:
    """Let another user walk down to ``path`` (g+x,o+x on every parent)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        wanted = mode | stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH
        if mode != wanted:
            parent.chmod(wanted)


@dataclass(frozen=True)
class ServerInfo:
    """How to reach a running server."""

    host: str
    port: int
    user: str = "postgres"

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"


class EmbeddedPostgres:
    """A PostgreSQL cluster in ``data_dir`` run from the pgserver wheel's binaries.

    Parameters:
        root: folder that holds the cluster (``data/``), its log and its port file.
        preferred_port: port used when the cluster is created, if free.
        settings: server settings overriding SERVER_SETTINGS (values as in postgresql.conf).
    """

    def __init__(self, root: Path, preferred_port: int = 54329, settings: dict[str, str] | None = None) -> None:
        self.root = root.resolve()
        self.data_dir = self.root / "data"
        self.log_file = self.root / "server.log"
        self._port_file = self.root / "port"
        self._preferred_port = preferred_port
        self._settings = {**SERVER_SETTINGS, **(settings or {})}
        self._run_as = _ensure_system_user() if os.geteuid() == 0 else None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> ServerInfo:
        """Initialise the cluster if needed and start it; idempotent."""
        self._init_cluster()
        if self.is_running():
            return self.info()
        port = self._choose_port()
        self._write_settings(port)
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log_file))
        self._wait_accepting(port)
        log.info("embedded postgres started", extra={"port": port, "data_dir": str(self.data_dir)})
        return self.info()

    def stop(self) -> None:
        """Stop the server (fast shutdown: sessions end, data is flushed)."""
        if self.is_running():
            self._pg_ctl("stop", "-w", "-m", "fast", "-t", "60")

    def is_running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        result = subprocess.run(
            [str(_bin_dir() / "pg_ctl"), "status", "-D", str(self.data_dir)],
            capture_output=True,
            user=self._run_as.pw_uid if self._run_as else None,
        )
        return result.returncode == 0

    def info(self) -> ServerInfo:
        return ServerInfo(host="127.0.0.1", port=int(self._port_file.read_text()))

    def destroy(self) -> None:
        """Stop the server and delete the cluster."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- internals -------------------------------------------------------------

    def _init_cluster(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        if self.data_dir.exists():
            # A half-made cluster from an interrupted initdb: start over.
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(mode=0o700)
        if self._run_as is not None:
            _make_traversable(self.root)
            _make_traversable(_bin_dir())
            for path in (self.root, self.data_dir):
                os.chown(path, self._run_as.pw_uid, self._run_as.pw_gid)
        self._run(
            [
                str(_bin_dir() / "initdb"),
                "-D", str(self.data_dir),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "-U", "postgres",
            ]
        )
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude_if_exists = 'rustok.conf'\n")

    def _choose_port(self) -> int:
        if self._port_file.exists():
            port = int(self._port_file.read_text())
            if _port_is_free(port):
                return port
        port = self._preferred_port if _port_is_free(self._preferred_port) else _free_port()
        self._port_file.write_text(str(port))
        return port

    def _write_settings(self, port: int) -> None:
        lines = [f"{key} = {value}" for key, value in self._settings.items()]
        lines.append(f"port = {port}")
        target = self.data_dir / "rustok.conf"
        target.write_text("\n".join(lines) + "\n")
        if self._run_as is not None:
            os.chown(target, self._run_as.pw_uid, self._run_as.pw_gid)
            self.log_file.touch()
            os.chown(self.log_file, self._run_as.pw_uid, self._run_as.pw_gid)

    def _pg_ctl(self, *args: str) -> None:
        self._run([str(_bin_dir() / "pg_ctl"), "-D", str(self.data_dir), *args])

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            user=self._run_as.pw_uid if self._run_as else None,
            group=self._run_as.pw_gid if self._run_as else None,
            cwd=self.root,
        )
        if result.returncode != 0:
            tail = self.log_file.read_text()[-4000:] if self.log_file.exists() else ""
            raise PostgresStartError(
                f"{Path(command[0]).name} failed ({result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}\n{tail}"
            )

    def _wait_accepting(self, port: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(ServerInfo("127.0.0.1", port).url("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise PostgresStartError(f"server on port {port} does not accept connections: {exc}") from exc
                time.sleep(0.1)


def ensure_database(admin_url: str, name: str, template: str = "template0") -> None:
    """Create database ``name`` from ``template`` if it does not exist (``admin_url`` points at another db)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} ENCODING 'UTF8'").format(
                sql.Identifier(name), sql.Identifier(template)))


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def check_logical_replication(url: str) -> None:
    """Raise PostgresNotReady unless the server at ``url`` can feed logical replication."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT current_setting('wal_level'), current_setting('server_version_num')::int,"
                " current_setting('max_replication_slots')::int"
            ).fetchone()
    except psycopg.OperationalError as exc:
        raise PostgresNotReady(f"cannot connect to PostgreSQL: {exc}".strip()) from exc
    assert row is not None
    wal_level, version, slots = row
    if version < 150000:
        raise PostgresNotReady(f"PostgreSQL 15 or newer is required, the server is {version}")
    if wal_level != "logical":
        raise PostgresNotReady(
            f"wal_level is {wal_level!r}; change data capture needs wal_level=logical "
            "(set it in postgresql.conf or with ALTER SYSTEM and restart the server)"
        )
    if slots < 2:
        raise PostgresNotReady(f"max_replication_slots is {slots}; RusToK needs at least 2")


def current_wal_lsn(database_url: str) -> int:
    """The server's current WAL position: every commit so far is at or below it."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint").fetchone()
    assert row is not None and isinstance(row[0], int)
    return row[0]
