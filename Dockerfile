# streamsql's server (ksqlDB's REST API) for docker-compose.yml; any streamsql command works:
#   docker build -t streamsql .
#   docker run --rm streamsql streamsql run /queries/x.sql --kafka kafka:9092
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Dependencies first (pinned in pyproject.toml), so code changes reuse this layer.
COPY pyproject.toml README.md ./
RUN python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

COPY parser ./parser
COPY engine ./engine
COPY cli ./cli
COPY tools ./tools
COPY queries ./queries
RUN pip install --no-deps . && useradd --create-home --uid 1000 streamsql \
    && mkdir -p /data && chown streamsql /data

USER streamsql
VOLUME ["/data"]
EXPOSE 8088
CMD ["streamsql", "server", "--kafka", "kafka:9092", "--listen", "0.0.0.0:8088", "--data-dir", "/data"]
