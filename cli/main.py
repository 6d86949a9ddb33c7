"""The `streamsql` command: shell, run, server, query, datagen, test."""

from __future__ import annotations

import argparse
import sys

from cli import datagencmd, querycmd, runcmd, servercmd, shell, testcmd
from cli.server import VERSION


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="streamsql", description="ksqlDB-compatible streaming SQL")
    parser.add_argument("--version", action="version", version=f"streamsql {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True)
    testcmd.add_parser(sub)
    runcmd.add_parser(sub)
    servercmd.add_parser(sub)
    shell.add_parser(sub)
    querycmd.add_parser(sub)
    datagencmd.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
