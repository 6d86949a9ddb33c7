"""Pieces of the broker script that need no broker: config text, ids, ports, probes, pids."""

from __future__ import annotations

import base64
import ctypes
import os
import select
import signal
import socket
import struct
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

POM = Path(__file__).resolve().with_name("pom.xml")
HOST = "127.0.0.1"


class BrokerError(RuntimeError):
    """The broker could not be fetched, started or stopped; the message says why and what to do."""


LOG4J2_PROPERTIES = """\
# Written by tools/kafka/broker.py: everything into logs/server.log, rolled at 32 MB.
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.filePattern = ${sys:kafka.logs.dir}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 32MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 2
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
"""


def kafka_version(pom: Path = POM) -> str:
    """The Kafka version pinned in ``tools/kafka/pom.xml`` (the single source of truth)."""
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(pom).getroot().find("m:properties/m:kafka.version", ns)
    if node is None or not (node.text or "").strip():
        raise BrokerError(f"{pom} has no <kafka.version> property")
    return (node.text or "").strip()


def free_port() -> int:
    """A TCP port on loopback that is free right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether ``port`` can be bound on loopback (SO_REUSEADDR, as the broker binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def new_cluster_id() -> str:
    """A KRaft cluster id: 22 chars of URL-safe base64 of 16 random bytes, as Kafka's Uuid."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):  # Kafka re-rolls these too: they look like CLI flags
            return text


def api_versions_ok(host: str, port: int, timeout: float = 2.0) -> bool:
    """Whether a Kafka broker at ``host:port`` answers an ApiVersions (v0) request without error.

    Kafka opens its client listener only once the node is unfenced, and ApiVersions is the first
    request every client sends, so an answer here means clients can connect.
    """
    client_id = b"streamsql-readiness"
    correlation = 0x5AFE
    header = struct.pack(">hhih", 18, 0, correlation, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(header)) + header)
            size = struct.unpack(">i", _recv_exact(sock, 4))[0]
            body = _recv_exact(sock, size)
    except (OSError, ValueError):
        return False
    if len(body) < 10:
        return False
    got_correlation, error_code, count = struct.unpack(">ihi", body[:10])
    return got_correlation == correlation and error_code == 0 and count > 0


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    while size > 0:
        chunk = sock.recv(min(size, 65536))
        if not chunk:
            raise ValueError("connection closed mid-response")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def server_properties(port: int, controller_port: int, data_dir: Path) -> str:
    """server.properties for one combined broker+controller node on loopback.

    Replication factor 1 for the internal topics (or groups and transactions hang on one broker),
    no initial rebalance delay, no limit on future timestamps (event-time tests use synthetic
    ones), and a small log-cleaner buffer (the default 128 MiB is taken from the heap). Topics
    are never auto-created: streamsql creates each one explicitly, as ksqlDB does, and a metadata
    or produce request for a deleted topic must not silently bring it back. The metadata log
    and the group coordinator write without lingering (their defaults wait up to 25 ms / 10 ms
    to batch writes, which on one node only adds that latency to every topic creation, deletion
    and offset commit).
    """
    return f"""\
# Written by tools/kafka/broker.py
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@{HOST}:{controller_port}
listeners=PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}
advertised.listeners=PLAINTEXT://{HOST}:{port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data_dir}
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
log.message.timestamp.after.max.ms=9223372036854775807
log.cleaner.dedupe.buffer.size=16777216
num.network.threads=2
num.io.threads=4
auto.create.topics.enable=false
controller.quorum.append.linger.ms=0
group.coordinator.append.linger.ms=0
"""


def die_with_parent() -> None:
    """Runs in the child before exec: SIGKILL the broker if the process that started it dies.

    Linux ties this to the *thread* that forked, so start brokers from a long-lived thread.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_pid_exit(pid: int, timeout: float) -> bool:
    """Wait until process ``pid`` (not necessarily our child) exits; True if it did in time."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    except OSError:  # no pidfd support: fall back to polling with a deadline
        deadline = time.monotonic() + timeout
        while pid_alive(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        return bool(ready)
    finally:
        os.close(fd)
