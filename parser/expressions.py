"""Custom sqlglot expression classes used by the ksql dialect."""

from __future__ import annotations

from sqlglot import exp


class Dereference(exp.Expression):
    """Struct field access ``a->b``.

    ``this`` is the struct-valued expression and ``expression`` the field: an ``exp.Identifier``
    normalised like column names (unquoted → upper case), or ``exp.Star`` for ``a->*`` in a
    projection. ``a->b->c`` nests left-associatively: ``Dereference(Dereference(a, b), c)``.
    """

    arg_types = {"this": True, "expression": True}
