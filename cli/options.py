"""Options every subcommand shares (--data-dir, --kafka) and opening an engine with them."""

from __future__ import annotations

import argparse
import os

import duckdb

from cli.errors import CliError
from engine.engine import Engine
from engine.topics.base import TopicError
from engine.topics.factory import kafka_from_env, open_store

DEFAULT_DATA_DIR = ".streamsql"


def add_store_args(p: argparse.ArgumentParser) -> None:
    """--data-dir and --kafka."""
    p.add_argument("--data-dir", default=os.environ.get("STREAMSQL_DATA_DIR", DEFAULT_DATA_DIR),
                   help="embedded log, catalog and state directory (default: .streamsql)")
    p.add_argument("--kafka", help="Kafka bootstrap HOST:PORT (default: $STREAMSQL_KAFKA, else the embedded log)")


def open_engine(data_dir: str, kafka: str | None) -> Engine:
    """An engine over the data dir (and Kafka, if given).

    Raises:
        CliError: the data dir is in use by another process (DuckDB and the embedded log allow
            one owner): reach that process with ``--server`` instead.
    """
    store = None
    try:
        store = open_store(kafka_from_env(kafka), data_dir)
        return Engine(store, data_dir=data_dir)
    except TopicError as err:  # e.g. the Kafka broker is not reachable after retrying
        raise CliError(str(err)) from err
    except duckdb.IOException as err:
        if store is not None:
            store.close()
        raise CliError(f"The data dir {data_dir} is in use by another streamsql process ({err}).\n"
                       f"Only one process may own a data dir: reach a running `streamsql run --listen` "
                       f"or `streamsql server` with --server http://HOST:PORT instead.") from err


def where(data_dir: str, kafka: str | None) -> str:
    """A one-line description of the backend, for banners."""
    broker = kafka_from_env(kafka)
    return f"Kafka at {broker}, state in {data_dir}" if broker else f"embedded log in {data_dir}"
