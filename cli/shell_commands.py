"""The shell's own commands, as in ksqlDB's CLI: help, history, run script, spool, server, output,
clear, version, exit. They are typed without a trailing `;` (one is tolerated)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from prompt_toolkit.shortcuts import clear as clear_screen

from cli.errors import CliError

if TYPE_CHECKING:
    from cli.shell import Shell

HELP = """\
Statements (end them with ';'):
  CREATE STREAM | TABLE ... [AS SELECT ...];   INSERT INTO ... VALUES (...) | SELECT ...;
  SELECT ... EMIT CHANGES [LIMIT n];           push query: rows stream in until LIMIT or Ctrl-C
  SELECT ... FROM table [WHERE ...];           pull query on a table's current state
  SHOW | LIST STREAMS | TABLES | QUERIES | TOPICS | FUNCTIONS | PROPERTIES | VARIABLES;
  DESCRIBE [EXTENDED] name;  DESCRIBE FUNCTION name;  EXPLAIN query_id;  TERMINATE query_id | ALL;
  DROP STREAM | TABLE name [DELETE TOPIC];  SET 'prop' = 'value';  DEFINE name = 'value';
  PRINT topic [FROM BEGINNING] [LIMIT n];      RUN SCRIPT 'file.sql';
  Any read-only DuckDB SELECT over materialised tables (ORDER BY, quantile_cont, joins ...).

Shell commands (no ';' needed):
  help                      this text
  history                   the statements typed so far (Ctrl-R searches them)
  run script <file>         run the statements of a .sql file
  spool <file> | off        copy commands and their output to a file
  server [<url>]            show the server, or connect to another streamsql server
  output [JSON | TABULAR]   show or change the output format
  clear                     clear the screen
  version                   the streamsql version
  exit | quit               leave (or Ctrl-D)

Keys: Tab completes keywords, functions, streams, tables, columns and topics; Ctrl-C cancels the
input or stops a running push query; Ctrl-D exits."""

_NAMES = ("help", "history", "spool", "server", "output", "clear", "version", "exit", "quit")


def _words(line: str) -> list[str]:
    return line.strip().rstrip(";").strip().split()


def is_command(line: str) -> bool:
    """True when ``line`` is a shell command rather than SQL."""
    words = _words(line)
    if not words:
        return False
    first = words[0].lower()
    if first == "run":
        return len(words) >= 2 and words[1].lower() == "script"
    return first in _NAMES and (len(words) <= 2 or first == "spool")


def dispatch(shell: Shell, line: str) -> bool:
    """Run a shell command; returns False when the shell should exit."""
    words = _words(line)
    name, rest = words[0].lower(), words[1:]
    if name in ("exit", "quit"):
        return False
    if name == "help":
        shell.emit(HELP)
    elif name == "version":
        from cli.shell import VERSION

        shell.emit(f"Version: {VERSION}")
    elif name == "clear":
        clear_screen()
    elif name == "history":
        entries = list(reversed(list(shell.history.load_history_strings())))
        shell.emit("\n".join(f"{i:5d}  {e}" for i, e in enumerate(entries, 1)))
    elif name == "output":
        _output(shell, rest)
    elif name == "spool":
        _spool(shell, rest)
    elif name == "server":
        _server(shell, rest)
    elif name == "run":
        run_script(shell, " ".join(rest[1:]).strip("'\""))
    return True


def _output(shell: Shell, rest: list[str]) -> None:
    if not rest:
        shell.emit(f"Output format: {shell.output_format}")
    elif rest[0].upper() in ("JSON", "TABULAR"):
        shell.output_format = rest[0].upper()
        shell.emit(f"Output format set to {shell.output_format}")
    else:
        shell.emit(f"Unknown output format '{rest[0]}': use JSON or TABULAR.", err=True)


def _spool(shell: Shell, rest: list[str]) -> None:
    if not rest:
        shell.emit("Spooling to " + (shell.spool.name if shell.spool else "nothing"))
        return
    if shell.spool is not None:
        shell.spool.close()
        shell.spool = None
    if rest[0].lower() == "off":
        shell.emit("Spool off")
        return
    path = Path(" ".join(rest).strip("'\"")).expanduser()
    try:
        shell.spool = path.open("a", encoding="utf-8")
    except OSError as err:
        shell.emit(f"Cannot spool to {path}: {err.strerror}", err=True)
        return
    shell.emit(f"Session will be spooled to {path}")


def _server(shell: Shell, rest: list[str]) -> None:
    if not rest:
        shell.emit(f"Server: {shell.backend.describe()}")
        return
    from cli.client import RemoteBackend

    try:
        backend = RemoteBackend(rest[0])
        where = backend.describe()
    except CliError as err:
        shell.emit(err.message, err=True)
        return
    shell.backend.close()
    shell.backend = backend
    shell.refresh_catalog()
    shell.emit(f"Server now: {where}")


def run_script(shell: Shell, path_text: str) -> bool:
    """Run the statements of a file; False after the first failing one."""
    path = Path(path_text).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        shell.emit(f"Failed to read file: {path} ({err.strerror})", err=True)
        return False
    return shell.run_statements(text, source=str(path))
