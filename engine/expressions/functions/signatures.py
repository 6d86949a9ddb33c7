"""Function signatures: ksql type patterns with generics, and overload resolution.

A pattern is ksql type text where single-letter names (``T``, ``K``, ``V``, optionally with a
digit, ``K2``) are generics, ``DECIMAL`` without parameters matches any decimal, ``ANY`` matches
anything and ``(T, U) => V`` is a lambda parameter. ``STRING...`` marks a variadic tail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine import types as T
from engine.expressions.typesys import NULL_TYPE, can_widen, common_type, is_null, is_numeric
from parser.statements import SqlType

_GENERIC = re.compile(r"^[A-Z][0-9]?$")
_SIMPLE = {"INT": "INTEGER", "VARCHAR": "STRING"}


@dataclass(frozen=True, slots=True)
class Pattern:
    """A parsed parameter or return type pattern."""

    base: str  # a SqlType base, a generic name, ANY, or LAMBDA
    items: tuple[Pattern, ...] = ()
    params: tuple[int, ...] = ()

    def is_generic(self) -> bool:
        """True for a generic type variable such as ``T``."""
        return bool(_GENERIC.match(self.base))

    def render(self) -> str:
        """ksql-like text, for DESCRIBE FUNCTION."""
        if self.base == "LAMBDA":
            args = ", ".join(i.render() for i in self.items[:-1])
            return f"LAMBDA ({args}) => {self.items[-1].render()}"
        if self.base == "ARRAY":
            return f"ARRAY<{self.items[0].render()}>"
        if self.base == "MAP":
            return f"MAP<{self.items[0].render()}, {self.items[1].render()}>"
        if self.params:
            return f"{self.base}({', '.join(map(str, self.params))})"
        return self.base


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "<(":
            depth += 1
        elif ch in ">)" and not (ch == ">" and text[i - 1] == "="):
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def parse_pattern(text: str) -> Pattern:
    """Parse one type pattern."""
    text = text.strip()
    if text.startswith("("):
        args_text, _, result = text[1:].partition(")")
        result = result.strip().removeprefix("=>")
        items = [parse_pattern(a) for a in _split_top(args_text, ",")] + [parse_pattern(result)]
        return Pattern("LAMBDA", tuple(items))
    match = re.match(r"^(\w+)\s*(?:<(.*)>|\((.*)\))?$", text)
    if not match:
        raise ValueError(f"bad type pattern {text!r}")
    base = _SIMPLE.get(match.group(1).upper(), match.group(1).upper())
    if match.group(2) is not None:
        return Pattern(base, tuple(parse_pattern(p) for p in _split_top(match.group(2), ",")))
    if match.group(3) is not None:
        return Pattern(base, params=tuple(int(p) for p in match.group(3).split(",")))
    return Pattern(base)


@dataclass(frozen=True, slots=True)
class Signature:
    """One overload: parameter patterns, a return pattern, optional per-overload SQL."""

    params: tuple[Pattern, ...]
    returns: Pattern | None
    variadic: bool = False
    impl: object = None  # str template or callable; None uses the function's impl
    names: tuple[str, ...] = field(default=())

    def render(self, name: str) -> str:
        """``NAME(STRING str, INTEGER pos) => STRING`` style text."""
        params = []
        for i, p in enumerate(self.params):
            label = self.names[i] if i < len(self.names) else f"arg{i + 1}"
            dots = "..." if self.variadic and i == len(self.params) - 1 else ""
            params.append(f"{p.render()}{dots} {label}")
        ret = self.returns.render() if self.returns else "?"
        return f"{name}({', '.join(params)}) => {ret}"


def sig(text: str, impl: object = None, names: tuple[str, ...] = ()) -> Signature:
    """Build a Signature from ``"STRING, INTEGER -> STRING"`` text."""
    params_text, _, ret_text = text.rpartition("->") if "->" in text else (text, "", "")
    variadic = params_text.strip().endswith("...")
    params = tuple(parse_pattern(p.removesuffix("...")) for p in _split_top(params_text.strip(), ","))
    returns = parse_pattern(ret_text) if ret_text.strip() else None
    return Signature(params, returns, variadic, impl, names)


Bindings = dict[str, SqlType]


def bind(pattern: Pattern, actual: SqlType, bindings: Bindings) -> int | None:
    """Match ``actual`` against ``pattern``; returns the widening cost or None if no match."""
    if is_null(actual):
        return 0
    if pattern.base == "ANY":
        return 0
    if pattern.is_generic():
        bound = bindings.get(pattern.base)
        if bound is None or is_null(bound):
            bindings[pattern.base] = actual
            return 0
        if bound == actual:
            return 0
        widened = common_type([bound, actual])
        if widened is None:
            return None
        bindings[pattern.base] = widened
        return 1
    if pattern.base in ("ARRAY", "MAP"):
        if actual.base != pattern.base:
            return None
        costs = [bind(p, a, bindings) for p, a in zip(pattern.items, actual.items, strict=True)]
        return None if any(c is None for c in costs) else sum(c for c in costs if c is not None)
    if pattern.base == "STRUCT" and not pattern.items:
        return 0 if actual.base == "STRUCT" else None
    if pattern.base == "DECIMAL" and not pattern.params:
        if actual.base == "DECIMAL":
            return 0
        return 2 if actual.base in ("INTEGER", "BIGINT") else None
    target = substitute(pattern, bindings)
    if target is None:
        return None
    if target == actual:
        return 0
    if can_widen(actual, target):
        return 1 + _distance(actual, target)
    return None


def _distance(actual: SqlType, target: SqlType) -> int:
    order = ["INTEGER", "BIGINT", "DECIMAL", "DOUBLE"]
    if is_numeric(actual) and is_numeric(target):
        return order.index(target.base) - order.index(actual.base)
    return 0


def substitute(pattern: Pattern, bindings: Bindings) -> SqlType | None:
    """The concrete type of ``pattern`` under ``bindings`` (None if a generic is unbound)."""
    if pattern.is_generic():
        return bindings.get(pattern.base)
    if pattern.base in ("ARRAY", "MAP"):
        items = [substitute(p, bindings) for p in pattern.items]
        if any(i is None for i in items):
            return None
        clean = tuple(T.STRING if i is None or is_null(i) else i for i in items)
        return SqlType(pattern.base, items=clean)
    if pattern.base in ("ANY", "LAMBDA"):
        return None
    if pattern.base == "DECIMAL" and not pattern.params:
        return None
    return SqlType(pattern.base, pattern.params)


__all__ = ["NULL_TYPE", "Pattern", "Signature", "bind", "parse_pattern", "sig", "substitute"]
