"""Kafka plumbing: the publisher, the consumer runner, topics and the embedded broker."""
