"""The ksql generator: renders parser-produced expressions back to canonical ksqlDB text.

Canonical means: keywords and function names upper case, identifiers bare when they are already
upper-case non-reserved words (so re-parsing yields the same name) and backtick-quoted otherwise,
string literals single-quoted with ``''`` escapes.
"""

from __future__ import annotations

import re

from sqlglot import exp, generator

from parser._base import RESERVED_WORDS
from parser.expressions import Dereference
from parser.tokenizer import KEYWORD_WORDS

_BARE_RE = re.compile(r"[A-Z_][A-Z0-9_@]*\Z")
# Words that would not re-parse as a plain name when written bare.
_NEEDS_QUOTES = RESERVED_WORDS | KEYWORD_WORDS


def quote_name(name: str) -> str:
    """Render a normalised name so that parsing it yields ``name`` again."""
    if _BARE_RE.match(name) and name not in _NEEDS_QUOTES:
        return name
    return "`" + name.replace("`", "``") + "`"


class KsqlGenerator(generator.Generator):
    """sqlglot generator producing ksqlDB expression syntax."""

    TRANSFORMS = {
        **generator.Generator.TRANSFORMS,
        Dereference: lambda self, e: f"{self.sql(e, 'this')}->{self.sql(e, 'expression')}",
        exp.Lambda: lambda self, e: self._lambda_sql(e),
        exp.PropertyEQ: lambda self, e: f"{self.sql(e, 'this')} := {self.sql(e, 'expression')}",
        exp.Cast: lambda self, e: self._cast_sql(e),
        exp.Array: lambda self, e: f"ARRAY[{self.expressions(e, flat=True)}]",
        exp.Anonymous: lambda self, e: f"{e.name}({self.expressions(e, flat=True)})",
        exp.Var: lambda self, e: e.name,
        exp.Div: lambda self, e: self.binary(e, "/"),
        exp.DPipe: lambda self, e: self.binary(e, "||"),
        exp.NullSafeEQ: lambda self, e: self.binary(e, "IS NOT DISTINCT FROM"),
        exp.NullSafeNEQ: lambda self, e: self.binary(e, "IS DISTINCT FROM"),
    }

    def identifier_sql(self, expression: exp.Identifier) -> str:
        name = expression.this
        if expression.quoted:
            return "`" + name.replace("`", "``") + "`"
        return quote_name(name)

    def literal_sql(self, expression: exp.Literal) -> str:
        if expression.is_string:
            return "'" + expression.this.replace("'", "''") + "'"
        return str(expression.this)

    def _lambda_sql(self, expression: exp.Lambda) -> str:
        params = [self.sql(p) for p in expression.expressions]
        head = params[0] if len(params) == 1 else f"({', '.join(params)})"
        return f"{head} => {self.sql(expression, 'this')}"

    def _cast_sql(self, expression: exp.Cast) -> str:
        from parser.types import datatype_to_sqltype  # local: types imports nothing from here

        target = datatype_to_sqltype(expression.args["to"]).sql()
        return f"CAST({self.sql(expression, 'this')} AS {target})"

    def not_sql(self, expression: exp.Not) -> str:
        inner = expression.this
        if isinstance(inner, exp.Is):
            return f"{self.sql(inner, 'this')} IS NOT {self.sql(inner, 'expression')}"
        # The parser gives NOT the operand of an equality, so `NOT a = b` re-parses as Not(EQ).
        return f"NOT {self.sql(inner)}"
