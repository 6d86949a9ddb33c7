"""The ``ksql`` sqlglot dialect: tokenizer, parser and generator for ksqlDB.

``Ksql`` registers itself with sqlglot under the name ``"ksql"``: expressions produced by
:mod:`parser` render back to ksqlDB text with ``expression.sql(dialect="ksql")``, and
``sqlglot.parse_one(text, read="ksql")`` parses a ksqlDB *expression*. Statement parsing goes
through :func:`parser.parse`, which drives :class:`KsqlParser` directly because ksqlDB statements
become :mod:`parser.statements` dataclasses rather than sqlglot trees.
"""

from __future__ import annotations

from sqlglot.dialects.dialect import Dialect, NormalizationStrategy

from parser._commands import KsqlParser
from parser.generator import KsqlGenerator
from parser.tokenizer import KsqlTokenizer


class Ksql(Dialect):
    """ksqlDB: unquoted identifiers upper-cased, backtick-quoted identifiers case-sensitive."""

    NORMALIZATION_STRATEGY = NormalizationStrategy.UPPERCASE
    NORMALIZE_FUNCTIONS: bool | str = "upper"
    # ksqlDB's `IS NOT NULL` is represented as NOT(IS NULL), never as a negated Is.
    NORMALIZE_NOT_NULL = True

    Tokenizer = KsqlTokenizer
    Parser = KsqlParser
    Generator = KsqlGenerator


DIALECT = Ksql()
