"""Planning a SELECT over a JOIN: the join tree, then the usual planners over the joined rows.

The join operator produces, per input batch, the joined rows in the layout of a decoded batch of
a synthetic source (``JoinPlan.source``): the result key, one column per source column named
``<ALIAS>_<COLUMN>``, ROWTIME, ROWPARTITION, ROWOFFSET and ``__NULLVAL``. The select list,
WHERE, GROUP BY, PARTITION BY and HAVING are rewritten to those names (``L.A`` -> ``L_A``) and
planned by the single-source stateless or aggregate planner over that synthetic source, so
joins feeding filters, projections, re-keying and aggregations need nothing else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlglot import exp

from engine.catalog import PSEUDO_COLUMNS, RESERVED_NAMES, WINDOW_BOUNDS, Catalog, Column, Source
from engine.errors import KsqlStatementError
from engine.expressions import format_expression
from engine.planner.aggregate import AggregatePlan, has_aggregates, plan_aggregate
from engine.planner.join_scope import (
    JoinKey,
    canonical,
    joined_name,
    leaf_columns,
    qualify_item,
    resolve_key,
    rewrite_to_joined,
)
from engine.planner.join_tree import JoinLeaf, JoinTree, build_tree
from engine.planner.projection import (
    NamedExpr,
    NameGenerator,
    column_name,
    column_qualifier,
    derived_name,
)
from engine.planner.stateless import StatelessPlan, plan_stateless
from engine.validation import check_key_types
from parser.statements import Relation, Select, SelectItem


@dataclass(frozen=True, slots=True)
class JoinPlan:
    """The join tree, the joined schema and the plan of the rest of the query over it."""

    tree: JoinTree
    key: JoinKey
    source: Source
    post: StatelessPlan | AggregatePlan
    filtered: bool = False  # a WHERE clause (table results then suppress needless deletes)

    @property
    def key_columns(self) -> list[Column]:
        """Output key schema."""
        return self.post.key_columns

    @property
    def value_columns(self) -> list[Column]:
        """Output value schema."""
        return self.post.value_columns

    @property
    def select_order(self) -> tuple[str, ...]:
        """Output names in SELECT order."""
        return self.post.select_order


def _star_leaf_columns(leaf: JoinLeaf) -> list[NamedExpr]:
    cols = leaf.source.key_columns + leaf.source.value_columns + leaf.source.header_columns
    return [NamedExpr(joined_name(leaf.alias, c.name), _qualified(leaf.alias, c.name)) for c in cols]


def _qualified(alias: str, name: str) -> exp.Column:
    return exp.Column(this=exp.Identifier(this=name, quoted=True), table=exp.Identifier(this=alias, quoted=False))


def _expand(items: tuple[SelectItem, ...], tree: JoinTree, synthetic: str | None) -> list[NamedExpr | SelectItem]:
    """Stars -> qualified column references named ``<ALIAS>_<COLUMN>`` (ksqlDB's resolveSelectStar)."""
    out: list[NamedExpr | SelectItem] = []
    aliases = {leaf.alias for leaf in tree.leaves}
    for item in items:
        node = item.expr
        if isinstance(node, exp.Star):
            if synthetic is not None:
                out.append(NamedExpr(synthetic, exp.Column(this=exp.Identifier(this=synthetic, quoted=True))))
            for leaf in tree.leaves:
                out.extend(_star_leaf_columns(leaf))
        elif isinstance(node, exp.Column) and isinstance(node.this, exp.Star):
            qualifier = column_qualifier(node)
            if qualifier not in aliases:
                raise KsqlStatementError(f"'{qualifier}' is not a valid stream/table name or alias.")
            out.extend(_star_leaf_columns(tree.leaf(qualifier or "")))
        else:
            out.append(item)
    return out


def _qualified_name(tree: JoinTree, qualifier: str, name: str) -> str:
    """A qualified column keeps its name unless another source has a column so named."""
    owners = sum(1 for leaf in tree.leaves if name in leaf.column_names())
    return joined_name(qualifier, name) if owners > 1 else name


def _item_name(item: SelectItem, tree: JoinTree, names: NameGenerator, persistent: bool) -> str:
    if item.alias is not None:
        if persistent and item.alias in RESERVED_NAMES:
            raise KsqlStatementError(f"Reserved column name in select: `{item.alias}`. "
                                     f"Please remove or alias the column.")
        return item.alias
    name, qualifier = column_name(item.expr), column_qualifier(item.expr)
    if name is not None and qualifier is not None:
        return _qualified_name(tree, qualifier, name)
    if name is not None and persistent and name in (PSEUDO_COLUMNS.keys() | WINDOW_BOUNDS.keys()):
        raise KsqlStatementError(f"Reserved column name in select: `{name}`. Please remove or alias the column.")
    return derived_name(item.expr) or names.next()


def _explicit_name(item: SelectItem, tree: JoinTree) -> str | None:
    if item.alias is not None:
        return item.alias
    name, qualifier = column_name(item.expr), column_qualifier(item.expr)
    if name is not None and qualifier is not None:
        return _qualified_name(tree, qualifier, name)
    return derived_name(item.expr)


def name_items(items: tuple[SelectItem, ...], tree: JoinTree, synthetic: str | None,
               persistent: bool) -> list[NamedExpr]:
    """Expanded, named select items (expressions still over the sources, qualified or not)."""
    expanded = _expand(items, tree, synthetic)
    taken = {e.name for e in expanded if isinstance(e, NamedExpr)}
    taken |= {n for e in expanded if isinstance(e, SelectItem) and (n := _explicit_name(e, tree))}
    names = NameGenerator(taken)
    return [e if isinstance(e, NamedExpr) else NamedExpr(_item_name(e, tree, names, persistent), e.expr,
                                                           aliased=e.alias is not None)
            for e in expanded]


def _key_message(sink: str | None, key: JoinKey) -> KsqlStatementError:
    sink_name = sink or "OUTPUT"
    if key.synthetic:
        name = key.names[0]
        return KsqlStatementError(
            f"Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used to build "
            f"`{sink_name}` must include the join expression {name} in its projection (eg, SELECT {name}...).\n"
            f"{name} was added as a synthetic key column because the join criteria did not match any source "
            f"column. This expression must be included in the projection and may be aliased.")
    texts = [format_expression(v) for v in key.viable]
    listed = texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " or " + texts[-1]
    plural = "s" if len(texts) > 1 else ""
    return KsqlStatementError(f"The query used to build `{sink_name}` must include the join expression{plural} "
                              f"{listed} in its projection (eg, SELECT {texts[0]}...).")


def _check_key_present(items: tuple[SelectItem, ...], tree: JoinTree, key: JoinKey, sink: str | None) -> None:
    qualified = [qualify_item(i.expr, tree) for i in items]
    texts = {canonical(q) for q in qualified if q is not None}
    stars = {column_qualifier(i.expr) for i in items if isinstance(i.expr, exp.Column) and isinstance(i.expr.this, exp.Star)}
    if any(isinstance(i.expr, exp.Star) for i in items):
        return
    if key.foreign_key:
        left = tree.leaves[0]
        missing = [c.name for c in left.source.key_columns
                   if left.alias not in stars and canonical(_qualified(left.alias, c.name)) not in texts]
        if missing:
            word = "column" if len(missing) == 1 else "columns"
            raise KsqlStatementError(
                f"Primary key {word} missing in projection. For foreign-key table-table joins, the projection must "
                f"include all primary key columns from the left input table (`{left.source.name}`). "
                f"Missing {word}: {', '.join(f'`{m}`' for m in missing)}.")
        return
    if key.synthetic:
        if any(column_name(i.expr) == key.names[0] and column_qualifier(i.expr) is None for i in items):
            return
        raise _key_message(sink, key)
    for v in key.viable:
        if column_qualifier(v) in stars or canonical(v) in texts:
            return
    raise _key_message(sink, key)


def _check_duplicate_keys(named: list[NamedExpr], key: JoinKey) -> None:
    for key_name in key.names:
        aliases = sorted(n.name for n in named if column_name(n.expr) == key_name)
        if len(aliases) > 1:
            raise KsqlStatementError(f"The projection contains a key column (`{key_name}`) more than once, "
                                     f"aliased as: {' and '.join(aliases)}.")


def joined_source(tree: JoinTree, key: JoinKey) -> Source:
    """The synthetic source whose decoded batches the join operator produces."""
    keys = [Column(n, t, "KEY") for n, t in zip(key.names, key.types, strict=True)]
    values = [Column(joined_name(leaf.alias, n), t) for leaf in tree.leaves for n, t in leaf_columns(leaf)
              if joined_name(leaf.alias, n) not in key.names]
    first = tree.leaves[0].source
    key_format = next((leaf.source.key_format for leaf in tree.leaves if leaf.source.key_format != "NONE"), "NONE")
    key_props = next((leaf.source.key_properties for leaf in tree.leaves if leaf.source.key_format == key_format),
                     first.key_properties)
    return Source(name=first.name, kind="TABLE" if tree.kind == "TABLE" else "STREAM", columns=keys + values,
                  topic=first.topic, key_format=key_format, value_format=first.value_format,
                  key_properties=dict(key_props), value_properties=dict(first.value_properties),
                  window=first.window, partitions=_partitions(tree))


def _partitions(tree: JoinTree) -> int:
    """ksqlDB's JoinNode.getPartitions: the partitions of the last join's right input."""
    return tree.leaves[tree.nodes[-1].index].source.partitions


def analyze(select: Select, catalog: Catalog) -> tuple[JoinTree, JoinKey]:
    """The checked join tree and the result key of ``select``."""
    tree = build_tree(select, catalog)
    qualified = [qualify_item(i.expr, tree) if not isinstance(i.expr, exp.Star) else None for i in select.items]
    return tree, resolve_key(tree, select.items, qualified)


def plan_join(select: Select, catalog: Catalog, persistent: bool, sink: str | None = None,
              config: dict[str, str] | None = None) -> JoinPlan:
    """Plan a SELECT with JOINs (see the module docstring)."""
    tree, key = analyze(select, catalog)
    check_key_types([Column(n, t, "KEY") for n, t in zip(key.names, key.types, strict=True)])
    named = name_items(select.items, tree, key.names[0] if key.synthetic else None, persistent)
    aggregate = bool(select.group_by) or select.window is not None or has_aggregates(select)
    if persistent and not aggregate and not select.partition_by:
        _check_key_present(select.items, tree, key, sink)
    rewritten = [NamedExpr(n.name, rewrite_to_joined(n.expr, tree, key, "SELECT"), n.aliased) for n in named]
    if not aggregate and not select.partition_by:
        _check_duplicate_keys(rewritten, key)
    source = joined_source(tree, key)

    def rw(node: exp.Expression) -> exp.Expression:
        return rewrite_to_joined(node, tree, key, "SELECT")

    post_select = dataclasses.replace(
        select, items=tuple(SelectItem(n.expr, n.name) for n in rewritten), from_=Relation(source.name), joins=(),
        where=rw(select.where) if select.where is not None else None,
        group_by=tuple(rw(g) for g in select.group_by), partition_by=tuple(rw(p) for p in select.partition_by),
        having=rw(select.having) if select.having is not None else None)
    post: StatelessPlan | AggregatePlan
    if aggregate:
        post = plan_aggregate(post_select, source, persistent, sink, config)
    else:
        post = plan_stateless(post_select, source, persistent, sink_name=sink)
    return JoinPlan(tree, key, source, post, filtered=select.where is not None)
