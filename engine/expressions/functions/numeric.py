"""Numeric functions. Java semantics: NaN / Infinity instead of errors, Math.round half-up."""

from __future__ import annotations

from engine import types as T
from engine.expressions.compiled import Compiled
from engine.expressions.functions.registry import Call, scalar
from engine.expressions.functions.runtime import macro
from engine.expressions.functions.signatures import sig
from engine.expressions.typesys import decimal_params, make_decimal

_NAN = "CAST('NaN' AS DOUBLE)"
_MACROS = [
    f"ksql_ln(x) AS CASE WHEN x < 0 THEN {_NAN} WHEN x = 0 THEN CAST('-inf' AS DOUBLE) ELSE ln(x) END",
    f"ksql_sqrt(x) AS CASE WHEN x < 0 THEN {_NAN} ELSE sqrt(x) END",
    f"ksql_unit_range(x) AS CASE WHEN x < -1 OR x > 1 THEN {_NAN} ELSE x END",
    # Java Math.round: half rounds toward positive infinity.
    "ksql_round_double(x) AS CASE WHEN isnan(x) OR isinf(x) THEN NULL ELSE CAST(floor(x + 0.5) AS BIGINT) END",
    "ksql_round_places(x, n) AS CASE WHEN isnan(x) OR isinf(x) THEN x ELSE"
    " CAST(round(CAST(x AS DECIMAL(38, 18)), n) AS DOUBLE) END",
    "ksql_geo_distance(lat1, lon1, lat2, lon2, r) AS 2 * r * asin(sqrt(pow(sin(radians(lat2 - lat1) / 2), 2)"
    " + cos(radians(lat1)) * cos(radians(lat2)) * pow(sin(radians(lon2 - lon1) / 2), 2)))",
    "ksql_earth_radius(unit) AS CASE WHEN unit IS NULL THEN 6371.0 WHEN lower(unit) IN ('mi', 'mile', 'miles') THEN 3959.0"
    " WHEN lower(unit) IN ('km', 'kilometer', 'kilometers', 'kilometre', 'kilometres') THEN 6371.0 END",
]


def _same_numeric(name: str, template: str, description: str) -> None:
    scalar(name, "MATHEMATICAL", description, [
        sig("INTEGER -> INTEGER", template), sig("BIGINT -> BIGINT", template),
        sig("DOUBLE -> DOUBLE", template), sig("DECIMAL -> DECIMAL", _decimal_same(template)),
    ])


def _decimal_same(template: str) -> object:
    def impl(call: Call) -> Compiled:
        arg = call.args[0]
        target = T.decimal(*decimal_params(arg.type))
        return Compiled(f"TRY_CAST({template.format(arg.sql)} AS DECIMAL{target.params})".replace(",)", ")"),
                        target)

    return impl


def _double_fn(name: str, template: str, description: str) -> None:
    scalar(name, "MATHEMATICAL", description, [sig("DOUBLE -> DOUBLE", template)])


def _round_decimal(call: Call) -> Compiled:
    p, s = decimal_params(call.args[0].type)
    target = make_decimal(p - s + 1, 0)
    return Compiled(f"TRY_CAST(round({call.sql[0]}) AS DECIMAL({target.params[0]}, 0))", target)


def _round_decimal_places(call: Call) -> Compiled:
    target = T.decimal(*decimal_params(call.args[0].type))
    return Compiled(
        f"TRY_CAST(round({call.sql[0]}, {call.sql[1]}) AS DECIMAL({target.params[0]}, {target.params[1]}))",
        target,
    )


def _register_rounding() -> None:
    _same_numeric("ABS", "abs({0})", "Absolute value.")
    _same_numeric("CEIL", "ceil({0})", "Smallest integral value not less than the argument.")
    _same_numeric("FLOOR", "floor({0})", "Largest integral value not greater than the argument.")
    scalar("ROUND", "MATHEMATICAL", "Round half up, optionally to a number of decimal places.", [
        sig("INTEGER -> INTEGER", "{0}"), sig("BIGINT -> BIGINT", "{0}"),
        sig("DOUBLE -> BIGINT", "ksql_round_double({0})"),
        sig("DECIMAL -> DECIMAL", _round_decimal),
        sig("INTEGER, INTEGER -> INTEGER", "CAST(round({0}, {1}) AS INTEGER)"),
        sig("BIGINT, INTEGER -> BIGINT", "CAST(round({0}, {1}) AS BIGINT)"),
        sig("DOUBLE, INTEGER -> DOUBLE", "ksql_round_places({0}, {1})"),
        sig("DECIMAL, INTEGER -> DECIMAL", _round_decimal_places),
    ])
    scalar("SIGN", "MATHEMATICAL", "-1, 0 or 1 by the sign of the argument.", [
        sig("INTEGER -> INTEGER", "CAST(sign({0}) AS INTEGER)"),
        sig("BIGINT -> INTEGER", "CAST(sign({0}) AS INTEGER)"),
        sig("DOUBLE -> INTEGER", "CAST(sign({0}) AS INTEGER)"),
        sig("DECIMAL -> INTEGER", "CAST(sign({0}) AS INTEGER)"),
    ])
    scalar("TRUNC", "MATHEMATICAL", "Truncate toward zero.", [
        sig("DOUBLE -> BIGINT", "CAST(trunc({0}) AS BIGINT)"),
        sig("DOUBLE, INTEGER -> DOUBLE", "trunc({0} * pow(10, {1})) / pow(10, {1})"),
    ])


def _register_functions() -> None:
    _double_fn("EXP", "exp({0})", "e raised to the argument.")
    _double_fn("LN", "ksql_ln({0})", "Natural logarithm.")
    _double_fn("SQRT", "ksql_sqrt({0})", "Square root.")
    _double_fn("CBRT", "cbrt({0})", "Cube root.")
    _double_fn("ACOS", "acos(ksql_unit_range({0}))", "Arc cosine in radians.")
    _double_fn("ASIN", "asin(ksql_unit_range({0}))", "Arc sine in radians.")
    _double_fn("ATAN", "atan({0})", "Arc tangent in radians.")
    _double_fn("COS", "cos({0})", "Cosine.")
    _double_fn("COSH", "cosh({0})", "Hyperbolic cosine.")
    _double_fn("SIN", "sin({0})", "Sine.")
    _double_fn("SINH", "sinh({0})", "Hyperbolic sine.")
    _double_fn("TAN", "tan({0})", "Tangent.")
    _double_fn("TANH", "tanh({0})", "Hyperbolic tangent.")
    _double_fn("COT", "1.0 / tan({0})", "Cotangent.")
    _double_fn("DEGREES", "degrees({0})", "Radians to degrees.")
    _double_fn("RADIANS", "radians({0})", "Degrees to radians.")
    scalar("ATAN2", "MATHEMATICAL", "Arc tangent of y / x.", [sig("DOUBLE, DOUBLE -> DOUBLE", "atan2({0}, {1})")])
    scalar("LOG", "MATHEMATICAL", "Natural logarithm, or logarithm to a base.", [
        sig("DOUBLE -> DOUBLE", "ksql_ln({0})"),
        sig("DOUBLE, DOUBLE -> DOUBLE", "ksql_ln({1}) / ksql_ln({0})")])
    scalar("POWER", "MATHEMATICAL", "base raised to exponent.", [sig("DOUBLE, DOUBLE -> DOUBLE", "pow({0}, {1})")])
    scalar("PI", "MATHEMATICAL", "The constant pi.", [sig(" -> DOUBLE", "pi()")])
    scalar("RANDOM", "MATHEMATICAL", "A random DOUBLE in [0, 1).", [sig(" -> DOUBLE", "random()")])
    scalar("GEO_DISTANCE", "MATHEMATICAL", "Great-circle distance between two lat/lon points (KM or MI).", [
        sig("DOUBLE, DOUBLE, DOUBLE, DOUBLE -> DOUBLE", "ksql_geo_distance({0}, {1}, {2}, {3}, 6371.0)"),
        sig("DOUBLE, DOUBLE, DOUBLE, DOUBLE, STRING -> DOUBLE",
            "ksql_geo_distance({0}, {1}, {2}, {3}, ksql_earth_radius({4}))"),
    ], display_name="geo_distance")


def load() -> None:
    """Register the numeric functions."""
    for definition in _MACROS:
        macro(definition)
    _register_rounding()
    _register_functions()
