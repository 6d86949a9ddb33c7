"""EXPLAIN text: the operator tree of a plan, sink first, sources last (ksqlDB's layout)."""

from __future__ import annotations

from engine.catalog import Source
from engine.expressions import format_expression
from engine.planner.aggregate import AggregatePlan
from engine.planner.join import JoinPlan
from engine.planner.stateless import StatelessPlan

Plan = StatelessPlan | AggregatePlan | JoinPlan


def _schema(columns: list) -> str:
    return ", ".join(f"{c.name} {c.type.sql()}{' KEY' if c.namespace == 'KEY' else ''}" for c in columns)


def _source(source: Source) -> str:
    return f"[ SOURCE ] | {source.kind} {source.name} | Topic: {source.topic} | Schema: {source.schema_text()}"


def _aggregate(plan: AggregatePlan) -> list[str]:
    lines = [f"[ AGGREGATE ] | GROUP BY {', '.join(n for n, _ in plan.keys)} | "
             f"{', '.join(c.text for c in plan.calls)}"]
    if plan.window is not None:
        w = plan.window
        lines[0] += f" | WINDOW {w.kind} size {w.size_ms} ms, grace {plan.grace_ms} ms"
        if plan.emit_final:
            lines[0] += " | EMIT FINAL"
    if plan.where is not None:
        lines.append(f"[ FILTER ] | {plan.where.sql}")
    return lines


def _join(plan: JoinPlan) -> list[str]:
    lines = []
    for node in reversed(plan.tree.nodes):
        window = f" WITHIN ({node.within.before_ms} ms, {node.within.after_ms} ms)" if node.within else ""
        fk = " (foreign key)" if node.foreign_key else ""
        lines.append(f"[ JOIN ] | {node.left_kind}-{node.right_kind} {node.kind}{fk}{window} ON "
                     f"{format_expression(node.left_expr)} = {format_expression(node.right_expr)}")
    return lines


def explain(plan: Plan, source: Source) -> str:
    """The plan as indented lines, from the sink down to the sources."""
    steps = [f"[ SINK ] | Schema: {_schema(plan.key_columns + plan.value_columns)}"]
    post = plan.post if isinstance(plan, JoinPlan) else plan
    if isinstance(post, AggregatePlan):
        steps += _aggregate(post)
    else:
        steps.append(f"[ PROJECT / FILTER ] | DuckDB: {post.sql}")
    sources = [leaf.source for leaf in plan.tree.leaves] if isinstance(plan, JoinPlan) else [source]
    if isinstance(plan, JoinPlan):
        steps += _join(plan)
    lines = [("\t" * i) + "> " + step for i, step in enumerate(steps)]
    lines += [("\t" * len(steps)) + "> " + _source(s) for s in sources]
    return "\n".join(lines)
