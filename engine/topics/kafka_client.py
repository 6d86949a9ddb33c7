"""Plumbing of ``KafkaStore``: the event-loop thread, retries of transient errors, error codes.

aiokafka is asyncio-only; the store runs one event loop on a private daemon thread and every
synchronous call submits a coroutine to it and waits. Calls that meet a transient condition
(broker unreachable or restarting, leader or coordinator moving, metadata not yet propagated)
retry with exponential backoff until a deadline, so a broker restart of a few seconds is
invisible to the engine; past the deadline the error surfaces as ``TopicError``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import aiokafka.errors as errors

from engine.topics.base import TopicError

T = TypeVar("T")

log = logging.getLogger("streamsql.kafka")
# aiokafka logs every failed connection attempt at ERROR; with no logging configured Python's
# last-resort handler would print them all while we retry. Our own warning says it once.
logging.getLogger("aiokafka").addHandler(logging.NullHandler())

# A retry sequence that lasts longer than this is reported once (a broker restart, not a blip).
REPORT_AFTER = 1.0

GROUP_COORDINATOR = 0  # FindCoordinator key type for consumer groups
LATEST = -1  # ListOffsets timestamp meaning "the next offset to be written"
EARLIEST = -2


class MetadataUnavailableError(errors.KafkaConnectionError):
    """No broker answered a Metadata request (aiokafka raises a bare ``KafkaError`` for this)."""


# Retriable broker answers: a topic, leader or group coordinator still being set up or moving,
# or a broker that is (re)starting and not accepting connections yet.
TRANSIENT: tuple[type[BaseException], ...] = (
    errors.NotLeaderForPartitionError,
    errors.UnknownTopicOrPartitionError,
    errors.LeaderNotAvailableError,
    errors.CoordinatorLoadInProgressError,
    errors.CoordinatorNotAvailableError,
    errors.NotCoordinatorError,
    errors.KafkaConnectionError,
    errors.NodeNotReadyError,
    errors.RequestTimedOutError,
    errors.KafkaTimeoutError,
    errors.NotEnoughReplicasError,
    errors.NotEnoughReplicasAfterAppendError,
    errors.NotControllerError,
    ConnectionError,
    asyncio.TimeoutError,
)


class LoopThread:
    """An asyncio event loop on a daemon thread, driven from synchronous callers."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the loop and wait for its result (at most ``timeout`` seconds)."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("KafkaStore called from its own event loop thread (would deadlock)")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TopicError(f"Kafka operation timed out after {timeout:.0f}s") from None

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start ``coro`` on the loop without waiting (read-ahead, background deletes)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        """Stop the loop and join its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self.loop.close()


async def retry(
    op: Callable[[], Awaitable[T]], deadline: float, on_retry: Callable[[], Awaitable[Any]]
) -> T:
    """Run ``op``, retrying transient Kafka errors with exponential backoff until ``deadline``.

    ``on_retry`` runs before each new attempt (e.g. to forget cached leaders).
    """
    delay, began, reported = 0.05, time.monotonic(), False
    while True:
        try:
            result = await op()
        except TRANSIENT as exc:
            now = time.monotonic()
            if now + delay > deadline:
                raise
            if not reported and now - began > REPORT_AFTER:
                reported = True
                log.warning("Kafka unavailable (%s); retrying for up to %.0fs", describe(exc), deadline - now)
        else:
            if reported:
                log.warning("Kafka available again after %.1fs", time.monotonic() - began)
            return result
        await asyncio.sleep(delay)  # backoff between attempts against a broker that is not ready
        delay = min(delay * 2, 1.0)
        await on_retry()


def raise_for(code: int, what: str) -> None:
    """Raise the aiokafka exception of a non-zero Kafka error code."""
    if code:
        error = errors.for_code(code)
        raise error(what)


def describe(exc: BaseException) -> str:
    """``Type: message`` of an exception, for error messages."""
    name, text = type(exc).__name__, str(exc)
    if not text or text == name:
        return name
    return text if text.startswith(name) else f"{name}: {text}"
