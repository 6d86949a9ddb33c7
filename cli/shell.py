"""`streamsql shell`: the interactive SQL shell (prompt-toolkit).

Statements run when the input ends with `;` (Enter inserts a newline until then); the shell's own
commands (help, history, output, spool, server, run script, clear, version, exit) need none.
Push queries stream into a live table until LIMIT or Ctrl-C, which stops the query and keeps the
shell. Errors show a message (with a caret for syntax errors), never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.enums import DEFAULT_BUFFER
from prompt_toolkit.filters import has_focus
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

import parser as sqlparser
from cli import shell_commands
from cli.backend import Backend, CatalogView, LocalBackend
from cli.completion import KsqlCompleter
from cli.errors import CliError
from cli.highlight import STYLE, KsqlLexer, tokens
from cli.render import LiveTable, render_error, render_json, render_result
from cli.server import VERSION
from engine.errors import KsqlError
from engine.expressions import all_functions
from parser import statements as st

PROMPT = "streamsql> "


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the `shell` subcommand."""
    from cli.options import add_store_args

    p = sub.add_parser("shell", help="the interactive SQL shell")
    add_store_args(p)
    p.add_argument("--server", help="be a client of a running `streamsql server` / `run --listen` at this URL")
    p.add_argument("--auth", help="USER:PASSWORD for a server with basic auth")
    p.add_argument("--history", help="history file (default: DATA_DIR/history, or ~/.streamsql_history with --server)")
    p.add_argument("--output", choices=["TABULAR", "JSON"], default="TABULAR", type=str.upper)
    p.set_defaults(func=run)


def statement_complete(text: str) -> bool:
    """True when Enter should run the input: empty, a shell command, or ending with `;`
    outside strings and comments."""
    stripped = text.strip()
    if not stripped or shell_commands.is_command(stripped):
        return True
    significant = [v for style, v in tokens(stripped, frozenset()) if style != "class:comment" and v.strip()]
    return bool(significant) and significant[-1] == ";"


def _key_bindings() -> KeyBindings:
    kb = KeyBindings()

    # Only in the statement buffer: in Ctrl-R search, Enter keeps accepting the search.
    @kb.add("enter", filter=has_focus(DEFAULT_BUFFER))
    def _enter(event: KeyPressEvent) -> None:
        buf = event.current_buffer
        state = buf.complete_state
        if state is not None and state.current_completion is not None:
            buf.apply_completion(state.current_completion)
            return
        if statement_complete(buf.text):
            buf.validate_and_handle()
        else:
            buf.insert_text("\n")
    return kb


class Shell:
    """The read-eval-print loop over a backend."""

    def __init__(self, backend: Backend, history: History, out: TextIO = sys.stdout,
                 output_format: str = "TABULAR", interactive: bool = True) -> None:
        self.backend = backend
        self.out = out
        self.output_format = output_format
        self.spool: TextIO | None = None
        self.history = history
        self._catalog = CatalogView()
        self.refresh_catalog()
        functions = [f.name for f in all_functions()]
        self.session: PromptSession[str] | None = None
        if not interactive:
            return
        self.session = PromptSession(
            history=history, lexer=KsqlLexer(frozenset(functions)), style=STYLE,
            completer=KsqlCompleter(lambda: self._catalog, functions), complete_while_typing=False,
            multiline=True, key_bindings=_key_bindings(), prompt_continuation=lambda w, n, s: "        > ",
            enable_history_search=False)

    # -- output --------------------------------------------------------------------------------

    def emit(self, text: str, err: bool = False) -> None:
        """Print (and copy to the spool file)."""
        if not text:
            return
        print(text, file=sys.stderr if err else self.out, flush=True)
        if self.spool is not None:
            self.spool.write(text + "\n")
            self.spool.flush()

    def refresh_catalog(self) -> None:
        """Re-read the catalog the completer offers (after statements that may change it)."""
        try:
            self._catalog = self.backend.catalog()
        except CliError:
            pass

    # -- the loop ------------------------------------------------------------------------------

    def banner(self) -> None:
        """Greeting with where statements run."""
        self.emit(f"streamsql {VERSION} - ksqlDB-compatible streaming SQL\n"
                  f"Connected to: {self.backend.describe()}\n"
                  "Statements end with ';'. Type 'help' for commands, Ctrl-D to exit.\n")

    def loop(self) -> int:
        """Read and run input until Ctrl-D or `exit`."""
        self.banner()
        assert self.session is not None, "an interactive shell has a prompt session"
        while True:
            try:
                text = self.session.prompt(PROMPT)
            except KeyboardInterrupt:
                continue
            except EOFError:
                self.emit("Exiting streamsql.")
                return 0
            if self.spool is not None and text.strip():
                self.spool.write(f"{PROMPT}{text}\n")
            if not self.handle(text):
                return 0

    def handle(self, text: str) -> bool:
        """Run one input (statements or a shell command); False means exit."""
        stripped = text.strip()
        if not stripped:
            return True
        if shell_commands.is_command(stripped):
            return shell_commands.dispatch(self, stripped)
        try:
            self.run_statements(text)
        except KeyboardInterrupt:
            self.emit("Interrupted.", err=True)
        except Exception as err:  # noqa: BLE001 - the shell reports a failure and stays
            self.emit(f"Error: {render_error(err)}", err=True)
        return True

    def run_statements(self, text: str, source: str | None = None) -> bool:
        """Run every statement of ``text``; stops and reports at the first error."""
        try:
            parsed = sqlparser.parse_with_source(text, self.backend.variables, cli=True)
        except sqlparser.ParseError as err:
            if not self._try_adhoc(text, err):
                self.emit((f"{source}: " if source else "") + render_error(err), err=True)
                return False
            return True
        for p in parsed:
            if not self.run_one(p):
                return False
        return True

    def _try_adhoc(self, text: str, err: sqlparser.ParseError) -> bool:
        """Not ksqlDB: maybe read-only DuckDB SQL over the materialised tables (one statement)."""
        try:
            results = self.backend.execute(text, "duckdb")
        except (KsqlError, CliError):
            return False
        for result in results:
            self.emit(render_json(result) if self.output_format == "JSON" else render_result(result))
        return True

    def run_one(self, p: sqlparser.ParsedStatement) -> bool:
        """Run one parsed statement: a push query streams, RUN SCRIPT recurses, others execute."""
        stmt = p.statement
        try:
            if isinstance(stmt, st.RunScript):
                return shell_commands.run_script(self, stmt.path)
            if isinstance(stmt, st.Query) and stmt.select.emit == "CHANGES":
                self.stream(p.text)
                return True
            for result in self.backend.execute(p.text):
                self.emit(render_json(result) if self.output_format == "JSON" else render_result(result))
        except (KsqlError, CliError, sqlparser.ParseError) as err:
            self.emit(render_error(err), err=True)
            return False
        if not isinstance(stmt, st.Query):
            self.refresh_catalog()
        return True

    def stream(self, sql: str) -> None:
        """Stream a push query's rows into a live table until LIMIT or Ctrl-C."""
        query = self.backend.stream(sql)
        table = LiveTable([n for n, _ in query.columns], self.out, as_json=self.output_format == "JSON")
        self.emit("Press CTRL-C to interrupt")
        table.header()
        try:
            while not query.done:
                rows = query.poll(0.2)
                table.rows(rows)
                self._spool_rows(table, rows)
            table.rows(query.poll(0))
            table.footer("Limit Reached\nQuery terminated")
        except KeyboardInterrupt:
            table.footer("Query terminated")
        finally:
            query.close()

    def _spool_rows(self, table: LiveTable, rows: list[list[object]]) -> None:
        if self.spool is not None:
            for row in rows:
                self.spool.write(" | ".join(str(v) for v in row) + "\n")


def _run_piped(backend: Backend, output_format: str) -> int:
    """Statements from a pipe (``streamsql shell < script.sql``): run them all, no prompt;
    exit status 1 at the first failure."""
    shell = Shell(backend, InMemoryHistory(), output_format=output_format, interactive=False)
    try:
        return 0 if shell.run_statements(sys.stdin.read(), source="<stdin>") else 1
    finally:
        backend.close()


def _history(path: str | None) -> History:
    if path is None:
        return InMemoryHistory()
    Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return FileHistory(str(Path(path).expanduser()))


def open_backend(args: argparse.Namespace) -> tuple[Backend, str]:
    """The backend the flags ask for, and the default history file for it."""
    if args.server:
        from cli.client import RemoteBackend

        return RemoteBackend(args.server, args.auth), "~/.streamsql_history"
    from cli.options import open_engine, where

    engine = open_engine(args.data_dir, args.kafka)
    engine.start()
    return LocalBackend(engine, where(args.data_dir, args.kafka)), str(Path(args.data_dir) / "history")


def run(args: argparse.Namespace) -> int:
    """Entry point of `streamsql shell`."""
    try:
        backend, default_history = open_backend(args)
    except CliError as err:
        print(render_error(err), file=sys.stderr)
        return 1
    if not sys.stdin.isatty():
        return _run_piped(backend, args.output)
    shell = Shell(backend, _history(args.history or default_history), output_format=args.output)
    try:
        return shell.loop()
    finally:
        if shell.spool is not None:
            shell.spool.close()
        shell.backend.close()
