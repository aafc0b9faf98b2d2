"""Create every topic of the catalogue and its dead-letter topic."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.events.catalogue import TOPICS, dead_letter_topic

_TOPIC_EXISTS = 36


def all_topic_names(topics: Iterable[str] = TOPICS) -> list[str]:
    names: list[str] = []
    for topic in topics:
        names += [topic, dead_letter_topic(topic)]
    return names


async def ensure_topics(
    bootstrap: str, *, partitions: int = 3, topics: Iterable[str] = TOPICS
) -> list[str]:
    """Create what is missing; returns the names created. Existing topics are left alone."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="loopcrm-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [name for name in all_topic_names(topics) if name not in existing]
        if not wanted:
            return []
        response = await admin.create_topics(
            [NewTopic(name, partitions if not name.endswith(".dlq") else 1, 1) for name in wanted]
        )
        # Some brokers answer "already exists" in the response instead of raising.
        failed = [
            (name, code, message)
            for name, code, message in response.topic_errors
            if code not in (0, _TOPIC_EXISTS)
        ]
        if failed:
            raise RuntimeError(f"could not create topics: {failed}")
        return wanted
    finally:
        await admin.close()
