"""The ksql tokenizer: sqlglot's tokenizer with ksqlDB's lexical rules.

Only the words the expression grammar needs as dedicated token types stay keywords; every other
word (CREATE, STREAM, WINDOW, EMIT, KEY, type names, ...) is a plain ``VAR`` token. Statement
keywords are matched by text, which lets ksqlDB's non-reserved words double as identifiers the way
they do in ksqlDB (a column may be called ``KEY``, ``TIMESTAMP`` or ``SOURCE``).
"""

from __future__ import annotations

from typing import ClassVar

from sqlglot import tokens
from sqlglot.tokens import TokenType

# Reserved words the expression grammar dispatches on by token type.
KEYWORD_WORDS = frozenset(
    {
        "AND", "OR", "NOT", "IS", "NULL", "TRUE", "FALSE", "IN", "BETWEEN", "LIKE", "ESCAPE",
        "CASE", "WHEN", "THEN", "ELSE", "END", "AS", "SELECT", "FROM", "WHERE", "HAVING",
        "LIMIT", "JOIN", "ON", "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "DISTINCT",
    }
)
# Operators of the ksqlDB expression language (single-character ones are SINGLE_TOKENS).
_KEYWORD_SYMBOLS = frozenset({"||", ">=", "<=", "<>", "!=", ":=", "->", "=>", "=="})


class KsqlTokenizer(tokens.Tokenizer):
    """Tokenizer for ksqlDB statements.

    ``'...'`` strings (``''`` escapes a quote), backtick- or double-quote-quoted identifiers (case
    preserved), ``--`` and ``/* */`` comments.
    """

    QUOTES = ["'"]
    IDENTIFIERS = ["`", '"']
    STRING_ESCAPES = ["'"]
    IDENTIFIER_ESCAPES = ["`", '"']
    COMMENTS = ["--", ("/*", "*/")]
    KEYWORDS = {
        text: token_type
        for text, token_type in tokens.Tokenizer.KEYWORDS.items()
        if text in KEYWORD_WORDS or text in _KEYWORD_SYMBOLS
    }
    SINGLE_TOKENS = {
        **{k: v for k, v in tokens.Tokenizer.SINGLE_TOKENS.items() if k not in ("#", "@", "?", "\\")},
    }
    # ksqlDB has no `::` casts, `$1` parameters or `@var` session variables.
    COMMANDS: ClassVar[set[TokenType]] = set()
