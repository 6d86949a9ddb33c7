"""Developer tooling for streamsql (not part of the engine package)."""
