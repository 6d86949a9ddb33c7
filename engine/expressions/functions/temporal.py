"""Date, time and timestamp functions (ksqlDB timestamps are UTC; zones convert for display)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from engine import types as T
from engine.expressions.compiled import Compiled
from engine.expressions.errors import ExpressionError
from engine.expressions.functions.javafmt import dynamic_format_sql, java_to_strftime
from engine.expressions.functions.registry import Call, scalar, special
from engine.expressions.functions.runtime import macro
from engine.expressions.functions.signatures import sig
from engine.expressions.typesys import display, is_null

if TYPE_CHECKING:
    from engine.expressions.compiler import Compiler

_OFFSET = "'^(?:GMT|UTC)?([+-])([0-9]{1,2}):?([0-9]{2})?$'"
_MACROS = [
    f"ksql_is_offset(tz) AS regexp_matches(tz, {_OFFSET})",
    f"ksql_offset_min(tz) AS (CASE WHEN regexp_extract(tz, {_OFFSET}, 1) = '-' THEN -1 ELSE 1 END)"
    f" * (CAST(regexp_extract(tz, {_OFFSET}, 2) AS INTEGER) * 60"
    f" + coalesce(TRY_CAST(regexp_extract(tz, {_OFFSET}, 3) AS INTEGER), 0))",
    "ksql_utc_to_local(ts, tz) AS CASE WHEN ksql_is_offset(tz) THEN ts + to_minutes(ksql_offset_min(tz))"
    " ELSE TRY(timezone(tz, timezone('UTC', ts))) END",
    "ksql_local_to_utc(ts, tz) AS CASE WHEN ksql_is_offset(tz) THEN ts - to_minutes(ksql_offset_min(tz))"
    " ELSE TRY(timezone('UTC', timezone(tz, ts))) END",
    "ksql_ms(ts) AS epoch_ms(ts)",
    "ksql_days(d) AS CAST(d - DATE '1970-01-01' AS INTEGER)",
    "ksql_time_ms(t) AS CAST(epoch_ms(TIMESTAMP '1970-01-01' + t) AS INTEGER)",
]

_UNIT_MS = {
    "MILLISECONDS": 1, "SECONDS": 1000, "MINUTES": 60_000, "HOURS": 3_600_000, "DAYS": 86_400_000,
}
_UNIT_ALIASES = {u.rstrip("S"): u for u in _UNIT_MS} | {u: u for u in _UNIT_MS}


def _fmt(call: Call, index: int) -> str:
    """The strftime format for argument ``index`` (translated at compile time when literal)."""
    raw = call.raw[index]
    if isinstance(raw, exp.Literal) and raw.is_string:
        return "'" + java_to_strftime(raw.this).replace("'", "''") + "'"
    # DuckDB's strftime/strptime need a constant format: fold the translation when possible.
    folded = dynamic_format_sql(call.sql[index])
    if "\"" in call.sql[index]:
        raise ExpressionError(f"{call.name}: the format pattern must be a string literal")
    return folded


def _tz(call: Call, index: int) -> str | None:
    return call.sql[index] if len(call.sql) > index else None


def _format_ts(ts_sql: str, call: Call, tz_index: int) -> str:
    tz = _tz(call, tz_index)
    local = f"ksql_utc_to_local({ts_sql}, {tz})" if tz else ts_sql
    return f"strftime({local}, {_fmt(call, 1)})"


def _parse_ts(call: Call, tz_index: int) -> str:
    fmt = _fmt(call, 1)
    parsed = f"try_strptime({call.sql[0]}, {fmt})"
    if "%z" in fmt:
        # Java's X accepts 'Z' for UTC; strptime's %z does not. %z yields TIMESTAMPTZ: make it naive UTC.
        text = f"regexp_replace({call.sql[0]}, 'Z$', '+00:00')"
        parsed = f"CAST(timezone('UTC', CAST(try_strptime({text}, {fmt}) AS TIMESTAMPTZ)) AS TIMESTAMP)"
    tz = _tz(call, tz_index)
    return f"ksql_local_to_utc({parsed}, {tz})" if tz else parsed


def _register_formatting() -> None:
    scalar("TIMESTAMPTOSTRING", "DATE / TIME", "Format epoch millis with a Java pattern (optional zone).", [
        sig("BIGINT, STRING -> STRING"), sig("BIGINT, STRING, STRING -> STRING")],
        lambda c: _format_ts(f"epoch_ms({c.sql[0]})", c, 2))
    scalar("FORMAT_TIMESTAMP", "DATE / TIME", "Format a TIMESTAMP with a Java pattern (optional zone).", [
        sig("TIMESTAMP, STRING -> STRING"), sig("TIMESTAMP, STRING, STRING -> STRING")],
        lambda c: _format_ts(c.sql[0], c, 2))
    scalar("STRINGTOTIMESTAMP", "DATE / TIME", "Parse text with a Java pattern into epoch millis.", [
        sig("STRING, STRING -> BIGINT"), sig("STRING, STRING, STRING -> BIGINT")],
        lambda c: f"epoch_ms({_parse_ts(c, 2)})")
    scalar("PARSE_TIMESTAMP", "DATE / TIME", "Parse text with a Java pattern into a TIMESTAMP.", [
        sig("STRING, STRING -> TIMESTAMP"), sig("STRING, STRING, STRING -> TIMESTAMP")],
        lambda c: _parse_ts(c, 2))
    scalar("FORMAT_DATE", "DATE / TIME", "Format a DATE with a Java pattern.", [
        sig("DATE, STRING -> STRING")], lambda c: f"strftime({c.sql[0]}, {_fmt(c, 1)})")
    scalar("PARSE_DATE", "DATE / TIME", "Parse text with a Java pattern into a DATE.", [
        sig("STRING, STRING -> DATE")], lambda c: f"CAST(try_strptime({c.sql[0]}, {_fmt(c, 1)}) AS DATE)")
    scalar("DATETOSTRING", "DATE / TIME", "Format days since epoch with a Java pattern.", [
        sig("INTEGER, STRING -> STRING")],
        lambda c: f"strftime(DATE '1970-01-01' + {c.sql[0]}, {_fmt(c, 1)})")
    scalar("STRINGTODATE", "DATE / TIME", "Parse text with a Java pattern into days since epoch.", [
        sig("STRING, STRING -> INTEGER")],
        lambda c: f"ksql_days(CAST(try_strptime({c.sql[0]}, {_fmt(c, 1)}) AS DATE))")
    scalar("FORMAT_TIME", "DATE / TIME", "Format a TIME with a Java pattern.", [
        sig("TIME, STRING -> STRING")],
        lambda c: f"strftime(DATE '1970-01-01' + {c.sql[0]}, {_fmt(c, 1)})")
    scalar("PARSE_TIME", "DATE / TIME", "Parse text with a Java pattern into a TIME.", [
        sig("STRING, STRING -> TIME")],
        lambda c: f"CAST(try_strptime('1970-01-01 ' || {c.sql[0]}, '%Y-%m-%d ' || {_fmt(c, 1)}) AS TIME)")


def _register_conversions() -> None:
    scalar("UNIX_TIMESTAMP", "DATE / TIME", "Epoch millis of now, or of a TIMESTAMP.", [
        sig(" -> BIGINT", "epoch_ms(CAST(now() AS TIMESTAMP))"), sig("TIMESTAMP -> BIGINT", "epoch_ms({0})")])
    scalar("UNIX_DATE", "DATE / TIME", "Days since epoch of today, or of a DATE.", [
        sig(" -> INTEGER", "ksql_days(current_date)"), sig("DATE -> INTEGER", "ksql_days({0})")])
    scalar("FROM_UNIXTIME", "DATE / TIME", "TIMESTAMP from epoch millis.", [
        sig("BIGINT -> TIMESTAMP", "epoch_ms({0})")])
    scalar("FROM_DAYS", "DATE / TIME", "DATE from days since epoch.", [
        sig("INTEGER -> DATE", "CAST(DATE '1970-01-01' + {0} AS DATE)")])
    scalar("CONVERT_TZ", "DATE / TIME", "Shift a TIMESTAMP from one zone to another.", [
        sig("TIMESTAMP, STRING, STRING -> TIMESTAMP",
            "ksql_utc_to_local(ksql_local_to_utc({0}, {1}), {2})")])


def _unit(node: exp.Expression) -> str | None:
    name = node.name.upper() if isinstance(node, (exp.Var, exp.Column, exp.Identifier)) else ""
    return _UNIT_ALIASES.get(name)


def _interval_fn(name: str, kind: str, sign: int) -> None:
    """DATEADD/DATESUB, TIMEADD/TIMESUB, TIMESTAMPADD/TIMESTAMPSUB: (unit, amount, value)."""
    target = {"DATE": T.DATE, "TIME": T.TIME, "TIMESTAMP": T.TIMESTAMP}[kind]

    def compile_args(c: Compiler, args: list[exp.Expression], node: exp.Expression) -> Compiled:
        unit = _unit(args[0]) if args else None
        rest = [c.compile(a) for a in args[1:]] if unit else [c.compile(a) for a in args]
        amount_types = ("INTEGER", "BIGINT") if kind == "TIMESTAMP" else ("INTEGER",)
        ok = unit is not None and len(rest) == 2 and (is_null(rest[0].type) or rest[0].type.base in amount_types) \
            and (is_null(rest[1].type) or rest[1].type == target)
        if not ok:
            shown = ", ".join(display(r.type) for r in rest)
            raise ExpressionError(f"Function '{name.lower()}' does not accept parameters ({shown}).")
        assert unit is not None
        amount, value = rest
        ms = f"({'-' if sign < 0 else ''}CAST({amount.sql} AS BIGINT) * {_UNIT_MS[unit]})"
        if kind == "DATE":
            return Compiled(f"CAST({value.sql} + CAST(trunc({ms} / 86400000) AS INTEGER) AS DATE)", target)
        return Compiled(f"({value.sql} + to_milliseconds({ms}))", target)

    verb = "Add" if sign > 0 else "Subtract"
    special(name, "DATE / TIME", f"{verb} an interval (unit, amount) to a {kind}.",
            [sig(f"STRING, INTEGER, {kind} -> {kind}", names=("unit", "interval", kind.lower()))], compile_args)


def load() -> None:
    """Register the date/time functions."""
    for definition in _MACROS:
        macro(definition)
    _register_formatting()
    _register_conversions()
    for kind, add, sub in (("DATE", "DATEADD", "DATESUB"), ("TIME", "TIMEADD", "TIMESUB"),
                           ("TIMESTAMP", "TIMESTAMPADD", "TIMESTAMPSUB")):
        _interval_fn(add, kind, 1)
        _interval_fn(sub, kind, -1)
