"""`streamsql run FILE.sql`: validate a file of statements, run it, keep its queries running."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

import parser as sqlparser
from cli.render import render_error, render_result
from engine.engine import Engine
from engine.errors import KsqlError
from engine.topics.factory import kafka_from_env, open_store


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the `run` subcommand."""
    p = sub.add_parser("run", help="run the statements of a .sql file as persistent queries")
    p.add_argument("file", help="the .sql file")
    p.add_argument("--define", action="append", default=[], metavar="K=V", help="a variable for ${K}")
    p.add_argument("--data-dir", default=".streamsql", help="embedded log, catalog and state directory")
    p.add_argument("--kafka", help="Kafka bootstrap HOST:PORT (default: $STREAMSQL_KAFKA, else the embedded log)")
    p.add_argument("--until-idle", action="store_true",
                   help="exit once every query has processed all available input (for scripts and demos)")
    p.set_defaults(func=run)


def parse_defines(pairs: list[str]) -> dict[str, str]:
    """--define K=V pairs as a dict."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        out[key.strip()] = value
    return out


def validate_file(path: Path, variables: dict[str, str]) -> list[sqlparser.ParsedStatement] | None:
    """Parse the whole file first: nothing runs if any statement is wrong."""
    try:
        return sqlparser.parse_with_source(path.read_text(encoding="utf-8"), variables)
    except sqlparser.ParseError as err:
        print(f"{path}:{err.line}:{err.column}: {render_error(err)}", file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    """Entry point of `streamsql run`."""
    path = Path(args.file)
    variables = parse_defines(args.define)
    parsed = validate_file(path, variables)
    if parsed is None:
        return 2
    engine = Engine(open_store(kafka_from_env(args.kafka), args.data_dir), data_dir=args.data_dir)
    engine.variables.update(variables)
    try:
        for p in parsed:
            try:
                result = engine.execute_statement(p.statement, p.text)
            except KsqlError as err:
                print(f"{path}:{p.line}:{p.column}: {err.message}", file=sys.stderr)
                return 1
            print(render_result(result))
        if args.until_idle:
            n = engine.run_until_idle()
            print(f"Processed {n} records; {engine.processing_log.count} processing-log entries.")
            return 0
        return _serve(engine)
    finally:
        engine.close()


def _serve(engine: Engine) -> int:
    """Run until SIGINT/SIGTERM, then stop after the current batch commits."""
    done = threading.Event()

    def stop(signum: int, frame: object) -> None:
        done.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    engine.start()
    print(f"Running {len(engine.running)} persistent queries (pid {os.getpid()}); Ctrl-C to stop.", flush=True)
    done.wait()
    engine.stop()
    print("Stopped; offsets committed.", flush=True)
    return 0
