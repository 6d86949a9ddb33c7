"""Errors of the command line: a server's error body, a usage problem, a locked data dir."""

from __future__ import annotations

import re

_POSITION = re.compile(r"^line (\d+):(\d+): ")


class CliError(Exception):
    """Something the user must fix; printed as its message, never as a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RemoteError(CliError):
    """A ksqlDB-shaped error body returned by a server.

    Attributes:
        code: ksqlDB's ``error_code`` (40001 bad statement, 40000 bad request, 50000 server error).
        statement_text: the statement the server rejected, if it said.
    """

    def __init__(self, message: str, code: int = 50000, statement_text: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.statement_text = statement_text

    def render(self) -> str:
        """The message, plus the source line and a caret when it carries a ``line L:C:`` position
        and the server's message does not already show one."""
        match = _POSITION.match(self.message)
        if match is None or not self.statement_text or self.message.rstrip().endswith("^"):
            return self.message
        line, column = int(match.group(1)), int(match.group(2))
        lines = self.statement_text.splitlines()
        if not 1 <= line <= len(lines):
            return self.message
        source = lines[line - 1]
        indent = "".join(c if c == "\t" else " " for c in source[: max(column - 1, 0)])
        return f"{self.message}\n{source}\n{indent}^"
