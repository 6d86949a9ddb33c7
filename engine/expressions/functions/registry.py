"""The function registry: metadata for SHOW/DESCRIBE FUNCTION and call compilation.

Scalar functions compile to DuckDB SQL. Aggregate and table functions are listed here (kind,
signatures, return types) for the planner, but evaluated by the engine's operators.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from sqlglot import exp

from engine import types as T
from engine.expressions.compiled import Compiled
from engine.expressions.errors import ExpressionError, UnknownFunctionError
from engine.expressions.functions.signatures import Bindings, Signature, bind, substitute
from engine.expressions.typesys import NULL_TYPE, display, duck, is_null
from parser.statements import SqlType

if TYPE_CHECKING:
    from engine.expressions.compiler import Compiler

FunctionKind = Literal["scalar", "aggregate", "table"]


@dataclass(slots=True)
class Call:
    """Everything an implementation needs to render one call."""

    name: str
    args: list[Compiled]  # coerced to the chosen signature's parameter types
    raw: list[exp.Expression]
    rtype: SqlType
    bindings: Bindings
    compiler: Compiler | None
    arg_types: list[SqlType] = field(default_factory=list)  # before coercion

    @property
    def sql(self) -> list[str]:
        """The argument SQL texts."""
        return [a.sql for a in self.args]

    def render(self, template: str) -> str:
        """Fill ``{0}``..``{n}``, ``{args}`` and ``{rt}`` (DuckDB return type) in ``template``."""
        return template.format(*self.sql, args=", ".join(self.sql), rt=duck(self.rtype))


Impl = str | Callable[[Call], str | Compiled]


@dataclass(frozen=True, slots=True)
class FunctionDef:
    """A registered function."""

    name: str
    kind: FunctionKind
    category: str
    description: str
    signatures: tuple[Signature, ...]
    impl: Impl | None = None
    compile_args: Callable[[Compiler, list[exp.Expression], exp.Expression], Compiled] | None = None
    display_name: str = ""

    def describe(self) -> list[str]:
        """One line per signature, for DESCRIBE FUNCTION."""
        return [s.render(self.name) for s in self.signatures]


_REGISTRY: dict[str, FunctionDef] = {}


def register(fn: FunctionDef) -> FunctionDef:
    """Add (or replace) a function definition."""
    _REGISTRY[fn.name.upper()] = fn
    return fn


def _loaded() -> dict[str, FunctionDef]:
    if not _REGISTRY:
        from engine.expressions.functions import catalog

        catalog.load_all()
    return _REGISTRY


def get_function(name: str) -> FunctionDef | None:
    """The definition for ``name`` (case-insensitive), or None."""
    return _loaded().get(name.upper())


def all_functions() -> list[FunctionDef]:
    """Every registered function, sorted by name (SHOW FUNCTIONS)."""
    return sorted(_loaded().values(), key=lambda f: f.name)


def function_kind(name: str) -> FunctionKind | None:
    """``scalar``, ``aggregate``, ``table`` or None for unknown names."""
    fn = get_function(name)
    return fn.kind if fn else None


def return_type(name: str, arg_types: Sequence[SqlType]) -> SqlType:
    """Result type of ``name(arg_types...)`` for any kind of function.

    Raises:
        ExpressionError: unknown function or no matching signature.
    """
    fn = get_function(name)
    if fn is None:
        raise UnknownFunctionError(name.upper())
    signature, bindings, _ = resolve(fn, list(arg_types))
    return _return_of(fn, signature, bindings, list(arg_types))


def _return_of(fn: FunctionDef, signature: Signature, bindings: Bindings, types: list[SqlType]) -> SqlType:
    if signature.returns is None:
        return T.STRING
    rtype = substitute(signature.returns, bindings)
    if rtype is None:
        return types[0] if types and not is_null(types[0]) else T.STRING
    return rtype


def _arity_ok(signature: Signature, count: int) -> bool:
    if signature.variadic:
        return count >= len(signature.params) - 1
    return count == len(signature.params)


def resolve(fn: FunctionDef, arg_types: list[SqlType]) -> tuple[Signature, Bindings, list[SqlType | None]]:
    """Pick the cheapest matching overload (ksqlDB's implicit widening), or raise."""
    best: tuple[int, Signature, Bindings] | None = None
    for signature in fn.signatures:
        if not _arity_ok(signature, len(arg_types)):
            continue
        bindings: Bindings = {}
        cost = 0
        for i, actual in enumerate(arg_types):
            pattern = signature.params[min(i, len(signature.params) - 1)]
            if pattern.base == "LAMBDA":
                continue
            c = bind(pattern, actual, bindings)
            if c is None:
                break
            cost += c
        else:
            if best is None or cost < best[0]:
                best = (cost, signature, bindings)
    if best is None:
        shown = ", ".join(display(t) for t in arg_types)
        name = fn.display_name or fn.name.lower()
        raise ExpressionError(f"Function '{name}' does not accept parameters ({shown}).")
    _, signature, bindings = best
    targets = [
        substitute(signature.params[min(i, len(signature.params) - 1)], bindings)
        for i in range(len(arg_types))
    ]
    return signature, bindings, targets


def compile_call(name: str, args: list[exp.Expression], compiler: Compiler, node: exp.Expression) -> Compiled:
    """Compile ``name(args)``; called by the expression compiler for every exp.Anonymous."""
    fn = get_function(name)
    if fn is None:
        raise UnknownFunctionError(name)
    if fn.kind != "scalar":
        raise ExpressionError(
            f"{fn.kind.capitalize()} function {name} cannot be evaluated as a scalar expression here."
        )
    if fn.compile_args is not None:
        return fn.compile_args(compiler, args, node)
    compiled = [compiler.compile(a) if not isinstance(a, exp.Lambda) else None for a in args]
    types = [c.type if c is not None else NULL_TYPE for c in compiled]
    signature, bindings, targets = resolve(fn, types)
    final: list[Compiled] = []
    for i, (arg, target) in enumerate(zip(compiled, targets, strict=True)):
        if arg is None:
            from engine.expressions.functions.lambdas import compile_lambda

            pattern = signature.params[min(i, len(signature.params) - 1)]
            final.append(compile_lambda(compiler, args[i], pattern, bindings))
        elif target is not None and not is_null(arg.type) and arg.type != target:
            final.append(arg.cast_to(target))
        else:
            final.append(arg)
    rtype = _return_of(fn, signature, bindings, types)
    call = Call(name, final, args, rtype, bindings, compiler, types)
    impl = signature.impl if signature.impl is not None else fn.impl
    return _apply(impl, call)


def _apply(impl: object, call: Call) -> Compiled:
    if isinstance(impl, str):
        return Compiled(call.render(impl), call.rtype)
    if callable(impl):
        out = impl(call)
        return out if isinstance(out, Compiled) else Compiled(str(out), call.rtype)
    raise ExpressionError(f"Function {call.name} has no implementation")


def scalar(
    name: str,
    category: str,
    description: str,
    signatures: Sequence[Signature],
    impl: Impl | None = None,
    display_name: str = "",
) -> FunctionDef:
    """Register a scalar function."""
    return register(
        FunctionDef(name.upper(), "scalar", category, description, tuple(signatures), impl,
                    display_name=display_name)
    )


def special(
    name: str,
    category: str,
    description: str,
    signatures: Sequence[Signature],
    compile_args: Callable[[Compiler, list[exp.Expression], exp.Expression], Compiled],
) -> FunctionDef:
    """Register a scalar function that compiles its own (raw) arguments."""
    return register(
        FunctionDef(name.upper(), "scalar", category, description, tuple(signatures),
                    compile_args=compile_args)
    )
