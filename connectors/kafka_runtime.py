"""A local Kafka 3.9.1 broker (KRaft) and Kafka Connect worker with Debezium, run as JVMs.

The jars come from Maven Central through ``connectors/kafka/pom.xml``
(``scripts/install_kafka_deps.sh`` fills the cache). Both processes are plain
``java -cp`` children started detached, with their pids, ports, configuration and
logs under one state directory, so a later process (``rustok kafka down``) can find
and stop them.

Errors::

    KafkaRuntimeError
     ├── KafkaInstallError   java or the jars are missing, or installing them failed
     └── KafkaStartError     a JVM exited or did not become ready in time (log tail inside)
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

with warnings.catch_warnings():
    # kafka-python 3.0.12 reads its protocol schemas at import time through the
    # deprecated importlib.resources.read_text (and open_text); importing the whole package here once
    # keeps that warning out of code running under filterwarnings=error.
    warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
    import kafka  # noqa: F401  (consumer and producer modules too)
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError

log = logging.getLogger(__name__)

KAFKA_VERSION = "3.9.1"
DEBEZIUM_VERSION = "3.2.7.Final"
POSTGRES_CONNECTOR_CLASS = "io.debezium.connector.postgresql.PostgresConnector"
DEFAULT_PORTS: Mapping[str, int] = {"broker": 19092, "controller": 19093, "connect": 18083}
HOST = "127.0.0.1"
_REPO_ROOT = Path(__file__).resolve().parents[1]
INSTALL_SCRIPT = _REPO_ROOT / "scripts" / "install_kafka_deps.sh"

# Flags from Kafka's own start scripts; the heap is kept small for a test machine.
_JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)
_LOG4J_TEMPLATE = """\
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File={log_file}
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka.connect.runtime.isolation=WARN
log4j.logger.org.reflections=ERROR
log4j.logger.org.apache.zookeeper=WARN
"""


class KafkaRuntimeError(Exception):
    """Root of the local Kafka runtime's errors."""


class KafkaInstallError(KafkaRuntimeError):
    """Java or the Kafka/Debezium jars are missing, or fetching them failed."""


class KafkaStartError(KafkaRuntimeError):
    """A JVM exited early or did not become ready in time."""


def default_kafka_home() -> Path:
    """Where the jars are cached: ``$RUSTOK_KAFKA_HOME`` or a versioned folder in ~/.cache.

    The one place this package reads the environment: the install script honours the
    same variable, and both must agree.
    """
    configured = os.environ.get("RUSTOK_KAFKA_HOME")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "rustok" / "kafka" / f"{KAFKA_VERSION}-debezium-3.2.7"


def install_jars(kafka_home: Path | None = None) -> Path:
    """Run the install script (a no-op when the cache is complete); return the home."""
    home = kafka_home or default_kafka_home()
    env = {**os.environ, "RUSTOK_KAFKA_HOME": str(home)}
    result = subprocess.run(["bash", str(INSTALL_SCRIPT)], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise KafkaInstallError(f"{INSTALL_SCRIPT.name} failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return home


@dataclass(frozen=True)
class ProcessStatus:
    """One JVM of the runtime as seen from its pid file and a readiness probe."""

    name: str
    pid: int | None
    running: bool
    ready: bool
    ports: Mapping[str, int]
    log_file: Path


@dataclass(frozen=True)
class RuntimeStatus:
    broker: ProcessStatus
    connect: ProcessStatus
    bootstrap_servers: str
    connect_url: str

    @property
    def ready(self) -> bool:
        return self.broker.ready and self.connect.ready


class _JvmProcess:
    """A detached JVM tracked by a pid file; checks the command line against pid reuse."""

    def __init__(self, name: str, state_dir: Path, marker: str) -> None:
        self.name = name
        self.pid_file = state_dir / f"{name}.pid"
        self.out_file = state_dir / "logs" / f"{name}.out"
        self.log_file = state_dir / "logs" / f"{name}.log"
        self._marker = marker  # a path that only our process has on its command line

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if self._is_ours(pid) else None

    def running(self) -> bool:
        return self.pid() is not None

    def start(self, command: list[str], cwd: Path) -> None:
        """Start ``command`` as an orphan of a short-lived shell.

        The JVM must outlive the caller (``rustok kafka up`` returns at once), so it
        is not our child: no zombie to reap, no Popen object left behind.
        """
        self.out_file.parent.mkdir(parents=True, exist_ok=True)
        spawn = '"$@" >>"$0" 2>&1 </dev/null & echo $!'
        result = subprocess.run(
            ["sh", "-c", spawn, str(self.out_file), *command],
            cwd=cwd, capture_output=True, text=True, check=True,
            start_new_session=True,  # Ctrl-C in the caller's terminal must not reach the JVM
        )
        pid = int(result.stdout.strip())
        self.pid_file.write_text(str(pid))
        log.info("started %s", self.name, extra={"pid": pid, "log": str(self.log_file)})

    def stop(self, timeout: float) -> None:
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):  # it may exit on its own meanwhile
                os.kill(pid, signal.SIGTERM)
            if not self._wait_gone(pid, timeout):
                log.warning("%s did not stop in %.0fs; killing it", self.name, timeout, extra={"pid": pid})
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                self._wait_gone(pid, 10.0)
            log.info("stopped %s", self.name, extra={"pid": pid})
        self.pid_file.unlink(missing_ok=True)

    def tail(self, chars: int = 3000) -> str:
        parts = []
        for path in (self.out_file, self.log_file):
            if path.exists():
                parts.append(f"--- {path} ---\n{path.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts)

    def _is_ours(self, pid: int) -> bool:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return False
        return state != "Z" and self._marker.encode() in cmdline

    def _wait_gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._is_ours(pid):
                return True
            time.sleep(0.2)
        return False


class KafkaRuntime:
    """A single-node KRaft broker plus one distributed-mode Connect worker on 127.0.0.1.

    Parameters:
        state_dir: folder for configuration, data, pid files and logs (e.g. ``.rustok/kafka``).
        kafka_home: jar cache holding ``lib/`` and ``plugins/``; see :func:`default_kafka_home`.
        broker_port, controller_port, connect_port: preferred ports; a busy one is
            replaced by a free one, and the choice is remembered in ``ports.json``.
        broker_heap, connect_heap: JVM ``-Xmx`` values.
    """

    def __init__(
        self,
        state_dir: Path,
        kafka_home: Path | None = None,
        *,
        broker_port: int = DEFAULT_PORTS["broker"],
        controller_port: int = DEFAULT_PORTS["controller"],
        connect_port: int = DEFAULT_PORTS["connect"],
        broker_heap: str = "512m",
        connect_heap: str = "768m",
    ) -> None:
        self.state_dir = state_dir.resolve()
        self.kafka_home = (kafka_home or default_kafka_home()).resolve()
        self._preferred = {"broker": broker_port, "controller": controller_port, "connect": connect_port}
        self._heaps = {"broker": broker_heap, "connect": connect_heap}
        self._data_dir = self.state_dir / "data"
        self._ports_file = self.state_dir / "ports.json"
        self._broker_config = self.state_dir / "server.properties"
        self._connect_config = self.state_dir / "connect-distributed.properties"
        self.broker = _JvmProcess("broker", self.state_dir, str(self._broker_config))
        self.connect = _JvmProcess("connect", self.state_dir, str(self._connect_config))

    # -- addresses --------------------------------------------------------------

    @property
    def ports(self) -> dict[str, int]:
        try:
            saved = json.loads(self._ports_file.read_text())
        except FileNotFoundError:
            return dict(self._preferred)
        return {role: int(saved.get(role, port)) for role, port in self._preferred.items()}

    @property
    def bootstrap_servers(self) -> str:
        return f"{HOST}:{self.ports['broker']}"

    @property
    def connect_url(self) -> str:
        return f"http://{HOST}:{self.ports['connect']}"

    # -- lifecycle --------------------------------------------------------------

    def up(self, broker_timeout: float = 90.0, connect_timeout: float = 180.0) -> RuntimeStatus:
        """Start whatever is not running and wait until both are ready; idempotent."""
        self._check_install()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if not self.broker.running():
            if self.connect.running():
                self.connect.stop(timeout=30.0)  # a worker without its broker is useless
            self._choose_ports(("broker", "controller", "connect"))
            self._write_broker_config()
            self._format_storage()
            self._start_jvm(self.broker, "kafka.Kafka", self._broker_config)
        self._wait(self.broker, self._broker_ready, broker_timeout)
        if not self.connect.running():
            self._choose_ports(("connect",))
            self._write_connect_config()
            self._start_jvm(self.connect, "org.apache.kafka.connect.cli.ConnectDistributed", self._connect_config)
        self._wait(self.connect, self._connect_ready, connect_timeout)
        return self.status()

    def down(self, timeout: float = 30.0) -> None:
        """Stop Connect, then the broker: SIGTERM, and SIGKILL after ``timeout`` seconds."""
        self.connect.stop(timeout)
        self.broker.stop(timeout)

    def reset(self) -> None:
        """Stop both processes and delete the broker's data (topics, offsets, connector configs)."""
        self.down()
        shutil.rmtree(self._data_dir, ignore_errors=True)
        (self.state_dir / "cluster_id").unlink(missing_ok=True)

    def status(self) -> RuntimeStatus:
        ports = self.ports
        broker_running, connect_running = self.broker.running(), self.connect.running()
        return RuntimeStatus(
            broker=ProcessStatus(
                name="broker", pid=self.broker.pid(), running=broker_running,
                ready=broker_running and self._broker_ready(),
                ports={"broker": ports["broker"], "controller": ports["controller"]},
                log_file=self.broker.log_file,
            ),
            connect=ProcessStatus(
                name="connect", pid=self.connect.pid(), running=connect_running,
                ready=connect_running and self._connect_ready(),
                ports={"rest": ports["connect"]},
                log_file=self.connect.log_file,
            ),
            bootstrap_servers=self.bootstrap_servers,
            connect_url=self.connect_url,
        )

    # -- configuration ----------------------------------------------------------

    def _check_install(self) -> None:
        if shutil.which("java") is None:
            raise KafkaInstallError(f"java is not installed; run {INSTALL_SCRIPT}")
        plugin = self.kafka_home / "plugins" / "debezium-postgres"
        if not (self.kafka_home / ".complete").exists() or not any(plugin.glob("debezium-connector-postgres-*.jar")):
            raise KafkaInstallError(f"the Kafka jars are not in {self.kafka_home}; run {INSTALL_SCRIPT}")

    def _choose_ports(self, roles: tuple[str, ...]) -> None:
        """Keep the remembered (or preferred) port of each role in ``roles`` unless it is busy."""
        chosen = self.ports
        for role in roles:
            others = [port for other, port in chosen.items() if other != role]
            while not _port_is_free(chosen[role]) or chosen[role] in others:
                chosen[role] = _free_port()
        self._ports_file.write_text(json.dumps(chosen, indent=2) + "\n")

    def _write_broker_config(self) -> None:
        ports = self.ports
        _write_properties(self._broker_config, {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{HOST}:{ports['controller']}",
            "listeners": f"PLAINTEXT://{HOST}:{ports['broker']},CONTROLLER://{HOST}:{ports['controller']}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{ports['broker']}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self._data_dir),
            "auto.create.topics.enable": "true",
            "num.partitions": "1",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "num.network.threads": "2",
            "num.io.threads": "2",
            # The cleaner's default 128 MiB buffer is a quarter of this broker's heap.
            "log.cleaner.dedupe.buffer.size": str(32 * 1024 * 1024),
        })

    def _write_connect_config(self) -> None:
        port = self.ports["connect"]
        _write_properties(self._connect_config, {
            "bootstrap.servers": self.bootstrap_servers,
            "group.id": "rustok-connect",
            "config.storage.topic": "_rustok-connect-configs",
            "offset.storage.topic": "_rustok-connect-offsets",
            "status.storage.topic": "_rustok-connect-status",
            "config.storage.replication.factor": "1",
            "offset.storage.replication.factor": "1",
            "status.storage.replication.factor": "1",
            "offset.storage.partitions": "1",
            "status.storage.partitions": "1",
            "key.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "key.converter.schemas.enable": "false",
            "value.converter.schemas.enable": "false",
            "plugin.path": str(self.kafka_home / "plugins"),
            "listeners": f"http://{HOST}:{port}",
            "rest.advertised.host.name": HOST,
            "rest.advertised.port": str(port),
            # Debezium confirms a position to the slot only after Connect flushed the offsets
            # of the records up to it, and the Kafka runtime's consistency tokens wait on that
            # position (pipelines.faust_app.checkpoint): at the default 60 s, or even 1 s, a
            # token waited for the flush, not for the pipeline (e2e: 0.5-0.95 s at 1 s,
            # 0.3-0.55 s at 100 ms).
            "offset.flush.interval.ms": "100",
            # One worker: give a restarted worker its connectors back at once instead
            # of holding them for the default five minutes.
            "scheduled.rebalance.max.delay.ms": "0",
            "task.shutdown.graceful.timeout.ms": "10000",
            "plugin.discovery": "service_load",
        })

    def _format_storage(self) -> None:
        if (self._data_dir / "meta.properties").exists():
            return
        cluster_file = self.state_dir / "cluster_id"
        if not cluster_file.exists():
            cluster_file.write_text(_random_cluster_id())
        command = [
            *self._java("broker", self._log4j("format")), "kafka.tools.StorageTool", "format",
            "--ignore-formatted", "-t", cluster_file.read_text().strip(), "-c", str(self._broker_config),
        ]
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.state_dir)
        if result.returncode != 0:
            raise KafkaStartError(f"formatting the KRaft storage failed:\n{result.stdout}{result.stderr}")

    # -- processes --------------------------------------------------------------

    def _java(self, role: str, log4j: Path) -> list[str]:
        return [
            "java", f"-Xmx{self._heaps[role]}", "-Xms128m", *_JVM_FLAGS,
            f"-Dlog4j.configuration={log4j.as_uri()}", "-cp", str(self.kafka_home / "lib" / "*"),
        ]

    def _log4j(self, name: str) -> Path:
        path = self.state_dir / f"log4j-{name}.properties"
        log_dir = self.state_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(_LOG4J_TEMPLATE.format(log_file=log_dir / f"{name}.log"))
        return path

    def _start_jvm(self, process: _JvmProcess, main_class: str, config: Path) -> None:
        role = "broker" if process is self.broker else "connect"
        process.start([*self._java(role, self._log4j(process.name)), main_class, str(config)], cwd=self.state_dir)

    def _wait(self, process: _JvmProcess, probe: Callable[[], bool], timeout: float) -> None:
        started = time.monotonic()
        deadline = started + timeout
        while not probe():
            if not process.running():
                raise KafkaStartError(f"{process.name} exited during start-up\n{process.tail()}")
            if time.monotonic() > deadline:
                raise KafkaStartError(f"{process.name} not ready after {timeout:.0f}s\n{process.tail()}")
            time.sleep(0.5)
        log.info("%s ready", process.name, extra={"seconds": round(time.monotonic() - started, 1)})

    def _broker_ready(self) -> bool:
        if not _port_accepts(self.ports["broker"]):
            return False
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap_servers, request_timeout_ms=5000,
                bootstrap_timeout_ms=5000, client_id="rustok-kafka-runtime",
            )
        except (KafkaError, OSError):
            return False
        try:
            admin.list_topics()
            return True
        except (KafkaError, OSError):
            return False
        finally:
            admin.close()

    def _connect_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.connect_url}/connector-plugins", timeout=5) as response:
                plugins = json.load(response)
        except (urllib.error.URLError, OSError, ValueError):
            return False
        return any(plugin.get("class") == POSTGRES_CONNECTOR_CLASS for plugin in plugins)


def _write_properties(path: Path, values: Mapping[str, str]) -> None:
    lines = ["# Written by connectors/kafka_runtime.py; rewritten on every start."]
    lines += [f"{key}={value}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n")


def _random_cluster_id() -> str:
    # Kafka's Uuid.randomUuid().toString(): URL-safe base64 of 16 random bytes, no
    # padding, never starting with '-' (which would read as a command-line flag).
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _port_accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1.0):
            return True
    except OSError:
        return False


__all__ = [
    "KafkaInstallError",
    "KafkaRuntime",
    "KafkaRuntimeError",
    "KafkaStartError",
    "ProcessStatus",
    "RuntimeStatus",
    "default_kafka_home",
    "install_jars",
]
