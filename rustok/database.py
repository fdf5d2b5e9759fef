"""Which PostgreSQL the platform uses: the configured URL, or the embedded server."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from rustok.postgres import EmbeddedPostgres, check_logical_replication, ensure_database
from rustok.settings import RustokSettings


@dataclass(frozen=True)
class Database:
    url: str
    embedded: bool

    @property
    def display_url(self) -> str:
        """The URL with any password masked, for printing."""
        parts = urlsplit(self.url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
        return self.url


def embedded_server(settings: RustokSettings) -> EmbeddedPostgres:
    return EmbeddedPostgres(settings.postgres_dir, preferred_port=settings.postgres_port)


def provision(settings: RustokSettings) -> Database:
    """Start (or reach) PostgreSQL and make sure it can feed logical replication.

    Raises rustok.postgres.PostgresError with a readable reason otherwise.
    """
    if settings.database_url is not None:
        url = settings.database_url.get_secret_value()
        check_logical_replication(url)
        return Database(url=url, embedded=False)
    info = embedded_server(settings).start()
    ensure_database(info.url("postgres"), settings.database_name)
    url = info.url(settings.database_name)
    check_logical_replication(url)
    return Database(url=url, embedded=True)
