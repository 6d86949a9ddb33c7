# The two commands of the README: `make demo` and `make test`. Both set everything up.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint conformance conformance-kafka test-deps venv clean bench bench-quick

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m cli.demo

# kcat is the independent (librdkafka) client of the Kafka interop tests: a Debian package,
# installed here when we may (root); otherwise those tests fail and say how to install it.
test-deps:
	@command -v kcat >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && apt-get install -y -qq kcat) >/dev/null 2>&1; } || \
		echo "note: kcat not installed (apt-get install kcat); the Kafka interop tests need it"

# The Kafka suite starts its own broker (Java 17 + Maven) unless STREAMSQL_KAFKA=host:port is set.
test: $(STAMP) test-deps
	$(BIN)/python -m pytest tests

lint: $(STAMP)
	$(BIN)/ruff check parser engine cli tests tools bench
	$(BIN)/mypy parser engine cli tools bench

conformance: $(STAMP)
	$(BIN)/streamsql test ../shared/qtt --quiet --json-report build/qtt-report.json

conformance-kafka: $(STAMP)
	$(BIN)/streamsql test ../shared/qtt --quiet --kafka $${STREAMSQL_KAFKA:?set STREAMSQL_KAFKA=host:port}

# Benchmarks (bench/README.md): bench-only deps, and Quix Streams in its own venv (it needs an
# older confluent-kafka than the project pins). Results go to bench/results/.
BENCH_STAMP := $(VENV)/.bench-installed
QUIX_VENV := .work/bench/quix-venv

$(BENCH_STAMP): $(STAMP) bench/requirements.txt bench/requirements-quix.txt
	$(BIN)/pip install --quiet -r bench/requirements.txt
	$(PY) -m venv $(QUIX_VENV)
	$(QUIX_VENV)/bin/pip install --quiet -r bench/requirements-quix.txt
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run

bench-quick: $(BENCH_STAMP)
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf $(VENV) build .streamsql
