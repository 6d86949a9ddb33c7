"""streamsql benchmarks: Nexmark and pageviews workloads on the embedded log and on a real Kafka
broker, next to the I/O ceiling (a raw consume of the same topic) and a peer engine (Quix
Streams). Run with ``python -m bench.run``; see ``bench/README.md``.
"""
