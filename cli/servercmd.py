"""`streamsql server`: ksqlDB's REST API over an engine that runs its persistent queries."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

import parser as sqlparser
from cli.errors import CliError
from cli.options import add_store_args, open_engine, where
from cli.render import render_error
from cli.server import start_server
from engine.engine import Engine
from engine.errors import KsqlError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the `server` subcommand."""
    p = sub.add_parser("server", help="serve ksqlDB's REST API (/ksql, /query-stream, /info ...)")
    p.add_argument("--listen", default="127.0.0.1:8088", help="HOST:PORT to listen on (default 127.0.0.1:8088)")
    add_store_args(p)
    p.add_argument("--queries-file", help="a .sql file of statements to run at startup (ksql.queries.file)")
    p.add_argument("--auth", help="require HTTP basic auth USER:PASSWORD")
    p.add_argument("--verbose", action="store_true", help="log every request")
    p.set_defaults(func=run)


def run_file(engine: Engine, path: Path) -> None:
    """Run every statement of ``path``; raises CliError (file:line:col) on the first failure."""
    text = path.read_text(encoding="utf-8")
    try:
        parsed = sqlparser.parse_with_source(text, engine.variables)
    except sqlparser.ParseError as err:
        raise CliError(f"{path}:{err.line}:{err.column}: {render_error(err)}") from err
    for p in parsed:
        try:
            engine.execute_statement(p.statement, p.text)
        except KsqlError as err:
            raise CliError(f"{path}:{p.line}:{p.column}: {err.message}") from err


def wait_for_signal() -> None:
    """Block until SIGINT or SIGTERM."""
    done = threading.Event()

    def stop(signum: int, frame: object) -> None:
        done.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    done.wait()


def run(args: argparse.Namespace) -> int:
    """Entry point of `streamsql server`."""
    try:
        engine = open_engine(args.data_dir, args.kafka)
    except CliError as err:
        print(err.message, file=sys.stderr)
        return 1
    try:
        if args.queries_file:
            run_file(engine, Path(args.queries_file))
        engine.start()
        server = start_server(engine, args.listen, args.auth)
        server.quiet = not args.verbose
    except (CliError, OSError) as err:
        print(render_error(err) if isinstance(err, CliError) else f"Cannot listen on {args.listen}: {err}",
              file=sys.stderr)
        engine.close()
        return 1
    print(f"streamsql server listening on {server.url} ({where(args.data_dir, args.kafka)}); "
          f"{len(engine.running)} persistent queries. Ctrl-C to stop.", flush=True)
    try:
        wait_for_signal()
    finally:
        server.shutdown_all()
        engine.close()
    print("Stopped; offsets committed.", flush=True)
    return 0
