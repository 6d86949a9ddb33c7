"""Parse errors, reported the way ksqlDB reports them.

Positions follow ksqlDB's convention: ``line`` is 1-based and ``column`` is 1-based (ksqlDB adds 1
to ANTLR's 0-based ``charPositionInLine``, so its messages read ``line 1:8: ...`` for a token that
starts at the eighth character of the line).
"""

from __future__ import annotations

from sqlglot.errors import ParseError as _SqlglotParseError


class ParseError(Exception):
    """A statement that ksqlDB would reject at parse time.

    ``str(err)`` shows ``line L:C: message``, then the offending source line and a caret under the
    offending token, e.g.::

        line 2:15: mismatched input 'FOO' expecting {'AS', 'WITH', '('}
        CREATE STREAM S FOO;
                        ^

    Attributes:
        message: What went wrong, ksqlDB style (e.g. ``mismatched input 'X' expecting ...``).
        line: 1-based line of the offending token in the parsed text.
        column: 1-based column of the offending token in its line.
        source_line: The text of the offending line (without its newline), or None if unknown.
    """

    def __init__(self, message: str, line: int, column: int, source_line: str | None = None) -> None:
        super().__init__(message, line, column)
        self.message = message
        self.line = line
        self.column = column
        self.source_line = source_line

    def __str__(self) -> str:
        head = f"line {self.line}:{self.column}: {self.message}"
        if self.source_line is None:
            return head
        # Keep tabs in the caret's indentation so the caret lines up under tab-indented source.
        indent = "".join(c if c == "\t" else " " for c in self.source_line[: max(self.column - 1, 0)])
        return f"{head}\n{self.source_line}\n{indent}^"

    @classmethod
    def at_offset(cls, message: str, text: str, offset: int) -> ParseError:
        """Build an error for the character ``offset`` (0-based) of ``text``."""
        offset = max(0, min(offset, len(text)))
        line = text.count("\n", 0, offset) + 1
        line_start = text.rfind("\n", 0, offset) + 1
        line_end = text.find("\n", offset)
        source_line = text[line_start : line_end if line_end >= 0 else len(text)]
        return cls(message, line, offset - line_start + 1, source_line.rstrip("\r"))


class SyntaxFailure(_SqlglotParseError):
    """Internal: raised inside the sqlglot-based parser, converted to :class:`ParseError` at the API.

    It subclasses sqlglot's ParseError so sqlglot's own backtracking helpers (``_try_parse``) treat
    it like any other parse failure.

    Attributes:
        message: ksqlDB-style message without position.
        offset: 0-based character offset of the offending token in the parser's ``sql`` text.
    """

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
