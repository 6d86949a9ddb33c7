"""docker-compose.yml and the Dockerfile, checked without Docker.

The machines that run these tests have no Docker engine, so the compose file is checked
structurally (services, image, KRaft settings equal to the broker the tests start, ports,
health check, dependencies) and its streamsql command is run for real against the session
broker, with the container's addresses swapped for local ones.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from kafka_support import KafkaUnderTest
from streamsql_process import StreamsqlProcess

from tools.kafka.broker import free_port
from tools.kafka.support import server_properties

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.kafka


def _compose() -> dict[str, Any]:
    doc = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _env_to_property(name: str) -> str:
    """apache/kafka's rule: KAFKA_FOO_BAR -> foo.bar (``__`` -> ``_``, ``___`` -> ``-``)."""
    body = name.removeprefix("KAFKA_")
    return body.replace("___", "\0").replace("__", "\1").replace("_", ".").replace("\0", "-").replace("\1", "_").lower()


def test_kafka_service_is_apache_kafka_in_kraft_mode_with_the_test_broker_settings() -> None:
    kafka = _compose()["services"]["kafka"]
    assert re.fullmatch(r"apache/kafka:\d+\.\d+\.\d+", kafka["image"])
    env = {k: str(v) for k, v in kafka["environment"].items()}
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert len(env["CLUSTER_ID"]) == 22
    props = {_env_to_property(k): v for k, v in env.items() if k.startswith("KAFKA_") and k != "KAFKA_HEAP_OPTS"}
    # Every setting of tools/kafka's server.properties, except addresses and paths, is the same.
    ours = dict(
        line.split("=", 1)
        for line in server_properties(9092, 9093, Path("/data")).splitlines()
        if "=" in line and not line.startswith("#")
    )
    local_only = {"controller.quorum.voters", "listeners", "advertised.listeners", "log.dirs",
                  "listener.security.protocol.map"}
    different = {k: (v, props.get(k)) for k, v in ours.items() if k not in local_only and props.get(k) != v}
    assert not different, f"compose settings differ from tools/kafka: {different}"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert "9094:9094" in kafka["ports"]
    assert "kafka-broker-api-versions.sh" in " ".join(kafka["healthcheck"]["test"])


def test_streamsql_service_is_built_here_and_waits_for_a_healthy_broker() -> None:
    service = _compose()["services"]["streamsql"]
    assert service["build"]["context"] == "."
    dockerfile = REPO / service["build"]["dockerfile"]
    text = dockerfile.read_text(encoding="utf-8")
    assert text.startswith("#") and "FROM python:3.11-slim" in text and "pip install" in text
    for copied in re.findall(r"^COPY (\S+) ", text, flags=re.M):
        assert (REPO / copied).exists(), f"the Dockerfile copies {copied}, which is not in the repo"
    assert service["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "8088:8088" in service["ports"]
    command = service["command"]
    assert command[:2] == ["streamsql", "server"]
    assert command[command.index("--kafka") + 1] == "kafka:9092"
    assert command[command.index("--listen") + 1] == "0.0.0.0:8088"


def test_the_compose_command_serves_against_a_broker(kafka: KafkaUnderTest, tmp_path: Path) -> None:
    command = list(_compose()["services"]["streamsql"]["command"])
    port = free_port()
    swap = {"kafka:9092": kafka.bootstrap, "0.0.0.0:8088": f"127.0.0.1:{port}", "/data": str(tmp_path)}
    args = [swap.get(a, a) for a in command[1:]]
    with StreamsqlProcess(args, env={"STREAMSQL_KAFKA_CONNECT_TIMEOUT": "30"}) as proc:
        proc.wait_for_line(r"listening on", 60)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/info", timeout=30) as response:
            info = json.loads(response.read())
        assert proc.stop() == 0, proc.stderr[-3000:]
    assert "KsqlServerInfo" in info, info
