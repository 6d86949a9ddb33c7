"""INSERT INTO name [(cols)] VALUES (...): evaluate literals, encode, produce one record."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from engine import types as t
from engine.catalog import ROWOFFSET, ROWPARTITION, ROWTIME, Column, Source
from engine.errors import KsqlStatementError
from engine.expressions import compile_expression
from engine.expressions.scope import Scope
from engine.operators.codec import SinkEncoder
from engine.results import StatementResult
from parser import statements as st

if TYPE_CHECKING:
    from engine.engine import Engine


def _target_columns(source: Source, stmt: st.InsertValues) -> list[Column]:
    if not stmt.columns:
        cols = source.key_columns + source.value_columns
    else:
        cols = []
        for name in stmt.columns:
            if name in (ROWPARTITION, ROWOFFSET):
                raise KsqlStatementError(f"Inserting into column `{name}` is not allowed.")
            col = Column(ROWTIME, t.BIGINT) if name == ROWTIME else source.column(name)
            if col is None:
                raise KsqlStatementError(f"Column name {name} does not exist.")
            cols.append(col)
    if len(cols) != len(stmt.values):
        raise KsqlStatementError(f"Failed to prepare statement: Expected number columns and values to match: "
                                 f"{len(cols)}, {len(stmt.values)}")
    return cols


def _evaluate(engine: Engine, cols: list[Column], values: tuple[exp.Expression, ...]) -> pa.Table:
    scope = Scope()
    selects = []
    for col, value in zip(cols, values, strict=True):
        compiled = compile_expression(value, scope)
        selects.append(f'TRY_CAST({compiled.sql} AS {t.to_duckdb(col.type)}) AS "{col.name}"')
    cursor = engine.db.cursor()
    table = cursor.sql(f"SELECT {', '.join(selects)}").to_arrow_table()
    return table.cast(pa.schema([pa.field(c.name, t.to_arrow(c.type)) for c in cols]))


def insert_values(engine: Engine, stmt: st.InsertValues, text: str) -> StatementResult:
    """Produce one record built from the VALUES to the target's topic."""
    source = engine.catalog.source(stmt.target)
    if source is None:
        raise KsqlStatementError(f"Cannot insert values into an unknown stream/table: `{stmt.target}`")
    cols = _target_columns(source, stmt)
    row = _evaluate(engine, cols, stmt.values)
    now = int(time.time() * 1000)
    ts = row.column(ROWTIME) if ROWTIME in row.column_names else pa.array([now], pa.int64())
    given = set(row.column_names)
    for col in source.key_columns + source.value_columns:
        if col.name not in given:
            row = row.append_column(pa.field(col.name, t.to_arrow(col.type)), pa.nulls(1, t.to_arrow(col.type)))
    topic = engine.store.topic(source.topic)
    if topic is None:
        raise KsqlStatementError(f"Topic '{source.topic}' does not exist.")
    topic.produce(SinkEncoder(source).encode(row, ts))
    return StatementResult(text, "currentStatus", "Inserted 1 row.")
