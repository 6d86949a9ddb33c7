"""SELECT list analysis: star expansion, output names (KSQL_COL_n), key vs value columns.

ksqlDB's rules kept here:
- ``*`` expands to the source's key columns then its value (and header) columns.
- An unaliased column keeps its name, ``a->b`` is named ``B``, anything else ``KSQL_COL_<n>``
  with n counting up over the generated names in select order, skipping names in use.
- A stream query without PARTITION BY keeps as key the source key columns it selects (renamed by
  their alias); PARTITION BY makes the partition expressions the key (named after the matching
  select item, or derived as above), the rest are value columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from engine.catalog import PSEUDO_COLUMNS, RESERVED_NAMES, WINDOW_BOUNDS, Source
from engine.errors import KsqlStatementError
from engine.expressions import compile_expression, format_expression
from engine.expressions.scope import Scope
from parser.statements import SelectItem


@dataclass(frozen=True, slots=True)
class NamedExpr:
    """One output column: its name and the (unresolved) ksql expression computing it."""

    name: str
    expr: exp.Expression
    aliased: bool = False


def is_dereference(node: exp.Expression) -> bool:
    """True for ``a->b`` nodes of the ksql dialect."""
    return type(node).__name__ == "Dereference"


def column_name(node: exp.Expression) -> str | None:
    """The column name of a plain column reference, else None."""
    if isinstance(node, exp.Column) and isinstance(node.this, exp.Identifier):
        return node.this.this
    return None


def column_qualifier(node: exp.Expression) -> str | None:
    """The source qualifier of a column reference (``T`` in ``T.X``), if any."""
    if isinstance(node, exp.Column) and node.args.get("table") is not None:
        table = node.args["table"]
        return table.this if isinstance(table, exp.Identifier) else str(table)
    return None


def derived_name(node: exp.Expression) -> str | None:
    """The name ksqlDB gives an unaliased expression, or None when it must be generated."""
    while isinstance(node, exp.Paren):
        node = node.this
    name = column_name(node)
    if name is not None:
        return name
    if is_dereference(node):
        field = node.args.get("expression")
        if isinstance(field, exp.Identifier):
            return field.this
    return None


def strip_qualifiers(node: exp.Expression) -> exp.Expression:
    """A canonical copy of ``node`` for comparing expressions: no column qualifiers, and no
    quoting flags (names are already normalised, so quoting carries no meaning here)."""
    copy = node.copy()
    for col in copy.find_all(exp.Column):
        if col.args.get("table") is not None:
            col.set("table", None)
    for ident in copy.find_all(exp.Identifier):
        ident.set("quoted", False)
    while isinstance(copy, exp.Paren):
        copy = copy.this
    return copy


class NameGenerator:
    """Hands out KSQL_COL_n names, skipping names already used."""

    def __init__(self, taken: set[str]) -> None:
        self._taken = set(taken)
        self._next = 0

    def next(self) -> str:
        """The next free generated name."""
        while f"KSQL_COL_{self._next}" in self._taken:
            self._next += 1
        name = f"KSQL_COL_{self._next}"
        self._taken.add(name)
        self._next += 1
        return name

    def reserve(self, name: str) -> None:
        """Mark ``name`` as used."""
        self._taken.add(name)


def _star_columns(sources: dict[str, Source], qualifier: str | None, persistent: bool) -> list[NamedExpr]:
    out: list[NamedExpr] = []
    for alias, src in sources.items():
        if qualifier is not None and alias != qualifier:
            continue
        names = [c.name for c in src.key_columns]
        if src.window is not None and not persistent:
            names += list(WINDOW_BOUNDS)  # a transient query over a windowed source shows its bounds
        names += [c.name for c in src.value_columns + src.header_columns]
        for name in names:
            ref = exp.Column(this=exp.Identifier(this=name, quoted=True),
                             table=exp.Identifier(this=alias, quoted=True) if len(sources) > 1 else None)
            out.append(NamedExpr(name, ref))
    if qualifier is not None and not out:
        raise KsqlStatementError(f"'{qualifier}' is not a valid stream/table name or alias.")
    return out


def expand_select(items: tuple[SelectItem, ...], sources: dict[str, Source],
                  persistent: bool) -> list[NamedExpr]:
    """Expand stars, check reserved names, and name every select item."""
    expanded: list[NamedExpr | SelectItem] = []
    for item in items:
        node = item.expr
        if isinstance(node, exp.Star):
            expanded.extend(_star_columns(sources, None, persistent))
        elif isinstance(node, exp.Column) and isinstance(node.this, exp.Star):
            expanded.extend(_star_columns(sources, column_qualifier(node), persistent))
        else:
            expanded.append(item)
    taken = {e.name for e in expanded if isinstance(e, NamedExpr)}
    taken |= {i.alias for i in expanded if isinstance(i, SelectItem) and i.alias}
    taken |= {n for i in expanded if isinstance(i, SelectItem) and (n := derived_name(i.expr))}
    names = NameGenerator(taken)
    out: list[NamedExpr] = []
    for entry in expanded:
        if isinstance(entry, NamedExpr):
            out.append(entry)
            continue
        out.append(_name_item(entry, names, persistent))
    return out


def _name_item(item: SelectItem, names: NameGenerator, persistent: bool) -> NamedExpr:
    if item.alias is not None:
        if persistent and item.alias in RESERVED_NAMES:
            raise KsqlStatementError(
                f"`{item.alias}` is a reserved column name. You cannot use it as an alias for a column.")
        return NamedExpr(item.alias, item.expr, aliased=True)
    name = derived_name(item.expr)
    if name is not None and persistent and name in (PSEUDO_COLUMNS.keys() | WINDOW_BOUNDS.keys()) \
            and column_name(item.expr) is not None:
        raise KsqlStatementError(
            f"Reserved column name in select: `{name}`. Please remove or alias the column.")
    return NamedExpr(name or names.next(), item.expr)


def check_unique(columns: list[NamedExpr]) -> None:
    """ksqlDB rejects two output columns with one name."""
    seen: set[str] = set()
    for col in columns:
        if col.name in seen:
            raise KsqlStatementError(f"Duplicate column names:  {col.name}")
        seen.add(col.name)


def expand_struct_stars(items: tuple[SelectItem, ...], scope: Scope) -> tuple[SelectItem, ...]:
    """``s->*`` selects every field of struct ``s`` as a column named after the field."""
    out: list[SelectItem] = []
    for item in items:
        node = item.expr
        if not (is_dereference(node) and isinstance(node.args.get("expression"), exp.Star)):
            out.append(item)
            continue
        struct_type = compile_expression(node.this, scope).type
        if struct_type.base != "STRUCT":
            raise KsqlStatementError(f"Cannot select all fields of non-struct {format_expression(node.this)}.")
        for name, _ in struct_type.fields:
            field = type(node)(this=node.this.copy(), expression=exp.Identifier(this=name, quoted=True))
            out.append(SelectItem(field, name))
    return tuple(out)
