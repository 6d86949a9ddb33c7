# The two commands of the README: `make demo` and `make test`. Both set everything up.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint conformance conformance-kafka test-deps venv clean

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
	$(BIN)/ruff check parser engine cli tests tools
	$(BIN)/mypy parser engine cli tools

conformance: $(STAMP)
	$(BIN)/streamsql test ../shared/qtt --quiet --json-report build/qtt-report.json

conformance-kafka: $(STAMP)
	$(BIN)/streamsql test ../shared/qtt --quiet --kafka $${STREAMSQL_KAFKA:?set STREAMSQL_KAFKA=host:port}

clean:
	rm -rf $(VENV) build .streamsql
