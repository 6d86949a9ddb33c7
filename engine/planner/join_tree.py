"""The join tree of a SELECT with JOINs: sources, join criteria and ksqlDB's join checks.

ksqlDB builds a left-deep tree: the FROM source is the first leaf and every JOIN adds a node
whose right input is the joined source (``JoinTree.build``). Each criterion is one equality
whose sides reference exactly one source each; the side referencing the new source becomes the
node's right expression. Column references in criteria are qualified here (``ID`` ->
``LEFT_TABLE.ID``) because ksqlDB's messages show them qualified.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from engine.catalog import PSEUDO_COLUMNS, WINDOW_BOUNDS, Catalog, Source
from engine.errors import KsqlStatementError
from engine.expressions import format_expression
from engine.planner.projection import column_name, column_qualifier
from parser.statements import JoinWindow, Select

JOIN_TYPE_TEXT = {"INNER": "[INNER] JOIN", "LEFT": "LEFT [OUTER] JOIN", "RIGHT": "RIGHT [OUTER] JOIN",
                  "FULL": "[FULL] OUTER JOIN"}


@dataclass(frozen=True, slots=True)
class JoinLeaf:
    """One source of the join; its columns live in the joined batch as ``<ALIAS>_<COLUMN>``."""

    index: int
    alias: str
    source: Source

    def column_names(self) -> list[str]:
        """Every column a join criterion or projection can read from this source."""
        names = [c.name for c in self.source.columns] + list(PSEUDO_COLUMNS)
        if self.source.window is not None:
            names += list(WINDOW_BOUNDS)
        return names

    def key_names(self) -> list[str]:
        """The source's key columns."""
        return [c.name for c in self.source.key_columns]


@dataclass(frozen=True, slots=True)
class JoinNode:
    """One JOIN of the left-deep tree; its right input is always leaf ``index``."""

    index: int
    kind: str  # INNER, LEFT, RIGHT, FULL
    left_expr: exp.Expression  # qualified, references a source already in the tree
    right_expr: exp.Expression  # qualified, references leaf ``index``
    left_kind: str  # STREAM or TABLE: the kind of the tree joined so far
    right_kind: str
    within: JoinWindow | None
    foreign_key: bool = False

    @property
    def out_kind(self) -> str:
        """A join of two tables is a table; anything with a stream is a stream."""
        return "TABLE" if self.left_kind == "TABLE" and self.right_kind == "TABLE" else "STREAM"


@dataclass(frozen=True, slots=True)
class JoinTree:
    """The leaves and nodes of a join, in tree order."""

    leaves: tuple[JoinLeaf, ...]
    nodes: tuple[JoinNode, ...]

    @property
    def kind(self) -> str:
        """The kind of the join result."""
        return self.nodes[-1].out_kind

    def leaf(self, alias: str) -> JoinLeaf:
        """The leaf called ``alias``."""
        return next(leaf for leaf in self.leaves if leaf.alias == alias)

    @property
    def foreign_key(self) -> bool:
        """True when the first join is a foreign-key table-table join."""
        return self.nodes[0].foreign_key


def expression_sources(expr: exp.Expression) -> set[str]:
    """The qualifiers of the (qualified) column references in ``expr``."""
    return {q for col in expr.find_all(exp.Column) if (q := column_qualifier(col)) is not None}


def qualify(expr: exp.Expression, leaves: list[JoinLeaf], clause: str = "JOIN ON") -> exp.Expression:
    """A copy of ``expr`` with every column reference qualified by its source's alias."""
    copy = expr.copy()
    aliases = {leaf.alias for leaf in leaves}
    for col in copy.find_all(exp.Column):  # unknown qualifiers first, as ksqlDB's analyzer does
        qualifier = column_qualifier(col)
        if qualifier is not None and column_name(col) is not None and qualifier not in aliases:
            raise KsqlStatementError(f"Failed to prepare statement: '{qualifier}' is not a valid stream/table "
                                     f"name or alias.")
    for col in list(copy.find_all(exp.Column)):
        name = column_name(col)
        if name is None:
            continue
        qualifier = column_qualifier(col)
        if qualifier is not None:
            if qualifier not in aliases:
                raise KsqlStatementError(f"'{qualifier}' is not a valid stream/table name or alias.")
            if name not in qualifier_leaf(leaves, qualifier).column_names():
                raise KsqlStatementError(f"{clause} column '{qualifier}.{name}' cannot be resolved.")
            continue
        owners = [leaf for leaf in leaves if name in leaf.column_names()]
        if not owners:
            raise KsqlStatementError(f"{clause} column '{name}' cannot be resolved.")
        if len(owners) > 1:
            options = " or ".join(f"{leaf.alias}.{name}" for leaf in owners)
            raise KsqlStatementError(f"Column '{name}' is ambiguous. Could be {options}.")
        col.set("table", exp.Identifier(this=owners[0].alias, quoted=False))
    return copy


def qualifier_leaf(leaves: list[JoinLeaf], alias: str) -> JoinLeaf:
    """The leaf with alias ``alias``."""
    return next(leaf for leaf in leaves if leaf.alias == alias)


def _leaves(select: Select, catalog: Catalog) -> list[JoinLeaf]:
    relations = [select.from_] + [j.right for j in select.joins]
    leaves: list[JoinLeaf] = []
    for i, rel in enumerate(relations):
        source = catalog.require(rel.name)
        leaves.append(JoinLeaf(i, rel.alias or rel.name, source))
    names = [leaf.source.name for leaf in leaves]
    if len(names) == 2 and names[0] == names[1]:
        raise KsqlStatementError(f"Can not join '{names[0]}' to '{names[1]}': self joins are not yet supported.")
    for i, name in enumerate(names):
        if name in names[:i]:
            raise KsqlStatementError(f"N-way joins do not support multiple occurrences of the same source. "
                                     f"Source: '{name}'")
    kafka = [leaf.source.name for leaf in leaves if leaf.source.value_format == "KAFKA"]
    if kafka:
        raise KsqlStatementError(f"Source(s) {', '.join(kafka)} are using the 'KAFKA' value format. "
                                 f"This format does not yet support JOIN.")
    return leaves


def _single_source(side: exp.Expression, on: exp.Expression) -> str:
    sources = expression_sources(side)
    if len(sources) != 1:
        raise KsqlStatementError(
            f"Invalid comparison expression '{format_expression(side)}' in join '{format_expression(on)}'. "
            f"Each side of the join comparision must contain references from exactly one source.")
    return next(iter(sources))


def _criteria(on: exp.Expression, leaves: list[JoinLeaf], in_tree: set[str],
              new: str) -> tuple[exp.Expression, exp.Expression]:
    """(left expression over the tree so far, right expression over the new source)."""
    if isinstance(on, exp.And):
        raise KsqlStatementError(f"Invalid join condition: joins on multiple conditions are not yet supported. "
                                 f"Got {format_expression(qualify(on, leaves))}.")
    if not isinstance(on, exp.EQ):
        raise KsqlStatementError(f"Unsupported join expression: {format_expression(on)}")
    qualified = qualify(on, leaves)
    left, right = qualified.this, qualified.expression
    lsrc, rsrc = _single_source(left, qualified), _single_source(right, qualified)
    if lsrc == rsrc:
        raise KsqlStatementError(f"Each side of the join must reference exactly one source and not the same "
                                 f"source. Left side references `{lsrc}` and right references `{rsrc}`")
    if rsrc == new and lsrc in in_tree:
        return left, right
    if lsrc == new and rsrc in in_tree:
        return right, left
    raise KsqlStatementError(f"A join criteria is expected to reference the source (`{new}`) in the FROM clause, "
                             f"instead the right source references `{rsrc}` and the left source references `{lsrc}`")


def build_tree(select: Select, catalog: Catalog) -> JoinTree:
    """The checked join tree of ``select`` (ksqlDB's analyzer and logical planner checks)."""
    leaves = _leaves(select, catalog)
    in_tree = {leaves[0].alias}
    criteria = []
    for i, join in enumerate(select.joins, start=1):  # every criterion is checked before any join
        criteria.append(_criteria(join.on, leaves, in_tree, leaves[i].alias))
        in_tree.add(leaves[i].alias)
    nodes: list[JoinNode] = []
    kind: str = leaves[0].source.kind
    for i, join in enumerate(select.joins, start=1):
        leaf = leaves[i]
        left, right = criteria[i - 1]
        written = (qualify(join.on, leaves).this, qualify(join.on, leaves).expression)
        node = JoinNode(i, join.kind, left, right, kind, leaf.source.kind, join.within)
        node = _verify(node, leaves, nodes, written)
        nodes.append(node)
        kind = node.out_kind
    tree = JoinTree(tuple(leaves), tuple(nodes))
    _check_windows(tree)
    _check_partitions(tree)
    return tree


def _is_key_of(expr: exp.Expression, leaves: list[JoinLeaf]) -> bool:
    """ksqlDB's joinOnNonKeyAttribute, negated: ``expr`` is its source's only key column."""
    name, qualifier = column_name(expr), column_qualifier(expr)
    if name is None or qualifier is None:
        return False
    keys = qualifier_leaf(leaves, qualifier).key_names()
    return len(keys) == 1 and keys[0] == name


def _got(written: tuple[exp.Expression, exp.Expression]) -> str:
    return f"{format_expression(written[0])} = {format_expression(written[1])}"


def _verify(node: JoinNode, leaves: list[JoinLeaf], previous: list[JoinNode],
            written: tuple[exp.Expression, exp.Expression]) -> JoinNode:
    left_src = qualifier_leaf(leaves, next(iter(expression_sources(node.left_expr)))).source.name
    right_src = leaves[node.index].source.name
    got_type = f"{left_src} {JOIN_TYPE_TEXT[node.kind]} {right_src}"
    if node.left_kind == "STREAM" and node.right_kind == "STREAM":
        if node.within is None:
            raise KsqlStatementError("Stream-Stream joins must have a WITHIN clause specified. None was provided. To learn "
                            "about how to specify a WITHIN clause with a stream-stream join, please visit: "
                            "https://docs.confluent.io/current/ksql/docs/syntax-reference.html#create-stream-as-select")
        return node
    if node.left_kind == "STREAM":
        if node.kind == "FULL":
            raise KsqlStatementError(f"Invalid join type: full-outer join not supported for stream-table join. Got {got_type}.")
        if node.kind == "RIGHT":
            raise KsqlStatementError(f"Invalid join type: right-outer join not supported for stream-table join. "
                            f"Got {got_type}.")
        if not _is_key_of(node.right_expr, leaves):
            raise KsqlStatementError(f"Invalid join condition: stream-table joins require to join on the table's primary "
                            f"key. Got {_got(written)}.")
        _no_within(node, "Stream-Table")
        return node
    if node.right_kind == "STREAM":
        raise KsqlStatementError(f"Invalid join order: table-stream joins are not supported; only stream-table joins. "
                        f"Got {got_type}.")
    if not _is_key_of(node.right_expr, leaves):
        raise KsqlStatementError(f"Invalid join condition: table-table joins require to join on the primary key of the right "
                        f"input table. Got {_got(written)}.")
    _no_within(node, "Table-Table")
    if _is_key_of(node.left_expr, leaves):
        _check_types(node, leaves, written)
        return node
    return _verify_foreign_key(node, leaves, previous, written, got_type)


def _no_within(node: JoinNode, what: str) -> None:
    if node.within is not None:
        tail = "(i.e. the WITHIN clause) and try to execute your Table-Table join again." if what == "Table-Table" \
            else "(ie. the WITHIN clause) and try to execute your join again."
        raise KsqlStatementError(f"A window definition was provided for a {what} join. These joins are not windowed. "
                        f"Please drop the window definition {tail}")


def _verify_foreign_key(node: JoinNode, leaves: list[JoinLeaf], previous: list[JoinNode],
                        written: tuple[exp.Expression, exp.Expression], got_type: str) -> JoinNode:
    if node.kind == "FULL":
        raise KsqlStatementError(f"Invalid join type: full-outer join not supported for foreign-key table-table join. "
                        f"Got {got_type}.")
    if previous:
        raise KsqlStatementError(f"Invalid join condition: foreign-key table-table joins are not supported as part of n-way "
                        f"joins. Got {_got(written)}.")
    if node.kind == "RIGHT":
        raise KsqlStatementError("RIGHT OUTER JOIN on a foreign key is not supported")
    _check_types(node, leaves, written)
    if leaves[node.index].source.window is not None:
        raise KsqlStatementError("Foreign-key table-table joins are not supported on windowed tables.")
    return JoinNode(node.index, node.kind, node.left_expr, node.right_expr, node.left_kind, node.right_kind,
                    node.within, foreign_key=True)


def _check_types(node: JoinNode, leaves: list[JoinLeaf], written: tuple[exp.Expression, exp.Expression]) -> None:
    from engine.planner.join_scope import expression_type  # the scope module imports this one

    ltype = expression_type(written[0], leaves)
    rtype = expression_type(written[1], leaves)
    if ltype != rtype:
        raise KsqlStatementError(f"Invalid join condition: types don't match. Got {format_expression(written[0])}"
                        f"{{{ltype.sql()}}} = {format_expression(written[1])}{{{rtype.sql()}}}.")


def _check_windows(tree: JoinTree) -> None:
    """Windowed sources join only windowed sources of a compatible kind, on their keys."""
    for node in tree.nodes:
        left = qualifier_leaf(list(tree.leaves), next(iter(expression_sources(node.left_expr))))
        right = tree.leaves[node.index]
        lw, rw = left.source.window, right.source.window
        if (lw is None) != (rw is None):
            windowed, other = (left, right) if lw is not None else (right, left)
            kind = windowed.source.window.kind if windowed.source.window else ""
            raise KsqlStatementError(f"Can not join windowed source to non-windowed source.\n`{windowed.source.name}` is "
                            f"{kind} windowed\n`{other.source.name}` is not windowed")
        if lw is None or rw is None:
            continue
        if (lw.kind == "SESSION") != (rw.kind == "SESSION"):
            raise KsqlStatementError(
                f"Incompatible windowed sources.\nLeft source: {lw.kind}\nRight source: {rw.kind}\n"
                "Session windowed sources can only be joined to other session windowed sources, and may still not "
                "result in expected behaviour as session bounds must be an exact match for the join to work\n"
                "Hopping and tumbling windowed sources can only be joined to other hopping and tumbling windowed "
                "sources")
        leaves = list(tree.leaves)
        if not _is_key_of(node.left_expr, leaves) or not _is_key_of(node.right_expr, leaves) or lw != rw:
            raise KsqlStatementError("Implicit repartitioning of windowed sources is not supported. "
                            "See https://github.com/confluentinc/ksql/issues/4385.")


def _check_partitions(tree: JoinTree) -> None:
    """Co-partitioning: both inputs of a join on keys need the same partition count."""
    leaves = list(tree.leaves)
    left_parts, left_name = leaves[0].source.partitions, leaves[0].alias
    for node in tree.nodes:
        right = leaves[node.index]
        keyed = _is_key_of(node.right_expr, leaves) and (_is_key_of(node.left_expr, leaves))
        # Query sinks are created by streamsql itself; ksqlDB's test topics don't check them.
        sinks = leaves[0].source.is_sink_of is not None or right.source.is_sink_of is not None
        if keyed and not node.foreign_key and not sinks and left_parts != right.source.partitions:
            raise KsqlStatementError(f"Can't join `{left_name}` with `{right.alias}` since the number of partitions don't "
                            f"match. `{left_name}` partitions = {left_parts}; `{right.alias}` partitions = "
                            f"{right.source.partitions}. Please repartition either one so that the number of "
                            f"partitions match.")
        left_parts = right.source.partitions
