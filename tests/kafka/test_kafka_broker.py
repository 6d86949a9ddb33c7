"""The broker script itself: readiness probe and status of the session broker."""

from __future__ import annotations

import pytest
from kafka_support import KafkaUnderTest

from tools.kafka.broker import api_versions_ok, free_port, kafka_version, new_cluster_id

pytestmark = pytest.mark.kafka


def test_broker_answers_api_versions(kafka: KafkaUnderTest) -> None:
    host, _, port = kafka.bootstrap.rpartition(":")
    assert api_versions_ok(host, int(port))


def test_status_reports_the_running_broker(kafka: KafkaUnderTest) -> None:
    if kafka.broker is None:
        pytest.skip("STREAMSQL_KAFKA points at an external broker: no local broker state to report")
    assert kafka.broker.status() == kafka.bootstrap


def test_closed_port_is_not_ready() -> None:
    assert not api_versions_ok("127.0.0.1", free_port(), timeout=0.5)


def test_pinned_version_and_cluster_id_shape() -> None:
    assert kafka_version().count(".") == 2
    cid = new_cluster_id()
    assert len(cid) == 22 and not cid.startswith("-")
