"""`streamsql query "SQL"`: ad hoc pull queries and read-only DuckDB SQL over materialised tables.

With ``--server URL`` it asks a running `streamsql server` / `streamsql run --listen` (the
process that owns the data dir); with ``--data-dir`` it opens the engine itself, which only works
while no other process owns that dir (DuckDB allows one writing process).
"""

from __future__ import annotations

import argparse
import csv
import sys
from typing import TextIO

import parser as sqlparser
from cli.adhoc import Dialect
from cli.backend import Backend, LocalBackend
from cli.entities import Result, to_entity
from cli.errors import CliError
from cli.jsonout import dumps
from cli.options import add_store_args, open_engine, where
from cli.render import cell, render_error, render_result
from engine.errors import KsqlError
from engine.results import RowsResult
from parser import statements as st


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the `query` subcommand."""
    p = sub.add_parser("query", help="run an ad hoc query (pull query, or DuckDB SQL over tables)")
    p.add_argument("sql", help="the query (ksqlDB, or read-only DuckDB SQL over materialised tables)")
    p.add_argument("--server", help="URL of a running `streamsql server` or `streamsql run --listen`")
    p.add_argument("--auth", help="USER:PASSWORD for a server with basic auth")
    add_store_args(p)
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.add_argument("--sql", dest="dialect", choices=["auto", "ksql", "duckdb"], default="auto",
                   help="ksqlDB only, DuckDB only, or ksqlDB falling back to DuckDB (default)")
    p.set_defaults(func=run)


def write_rows(result: RowsResult, fmt: str, out: TextIO) -> None:
    """Rows as a table, JSON objects (one array) or CSV with a header."""
    names = [n for n, _ in result.columns]
    if fmt == "json":
        out.write(dumps([dict(zip(names, row, strict=False)) for row in result.rows], indent=2) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([[("" if v is None else cell(v)) for v in row] for row in result.rows])
    else:
        out.write(render_result(result) + "\n")


def write_result(result: Result, fmt: str, out: TextIO) -> None:
    """One result in the chosen format."""
    if isinstance(result, RowsResult):
        write_rows(result, fmt, out)
    elif fmt == "json":
        out.write(dumps(to_entity(result), indent=2) + "\n")
    else:
        out.write(render_result(result) + "\n")


def _stream(backend: Backend, sql: str, fmt: str, out: TextIO) -> None:
    """A push query on a server: rows as they arrive, until LIMIT or Ctrl-C."""
    query = backend.stream(sql)
    names = [n for n, _ in query.columns]
    writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writerow(names)
    try:
        while not query.done:
            for row in query.poll(0.5):
                if writer is not None:
                    writer.writerow([("" if v is None else cell(v)) for v in row])
                elif fmt == "json":
                    out.write(dumps(dict(zip(names, row, strict=False))) + "\n")
                else:
                    out.write(" | ".join(cell(v) for v in row) + "\n")
                out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        query.close()


def _is_push(sql: str, variables: dict[str, str]) -> bool:
    try:
        parsed = sqlparser.parse(sql, variables)
    except sqlparser.ParseError:
        return False
    return len(parsed) == 1 and isinstance(parsed[0], st.Query) and parsed[0].select.emit == "CHANGES"


def open_backend(args: argparse.Namespace) -> Backend:
    """A remote backend with --server, else an engine on the data dir (queries not started)."""
    if args.server:
        from cli.client import RemoteBackend

        return RemoteBackend(args.server, args.auth)
    return LocalBackend(open_engine(args.data_dir, args.kafka), where(args.data_dir, args.kafka))


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Entry point of `streamsql query`."""
    dialect: Dialect = args.dialect
    try:
        backend = open_backend(args)
    except CliError as err:
        print(render_error(err), file=sys.stderr)
        return 1
    try:
        if args.server and dialect != "duckdb" and _is_push(args.sql, backend.variables):
            _stream(backend, args.sql, args.format, out)
            return 0
        for result in backend.execute(args.sql, dialect):
            write_result(result, args.format, out)
    except (KsqlError, CliError, sqlparser.ParseError) as err:
        print(render_error(err), file=sys.stderr)
        return 1
    finally:
        backend.close()
    return 0
