"""The joined schema: column names, the result key, and the projection over a join.

Every source column ``C`` of the source aliased ``A`` is the joined column ``A_C`` (ksqlDB's
generated join column alias); pseudo columns too (``A_ROWTIME``). The result key is ksqlDB's:
- a foreign-key join keeps the left table's primary key columns;
- otherwise the first *viable* key column (a column reference equivalent to the join key,
  e.g. ``L.ID`` or ``R.ID`` for ``ON L.ID = R.ID``) that the projection selects, or the first
  viable one when none is selected (the projection check then fails);
- with no viable column (FULL OUTER joins, joins on expressions) a synthetic ``ROWKEY``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from engine.catalog import PSEUDO_COLUMNS, WINDOW_BOUNDS
from engine.errors import KsqlStatementError
from engine.expressions import ExpressionError, compile_expression, format_expression
from engine.expressions.scope import Scope, ScopeEntry, quote_ident
from engine.planner.join_tree import JoinLeaf, JoinTree
from engine.planner.projection import column_name, column_qualifier
from parser.statements import SelectItem, SqlType

_ROWKEY = re.compile(r"^ROWKEY(?:_(\d+))?$")


def joined_name(alias: str, column: str) -> str:
    """ksqlDB's name of a source column in a join's schema."""
    return f"{alias}_{column}"


def leaf_columns(leaf: JoinLeaf) -> list[tuple[str, SqlType]]:
    """A leaf's stored, pseudo and window-bound columns with their types."""
    cols = [(c.name, c.type) for c in leaf.source.columns] + list(PSEUDO_COLUMNS.items())
    if leaf.source.window is not None:
        cols += list(WINDOW_BOUNDS.items())
    return cols


def joined_scope(leaves: list[JoinLeaf] | tuple[JoinLeaf, ...]) -> Scope:
    """The scope of qualified references over joined columns (``L.A`` reads ``"L_A"``)."""
    return Scope(ScopeEntry(leaf.alias, name, quote_ident(joined_name(leaf.alias, name)), t)
                 for leaf in leaves for name, t in leaf_columns(leaf))


def expression_type(expr: exp.Expression, leaves: list[JoinLeaf] | tuple[JoinLeaf, ...]) -> SqlType:
    """The type of a (qualified) expression over the joined sources."""
    try:
        return compile_expression(expr, joined_scope(leaves), "JOIN ON").type
    except ExpressionError as err:
        raise KsqlStatementError(str(err)) from err


def canonical(expr: exp.Expression) -> str:
    """A comparable text of a qualified expression (quoting carries no meaning: names are normalised)."""
    copy = expr.copy()
    for ident in copy.find_all(exp.Identifier):
        ident.set("quoted", False)
    return format_expression(copy)


@dataclass(frozen=True, slots=True)
class JoinKey:
    """The key of the join result (see the module docstring)."""

    names: tuple[str, ...]
    types: tuple[SqlType, ...]
    synthetic: bool = False
    viable: tuple[exp.Expression, ...] = ()  # qualified column refs equal to the key
    foreign_key: bool = False


def viable_key_columns(tree: JoinTree) -> list[exp.Expression]:
    """ksqlDB's JoinTree.viableKeyColumns for the final join."""
    equiv: set[str] = set()
    viable: list[exp.Expression] = []
    for node in tree.nodes:
        if node.kind == "FULL":
            equiv, viable = set(), []
            continue
        keys = {canonical(node.left_expr), canonical(node.right_expr)}
        equiv = keys | equiv if equiv & keys else keys
        seen: set[str] = set()
        out: list[exp.Expression] = []
        for cand in [*viable, node.left_expr, node.right_expr]:
            text = canonical(cand)
            if isinstance(cand, exp.Column) and text in equiv and text not in seen:
                seen.add(text)
                out.append(cand)
        viable = out
    return viable


def synthetic_key_name(tree: JoinTree) -> str:
    """ROWKEY, or ROWKEY_<n> past the highest such suffix any source uses."""
    used = [m for leaf in tree.leaves for c in leaf.source.columns if (m := _ROWKEY.match(c.name))]
    if not used:
        return "ROWKEY"
    return f"ROWKEY_{max(int(m.group(1) or 0) for m in used) + 1}"


def projection_contains(items: tuple[SelectItem, ...], qualified: list[exp.Expression | None],
                        target: exp.Expression) -> bool:
    """ksqlDB's Projection.containsExpression: a select item (or a star) yields ``target``."""
    text, qualifier = canonical(target), column_qualifier(target)
    for item, q in zip(items, qualified, strict=True):
        node = item.expr
        if isinstance(node, exp.Star):
            return True
        if isinstance(node, exp.Column) and isinstance(node.this, exp.Star):
            if column_qualifier(node) == qualifier:
                return True
            continue
        if q is not None and canonical(q) == text:
            return True
    return False


def resolve_key(tree: JoinTree, items: tuple[SelectItem, ...], qualified: list[exp.Expression | None]) -> JoinKey:
    """The result key of the join (names and types in the joined schema)."""
    leaves = tree.leaves
    if tree.foreign_key and len(tree.nodes) == 1:  # later joins key the result by their criteria
        left = leaves[0]
        refs = tuple(exp.Column(this=exp.Identifier(this=c.name, quoted=False),
                                table=exp.Identifier(this=left.alias, quoted=False))
                     for c in left.source.key_columns)
        return JoinKey(tuple(joined_name(left.alias, c.name) for c in left.source.key_columns),
                       tuple(c.type for c in left.source.key_columns), viable=refs, foreign_key=True)
    key_type = expression_type(tree.nodes[-1].left_expr, leaves)
    viable = viable_key_columns(tree)
    if not viable:
        return JoinKey((synthetic_key_name(tree),), (key_type,), synthetic=True)
    chosen = next((v for v in viable if projection_contains(items, qualified, v)), viable[0])
    name = joined_name(column_qualifier(chosen) or "", column_name(chosen) or "")
    return JoinKey((name,), (expression_type(chosen, leaves),), viable=tuple(viable))


def rewrite_to_joined(expr: exp.Expression, tree: JoinTree, key: JoinKey, clause: str) -> exp.Expression:
    """``A.C`` -> ``A_C``; unqualified ``C`` -> its one source's ``A_C``; the synthetic key name
    and the result's own ROWTIME/ROWPARTITION/ROWOFFSET stay as they are."""
    own = set(PSEUDO_COLUMNS) | ({key.names[0]} if key.synthetic else set())

    def visit(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Column):
            return node
        name, qualifier = column_name(node), column_qualifier(node)
        if name is None:
            return node
        if qualifier is not None:
            if qualifier not in {leaf.alias for leaf in tree.leaves}:
                raise KsqlStatementError(f"'{qualifier}' is not a valid stream/table name or alias.")
            return _ref(joined_name(qualifier, name))
        if name in own:
            return node
        owners = [leaf for leaf in tree.leaves if name in leaf.column_names()]
        if len(owners) > 1:
            options = " or ".join(f"{leaf.alias}.{name}" for leaf in owners)
            raise KsqlStatementError(f"Column '{name}' is ambiguous. Could be {options}.")
        return _ref(joined_name(owners[0].alias, name)) if owners else node

    return expr.copy().transform(visit)


def _ref(name: str) -> exp.Column:
    return exp.Column(this=exp.Identifier(this=name, quoted=True))


def qualify_item(expr: exp.Expression, tree: JoinTree) -> exp.Expression | None:
    """A select expression with its columns qualified (None if it cannot be: unknown names)."""
    copy = expr.copy()
    for col in list(copy.find_all(exp.Column)):
        name = column_name(col)
        if name is None or column_qualifier(col) is not None:
            continue
        owners = [leaf for leaf in tree.leaves if name in leaf.column_names()]
        if len(owners) != 1:
            return None
        col.set("table", exp.Identifier(this=owners[0].alias, quoted=False))
    return copy
