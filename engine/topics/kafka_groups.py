"""Consumer-group offsets on the group coordinator, for ``KafkaStore``.

streamsql reads with manual assignment, so it commits like such a client does: OffsetCommit with
generation -1 and no member id, no group membership, no rebalances. OffsetFetch reads them back
and DeleteGroups drops a group with its offsets. Every request retries transient errors
(coordinator loading or moving, broker restarting) until the caller's deadline.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import aiokafka.errors as errors
from aiokafka.client import AIOKafkaClient, ConnectionGroup
from aiokafka.protocol.admin import DeleteGroupsRequest
from aiokafka.protocol.commit import OffsetCommitRequest, OffsetFetchRequest

from engine.topics.base import TopicError
from engine.topics.kafka_client import GROUP_COORDINATOR, raise_for, retry

# DeleteGroups answers meaning "nothing to delete": GROUP_ID_NOT_FOUND, and NON_EMPTY_GROUP
# (another client has joined the group: its offsets are not ours to drop).
_GONE_GROUP_CODES = (69, 68)

OnRetry = Callable[[], Awaitable[Any]]


async def _coordinator(client: AIOKafkaClient, group: str) -> int:
    node = await client.coordinator_lookup(GROUP_COORDINATOR, group)
    if node is None:  # no broker known right now (restarting)
        raise errors.NodeNotReadyError(f"no coordinator for group {group}")
    return int(node)


async def _coordinator_send(client: AIOKafkaClient, group: str, request: Any) -> Any:
    node = await _coordinator(client, group)
    return await client.send(node, request, group=ConnectionGroup.COORDINATION)


async def commit_offsets(
    client: AIOKafkaClient, group: str, offsets: dict[tuple[str, int], int], deadline: float,
    on_retry: OnRetry,
) -> None:
    """Commit ``offsets`` (next offset to read, keyed (topic, partition)) for ``group``."""
    by_topic: dict[str, list[tuple[int, int, str]]] = {}
    for (topic, partition), offset in sorted(offsets.items()):
        by_topic.setdefault(topic, []).append((partition, offset, ""))
    request = OffsetCommitRequest(
        group, -1, "", OffsetCommitRequest.DEFAULT_RETENTION_TIME, list(by_topic.items())
    )

    async def attempt() -> None:
        response = await _coordinator_send(client, group, request)
        for topic, rows in response.topics:
            for partition, code in rows:
                raise_for(code, f"commit {group} {topic}-{partition}")

    await retry(attempt, deadline, on_retry)


async def fetch_offsets(
    client: AIOKafkaClient, group: str, topic: str, partitions: list[int], deadline: float,
    on_retry: OnRetry,
) -> dict[int, int]:
    """Committed offsets of ``group`` for ``topic``'s ``partitions``: partition -> next offset."""
    request = OffsetFetchRequest(group, [(topic, sorted(partitions))])

    async def attempt() -> dict[int, int]:
        response = await _coordinator_send(client, group, request)
        raise_for(getattr(response, "error_code", 0), f"offsets of group {group}")
        found: dict[int, int] = {}
        for _, rows in response.topics:
            for partition, offset, _, code in rows:
                raise_for(code, f"offsets of group {group} {topic}-{partition}")
                if offset >= 0:
                    found[partition] = int(offset)
        return found

    return await retry(attempt, deadline, on_retry)


async def delete_groups(
    client: AIOKafkaClient, groups: list[str], deadline: float, on_retry: OnRetry
) -> None:
    """Delete ``groups`` and their offsets, one request per coordinator; unknown groups are fine."""

    async def delete(node: int, names: list[str]) -> None:
        request = DeleteGroupsRequest(names)
        response = await client.send(node, request, group=ConnectionGroup.COORDINATION)
        for group, code in response.results:
            if code and code not in _GONE_GROUP_CODES:
                raise TopicError(f"Cannot delete group '{group}': {errors.for_code(code).__name__}")

    by_node: dict[int, list[str]] = {}
    for group in groups:
        node = await retry(functools.partial(_coordinator, client, group), deadline, on_retry)
        by_node.setdefault(node, []).append(group)
    for node, names in by_node.items():
        await retry(functools.partial(delete, node, names), deadline, on_retry)
