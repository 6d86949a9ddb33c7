"""A real single-node Apache Kafka broker (KRaft) on loopback, fetched from Maven Central.

See ``tools.kafka.broker`` (``python -m tools.kafka.broker fetch|start|stop|status``). Nothing is
imported here so that ``python -m tools.kafka.broker`` runs the module exactly once.
"""
