"""Run a real single-node Apache Kafka broker (KRaft, combined broker+controller) on loopback.

No Docker: the broker's jars come from Maven Central through ``tools/kafka/pom.xml`` (the Kafka
version is pinned there) and run on the local JDK. Everything lives under the repo's git-ignored
``.work/kafka/`` folder::

    lib/      every runtime jar (fetched once, reused while the pinned version matches)
    data/     the KRaft log directory (formatted on first start)
    logs/     server.log (log4j2) and stdout.log (JVM output)
    broker.json, server.properties, log4j2.properties

Command line::

    python -m tools.kafka.broker fetch | start [--fresh] | stop | restart | status [--workdir DIR]

API::

    broker = KafkaBroker()            # or KafkaBroker(workdir, die_with_parent=True) in tests
    bootstrap = broker.start()        # "127.0.0.1:PORT", returns once the broker answers requests
    broker.restart()                  # same ports, same data
    broker.stop()                     # SIGTERM, then SIGKILL after a timeout

Only the standard library is used.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import TracebackType

from tools.kafka.support import (
    HOST,
    LOG4J2_PROPERTIES,
    POM,
    BrokerError,
    api_versions_ok,
    die_with_parent,
    free_port,
    kafka_version,
    new_cluster_id,
    pid_alive,
    port_is_free,
    server_properties,
    wait_pid_exit,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_WORKDIR = REPO_ROOT / ".work" / "kafka"

# Small heap and the C1-only JIT: the broker idles at ~200 MB RSS and starts in a few seconds on
# a 2-core machine; SerialGC avoids G1's extra threads.
JVM_OPTS = ("-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
TOOL_JVM_OPTS = ("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")

EXISTING_BROKER_HINT = (
    "To run the Kafka tests against an existing broker instead, set STREAMSQL_KAFKA=host:port "
    "(e.g. STREAMSQL_KAFKA=127.0.0.1:9092 make test)."
)

__all__ = [
    "DEFAULT_WORKDIR",
    "EXISTING_BROKER_HINT",
    "BrokerError",
    "KafkaBroker",
    "api_versions_ok",
    "free_port",
    "kafka_version",
    "new_cluster_id",
]


@dataclass(frozen=True)
class BrokerState:
    """What ``broker.json`` records: kept after a stop so a restart reuses ports and cluster id."""

    port: int
    controller_port: int
    cluster_id: str
    pid: int | None = None


class KafkaBroker:
    """One single-node KRaft broker whose files live under ``workdir``.

    Args:
        workdir: folder for data, logs and config (default ``<repo>/.work/kafka``).
        lib_dir: folder of the broker's jars (default ``<repo>/.work/kafka/lib``, shared).
        die_with_parent: SIGKILL the broker if this Python process dies (use in tests; the
            command line leaves it off so a started broker outlives the command).
        start_timeout: seconds to wait for the broker to answer requests.
        stop_timeout: seconds to wait after SIGTERM before SIGKILL.
    """

    def __init__(
        self,
        workdir: str | os.PathLike[str] | None = None,
        *,
        lib_dir: str | os.PathLike[str] | None = None,
        die_with_parent: bool = False,
        start_timeout: float = 90.0,
        stop_timeout: float = 20.0,
    ) -> None:
        self.workdir = Path(workdir).resolve() if workdir else DEFAULT_WORKDIR
        self.lib_dir = Path(lib_dir).resolve() if lib_dir else DEFAULT_WORKDIR / "lib"
        self.logs_dir = self.workdir / "logs"
        self.data_dir = self.workdir / "data"
        self.properties_file = self.workdir / "server.properties"
        self.log4j_file = self.workdir / "log4j2.properties"
        self.state_file = self.workdir / "broker.json"
        self.die_with_parent = die_with_parent
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    # -- fetch ---------------------------------------------------------------------------------

    def fetch(self) -> Path:
        """Download the pinned broker jars with Maven into ``lib_dir`` unless already there."""
        version = kafka_version()
        marker = self.lib_dir / ".kafka-version"
        if self._lib_ready(version):
            return self.lib_dir
        mvn = shutil.which("mvn")
        if mvn is None:
            raise BrokerError(
                "Maven (mvn) is not on PATH: it fetches the Kafka broker jars from Maven Central. "
                "Install Maven and Java 17+. " + EXISTING_BROKER_HINT
            )
        tmp = self.lib_dir.with_name(f"{self.lib_dir.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = [mvn, "-q", "-B", "-f", str(POM), f"-DoutputDirectory={tmp}", "dependency:copy-dependencies"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0 or not (tmp / f"kafka_2.13-{version}.jar").exists():
            shutil.rmtree(tmp, ignore_errors=True)
            output = (done.stdout + done.stderr).strip().splitlines()[-30:]
            raise BrokerError(f"mvn failed fetching Kafka {version}:\n" + "\n".join(output))
        (tmp / ".kafka-version").write_text(version + "\n")
        # Never leave two Kafka versions in one folder: a wildcard classpath would mix them.
        if marker.exists() or self.lib_dir.exists():
            shutil.rmtree(self.lib_dir, ignore_errors=True)
        try:
            os.replace(tmp, self.lib_dir)
        except OSError:  # a concurrent fetch won the race; use its (identical) result
            shutil.rmtree(tmp, ignore_errors=True)
            if not self._lib_ready(version):
                raise
        return self.lib_dir

    def _lib_ready(self, version: str) -> bool:
        marker = self.lib_dir / ".kafka-version"
        jar = self.lib_dir / f"kafka_2.13-{version}.jar"
        return marker.exists() and marker.read_text().strip() == version and jar.exists()

    # -- start ---------------------------------------------------------------------------------

    def start(self, *, fresh: bool = False) -> str:
        """Start the broker (fetching jars and formatting storage if needed) and wait until ready.

        Args:
            fresh: wipe the data folder first (a new, empty cluster).

        Returns:
            The bootstrap address, ``"127.0.0.1:PORT"``.

        Raises:
            BrokerError: Java/Maven missing, or the broker exited or did not become ready in
                ``start_timeout`` seconds (the message carries the log tail).
        """
        running = self.status()
        if running is not None:
            return running
        self.fetch()
        if fresh:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        state = self._read_state()
        if state is None or not (self.data_dir / "meta.properties").exists():
            state = None
            shutil.rmtree(self.data_dir, ignore_errors=True)
        elif port_is_free(state.port) and port_is_free(state.controller_port):
            return self._launch(state.port, state.controller_port, state.cluster_id)
        cluster_id = state.cluster_id if state else new_cluster_id()
        # The ports we picked may be taken before Java binds them; pick again a few times.
        for attempt in range(3):
            try:
                return self._launch(free_port(), free_port(), cluster_id)
            except BrokerError as exc:
                if attempt == 2 or "Address already in use" not in str(exc):
                    raise
        raise AssertionError("unreachable")

    def restart(self) -> str:
        """Stop and start again on the same ports with the same data (a broker bounce)."""
        state = self._read_state()
        if state is None:
            raise BrokerError(f"no broker state in {self.state_file}: start it first")
        self.stop()
        return self._launch(state.port, state.controller_port, state.cluster_id)

    def _launch(self, port: int, controller_port: int, cluster_id: str) -> str:
        java = self._java()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.properties_file.write_text(server_properties(port, controller_port, self.data_dir))
        self.log4j_file.write_text(LOG4J2_PROPERTIES)
        state = BrokerState(port, controller_port, cluster_id)
        self._write_state(state)
        if not (self.data_dir / "meta.properties").exists():
            self._format(java, cluster_id)
        cmd = [
            java,
            *JVM_OPTS,
            f"-Dkafka.logs.dir={self.logs_dir}",
            f"-Dlog4j2.configurationFile={self.log4j_file}",
            "-cp",
            str(self.lib_dir / "*"),
            "kafka.Kafka",
            str(self.properties_file),
        ]
        preexec: Callable[[], None] | None = die_with_parent if self.die_with_parent else None
        with open(self.logs_dir / "stdout.log", "ab") as out:
            out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {' '.join(cmd)}\n".encode())
            out.flush()
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the shell that ran `start` must not reach it
                preexec_fn=preexec,
            )
        self._write_state(replace(state, pid=self._proc.pid))
        self._wait_ready(port)
        return f"{HOST}:{port}"

    def _java(self) -> str:
        java = shutil.which("java")
        if java is None:
            raise BrokerError("java is not on PATH: the Kafka broker needs Java 17+. " + EXISTING_BROKER_HINT)
        return java

    def _format(self, java: str, cluster_id: str) -> None:
        """Format the KRaft log directory (static quorum: same flags on Kafka 3.9 and 4.x)."""
        cmd = [
            java,
            *TOOL_JVM_OPTS,
            f"-Dlog4j2.configurationFile={self.log4j_file}",
            f"-Dkafka.logs.dir={self.logs_dir}",
            "-cp",
            str(self.lib_dir / "*"),
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(self.properties_file),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise BrokerError(f"formatting {self.data_dir} failed:\n{done.stdout}{done.stderr}")

    def _wait_ready(self, port: int) -> None:
        """Block until the broker answers ApiVersions; fail fast if the JVM exits."""
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        delay = 0.05
        while not api_versions_ok(HOST, port, timeout=1.0):
            code = self._proc.poll()
            if code is not None:
                self._proc = None
                self._clear_pid()
                raise BrokerError(f"Kafka exited with code {code} during startup.\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerError(
                    f"Kafka did not answer on {HOST}:{port} within {self.start_timeout:.0f}s.\n{self.log_tail()}"
                )
            # Waiting on the process (not a bare sleep) returns at once if the JVM dies.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=delay)
            delay = min(delay * 2, 0.5)

    # -- stop / status -------------------------------------------------------------------------

    def stop(self) -> None:
        """SIGTERM the broker (clean shutdown), SIGKILL it after ``stop_timeout``; idempotent."""
        pid = self._proc.pid if self._proc is not None else self._state_pid()
        if pid is None:
            return
        try:
            os.killpg(pid, signal.SIGTERM)  # its own session: the group is the JVM alone
        except ProcessLookupError:
            pass
        if not self._wait_exit(pid, self.stop_timeout):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            self._wait_exit(pid, 10.0)
        self._proc = None
        self._clear_pid()

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        if self._proc is not None and self._proc.pid == pid:
            try:
                self._proc.wait(timeout=timeout)  # also reaps our child: no zombie left
            except subprocess.TimeoutExpired:
                return False
            return True
        return wait_pid_exit(pid, timeout)

    def status(self) -> str | None:
        """The bootstrap address if this workdir's broker is running and answering, else None."""
        state = self._read_state()
        if state is None or self._state_pid() is None or not api_versions_ok(HOST, state.port):
            return None
        return f"{HOST}:{state.port}"

    @property
    def bootstrap(self) -> str | None:
        """``"127.0.0.1:PORT"`` of the last start (also when stopped), or None."""
        state = self._read_state()
        return f"{HOST}:{state.port}" if state else None

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of server.log and stdout.log, for error messages."""
        parts: list[str] = []
        for name in ("server.log", "stdout.log"):
            path = self.logs_dir / name
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path} (last {len(text)} lines) ---\n" + "\n".join(text))
        return "\n".join(parts) or f"(no logs in {self.logs_dir})"

    def _state_pid(self) -> int | None:
        """The recorded pid, only if that process is still our Kafka (pids get reused)."""
        state = self._read_state()
        pid = state.pid if state else None
        if pid is None or not pid_alive(pid):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return pid  # no /proc (not Linux): trust the state file
        ours = b"kafka.Kafka" in cmdline and str(self.properties_file).encode() in cmdline
        return pid if ours else None

    def _read_state(self) -> BrokerState | None:
        try:
            return BrokerState(**json.loads(self.state_file.read_text()))
        except (OSError, ValueError, TypeError):  # absent, unreadable or from another layout
            return None

    def _write_state(self, state: BrokerState) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(state), indent=2) + "\n")
        os.replace(tmp, self.state_file)

    def _clear_pid(self) -> None:
        state = self._read_state()
        if state is not None:
            self._write_state(replace(state, pid=None))

    def __enter__(self) -> KafkaBroker:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tools.kafka.broker fetch|start|stop|restart|status``."""
    parser = argparse.ArgumentParser(prog="python -m tools.kafka.broker", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["fetch", "start", "stop", "restart", "status"])
    parser.add_argument("--workdir", default=None, help=f"data/logs folder (default {DEFAULT_WORKDIR})")
    parser.add_argument("--fresh", action="store_true", help="start: wipe the data folder first")
    args = parser.parse_args(argv)
    broker = KafkaBroker(args.workdir)
    try:
        if args.command == "fetch":
            print(f"Kafka {kafka_version()} jars in {broker.fetch()}")
        elif args.command == "start":
            began = time.monotonic()
            address = broker.start(fresh=args.fresh)
            print(address)
            print(f"ready in {time.monotonic() - began:.1f}s; logs in {broker.logs_dir}", file=sys.stderr)
        elif args.command == "restart":
            print(broker.restart())
        elif args.command == "stop":
            broker.stop()
        else:
            running = broker.status()
            print(f"running {running}" if running else "stopped")
            return 0 if running else 1
    except BrokerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
