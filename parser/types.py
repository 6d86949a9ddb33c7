"""Conversions between ksqlDB types (:class:`SqlType`) and sqlglot ``exp.DataType`` (CAST targets).

Mapping (SqlType base → DataType): BOOLEAN→BOOLEAN, INTEGER→INT, BIGINT→BIGINT, DOUBLE→DOUBLE,
DECIMAL(p,s)→DECIMAL(p,s), STRING→VARCHAR, BYTES→VARBINARY, DATE→DATE, TIME→TIME,
TIMESTAMP→TIMESTAMP, ARRAY<t>→ARRAY<t>, MAP<k,v>→MAP<k,v>, STRUCT<name t,...>→STRUCT with
``exp.ColumnDef(this=exp.Identifier(name, quoted=True), kind=t)`` fields, and any other (custom)
name → ``DataType(this=USERDEFINED, kind=NAME)``.
"""

from __future__ import annotations

from sqlglot import exp

from parser.statements import SqlType

_T = exp.DType
_PRIMITIVES: dict[str, exp.DType] = {
    "BOOLEAN": _T.BOOLEAN,
    "INTEGER": _T.INT,
    "BIGINT": _T.BIGINT,
    "DOUBLE": _T.DOUBLE,
    "DECIMAL": _T.DECIMAL,
    "STRING": _T.VARCHAR,
    "BYTES": _T.VARBINARY,
    "DATE": _T.DATE,
    "TIME": _T.TIME,
    "TIMESTAMP": _T.TIMESTAMP,
}
_FROM_DATATYPE = {v: k for k, v in _PRIMITIVES.items()}
# sqlglot spellings that a DataType built elsewhere (e.g. exp.DataType.build) may carry.
_FROM_DATATYPE.update(
    {
        _T.INT: "INTEGER", _T.TEXT: "STRING", _T.CHAR: "STRING", _T.NVARCHAR: "STRING",
        _T.BINARY: "BYTES", _T.FLOAT: "DOUBLE", _T.SMALLINT: "INTEGER", _T.TINYINT: "INTEGER",
    }
)


class UnsupportedTypeError(ValueError):
    """A DataType with no ksqlDB equivalent."""


def sqltype_to_datatype(sql_type: SqlType) -> exp.DataType:
    """Convert a ksqlDB type to the sqlglot DataType used as a CAST target."""
    base = sql_type.base
    if base == "ARRAY":
        return exp.DataType(this=_T.ARRAY, expressions=[sqltype_to_datatype(sql_type.items[0])], nested=True)
    if base == "MAP":
        items = [sqltype_to_datatype(t) for t in sql_type.items]
        return exp.DataType(this=_T.MAP, expressions=items, nested=True)
    if base == "STRUCT":
        fields = [
            exp.ColumnDef(this=exp.Identifier(this=name, quoted=True), kind=sqltype_to_datatype(t))
            for name, t in sql_type.fields
        ]
        return exp.DataType(this=_T.STRUCT, expressions=fields, nested=True)
    if base in _PRIMITIVES:
        params = [exp.DataTypeParam(this=exp.Literal.number(str(p))) for p in sql_type.params]
        return exp.DataType(this=_PRIMITIVES[base], expressions=params or None)
    return exp.DataType(this=_T.USERDEFINED, kind=base)


def datatype_to_sqltype(dt: exp.DataType) -> SqlType:
    """Convert a CAST target DataType (as produced by the ksql parser) back to a :class:`SqlType`.

    Raises:
        UnsupportedTypeError: for DataTypes with no ksqlDB counterpart.
    """
    kind = dt.this
    children = dt.expressions
    if kind == _T.ARRAY:
        return SqlType("ARRAY", items=(datatype_to_sqltype(children[0]),))
    if kind == _T.MAP:
        return SqlType("MAP", items=tuple(datatype_to_sqltype(c) for c in children))
    if kind == _T.STRUCT:
        fields = tuple((c.this.this if isinstance(c.this, exp.Identifier) else c.name,
                        datatype_to_sqltype(c.args["kind"])) for c in children)
        return SqlType("STRUCT", fields=fields)
    if kind == _T.USERDEFINED:
        return SqlType(str(dt.args.get("kind")))
    if kind not in _FROM_DATATYPE:
        raise UnsupportedTypeError(f"Type {dt.sql()} has no ksqlDB equivalent")
    base = _FROM_DATATYPE[kind]
    params = tuple(int(p.this.name) for p in children) if base == "DECIMAL" else ()
    return SqlType(base, params=params)
