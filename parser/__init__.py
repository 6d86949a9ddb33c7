"""streamsql's ksqlDB parser (placeholder docstring, expanded below)."""

from __future__ import annotations

from parser._api import ParsedStatement, parse, parse_expression, parse_with_source
from parser.dialect import Ksql
from parser.errors import ParseError
from parser.types import datatype_to_sqltype

__all__ = [
    "Ksql",
    "ParseError",
    "ParsedStatement",
    "datatype_to_sqltype",
    "parse",
    "parse_expression",
    "parse_with_source",
]
