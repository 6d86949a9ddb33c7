"""`streamsql run FILE.sql`: validate a file of statements, run it, keep its queries running.

``--listen HOST:PORT`` serves the HTTP API (see ``cli.server``) on the same engine, so
`streamsql query --server` and `streamsql shell --server` can read the running state. On a
terminal, per-query progress (records in/out, rate, lag) redraws in place; otherwise it is logged.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import parser as sqlparser
from cli.errors import CliError
from cli.options import add_store_args, open_engine
from cli.progress import Progress
from cli.render import render_error, render_summary
from cli.server import StreamsqlServer, start_server
from cli.servercmd import wait_for_signal
from engine.engine import Engine
from engine.errors import KsqlError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the `run` subcommand."""
    p = sub.add_parser("run", help="run the statements of a .sql file as persistent queries")
    p.add_argument("file", help="the .sql file")
    p.add_argument("--define", action="append", default=[], metavar="K=V", help="a variable for ${K}")
    add_store_args(p)
    p.add_argument("--until-idle", action="store_true",
                   help="exit once every query has processed all available input (for scripts and demos)")
    p.add_argument("--listen", metavar="HOST:PORT",
                   help="also serve the HTTP API (ksqlDB's REST API) on this address")
    p.add_argument("--auth", help="require HTTP basic auth USER:PASSWORD on --listen")
    p.add_argument("--progress", choices=["on", "off"], default="on",
                   help="per-query progress: redrawn on a terminal, logged every 10 s otherwise")
    p.add_argument("--progress-interval", type=float, metavar="SECONDS",
                   help="seconds between progress reports (default 1 on a terminal, 10 otherwise)")
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
    except OSError as err:
        print(f"{path}: {err.strerror}", file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    """Entry point of `streamsql run`."""
    path = Path(args.file)
    variables = parse_defines(args.define)
    parsed = validate_file(path, variables)
    if parsed is None:
        return 2
    try:
        engine = open_engine(args.data_dir, args.kafka)
    except CliError as err:
        print(err.message, file=sys.stderr)
        return 1
    engine.variables.update(variables)
    try:
        for p in parsed:
            if p.text.strip() in engine.commands.restored:
                # Restarting the same file on its data dir resumes it: this statement's source,
                # table or query came back from the command log, with its state and offsets.
                print(f"{path}:{p.line}: restored from {args.data_dir}")
                continue
            try:
                result = engine.execute_statement(p.statement, p.text)
            except KsqlError as err:
                print(f"{path}:{p.line}:{p.column}: {err.message}", file=sys.stderr)
                return 1
            print(render_summary(result))
        if args.until_idle:
            n = engine.run_until_idle()
            print(f"Processed {n} records; {engine.processing_log.count} processing-log entries.")
            return 0
        return _serve(engine, args)
    finally:
        engine.close()


def _serve(engine: Engine, args: argparse.Namespace) -> int:
    """Run until SIGINT/SIGTERM (serving HTTP if asked), then stop after the current batch commits."""
    server: StreamsqlServer | None = None
    engine.start()
    if args.listen:
        try:
            server = start_server(engine, args.listen, args.auth)
        except OSError as err:
            print(f"Cannot listen on {args.listen}: {err}", file=sys.stderr)
            return 1
    listening = f"; HTTP API on {server.url}" if server else ""
    print(f"Running {len(engine.running)} persistent queries (pid {os.getpid()}){listening}; Ctrl-C to stop.",
          flush=True)
    progress = Progress(engine, interval=args.progress_interval) if args.progress != "off" else None
    if progress is not None:
        progress.start()
    try:
        wait_for_signal()
    finally:
        if progress is not None:
            progress.stop()
        if server is not None:
            server.shutdown_all()
        engine.stop()
    print("Stopped; offsets committed.", flush=True)
    return 0
