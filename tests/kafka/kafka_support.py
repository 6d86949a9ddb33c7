"""Shared helpers for the Kafka tests (imported by conftest and the test modules)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tools.kafka.broker import KafkaBroker

T = TypeVar("T")


@dataclass
class KafkaUnderTest:
    """The broker the tests talk to; ``broker`` is None when it is an external one."""

    bootstrap: str
    broker: KafkaBroker | None


def wait_for(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    """Call ``probe`` until it returns something truthy; fail after ``timeout`` seconds.

    Used only for state we cannot block on (e.g. another client's view of the broker).
    """
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
